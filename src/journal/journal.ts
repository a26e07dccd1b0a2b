/**
 * The kiosk's write-ahead journal: append-only segment files of checksummed lines (frame.ts).
 *
 * Guarantee: when `append` resolves, the entry is on stable storage (written and fdatasync'ed,
 * and the file's directory entry synced when the segment was created). Concurrent appends share
 * one write and one fdatasync (group commit). A power cut at any byte loses at most the batches
 * whose `append` had not resolved yet; it never makes a half-written record readable.
 *
 * Errors:
 *  - `append` rejects with `JournalError` kind `invalid_entry` when the entry breaks its schema
 *    (nothing written, the journal stays usable);
 *  - kind `io` when writing or syncing failed even after the space reserve (reserve.ts) was
 *    released and a fresh segment started. A failed batch is never retried in the file whose
 *    write or fsync failed (the kernel may have dropped its pages): the journal cuts the partial
 *    write off and starts a new segment whose snapshot restates the durable state, then writes the
 *    batch there. While that is impossible (disk full, read-only remount) every append rejects
 *    with the failure; each later append, and `recover()`, tries again, so the journal works
 *    again the moment the disk allows. The kiosk must stop taking money meanwhile;
 *  - kind `closed` after `close()`.
 *
 * Alerts (`onAlert`, also kept in `openReport.alerts`): a damaged segment was moved aside, records
 * of an unknown shape were skipped, or the open state alone exceeds `maxBytes`. `open` never
 * throws for damaged content, only when the directory itself cannot be used.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { EntryInputSchema, type EntryInput, type JournalEntry } from './entries.js';
import { fileIo } from './file-io.js';
import { encodeFrame, encodeHeader } from './frame.js';
import { moneyCheck, type CheckMismatch } from './money-check.js';
import { freeBytes, SpaceReserve } from './reserve.js';
import { rebuildState } from './rebuild.js';
import { scanSegment, type Damage, type DamagedRange, type SegmentScan } from './segment-scan.js';
import {
  applyRecords,
  emptyState,
  knownSaleCents,
  type JournalRecord,
  type LedgerState,
  type SnapshotRecord,
} from './state.js';

export interface JournalOptions {
  logger?: Logger;
  /** Finished sessions' records are deleted once older than this (and no later than 1.5 times it). */
  maxAgeDays?: number;
  /** Bound of all segments together; exceeded by at most one segment (`segmentBytes`) plus one batch. */
  maxBytes?: number;
  /** A new segment starts when the active one has grown by this much; default min(1 MiB, maxBytes / 4). */
  segmentBytes?: number;
  /** false only for tests and benches: appends then resolve after the write, without fdatasync. */
  fsync?: boolean;
  /** Device clock (UTC ms); injectable for tests. */
  now?: () => number;
  onAlert?: (alert: JournalAlert) => void;
  /** How many moved-aside damaged files to keep for the operator (older ones are deleted). */
  keepCorruptFiles?: number;
  /**
   * Bytes kept in a reserve file in `dir`, released when an append fails so that the open
   * sessions can be finished (default 0: none). `restoreReserve()` takes the space back.
   */
  reserveBytes?: number;
}

export type JournalAlert =
  | {
      kind: 'corrupt_segment';
      file: string;
      movedTo: string;
      damage: Damage;
      /** Whether the current state depended on the file: then the journal restarted from an empty state. */
      stateLost: boolean;
      /** The state folded from the records before the damage (what the operator may have to settle by hand). */
      salvaged: LedgerState | undefined;
    }
  | {
      /**
       * Damaged records were found and resynchronised past (every valid record before and after is
       * kept): the damaged bytes are in `quarantined` files, the state was rebuilt from what is left.
       */
      kind: 'damaged';
      files: Array<{ file: string; ranges: Array<Omit<DamagedRange, 'afterSeq'>>; quarantined: string[] }>;
      /** Sessions the damage may have touched (flagged `damaged` while open). */
      sessions: string[];
      /** The money the rebuilt state knows: cash box, and what each affected open session holds. */
      cashBoxCents: number;
      /** The cash (coins, vouchers) each affected open session holds: not what a cashless sale paid. */
      sessionCents: Record<string, number>;
      /**
       * The affected open sessions whose sale is paid (a payment step answered `ok`): what it paid as
       * the surviving records say (the basket, else the payment's outcome), null when none says it.
       */
      salePaidCents: Record<string, number | null>;
      /** Where the money cross-check disagreed with the intact records (its figures were adopted). */
      mismatches: CheckMismatch[];
    }
  | { kind: 'unknown_records'; file: string; count: number }
  /** An append (or opening) could not write: appends reject until `recover()` or a later append succeeds. */
  | { kind: 'unwritable'; error: string }
  /** The reserve file was deleted to let a failed append through: the kiosk should take no new customer. */
  | { kind: 'reserve_released'; bytes: number }
  /** The journal writes again after `unwritable`. */
  | { kind: 'writable' }
  | { kind: 'over_budget'; bytes: number; maxBytes: number };

