/**
 * Whether the system clock is synchronised. The Pi has no real-time clock: after a cold boot
 * without network its clock starts where it was last saved, and timestamps are wrong until NTP
 * answers. The app marks logs and fleet messages `clockSynced:false` until this says yes.
 *
 * Two sources, the first that answers yes wins: the flag file systemd-timesyncd creates once it
 * has synchronised (/run/systemd/timesync/synchronized), and `timedatectl show -p NTPSynchronized`
 * (the kernel's sync flag, so it also covers chrony or ntpd).
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';

export type ClockSyncProbe = () => Promise<boolean>;

export const TIMESYNCD_FLAG = '/run/systemd/timesync/synchronized';

export function flagFileProbe(path = TIMESYNCD_FLAG): ClockSyncProbe {
  return () =>
    access(path).then(
      () => true,
      () => false,
    );
}

/** Runs a command and resolves with its stdout ('' when it fails). */
export type ReadCommand = (file: string, args: string[]) => Promise<string>;

export const readCommand: ReadCommand = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 5000 }, (err, stdout) => resolve(err ? '' : String(stdout)));
  });

export function timedatectlProbe(read: ReadCommand = readCommand): ClockSyncProbe {
  return async () =>
    (await read('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'])).trim() === 'yes';
}

/** Yes when any probe says yes; a probe that fails counts as no. */
export function anyProbe(...probes: ClockSyncProbe[]): ClockSyncProbe {
  return async () => {
    for (const p of probes) if (await p().catch(() => false)) return true;
    return false;
  };
}

export const defaultClockProbe = (): ClockSyncProbe => anyProbe(flagFileProbe(), timedatectlProbe());

export interface WaitForSyncOptions {
  probe?: ClockSyncProbe;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves true as soon as the clock is synchronised, false when `timeoutMs` passed first (the
 * kiosk then starts anyway, with clockSynced:false, and keeps watching through `ClockSyncWatch`).
 */
export async function waitForClockSync(opts: WaitForSyncOptions): Promise<boolean> {
  const probe = opts.probe ?? defaultClockProbe();
  const interval = opts.intervalMs ?? 1000;
  // Monotonic: the wall clock is what jumps while we wait (time sync landing, or set back by hours).
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (opts.signal?.aborted || performance.now() >= deadline) return false;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(interval, Math.max(0, deadline - performance.now())));
      opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

/**
 * Keeps `synced` up to date in the background: polls until the clock is synchronised, calls
 * `onSynced` once, then stops (a synchronised clock stays good enough for receipts and logs).
 */
export class ClockSyncWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  synced = false;

  constructor(
    private readonly opts: { probe?: ClockSyncProbe; intervalMs?: number; onSynced?: () => void } = {},
  ) {}

  async start(): Promise<boolean> {
    this.stopped = false;
    await this.poll();
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.synced) return;
    const probe = this.opts.probe ?? defaultClockProbe();
    if (await probe().catch(() => false)) {
      this.synced = true;
      this.opts.onSynced?.();
      return;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.opts.intervalMs ?? 5000);
    this.timer.unref?.();
  }
}
