/**
 * The durable outbox for `evt/*` messages: money events survive a power cut between the sale and the
 * broker's acknowledgement, and `seq` / `sid` survive everything.
 *
 * Storage (its own, in one directory; small on purpose):
 * - `outbox.log`: append-only records `[type u8][length u32][crc32 u32][JSON payload]`:
 *   `add` {seq, topic, money, ts, body, src?}, `ack` {seqs}, `drop` {seqs}. `src` is the seq of the
 *   kiosk journal's record an event was told from: the add record and how far the journal has been
 *   told are one write, so an event told from the journal is in the outbox once (`sourceSeq`). A torn or corrupt tail (power cut
 *   mid-write) is cut off on open; everything before it is kept. Rewritten (compacted) to the live
 *   records once mostly acknowledged.
 * - `meta.json` (written atomically: temp file, fsync, rename): `sid`, the last `seq`, lifetime `dropped`,
 *   the highest `src` (kept there when compaction drops the acknowledged add records that held it),
 *   and a reservation: seqs are reserved on disk in blocks ahead of use, so after a crash (or a corrupt
 *   log record) `seq` jumps ahead to the reservation, leaving a gap the back end sees, and never repeats a
 *   `seq` that may already have been published.
 *
 * `add` records are fsync'ed before `stored` resolves (when `fsync` is on). `ack` records are not:
 * losing one only means the message is sent again, and the back end de-duplicates by `eventId`.
 *
 * Bounded by `maxMessages` / `maxBytes`: when over, the oldest telemetry (non-money) records are
 * dropped; money events are never dropped, even if that means staying over the bound.
 *
 * Nothing here throws into the caller after `open()`: storage errors are logged, the message stays in
 * memory, and `stored` resolves `false`.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeRecord, RecordType, replayLog, type OutboxRecord } from './outbox-log.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { OutboxStats } from './envelope.js';

export interface OutboxOptions {
  dir: string;
  /** Default 20 000 messages. */
  maxMessages?: number;
  /** Default 16 MiB of message bodies. */
  maxBytes?: number;
  /** fsync `add` records and meta.json. Default true; a benchmark may turn it off. */
  fsync?: boolean;
  /** Compact when the log is larger than this and less than half of it is live. Default 1 MiB. */
  compactBytes?: number;
  logger?: Logger;
}

export interface EnqueueReceipt {
  seq: number;
  /** Resolves true once on disk (fsync'ed), false if storage failed (the message is kept in memory). */
  stored: Promise<boolean>;
}

interface Meta {
  sid: number;
  /** Exact after a clean close; otherwise `reserved` is the floor for the next run. */
  lastSeq: number;
  /** Seqs up to here may have been handed out: after a crash the next run continues above it. */
  reserved: number;
  /** Written true by close(), false while open. */
  clean: boolean;
  /** Telemetry dropped before the current log (drops in the log are counted from its records). */
  dropped: number;
  /** The highest journal seq told (`src`) as of the last write of this file; the log may hold higher. */
  src?: number;
}

/** How many seqs are reserved on disk ahead of use (the gap a crash may leave). */
const SEQ_RESERVE = 1000;

const LOG = 'outbox.log';
const META = 'meta.json';

interface PendingWrite {
  buf: Buffer;
  durable: boolean;
  done?: (ok: boolean) => void;
}

