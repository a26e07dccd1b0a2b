/**
 * Between the broker and the store: operations wait here and are written in batches, one transaction
 * per batch (group commit), so a thousand kiosks cost a few transactions a second, not a thousand.
 *
 * When the store is unreachable the batch is kept and retried with a growing delay (100 ms .. 5 s);
 * `onHealth` says so once (the dashboard logs it, shows it on the page and in /api/health) and once
 * more when writes succeed again. The buffer is bounded:
 * - operations with a `key` replace a waiting one with the same key (a kiosk's latest snapshot);
 * - past `maxOps`, non-durable operations (snapshots, samples) are dropped oldest first and counted;
 * - durable ones (money, alerts, commands) are never dropped: `add` returns a promise that settles
 *   when they are committed, and the broker link withholds the MQTT acknowledgement until then, so
 *   the broker keeps what the dashboard has not stored, and `full` tells it to stop taking more.
 */
import type { Logger } from '../../util/logger.js';
import { silentLogger } from '../../util/logger.js';
import type { Statement } from './database.js';
import type { StoreOp } from './ops.js';

export interface WriteBufferOptions {
  write(statements: Statement[]): Promise<unknown>;
  /** Most operations waiting. Default 50 000. */
  maxOps?: number;
  /** Most operations per transaction. Default 500. */
  batchOps?: number;
  logger?: Logger;
  onHealth?: (h: WriteBufferHealth) => void;
  /** Retry delays (tests make them short). */
  minRetryMs?: number;
  maxRetryMs?: number;
}

export interface WriteBufferHealth {
  ok: boolean;
  /** The last error while not ok. */
  error: string | undefined;
  /** Since when writes have failed (ms), while not ok. */
  failingSince: number | undefined;
  pending: number;
  dropped: number;
  /** Refused by the database for their data (logged); never retried. */
  rejected: number;
  written: number;
  batches: number;
}

interface Waiting {
  op: StoreOp;
  done: (() => void)[];
}

