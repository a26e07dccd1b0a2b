/**
 * The card terminal's duties as the running kiosk offers them (only with `kiosk.cardTerminal`):
 * end-of-day at `kiosk.endOfDayAt` (local time) once the kiosk is idle, and on demand (service menu,
 * fleet `end-of-day`); a reversal by receipt number (service menu, fleet `terminal-cancel`); the
 * diagnosis as a probe (`doctor`, service menu, fleet `diagnostics`); the merchant receipts for a
 * reprint. Every reversal and end-of-day is journaled by TerminalDuties and sent to the fleet as
 * `evt/terminal` (a money event: through the durable outbox).
 */
import type { MerchantReceipt } from '../journal/state.js';
import type { ProbeResult } from '../contracts/device.js';
import type { FleetReporter } from '../fleet/reporter.js';
import type { TerminalDutyReport } from '../fleet/kiosk-port.js';
import type { Logger } from '../util/logger.js';
import type {
  DiagnosisResult,
  DutyResult,
  EndOfDayResult,
  ReversalTarget,
  TerminalDuties,
} from '../bookkeeping/terminal-duties.js';

export interface TerminalServiceDeps {
  duties: TerminalDuties;
  fleet: () => Pick<FleetReporter, 'event'> | undefined;
  logger: Logger;
  /** No customer is being served and the kiosk is in service (a scheduled end-of-day waits for it). */
  idle: () => boolean;
  /** `HH:MM`, local time; none: no scheduled end-of-day. */
  endOfDayAt?: string | undefined;
  /** When the journal's last end-of-day was (device time), and its result. */
  lastEndOfDay: () => { ts: number; result: string } | null;
  now?: () => Date;
  /** How often the schedule is looked at (ms). */
  checkMs?: number;
  /** After a failed scheduled end-of-day, the next try waits this long (ms). */
  retryMs?: number;
}

export class TerminalService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;
  private lastTry = 0;

  constructor(private readonly deps: TerminalServiceDeps) {}

  get enabled(): boolean {
    return this.deps.duties.enabled;
  }

  /** Starts looking at the schedule (also call `idleNow()` whenever the kiosk becomes idle). */
  start(): void {
    if (!this.enabled || !this.deps.endOfDayAt) return;
    // Only from here: the fleet reporter exists, so the result is not lost on its way out.
    this.timer = setInterval(() => this.idleNow(), this.deps.checkMs ?? 30_000);
    this.timer.unref?.();
    this.idleNow();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** The scheduled end-of-day is due: today's time has passed and no end-of-day ran since it. */
  due(now = this.now()): boolean {
    const at = this.deps.endOfDayAt;
    if (!this.enabled || !at) return false;
    const [h, m] = at.split(':').map(Number) as [number, number];
    const today = new Date(now);
    today.setHours(h, m, 0, 0);
    if (now.getTime() < today.getTime()) return false;
    const last = this.deps.lastEndOfDay();
    if (last && last.ts >= today.getTime() && last.result === 'ok') return false;
    // A failed or unknown one today is tried again, not at every tick.
    return now.getTime() - this.lastTry >= (this.deps.retryMs ?? 15 * 60_000);
  }

  /** Runs the scheduled end-of-day if it is due and the kiosk is idle. */
  idleNow(): void {
    if (!this.timer || this.running || !this.deps.idle()) return;
    // The retry pause is measured on the same clock as the schedule (an injected one in tests).
    const now = this.now();
    if (!this.due(now)) return;
    this.lastTry = now.getTime();
    void this.endOfDay('schedule').catch((err: Error) =>
      this.deps.logger.error({ err: err.message }, 'scheduled end-of-day failed'),
    );
  }

  /** One duty at a time: the terminal does one thing at once. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    // `running` never rejects, so the next duty waits for this one whatever came of it.
    const run = (this.running ?? Promise.resolve()).then(fn);
    const clear = () => {
      if (this.running === settled) this.running = null;
    };
    const settled: Promise<unknown> = run.then(clear, clear);
    this.running = settled;
    return run;
  }

  endOfDay(by: string): Promise<EndOfDayResult> {
    return this.serial(async () => {
      const r = await this.deps.duties.endOfDay(by);
      if (this.enabled)
        this.deps.fleet()?.event('terminal', {
          action: 'end_of_day',
          result: r.result,
          amountCents: r.cents,
          currency: 'EUR',
          count: r.count,
          by,
          ...(r.detail ? { reason: r.detail.slice(0, 200) } : {}),
        });
      return r;
    });
  }

  /** `cents`: the payment's value as the open batch knew it before the reversal (0: not in it). */
  cancel(target: ReversalTarget, by: string): Promise<DutyResult & { cents: number }> {
    return this.serial(async () => {
      const check = this.deps.duties.reversible(target);
      const payment = 'payment' in check ? check.payment : undefined;
      const r = await this.deps.duties.cancelTrx(target, by);
      this.deps.fleet()?.event('terminal', {
        action: 'reversal',
        result: r.result,
        amountCents: r.result === 'ok' ? (payment?.cents ?? 0) : 0,
        currency: 'EUR',
        by,
        ...('receiptNumber' in target ? { receiptNumber: target.receiptNumber } : {}),
        ...(payment ? { transactionId: payment.apiId } : {}),
        ...(r.detail ? { reason: r.detail.slice(0, 200) } : {}),
      });
      return { ...r, cents: payment?.cents ?? 0 };
    });
  }

  diagnosis(): Promise<DiagnosisResult> {
    return this.serial(() => this.deps.duties.diagnosis());
  }

  /** The terminal as a device of the self-test (`doctor`, the fleet's `diagnostics`). */
  async probe(): Promise<ProbeResult> {
    const d = await this.diagnosis();
    return {
      device: 'terminal',
      driver: 'smartzvt',
      found: d.ok,
      where: 'API /Smart/Transactions/me/diagnosis',
      status: d.ok ? 'ok' : (d.status ?? 'offline'),
      ...(d.ok ? {} : { hint: d.detail.slice(0, 200) }),
      required: false,
    };
  }

  /** The last terminal payment of the open batch that is still reversible (the service menu's "Storno"). */
  lastReversible(): { receiptNumber: string; cents: number } | null {
    return this.deps.duties.lastReversible();
  }

  merchantReceipts(): MerchantReceipt[] {
    return this.deps.duties.merchantReceipts();
  }
}

/** A duty's result for the fleet's command answer: refused or failed rejects (the operator reads why). */
export function dutyReport(r: DutyResult & { cents: number; count?: number }): TerminalDutyReport {
  if (r.result === 'refused' || r.result === 'failed')
    throw new Error(`${r.result}: ${r.detail ?? 'no detail'}`.slice(0, 200));
  return {
    result: r.result,
    amountCents: r.cents,
    ...(r.count !== undefined ? { count: r.count } : {}),
    ...(r.detail ? { detail: r.detail.slice(0, 200) } : {}),
  };
}