export class Outbox {
  private readonly live = new Map<number, OutboxRecord>();
  private liveBytes = 0;
  private droppedInLog = 0;
  private moneyCount = 0;
  private meta: Meta;
  private fileBytes: number;
  private writes: PendingWrite[] = [];
  private ackBatch: number[] = [];
  private dropBatch: number[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  /**
   * An add record told from the journal failed to reach the disk: from then on this run never raises
   * `sourceSeq` (the event is only in memory; the next start reads the journal from before it again).
   */
  private srcLost = false;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly fsync: boolean;
  private readonly compactBytes: number;
  private readonly logger: Logger;

  private constructor(
    private readonly dir: string,
    private fh: FileHandle,
    meta: Meta,
    fileBytes: number,
    opts: OutboxOptions,
  ) {
    this.meta = meta;
    this.fileBytes = fileBytes;
    this.maxMessages = opts.maxMessages ?? 20_000;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.fsync = opts.fsync ?? true;
    this.compactBytes = opts.compactBytes ?? 1024 * 1024;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Opens (or creates) the outbox in `dir`, replaying the log. Throws only if the directory is unusable. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    const logger = opts.logger ?? silentLogger;
    await mkdir(opts.dir, { recursive: true });
    const meta = await readMeta(path.join(opts.dir, META), logger);
    const logPath = path.join(opts.dir, LOG);
    let data: Buffer;
    try {
      data = await readFile(logPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      data = Buffer.alloc(0);
    }
    const replayed = replayLog(data);
    const { live, dropped } = replayed;
    const off = replayed.validBytes;
    const maxSeq = Math.max(
      meta.clean ? meta.lastSeq : Math.max(meta.lastSeq, meta.reserved),
      replayed.maxSeq,
    );
    const fh = await open(logPath, 'a+');
    if (off < data.length) {
      logger.warn(
        { dir: opts.dir, kept: off, cut: data.length - off },
        'outbox: torn or corrupt tail cut off',
      );
      await fh.truncate(off);
      await fh.sync();
    }
    const ordered = new Map([...live.entries()].sort((a, b) => a[0] - b[0]));
    const src = maxOf(meta.src, replayed.maxSrc);
    const box = new Outbox(
      opts.dir,
      fh,
      {
        ...meta,
        lastSeq: maxSeq,
        reserved: maxSeq + SEQ_RESERVE,
        clean: false,
        ...(src !== undefined ? { src } : {}),
      },
      off,
      opts,
    );
    for (const r of ordered.values()) box.addLive(r);
    box.droppedInLog = dropped;
    await box.persistMeta(); // not clean any more, seqs reserved: a crash from here on skips ahead
    return box;
  }

  /** The current session id (as last persisted). */
  get sid(): number {
    return this.meta.sid;
  }

  /**
   * The highest journal seq an event in this outbox was told from (`enqueue`'s `src`), acknowledged
   * or not; undefined when no event ever named one. The records after it are not told yet.
   */
  get sourceSeq(): number | undefined {
    return this.meta.src;
  }

  /**
   * The journal has been told up to `src` (its records up to there tell nothing more than what was
   * enqueued): kept as `sourceSeq` once every add record before is on disk, meta.json written. So
   * an outbox knows where the journal stands also when its records told no event. False when an
   * add told from the journal failed to reach the disk in this run (the next start reads those
   * records again) or on a storage error.
   */
  async noteSource(src: number): Promise<boolean> {
    if (this.closed) return false;
    await this.flush();
    if (this.srcLost || this.closed) return false;
    this.meta.src = maxOf(this.meta.src, src);
    try {
      await this.persistMeta();
      return true;
    } catch (err) {
      this.logger.error({ err }, 'outbox: journal position not saved');
      return false;
    }
  }

  /** The last `seq` issued (0 before the first event ever). */
  get lastSeq(): number {
    return this.meta.lastSeq;
  }

  /** sid + 1, on disk before it resolves (call before every connect: the Will carries it). */
  async nextSid(): Promise<number> {
    this.meta.sid += 1;
    await this.persistMeta();
    return this.meta.sid;
  }

  /**
   * Assigns the next `seq` (synchronously: `build` receives it, to put it in the envelope) and stores the
   * message. Applies the bound afterwards (oldest telemetry dropped first).
   */
  enqueue(
    topic: string,
    money: boolean,
    ts: number,
    build: (seq: number) => string,
    src?: number,
  ): EnqueueReceipt {
    const seq = ++this.meta.lastSeq;
    if (this.meta.reserved - seq < SEQ_RESERVE / 2) {
      this.meta.reserved = seq + SEQ_RESERVE;
      void this.persistMeta().catch((err: unknown) =>
        this.logger.error({ err }, 'outbox: seq reservation not saved'),
      );
    }
    // After a lost add, later ones go without `src`: the log must not claim them as the position.
    const told = src !== undefined && !this.srcLost ? src : undefined;
    const record: OutboxRecord = {
      seq,
      topic,
      money,
      ts,
      body: build(seq),
      ...(told !== undefined ? { src: told } : {}),
    };
    this.addLive(record);
    const stored = new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        // Only once the add record is on disk: meta.json written meanwhile must not claim an event
        // a power cut may still take.
        if (src !== undefined && !ok) this.srcLost = true;
        if (ok && src !== undefined && !this.srcLost) this.meta.src = maxOf(this.meta.src, src);
        resolve(ok);
      };
      this.write({ buf: encodeRecord(RecordType.Add, record), durable: true, done });
    });
    this.enforceBound();
    return { seq, stored };
  }

  /** Records waiting for acknowledgement, oldest first. */
  pending(): IterableIterator<OutboxRecord> {
    return this.live.values();
  }

  has(seq: number): boolean {
    return this.live.has(seq);
  }

  get size(): number {
    return this.live.size;
  }

  /** The broker acknowledged `seq`: it leaves the outbox. Unknown seqs (dropped meanwhile) are ignored. */
  ack(seq: number): void {
    if (!this.removeLive(seq)) return;
    this.ackBatch.push(seq);
    this.scheduleBatches();
  }

  stats(): OutboxStats {
    const first = this.live.values().next();
    return {
      size: this.live.size,
      bytes: this.liveBytes,
      money: this.moneyCount,
      dropped: this.meta.dropped + this.droppedInLog,
      oldestTs: first.done ? null : first.value.ts,
    };
  }

  /** Waits until everything written so far is on disk. */
  async flush(): Promise<void> {
    this.scheduleBatches(true);
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    this.meta.clean = true;
    this.meta.reserved = this.meta.lastSeq;
    await this.persistMeta().catch((err: unknown) =>
      this.logger.error({ err }, 'outbox: meta not saved on close'),
    );
  }

  // -------------------------------------------------------------------------------------------------

  private addLive(r: OutboxRecord): void {
    this.live.set(r.seq, r);
    this.liveBytes += r.body.length;
    if (r.money) this.moneyCount++;
  }

  private removeLive(seq: number): boolean {
    const r = this.live.get(seq);
    if (!r) return false;
    this.live.delete(seq);
    this.liveBytes -= r.body.length;
    if (r.money) this.moneyCount--;
    return true;
  }

  private enforceBound(): void {
    if (this.live.size <= this.maxMessages && this.liveBytes <= this.maxBytes) return;
    for (const r of this.live.values()) {
      if (this.live.size <= this.maxMessages && this.liveBytes <= this.maxBytes) break;
      if (r.money) continue;
      this.removeLive(r.seq);
      this.droppedInLog++;
      this.dropBatch.push(r.seq);
    }
    if (this.live.size > this.maxMessages || this.liveBytes > this.maxBytes) {
      this.logger.warn(
        { size: this.live.size, bytes: this.liveBytes },
        'outbox over its bound with money events only',
      );
    }
    this.scheduleBatches();
  }

  private batchScheduled = false;
  private scheduleBatches(now = false): void {
    const emit = (): void => {
      this.batchScheduled = false;
      if (this.ackBatch.length)
        this.write({ buf: encodeRecord(RecordType.Ack, { seqs: this.ackBatch }), durable: false });
      if (this.dropBatch.length)
        this.write({ buf: encodeRecord(RecordType.Drop, { seqs: this.dropBatch }), durable: false });
      this.ackBatch = [];
      this.dropBatch = [];
    };
    if (now) return emit();
    if (this.batchScheduled) return;
    this.batchScheduled = true;
    setImmediate(emit);
  }

  private write(w: PendingWrite): void {
    if (this.closed) {
      w.done?.(false);
      return;
    }
    this.writes.push(w);
    this.startDrain();
  }

  private startDrain(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      // A write queued after drain() saw the queue empty but before this ran (a caller woken by a
      // `stored` of the last batch enqueuing at once) found `writing` still set: it goes now. Before,
      // it waited for the next write, not on disk meanwhile, and flush() returned without it.
      if (this.writes.length > 0) this.startDrain();
    });
  }

  /** One writer at a time: everything queued meanwhile goes out in one write and one fsync. */
  private async drain(): Promise<void> {
    while (this.writes.length) {
      const batch = this.writes;
      this.writes = [];
      const buf = Buffer.concat(batch.map((w) => w.buf));
      let ok = true;
      try {
        await this.fh.write(buf);
        this.fileBytes += buf.length;
        if (this.fsync && batch.some((w) => w.durable)) await this.fh.datasync();
      } catch (err) {
        ok = false;
        this.logger.error({ err, dir: this.dir }, 'outbox: write failed; messages kept in memory');
      }
      for (const w of batch) w.done?.(ok);
      if (this.fileBytes > this.compactBytes && this.liveBytes * 2 < this.fileBytes) {
        await this.compact().catch((err: unknown) => this.logger.error({ err }, 'outbox: compaction failed'));
      }
    }
  }

  private async compact(): Promise<void> {
    // the drop records go away with the old log: their count moves to meta.json first
    this.meta.dropped += this.droppedInLog;
    this.droppedInLog = 0;
    await this.persistMeta();
    const tmp = path.join(this.dir, `${LOG}.new`);
    const chunks: Buffer[] = [];
    for (const r of this.live.values()) chunks.push(encodeRecord(RecordType.Add, r));
    const buf = Buffer.concat(chunks);
    const out = await open(tmp, 'w');
    try {
      await out.write(buf);
      if (this.fsync) await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, path.join(this.dir, LOG));
    await this.syncDir();
    const old = this.fh;
    this.fh = await open(path.join(this.dir, LOG), 'a+');
    this.fileBytes = buf.length;
    await old.close().catch(() => undefined);
  }

  private metaChain: Promise<void> = Promise.resolve();
  /** Serialized: nextSid() and compaction may both want to write it. */
  private persistMeta(): Promise<void> {
    const next = this.metaChain.then(() => this.writeMeta());
    this.metaChain = next.catch(() => undefined);
    return next;
  }

  private async writeMeta(): Promise<void> {
    const tmp = path.join(this.dir, `${META}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(this.meta));
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(this.dir, META));
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    if (!this.fsync) return;
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } catch {
      // some file systems refuse fsync on a directory; the rename is still atomic
    } finally {
      await d.close();
    }
  }
}

async function readMeta(file: string, logger: Logger): Promise<Meta> {
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as Partial<Meta>;
    return {
      sid: Number.isSafeInteger(m.sid) ? (m.sid as number) : 0,
      lastSeq: Number.isSafeInteger(m.lastSeq) ? (m.lastSeq as number) : 0,
      reserved: Number.isSafeInteger(m.reserved) ? (m.reserved as number) : 0,
      clean: m.clean === true,
      dropped: Number.isSafeInteger(m.dropped) ? (m.dropped as number) : 0,
      ...(Number.isSafeInteger(m.src) ? { src: m.src as number } : {}),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.warn({ err, file }, 'outbox: meta.json unreadable');
    return { sid: 0, lastSeq: 0, reserved: 0, clean: true, dropped: 0 };
  }
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