export interface OpenReport {
  segments: number;
  records: number;
  /** Bytes of a torn last write that were cut off the active segment. */
  tornBytes: number;
  alerts: JournalAlert[];
}

export type JournalErrorKind = 'invalid_entry' | 'io' | 'closed';

export class JournalError extends Error {
  override readonly name = 'JournalError';
  constructor(
    readonly kind: JournalErrorKind,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

interface SegmentInfo {
  n: number;
  file: string;
  bytes: number;
  /** ts of the newest record in it (the header's when empty). */
  lastTs: number;
  /** seq of the newest record in it (-1 when none is known): `entries(afterSeq)` skips older segments. */
  lastSeq: number;
}

interface Pending {
  /** The validated entry without its seq, which is given when the batch is written (after any rotation's snapshot). */
  data: Omit<JournalEntry, 'seq'>;
  resolve: (entry: JournalEntry) => void;
  reject: (err: unknown) => void;
}

const SEGMENT_RE = /^journal-(\d{6,})\.log$/;
const CORRUPT_RE = /^journal-\d{6,}\.log\.corrupt-/;
const DAY_MS = 86_400_000;

export function segmentName(n: number): string {
  return `journal-${String(n).padStart(6, '0')}.log`;
}

function compactTs(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

async function listDir(dir: string): Promise<string[]> {
  return fs.promises.readdir(dir);
}

interface Resolved {
  nextSeq: number;
  state: LedgerState;
  segments: SegmentInfo[];
  records: number;
  tornBytes: number;
}

export class Journal {
  readonly dir: string;
  readonly openReport: OpenReport;
  private readonly logger: Logger;
  private readonly maxAgeMs: number;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly sync: boolean;
  private readonly now: () => number;
  private readonly onAlert: (alert: JournalAlert) => void;
  private readonly keepCorruptFiles: number;
  private readonly reserve: SpaceReserve;

  private fd = -1;
  private seq = 0;
  private current: LedgerState = emptyState();
  private readonly listeners = new Set<(entries: readonly JournalEntry[]) => void>();
  private segments: SegmentInfo[] = [];
  /** Size of the active segment right after its head (header + snapshot) was written. */
  private activeBaseBytes = 0;
  private activeCreatedTs = 0;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> | undefined;
  private failure: JournalError | undefined;
  private closed = false;

  private constructor(dir: string, opts: JournalOptions) {
    this.dir = dir;
    this.logger = opts.logger ?? silentLogger;
    this.maxAgeMs = (opts.maxAgeDays ?? 30) * DAY_MS;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.segmentBytes = Math.max(
      4096,
      Math.min(opts.segmentBytes ?? 1024 * 1024, Math.floor(this.maxBytes / 4)),
    );
    this.sync = opts.fsync ?? true;
    this.now = opts.now ?? Date.now;
    this.keepCorruptFiles = opts.keepCorruptFiles ?? 5;
    this.reserve = new SpaceReserve(dir, opts.reserveBytes ?? 0);
    const alerts: JournalAlert[] = [];
    this.openReport = { segments: 0, records: 0, tornBytes: 0, alerts };
    this.onAlert = (alert) => {
      alerts.push(alert);
      try {
        opts.onAlert?.(alert);
      } catch (err) {
        this.logger.error({ err }, 'journal alert handler threw');
      }
    };
  }

  /**
   * Opens (or creates) the journal in `dir`: replays it, cuts a torn tail, moves damaged files
   * aside, applies retention. Resolves with a journal ready to append.
   */
  static async open(dir: string, opts: JournalOptions = {}): Promise<Journal> {
    const journal = new Journal(dir, opts);
    await journal.init();
    return journal;
  }

  /**
   * Reads a journal directory without changing anything (for tools and the chaos harness's
   * reconciliation of a journal whose kiosk is dead): the trusted records and their state.
   */
  static async read(dir: string): Promise<{
    records: JournalRecord[];
    state: LedgerState;
    damage: Array<(DamagedRange | Damage) & { file: string }>;
  }> {
    const scanned = await scanDir(dir);
    const damage: Array<(DamagedRange | Damage) & { file: string }> = [];
    for (const s of scanned) {
      if (s.scan.damage) damage.push({ ...s.scan.damage, file: s.file });
      for (const d of s.scan.damaged) damage.push({ ...d, file: s.file });
    }
    const usable = scanned.filter((s) => !s.scan.damage);
    const rebuilt = rebuildState(usable.slice(stateBase(usable)).map((s) => s.scan));
    return { records: usable.flatMap((s) => s.scan.records), state: rebuilt.state, damage };
  }

  /** The state folded from every durable entry (a live view: do not mutate it). */
  get state(): Readonly<LedgerState> {
    return this.current;
  }

  /** The seq the next record written will get (appends still pending take theirs when written). */
  get nextSeq(): number {
    return this.seq;
  }

  /** Total bytes of the segments on disk. */
  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Whether appends are being written (false after a failed write until one succeeds again). */
  get writable(): boolean {
    return this.failure === undefined && !this.closed;
  }

  /** Why appends fail now, if they do. */
  get failureMessage(): string | undefined {
    return this.failure?.message;
  }

  /** Whether the space reserve is on disk (always true without one). */
  get reserveHeld(): boolean {
    return this.reserve.bytes <= 0 || this.reserve.isHeld;
  }

  /** Free bytes on the journal's filesystem (the reserve not counted: it is in use). */
  freeBytes(): Promise<number> {
    return freeBytes(this.dir);
  }

  /**
   * After a failed write: starts a fresh segment (releasing the reserve first) so that appends work
   * again. Resolves true when the journal writes; false while the disk still refuses.
   */
  async recover(): Promise<boolean> {
    if (this.closed) return false;
    if (!this.failure) return true;
    await this.whenIdle();
    if (!this.failure) return true;
    return this.tryFreshSegment();
  }

  /** Writes the reserve file again (after space was freed); false when there is no room for it yet. */
  async restoreReserve(): Promise<boolean> {
    if (this.closed) return false;
    return this.reserve.restore();
  }

  /**
   * Appends one entry; resolves with it (seq and ts added) once it is durable. Entries appended
   * in the same tick, or while a write is in flight, are written and synced together.
   */
  append(input: EntryInput): Promise<JournalEntry> {
    if (this.closed) return Promise.reject(new JournalError('closed', 'journal is closed'));
    const parsed = EntryInputSchema.safeParse(input);
    if (!parsed.success) {
      return Promise.reject(
        new JournalError('invalid_entry', `invalid ${input.type} entry: ${parsed.error.message}`),
      );
    }
    const data = { ...parsed.data, ts: this.now() };
    return new Promise<JournalEntry>((resolve, reject) => {
      this.pending.push({ data, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Calls `listener` with every batch once it is durable (the fleet's voucher events are told from
   * the records themselves, whichever path wrote them). Returns a function that removes it.
   */
  onDurable(listener: (entries: readonly JournalEntry[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Every record still on disk, oldest first, including compaction snapshots (fold them with
   * `foldRecords`); with `afterSeq`, only those after it (segments wholly before it are not read).
   */
  async *entries(afterSeq = -1): AsyncGenerator<JournalRecord> {
    await this.flushing;
    let lastSeq = -1;
    for (const seg of [...this.segments]) {
      if (seg.lastSeq >= 0 && seg.lastSeq <= afterSeq) {
        lastSeq = seg.lastSeq;
        continue;
      }
      let buf: Buffer;
      try {
        buf = await fs.promises.readFile(path.join(this.dir, seg.file));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted by retention meanwhile
        throw err;
      }
      const scan = scanSegment(buf, lastSeq);
      lastSeq = scan.maxSeq;
      for (const r of scan.records) if (r.seq > afterSeq) yield r;
    }
  }

  /** Starts a fresh segment now (snapshot at its head) and applies retention. */
  async compact(): Promise<void> {
    await this.whenIdle();
    if (this.failure) throw this.failure;
    await this.guard(() => this.rotate());
  }

  /** Waits for pending appends, then closes the file. Later appends reject with kind `closed`. */
  async close(): Promise<void> {
    await this.whenIdle();
    this.closed = true;
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await fileIo.close(fd);
    }
  }

  private async whenIdle(): Promise<void> {
    while (this.flushing || this.flushScheduled || this.pending.length > 0) {
      if (this.flushing) await this.flushing;
      else await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    // A microtask, not a timer: every append of the current tick joins the batch, and fake timers
    // in tests cannot stall the journal.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0) this.scheduleFlush();
      });
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        await this.flushBatch(batch);
      } catch (err) {
        // Whatever went wrong, no append may hang: fail the journal and settle the batch
        // (settling an already resolved promise again does nothing).
        if (!this.failure) await this.fail(err, undefined);
        for (const p of batch) p.reject(this.failure);
      }
    }
  }

  private async flushBatch(batch: Pending[]): Promise<void> {
    // A failed journal tries again at each append: the disk may have room now.
    if (this.failure && !(await this.tryFreshSegment())) throw this.failure;
    if (this.ageRotationDue()) await this.guard(() => this.rotate());
    let entries: JournalEntry[];
    try {
      entries = await this.writeBatch(batch);
    } catch {
      // Never again in the file whose write failed: a fresh segment (the reserve released for it).
      if (!(await this.tryFreshSegment())) throw this.failure;
      entries = await this.writeBatch(batch);
    }
    this.current = applyRecords(this.current, entries);
    batch.forEach((p, i) => p.resolve(entries[i] as JournalEntry));
    for (const listener of this.listeners) {
      try {
        listener(entries);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'journal listener failed');
      }
    }
    // The batch is durable and resolved; a failed rotation only fails the appends after it.
    if (this.sizeRotationDue()) await this.guard(() => this.rotate()).catch(() => undefined);
    else if (this.retentionDue()) await this.guard(() => this.applyRetention()).catch(() => undefined);
  }

  /** Writes and syncs one batch in the active segment; on failure the journal is marked failed. */
  private async writeBatch(batch: Pending[]): Promise<JournalEntry[]> {
    const entries = batch.map((p) => ({ ...p.data, seq: this.seq++ }) as JournalEntry);
    // The batch's last frame is the money cross-check (money-check.ts): it carries the commit mark.
    const buf = Buffer.concat([
      ...entries.map((e) => encodeFrame(JSON.stringify(e), false)),
      encodeFrame(JSON.stringify(moneyCheck(this.current, entries)), true),
    ]);
    const active = this.segments[this.segments.length - 1];
    try {
      await fileIo.writeAll(this.fd, buf);
      if (this.sync) await fileIo.fdatasync(this.fd);
    } catch (err) {
      await this.fail(err, active);
      throw this.failure;
    }
    if (active) {
      active.bytes += buf.length;
      active.lastTs = entries[entries.length - 1]?.ts ?? active.lastTs;
      active.lastSeq = entries[entries.length - 1]?.seq ?? active.lastSeq;
    }
    return entries;
  }

  /** Marks the journal failed; tries to cut a partial write off so the file stays readable. */
  private async fail(err: unknown, active: SegmentInfo | undefined): Promise<void> {
    const first = this.failure === undefined;
    this.failure = new JournalError('io', `journal write failed: ${(err as Error).message}`, err);
    if (first) {
      this.logger.error(
        { err, dir: this.dir },
        'journal write failed; appends refused until the disk allows',
      );
      this.onAlert({ kind: 'unwritable', error: this.failure.message });
    }
    if (active && this.fd >= 0) {
      await fileIo.ftruncate(this.fd, active.bytes).catch(() => undefined);
    }
  }

  /**
   * Leaves the segment whose write failed: releases the reserve, then writes a new segment whose
   * snapshot is the durable state (what the failed file may or may not hold is history from then
   * on). True when the journal writes again.
   */
  private async tryFreshSegment(): Promise<boolean> {
    if (this.closed) return false;
    const bytes = this.reserve.bytes;
    if (await this.reserve.release().catch(() => false)) {
      this.logger.warn({ bytes }, 'journal: space reserve released to finish the open sessions');
      this.onAlert({ kind: 'reserve_released', bytes });
    }
    const oldFd = this.fd;
    this.fd = -1;
    if (oldFd >= 0) await fileIo.close(oldFd).catch(() => undefined);
    try {
      await this.startSegment((this.segments.at(-1)?.n ?? 0) + 1);
    } catch (err) {
      await this.fail(err, undefined);
      return false;
    }
    this.failure = undefined;
    this.logger.warn({ dir: this.dir, segments: this.segments.length }, 'journal writes again');
    this.onAlert({ kind: 'writable' });
    return true;
  }

  private async guard(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      await this.fail(err, undefined);
      throw this.failure;
    }
  }

  /** The active segment has grown by `segmentBytes` since its head. */
  private sizeRotationDue(): boolean {
    const active = this.segments[this.segments.length - 1];
    return active !== undefined && active.bytes - this.activeBaseBytes >= this.segmentBytes;
  }

  /**
   * The active segment holds records and was started more than maxAge / 2 ago. Checked before a
   * batch is written, so no segment spans more than half the age: a finished session's records
   * are deleted between maxAge and 1.5 x maxAge after they were written (at the next append or boot).
   */
  private ageRotationDue(): boolean {
    const active = this.segments[this.segments.length - 1];
    return (
      active !== undefined &&
      active.bytes > this.activeBaseBytes &&
      this.now() - this.activeCreatedTs > this.maxAgeMs / 2
    );
  }

  private retentionDue(): boolean {
    const oldest = this.segments[0];
    if (this.segments.length < 2 || !oldest) return false;
    return this.bytes > this.maxBytes || oldest.lastTs < this.now() - this.maxAgeMs;
  }

  private async rotate(): Promise<void> {
    const previous = this.segments[this.segments.length - 1];
    const n = (previous?.n ?? 0) + 1;
    const oldFd = this.fd;
    await this.startSegment(n);
    if (oldFd >= 0) await fileIo.close(oldFd);
    await this.applyRetention();
    this.logger.info(
      { segment: n, bytes: this.bytes, segments: this.segments.length },
      'journal segment started',
    );
  }

  /** Writes a new segment (header + snapshot of the current state) atomically and makes it the active one. */
  private async startSegment(n: number): Promise<void> {
    const createdTs = this.now();
    const snapshot: SnapshotRecord = {
      type: 'snapshot',
      seq: this.seq++,
      ts: createdTs,
      state: this.current,
    };
    const head = Buffer.concat([encodeHeader(n, createdTs), encodeFrame(JSON.stringify(snapshot), true)]);
    const file = segmentName(n);
    const tmp = path.join(this.dir, `${file}.tmp`);
    try {
      const tmpFd = await fileIo.open(tmp, 'w', 0o600);
      try {
        await fileIo.writeAll(tmpFd, head);
        await fileIo.fdatasync(tmpFd);
      } finally {
        await fileIo.close(tmpFd);
      }
    } catch (err) {
      // A partial head would only take space a later attempt needs.
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await fs.promises.rename(tmp, path.join(this.dir, file));
    await fileIo.syncDir(this.dir);
    this.fd = await fileIo.open(path.join(this.dir, file), 'a', 0o600);
    this.current.lastSeq = snapshot.seq;
    this.segments.push({ n, file, bytes: head.length, lastTs: createdTs, lastSeq: snapshot.seq });
    this.activeBaseBytes = head.length;
    this.activeCreatedTs = createdTs;
    if (head.length > this.maxBytes)
      this.onAlert({ kind: 'over_budget', bytes: head.length, maxBytes: this.maxBytes });
  }

  /**
   * Deletes old segments: every segment before the active one only holds history (the active one
   * starts with a snapshot of the whole state), so deleting them never loses an open session.
   */
  private async applyRetention(): Promise<void> {
    const cutoff = this.now() - this.maxAgeMs;
    let deleted = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as SegmentInfo;
      if (this.bytes <= this.maxBytes && oldest.lastTs >= cutoff) break;
      await fs.promises.rm(path.join(this.dir, oldest.file), { force: true });
      this.segments.shift();
      deleted += 1;
    }
    if (deleted > 0) await fileIo.syncDir(this.dir);
  }

  private async moveAside(file: string): Promise<string> {
    const movedTo = `${file}.corrupt-${compactTs(this.now())}`;
    await fs.promises.rename(path.join(this.dir, file), path.join(this.dir, movedTo));
    return movedTo;
  }

  private async pruneCorruptFiles(): Promise<void> {
    const corrupt = (await listDir(this.dir)).filter((n) => CORRUPT_RE.test(n));
    if (corrupt.length <= this.keepCorruptFiles) return;
    const withTimes = await Promise.all(
      corrupt.map(async (name) => ({
        name,
        mtime: (await fs.promises.stat(path.join(this.dir, name))).mtimeMs,
      })),
    );
    withTimes.sort((a, b) => b.mtime - a.mtime || b.name.localeCompare(a.name));
    for (const { name } of withTimes.slice(this.keepCorruptFiles)) {
      await fs.promises.rm(path.join(this.dir, name), { force: true });
    }
  }

  private async init(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await listDir(this.dir)) {
      if (name.endsWith('.tmp')) await fs.promises.rm(path.join(this.dir, name), { force: true });
    }
    const resolved = await this.replay();
    this.seq = resolved.nextSeq;
    this.current = resolved.state;
    this.segments = resolved.segments;
    this.openReport.segments = resolved.segments.length;
    this.openReport.records = resolved.records;
    this.openReport.tornBytes = resolved.tornBytes;

    const active = this.segments[this.segments.length - 1];
    try {
      if (resolved.freshSegment !== undefined) {
        await this.startSegment(resolved.freshSegment);
        await this.applyRetention();
      } else if (active) {
        this.fd = await fileIo.open(path.join(this.dir, active.file), 'a', 0o600);
        this.activeBaseBytes = 0;
        this.activeCreatedTs = resolved.activeCreatedTs;
        if (this.sizeRotationDue() || this.ageRotationDue()) await this.rotate();
        else await this.applyRetention();
      }
    } catch (err) {
      // A full disk at boot does not stop the kiosk from starting (out of service, state known):
      // the reserve makes room for a fresh segment, or appends wait until the disk allows.
      await this.fail(err, undefined);
      await this.tryFreshSegment();
    }
    if (this.failure === undefined && !(await this.reserve.restore()))
      this.logger.warn({ bytes: this.reserve.bytes }, 'journal: no room for the space reserve');
    await this.pruneCorruptFiles().catch(() => undefined);
    this.logger.info(
      {
        dir: this.dir,
        segments: this.segments.length,
        records: resolved.records,
        tornBytes: resolved.tornBytes,
        openSessions: Object.keys(this.current.sessions).length,
        nextSeq: this.seq,
      },
      'journal opened',
    );
  }

  /**
   * Scans every segment. The state is folded from the last segment that starts with an intact
   * snapshot (normally the active one) onward, with the money cross-checks compared on the way;
   * earlier segments are history only. Damaged byte ranges cost only themselves: they are copied
   * to quarantine files for the operator, the segment is rewritten with every valid frame, and
   * when the state was touched a fresh segment starts with the rebuilt state as its snapshot.
   * A file of an unknown format version is moved aside whole.
   */
  private async replay(): Promise<Resolved & { activeCreatedTs: number; freshSegment: number | undefined }> {
    const scanned = await scanDir(this.dir);
    const lastN = scanned.at(-1)?.n ?? 0;
    for (const s of scanned) {
      if (s.scan.unknownRecords > 0)
        this.onAlert({ kind: 'unknown_records', file: s.file, count: s.scan.unknownRecords });
    }
    const maxSeq = scanned.reduce((m, s) => Math.max(m, s.scan.maxSeq), -1);
    const usable = scanned.filter((s) => !s.scan.damage);
    const base = stateBase(usable);
    const baseN = usable[base]?.n ?? 0;
    let movedNewest = false;
    for (const s of scanned.filter((x) => x.scan.damage)) {
      const movedTo = await this.moveAside(s.file);
      const stateLost = s.n >= baseN;
      movedNewest ||= s.n === lastN;
      this.logger.error(
        { file: s.file, movedTo, damage: s.scan.damage },
        'journal segment unreadable; moved aside',
      );
      this.onAlert({
        kind: 'corrupt_segment',
        file: s.file,
        movedTo,
        damage: s.scan.damage as Damage,
        stateLost,
        salvaged: undefined,
      });
    }

    const rebuilt = rebuildState(usable.slice(base).map((s) => s.scan));
    const state = rebuilt.state;
    const damagedSegs = usable.filter((s) => s.scan.damaged.length > 0);
    const stateTouched = rebuilt.mismatches.length > 0 || damagedSegs.some((s) => s.n >= baseN);
    const files: Extract<JournalAlert, { kind: 'damaged' }>['files'] = [];
    const removed = new Set<string>();
    for (const s of damagedSegs) {
      const { quarantined, empty } = await this.repairSegment(s);
      if (empty) removed.add(s.file);
      files.push({
        file: s.file,
        ranges: s.scan.damaged.map(({ afterSeq: _afterSeq, ...r }) => r),
        quarantined,
      });
    }
    if (files.length > 0 || rebuilt.mismatches.length > 0) {
      await fileIo.syncDir(this.dir);
      const sessionCents: Record<string, number> = {};
      const salePaidCents: Record<string, number | null> = {};
      for (const id of rebuilt.affected) {
        const o = state.sessions[id];
        if (!o) continue;
        sessionCents[id] = o.insertedCents + (o.redeemedCents ?? 0) - o.creditedCents - o.unclaimedCents;
        if (o.paid) salePaidCents[id] = knownSaleCents(o) ?? null;
      }
      this.logger.error(
        {
          files: files.map((f) => f.file),
          sessions: rebuilt.affected,
          mismatches: rebuilt.mismatches.length,
        },
        'journal damaged; valid records kept, damaged bytes quarantined',
      );
      this.onAlert({
        kind: 'damaged',
        files,
        sessions: rebuilt.affected,
        cashBoxCents: state.cashBox.cents,
        sessionCents,
        salePaidCents,
        mismatches: rebuilt.mismatches,
      });
    }

    const keep = usable.filter((s) => !removed.has(s.file));
    const active = keep.at(-1);
    const repaired = new Set(damagedSegs.map((s) => s.file));
    let tornBytes = 0;
    if (active && !repaired.has(active.file) && active.scan.tornBytes > 0) {
      tornBytes = active.scan.tornBytes;
      const fd = await fileIo.open(path.join(this.dir, active.file), 'r+');
      try {
        await fileIo.ftruncate(fd, active.scan.goodBytes);
        await fileIo.fsync(fd);
      } finally {
        await fileIo.close(fd);
      }
      this.logger.warn({ file: active.file, tornBytes }, 'journal: cut a torn last write');
    }
    const segments: SegmentInfo[] = [];
    for (const s of keep) {
      const bytes = repaired.has(s.file)
        ? (await fs.promises.stat(path.join(this.dir, s.file))).size
        : s === active
          ? s.scan.goodBytes
          : s.bytes;
      segments.push({
        n: s.n,
        file: s.file,
        bytes,
        lastTs: s.scan.records[s.scan.records.length - 1]?.ts ?? s.scan.header?.createdTs ?? 0,
        lastSeq: s.scan.records[s.scan.records.length - 1]?.seq ?? -1,
      });
    }
    return {
      nextSeq: Math.max(maxSeq, state.lastSeq) + 1,
      state,
      segments,
      records: rebuilt.records,
      tornBytes,
      activeCreatedTs: active?.scan.header?.createdTs ?? active?.scan.records[0]?.ts ?? this.now(),
      // After damage in the state, or when the newest file was moved aside, appending goes to a fresh
      // segment whose snapshot is the rebuilt state (so the next boot finds a clean journal).
      freshSegment: active === undefined || movedNewest || stateTouched ? lastN + 1 : undefined,
    };
  }

  /**
   * Copies each damaged byte range of `s` to a quarantine file (`<segment>.corrupt-<time>-bytes-<start>-<end>`)
   * and rewrites the segment with its valid frames only (a fresh header if the header was the
   * damage). A segment left with no record is removed (its bytes are all quarantined).
   */
  private async repairSegment(s: ScannedSegment): Promise<{ quarantined: string[]; empty: boolean }> {
    const full = path.join(this.dir, s.file);
    const buf = await fs.promises.readFile(full);
    const quarantined: string[] = [];
    const stamp = compactTs(this.now());
    for (const d of s.scan.damaged) {
      const name = `${s.file}.corrupt-${stamp}-bytes-${d.start}-${d.end}`;
      await writeDurably(path.join(this.dir, name), buf.subarray(d.start, d.end), this.sync);
      quarantined.push(name);
    }
    if (s.scan.records.length === 0 && s.scan.checks.length === 0) {
      await fs.promises.rm(full, { force: true });
      return { quarantined, empty: true };
    }
    const parts: Buffer[] = [];
    if (!s.scan.header) parts.push(encodeHeader(s.n, s.scan.records[0]?.ts ?? this.now()));
    for (const f of s.scan.frames) {
      if (!f.healNewline) parts.push(buf.subarray(f.start, f.end));
      else parts.push(buf.subarray(f.start, f.end - 1), Buffer.from('\n'));
    }
    const tmp = `${full}.tmp`;
    await writeDurably(tmp, Buffer.concat(parts), this.sync);
    await fs.promises.rename(tmp, full);
    return { quarantined, empty: false };
  }
}

interface ScannedSegment {
  n: number;
  file: string;
  scan: SegmentScan;
  bytes: number;
}

/** Scans every segment file of `dir`, oldest first; a sealed segment's torn tail counts as damage. */
async function scanDir(dir: string): Promise<ScannedSegment[]> {
  const names = (await listDir(dir))
    .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ name, n: Number(m[1]) }))
    .sort((a, b) => a.n - b.n);
  const out: ScannedSegment[] = [];
  let lastSeq = -1;
  for (const [i, { name, n }] of names.entries()) {
    const buf = await fs.promises.readFile(path.join(dir, name));
    const scan = scanSegment(buf, lastSeq);
    if (!scan.damage && scan.tornBytes > 0 && i < names.length - 1) {
      // A sealed segment was fully synced before the next one was created: a tail there is damage.
      scan.damaged.push({
        start: scan.goodBytes,
        end: buf.length,
        kind: 'torn_sealed',
        detail: 'torn tail in a sealed segment',
        afterSeq: scan.records.at(-1)?.seq ?? lastSeq,
      });
      scan.tornBytes = 0;
    }
    lastSeq = Math.max(lastSeq, scan.maxSeq);
    out.push({ n, file: name, scan, bytes: buf.length });
  }
  return out;
}

/** The index of the last segment that starts with an intact snapshot (where the state is folded from). */
function stateBase(segments: readonly ScannedSegment[]): number {
  let base = 0;
  segments.forEach((s, i) => {
    if (s.scan.records[0]?.type === 'snapshot') base = i;
  });
  return base;
}

async function writeDurably(file: string, data: Uint8Array, sync: boolean): Promise<void> {
  const fd = await fileIo.open(file, 'w', 0o600);
  try {
    await fileIo.writeAll(fd, Buffer.from(data));
    if (sync) await fileIo.fdatasync(fd);
  } finally {
    await fileIo.close(fd);
  }
}