export class WriteBuffer {
  private readonly queue: Waiting[] = [];
  private readonly byKey = new Map<string, Waiting>();
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private closed = false;
  private readonly log: Logger;
  private readonly drainWaiters: (() => void)[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  readonly health: WriteBufferHealth = {
    ok: true,
    error: undefined,
    failingSince: undefined,
    pending: 0,
    dropped: 0,
    rejected: 0,
    written: 0,
    batches: 0,
  };

  constructor(private readonly opts: WriteBufferOptions) {
    this.log = opts.logger ?? silentLogger;
    this.retryMs = opts.minRetryMs ?? 100;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** At the bound: the broker link should stop acknowledging until there is room again. */
  get full(): boolean {
    return this.queue.length >= (this.opts.maxOps ?? 50_000);
  }

  /** Queues operations; resolves when all of them are committed. */
  add(ops: readonly StoreOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    const waits = ops.map(
      (op) =>
        new Promise<void>((resolve) => {
          const existing = op.key !== undefined ? this.byKey.get(op.key) : undefined;
          if (existing) {
            existing.op = op;
            existing.done.push(resolve);
            return;
          }
          const w: Waiting = { op, done: [resolve] };
          this.queue.push(w);
          if (op.key !== undefined) this.byKey.set(op.key, w);
        }),
    );
    this.shed();
    this.kick();
    return Promise.all(waits).then(() => undefined);
  }

  /** Resolves when the buffer is below its bound (at once when it is). */
  whenRoom(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves when everything queued so far is written (shutdown, tests). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops retrying; what could not be written is reported. */
  close(): number {
    this.closed = true;
    clearTimeout(this.retryTimer);
    return this.queue.length;
  }

  private shed(): void {
    const max = this.opts.maxOps ?? 50_000;
    if (this.queue.length <= max) return;
    let i = 0;
    while (this.queue.length > max && i < this.queue.length) {
      const w = this.queue[i]!;
      if (w.op.durable) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      if (w.op.key !== undefined) this.byKey.delete(w.op.key);
      this.health.dropped++;
      // Dropped is final: nobody waits on a snapshot to acknowledge anything.
      for (const d of w.done) d();
    }
    this.health.pending = this.queue.length;
  }

  private kick(): void {
    this.health.pending = this.queue.length;
    if (this.flushing || this.retryTimer || this.closed) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length === 0) for (const w of this.drainWaiters.splice(0)) w();
      // Added between the loop's last look and now: go on (unless a retry is scheduled).
      else if (!this.retryTimer) this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue.slice(0, this.opts.batchOps ?? 500);
      // Taken out of the key index now: a newer snapshot arriving during the write queues anew.
      for (const w of batch)
        if (w.op.key !== undefined && this.byKey.get(w.op.key) === w) this.byKey.delete(w.op.key);
      try {
        await this.opts.write(batch.flatMap((w) => w.op.statements));
      } catch (err) {
        const done = isTransient(err) ? 0 : await this.oneByOne(batch);
        if (done < batch.length) {
          // Put the keys back (unless a newer op took the key meanwhile) and retry later.
          for (const w of batch.slice(done))
            if (w.op.key !== undefined && !this.byKey.has(w.op.key)) this.byKey.set(w.op.key, w);
          this.queue.splice(0, done);
          for (const w of batch.slice(0, done)) for (const d of w.done) d();
          this.failed(err as Error);
          return;
        }
      }
      this.queue.splice(0, batch.length);
      this.health.written += batch.length;
      this.health.batches++;
      this.health.pending = this.queue.length;
      this.recovered();
      for (const w of batch) for (const d of w.done) d();
      if (!this.full) for (const r of this.roomWaiters.splice(0)) r();
    }
  }

  /**
   * A batch refused for its data (not for the connection): write its operations one at a time so one
   * bad row cannot block the rest; a refused one is logged and counted, never retried forever.
   * Returns how many from the start of the batch are settled.
   */
  private async oneByOne(batch: Waiting[]): Promise<number> {
    for (let i = 0; i < batch.length; i++) {
      const w = batch[i]!;
      try {
        await this.opts.write(w.op.statements);
      } catch (err) {
        if (isTransient(err)) return i;
        this.health.rejected++;
        this.log.error(
          { err: (err as Error).message, sql: w.op.statements[0]?.sql.slice(0, 80) },
          'store refused a write',
        );
      }
    }
    return batch.length;
  }

  private failed(err: Error): void {
    const h = this.health;
    if (h.ok) {
      h.ok = false;
      h.failingSince = Date.now();
      h.error = err.message;
      this.log.error({ err: err.message, pending: this.queue.length }, 'store unreachable: buffering writes');
      this.opts.onHealth?.({ ...h });
    }
    h.error = err.message;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.opts.maxRetryMs ?? 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
  }

  private recovered(): void {
    this.retryMs = this.opts.minRetryMs ?? 100;
    const h = this.health;
    if (h.ok) return;
    this.log.info({ downMs: Date.now() - (h.failingSince ?? Date.now()) }, 'store reachable again');
    h.ok = true;
    h.error = undefined;
    h.failingSince = undefined;
    this.opts.onHealth?.({ ...h });
  }
}

/** A failure of the connection or the server (retry), as opposed to one of the data (do not). */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // PostgreSQL: connection, resources, shutdown, system; and deadlock/serialization (40P01, 40001): two
    // workers writing the same kiosks' rows, where the whole batch simply goes again.
    if (/^(08|53|57P|58|40)/.test(code)) return true;
    if (/^E[A-Z]+$/.test(code)) return true; // node: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ...
    if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|NOMEM|PROTOCOL)/.test(code)) return true;
    return false;
  }
  const message = (err as Error).message ?? '';
  return /timeout|terminated|closed|ECONN|not open|Connection/i.test(message);
}
