/**
 * Faults the API stand-in can be told to inject, one call at a time, so tests can reproduce what
 * a kiosk meets in the field: slow answers, 5xx, a connection dropped after the change was
 * committed, a body that is not JSON, an expired token.
 */
import * as z from 'zod';

export const FaultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('latency'), ms: z.int().min(0).max(600_000) }),
  /**
   * Answer with this status and the documented error body, without doing anything. `code` (default
   * 1009) e.g. 1016 for the backend's "Card validation failed: Unknown value was returned by procedure call".
   */
  z.object({
    type: z.literal('status'),
    status: z.int().min(400).max(599),
    code: z.int().min(1).max(9999).optional(),
  }),
  /** Do the work, commit it, then cut the connection without an answer. */
  z.object({ type: z.literal('drop_after_commit') }),
  /** Cut the connection before doing anything. */
  z.object({ type: z.literal('drop_before_commit') }),
  /** Do the work, then answer 200 with a body that is not JSON (a proxy's error page). */
  z.object({ type: z.literal('not_json') }),
  /** Treat the presented token as expired: 401, or 403 with code 2003. */
  z.object({ type: z.literal('expire_token'), as: z.enum(['401', '403']).default('401') }),
  /** The terminal declines the card (start/cashless only). */
  z.object({ type: z.literal('decline') }),
]);
export type Fault = z.infer<typeof FaultSchema>;

export const FaultRuleSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).optional(),
  /** Substring of the path, e.g. `/start/cash` or `/oauth/token`. */
  path: z.string().optional(),
  fault: FaultSchema,
  times: z.int().min(1).default(1),
});
export type FaultRule = z.input<typeof FaultRuleSchema>;

interface ActiveRule {
  method?: string;
  path?: string;
  fault: Fault;
  left: number;
}

export class FaultPlan {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): void {
    const r = FaultRuleSchema.parse(rule);
    this.rules.push({ method: r.method, path: r.path, fault: r.fault, left: r.times });
  }

  clear(): void {
    this.rules = [];
  }

  get pending(): number {
    return this.rules.length;
  }

  /** The faults that apply to this request; each use counts down its rule. */
  take(method: string, path: string): Fault[] {
    const hits: Fault[] = [];
    for (const rule of this.rules) {
      if (rule.method && rule.method !== method) continue;
      if (rule.path && !path.includes(rule.path)) continue;
      hits.push(rule.fault);
      rule.left -= 1;
    }
    this.rules = this.rules.filter((r) => r.left > 0);
    return hits;
  }
}
