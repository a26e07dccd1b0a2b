/**
 * The self-test: probe every configured device, print one table a technician can act on, and exit
 * non-zero when a required device is missing. A probe that throws or hangs becomes a row, never a
 * stack trace: the doctor is what runs when things are already broken.
 */
import type { Probeable, ProbeResult } from '../../src/contracts/device.js';

export interface DoctorReport {
  rows: ProbeResult[];
  table: string;
  /** 1 when a required device was not found, else 0. */
  exitCode: 0 | 1;
}

export interface DoctorOptions {
  /** Per probe. Default 8000 ms (a PN532 wake-up or a printer status query takes a few seconds at worst). */
  timeoutMs?: number;
  /** Where the table goes. Default stdout; pass `() => {}` to stay quiet. */
  print?: (text: string) => void;
}

/** A probe that identifies itself, so a throw or a timeout still names the device. */
export type NamedProbeable = Probeable & { device?: string; driver?: string; required?: boolean };

export async function runDoctor(
  probes: NamedProbeable[],
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 8000;
  const rows = await Promise.all(probes.map((p, i) => probeSafely(p, i, timeoutMs)));
  const table = formatDoctorTable(rows);
  const missing = rows.filter((r) => r.required && !r.found);
  (options.print ?? ((t: string) => process.stdout.write(`${t}\n`)))(table);
  return { rows, table, exitCode: missing.length ? 1 : 0 };
}

async function probeSafely(p: NamedProbeable, index: number, timeoutMs: number): Promise<ProbeResult> {
  const failed = (status: string, hint: string): ProbeResult => ({
    device: p.device ?? `device ${index + 1}`,
    driver: p.driver ?? '?',
    found: false,
    where: '-',
    status,
    hint,
    required: p.required ?? true,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p.probe(),
      new Promise<ProbeResult>((resolve) => {
        timer = setTimeout(
          () =>
            resolve(failed('timeout', `no answer within ${timeoutMs} ms: the device or its driver hangs`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    return failed('probe failed', (err as Error)?.message ?? String(err));
  } finally {
    clearTimeout(timer);
  }
}

const HEADERS = ['device', 'driver', 'found', 'where', 'status', 'what to check'] as const;

export function formatDoctorTable(rows: readonly ProbeResult[]): string {
  const cells = rows.map((r) => [
    r.device,
    r.driver,
    r.found ? 'yes' : r.required ? 'NO (required)' : 'no',
    r.where,
    r.status,
    r.hint ?? '',
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const missing = rows.filter((r) => r.required && !r.found).map((r) => r.device);
  const summary = missing.length
    ? `${missing.length} required device(s) missing: ${missing.join(', ')}`
    : `all ${rows.length} device(s) checked, none required missing`;
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '', summary].join('\n');
}
