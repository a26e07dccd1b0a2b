/**
 * The card terminal as a row of the hardware doctor: its extended diagnosis through the API
 * (`POST /Smart/Transactions/me/diagnosis`, the SDK's `diagnose`). The terminal hangs off the
 * merchant's back end, not off the Pi, so this is the only way to ask it. The row is the doctor's
 * `ProbeResult`; never a throw: a failure is a row.
 */
import { TokenManager, type AuthConfig } from './auth.js';
import { SmartTransactionsClient } from './client.js';
import { isApiError } from './errors.js';
import type { ProbeResult } from '../contracts/device.js';

export interface TerminalProbeOptions {
  baseUrl: string;
  tokenUrl?: string | undefined;
  auth: AuthConfig;
  timeoutMs?: number;
}

export async function probeTerminal(o: TerminalProbeOptions): Promise<ProbeResult> {
  const where = 'API me/diagnosis';
  const row = { device: 'terminal', driver: 'smartzvt', where, required: false };
  try {
    const tokens = new TokenManager({
      tokenUrl: o.tokenUrl ?? new URL('/oauth/token', o.baseUrl).toString(),
      auth: o.auth,
      timeoutMs: o.timeoutMs ?? 15_000,
    });
    const client = new SmartTransactionsClient({
      baseUrl: o.baseUrl,
      tokens,
      cashlessTimeoutMs: o.timeoutMs ?? 60_000,
    });
    const answer = await client.diagnosis();
    const status = answer.status ?? 'ok';
    return status === 'ok'
      ? { ...row, found: true, status: 'ok' }
      : { ...row, found: false, status, hint: 'the terminal answered, but not ok: see its display' };
  } catch (err) {
    const kind = isApiError(err) ? err.kind : 'error';
    return {
      ...row,
      found: false,
      status: kind,
      hint: `${(err as Error).message}`.slice(0, 120),
    };
  }
}
