/**
 * Whether the journal's storage lets the kiosk take money: checked at start, every `intervalMs`, and
 * at once when the journal reports a failed write. The kiosk serves only while the journal writes,
 * its space reserve is on disk, no coin is held unwritten and the free space is above the floor;
 * otherwise the acceptor is inhibited (the open session is finished with the reserve) and the kiosk
 * goes out of service (`storage`) until all of that holds again.
 *
 * Fleet alerts: `disk_low` (warning below `lowFreeBytes`, critical below `minFreeBytes`) and
 * `journal_unwritable` (critical: writes fail, the reserve is in use, or coins are held).
 */
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../util/logger.js';

export interface StorageLimits {
  /** Bytes of the journal's reserve file (its restore needs this much above the floor). */
  reserveBytes: number;
  lowFreeBytes: number;
  minFreeBytes: number;
  intervalMs: number;
}

export interface StorageStatus {
  ok: boolean;
  freeBytes: number;
  writable: boolean;
  reserveHeld: boolean;
  /** Why the kiosk may not take money (null when ok). */
  why: string | null;
}

type AlertName = 'disk_low' | 'journal_unwritable';
type Severity = 'warning' | 'critical';
type AlertSink = (name: AlertName, alert: { severity: Severity; message: string } | null) => void;

export interface StorageWatchDeps {
  journal: Journal;
  logger: Logger;
  limits: StorageLimits;
  /** Coins held because their write failed: how many cents, and a way to write them now. */
  held: () => number;
  writeHeld: () => Promise<void>;
  /** The kiosk may (not) take money from now on. */
  onHealth: (status: StorageStatus) => void;
  alert: AlertSink;
}

export class StorageWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<StorageStatus> | undefined;
  private again = false;
  private last: StorageStatus = { ok: true, freeBytes: 0, writable: true, reserveHeld: true, why: null };
  private alerts: Record<AlertName, { severity: Severity; message: string } | null> = {
    disk_low: null,
    journal_unwritable: null,
  };

  constructor(private readonly deps: StorageWatchDeps) {}

  get status(): StorageStatus {
    return this.last;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.deps.limits.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The journal failed a write or used its reserve: no more money from now on (before the check,
   * which does I/O), then a check.
   */
  degraded(why: string): void {
    if (this.last.ok) {
      this.last = { ...this.last, ok: false, why };
      this.deps.onHealth(this.last);
    }
    void this.check();
  }

  /** One check at a time; a check asked for while one runs runs once more after it. */
  check(): Promise<StorageStatus> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run()
      .catch((err: Error) => {
        this.deps.logger.error({ err: err.message }, 'storage check failed');
        return this.last;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.check();
        }
      });
    return this.running;
  }

  /** Sends the alerts as they stand (the fleet connects after the first check). */
  republish(): void {
    for (const name of ['disk_low', 'journal_unwritable'] as const) {
      const a = this.alerts[name];
      if (a) this.deps.alert(name, a);
    }
  }

  private async run(): Promise<StorageStatus> {
    const { journal, limits } = this.deps;
    if (!journal.writable) await journal.recover();
    if (journal.writable && this.deps.held() > 0) await this.deps.writeHeld();
    let free = await journal.freeBytes().catch(() => 0);
    if (journal.writable && !journal.reserveHeld && free >= limits.reserveBytes + limits.minFreeBytes) {
      if (await journal.restoreReserve()) {
        this.deps.logger.info({ bytes: limits.reserveBytes }, 'journal space reserve restored');
        free = await journal.freeBytes().catch(() => 0);
      }
    }
    const held = this.deps.held();
    const reasons = [
      !journal.writable ? `journal unwritable (${journal.failureMessage ?? 'closed'})` : null,
      held > 0 ? `${held} ct held unwritten` : null,
      journal.writable && !journal.reserveHeld ? 'journal space reserve in use' : null,
      free < limits.minFreeBytes ? `free space below ${limits.minFreeBytes} B` : null,
    ].filter((r): r is string => r !== null);
    const why = reasons.length > 0 ? reasons.join('; ') : null;
    const status: StorageStatus = {
      ok: why === null,
      freeBytes: free,
      writable: journal.writable,
      reserveHeld: journal.reserveHeld,
      why,
    };
    const unwritable = !journal.writable || held > 0 || !journal.reserveHeld;
    this.publish('journal_unwritable', unwritable ? (why ?? 'journal unwritable') : null, 'critical');
    // Stable texts: a message that changed with every byte would be a new alert at each check.
    const belowFloor = free < limits.minFreeBytes;
    this.publish(
      'disk_low',
      belowFloor
        ? `journal free space below the floor (${limits.minFreeBytes} B): out of service`
        : free < limits.lowFreeBytes
          ? `journal free space below ${limits.lowFreeBytes} B`
          : null,
      belowFloor ? 'critical' : 'warning',
    );
    if (status.ok !== this.last.ok || status.why !== this.last.why) {
      this.deps.logger[status.ok ? 'info' : 'warn'](
        { free, writable: status.writable, reserveHeld: status.reserveHeld, why },
        status.ok ? 'journal storage fine again: taking money' : 'journal storage: not taking money',
      );
      this.last = status;
      this.deps.onHealth(status);
    } else this.last = status;
    return status;
  }

  private publish(name: AlertName, message: string | null, severity: Severity): void {
    const now = this.alerts[name];
    if (now?.message === message && (message === null || now?.severity === severity)) return;
    if (now === null && message === null) return;
    this.alerts[name] = message === null ? null : { severity, message };
    this.deps.alert(name, this.alerts[name]);
  }
}
