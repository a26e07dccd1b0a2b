/**
 * The kiosk's word to the tools around it, in its state directory (/var/lib/kiosk):
 *
 * - `health.json`, written by the app (atomically) on every state change and at least every 10 s:
 *   `{"version":"1.4.0","state":"idle","busy":false,"ts":1712345678901,"pid":1234,"clockSynced":true}`.
 *   kiosk-upgrade reads it: `busy:true` (a customer session is open: card read, money inserted,
 *   payment pending, receipt printing) with a `ts` younger than 2 minutes refuses an upgrade; after
 *   a switch, the new release counts as healthy once it wrote its own `version` with a `ts` newer
 *   than the switch and a `state` other than `starting`, `stopping` or `failed`.
 * - `maintenance-request.json`, written by kiosk-upgrade while it waits: `{"reason":"upgrade",
 *   "version":"1.5.0","ts":...}`. While it exists (and is younger than 10 minutes) the app should
 *   take no new customer, finish the current one and show "back in a moment".
 * - `last-upgrade.json`, written by kiosk-upgrade: `{"from","to","result","ts"}` with result
 *   `upgraded`, `rolled_back`, `rollback_unhealthy` or `failed_no_previous`; the app reports it to
 *   the fleet once.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

export const HEALTH_FILE = 'health.json';
export const MAINTENANCE_REQUEST_FILE = 'maintenance-request.json';
export const LAST_UPGRADE_FILE = 'last-upgrade.json';
/** A busy flag older than this is from a kiosk that stopped writing (kiosk-upgrade uses the same). */
export const BUSY_STALE_MS = 120_000;
export const MAINTENANCE_REQUEST_TTL_MS = 600_000;

export const HealthReportSchema = z.object({
  version: z.string(),
  /** The lifecycle machine's state name; `starting`, `stopping`, `failed` do not count as healthy. */
  state: z.string(),
  busy: z.boolean(),
  ts: z.number(),
  pid: z.number().optional(),
  clockSynced: z.boolean().optional(),
  /** Why the kiosk is out of service, when it is. */
  reason: z.string().nullable().optional(),
  /** Each device's health (`ok`, `degraded`, `offline`) as the kiosk last saw it. */
  devices: z.record(z.string(), z.string()).optional(),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

export const MaintenanceRequestSchema = z.object({
  reason: z.string(),
  version: z.string().optional(),
  ts: z.number(),
});
export type MaintenanceRequest = z.infer<typeof MaintenanceRequestSchema>;

export const LastUpgradeSchema = z.object({
  from: z.string(),
  to: z.string(),
  result: z.enum(['upgraded', 'rolled_back', 'rollback_unhealthy', 'failed_no_previous']),
  ts: z.number(),
});
export type LastUpgrade = z.infer<typeof LastUpgradeSchema>;

/** Writes through a temporary file and a rename: a reader never sees half a report. Mode 0644. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

export function writeHealthReport(stateDir: string, report: HealthReport): Promise<void> {
  return writeJsonAtomically(join(stateDir, HEALTH_FILE), HealthReportSchema.parse(report));
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const readHealthReport = (stateDir: string): Promise<HealthReport | undefined> =>
  readJson(join(stateDir, HEALTH_FILE), HealthReportSchema);

export const readLastUpgrade = (stateDir: string): Promise<LastUpgrade | undefined> =>
  readJson(join(stateDir, LAST_UPGRADE_FILE), LastUpgradeSchema);

/** The pending maintenance request, if one is there and fresh. */
export async function readMaintenanceRequest(
  stateDir: string,
  now: number = Date.now(),
): Promise<MaintenanceRequest | undefined> {
  const req = await readJson(join(stateDir, MAINTENANCE_REQUEST_FILE), MaintenanceRequestSchema);
  return req && now - req.ts < MAINTENANCE_REQUEST_TTL_MS ? req : undefined;
}

/** For `kiosk status` from the files: is the report fresh, i.e. is a kiosk process writing it? */
export function isFresh(report: HealthReport, now: number = Date.now(), maxAgeMs = 30_000): boolean {
  return now - report.ts <= maxAgeMs;
}
