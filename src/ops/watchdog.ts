/**
 * Feeds systemd's watchdog only while the kiosk is healthy, so a hung or sick kiosk is restarted.
 * Every WATCHDOG_USEC/2 it checks the event loop's lag since the previous check and the app's own
 * verdict (e.g. "no machine stuck in a transient state", see stuck-state.ts); it sends WATCHDOG=1
 * only when both are fine. One bad check misses one ping, which systemd tolerates (the interval is
 * half the limit); two in a row and systemd kills and restarts the kiosk. A loop that is blocked
 * outright runs no check at all, with the same effect.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ServiceNotifier } from './systemd-notify.js';
import { silentLogger, type Logger } from '../util/logger.js';

export type HealthVerdict = { healthy: true } | { healthy: false; reason: string };

export interface WatchdogOptions {
  notifier: Pick<ServiceNotifier, 'watchdog' | 'status'>;
  /** The app's verdict; the kiosk passes its stuck-state guard. */
  isHealthy: () => HealthVerdict;
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** The largest event-loop delay (ms) since the previous check that still counts as healthy. */
  maxEventLoopLagMs?: number;
  /** Injected for tests: worst loop delay (ms) since the last call. Default: perf_hooks histogram. */
  eventLoopLagMs?: () => number;
  logger?: Logger;
}

export interface WatchdogCheck {
  fed: boolean;
  reason?: string;
  lagMs: number;
}

/** The ping interval systemd asks for (WATCHDOG_USEC/2), or undefined when no watchdog is set for us. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it must not feed.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

function histogramLag(): { read: () => number; stop: () => void } {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  return {
    read: () => {
      const ms = h.max / 1e6;
      h.reset();
      return ms;
    },
    stop: () => h.disable(),
  };
}

export class Watchdog {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lag: { read: () => number; stop: () => void } | undefined;
  private wasHealthy = true;
  private readonly logger: Logger;
  private readonly maxLagMs: number;
  readonly intervalMs: number | undefined;

  constructor(private readonly opts: WatchdogOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.maxLagMs = opts.maxEventLoopLagMs ?? 5000;
    this.intervalMs = watchdogIntervalMs(opts.env ?? process.env, opts.pid ?? process.pid);
  }

  /** Starts the checks; does nothing when systemd set no watchdog. Returns whether it runs. */
  start(): boolean {
    if (this.intervalMs === undefined || this.timer) return this.timer !== undefined;
    this.lag = this.opts.eventLoopLagMs ? { read: this.opts.eventLoopLagMs, stop: () => {} } : histogramLag();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref?.();
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lag?.stop();
    this.lag = undefined;
  }

  /** One check: feed when healthy, else log why not (once per unhealthy spell) and say so in STATUS. */
  async check(): Promise<WatchdogCheck> {
    const lagMs = this.lag?.read() ?? this.opts.eventLoopLagMs?.() ?? 0;
    let reason: string | undefined;
    if (lagMs > this.maxLagMs)
      reason = `event loop lagged ${Math.round(lagMs)} ms (limit ${this.maxLagMs} ms)`;
    else {
      let verdict: HealthVerdict;
      try {
        verdict = this.opts.isHealthy();
      } catch (err) {
        verdict = { healthy: false, reason: `health check threw: ${String(err)}` };
      }
      if (!verdict.healthy) reason = verdict.reason;
    }
    if (reason === undefined) {
      if (!this.wasHealthy) this.logger.info({ lagMs: Math.round(lagMs) }, 'watchdog: healthy again');
      this.wasHealthy = true;
      await this.opts.notifier.watchdog();
      return { fed: true, lagMs };
    }
    if (this.wasHealthy) {
      this.logger.warn(
        { reason, lagMs: Math.round(lagMs) },
        'watchdog: not feeding, systemd restarts the kiosk if this lasts',
      );
      await this.opts.notifier.status(`unhealthy: ${reason}`);
    }
    this.wasHealthy = false;
    return { fed: false, reason, lagMs };
  }
}
