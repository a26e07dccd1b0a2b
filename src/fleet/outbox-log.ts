/**
 * The outbox log's record format, in one place: `[type u8][length u32 LE][crc32 u32 LE][JSON]`.
 * The outbox writes and replays it; `kiosk status` replays it read-only (it must never cut a tail
 * or rewrite meta.json of a running kiosk), so both use the decoder below.
 */
import { crc32 } from 'node:zlib';

export const enum RecordType {
  Add = 1,
  Ack = 2,
  Drop = 3,
}

export const HEADER = 9;

/** A message as the log keeps it until the broker acknowledges it. */
export interface OutboxRecord {
  seq: number;
  topic: string;
  /** Money events are never dropped under pressure. */
  money: boolean;
  /** When it entered the outbox (device time, ms). */
  ts: number;
  /** The serialized message (JSON of envelope + payload). */
  body: string;
  /**
   * The seq of the kiosk journal's record the event was told from (absent for the others): the
   * highest one in the outbox is how far the journal has been told (`Outbox.sourceSeq`).
   */
  src?: number;
}

export function encodeRecord(type: RecordType, payload: object): Buffer {
  const body = Buffer.from(JSON.stringify(payload));
  const head = Buffer.alloc(HEADER);
  head.writeUInt8(type, 0);
  head.writeUInt32LE(body.length, 1);
  head.writeUInt32LE(crc32(body), 5);
  return Buffer.concat([head, body]);
}

export interface ReplayedLog {
  /** Added and neither acknowledged nor dropped, by seq. */
  live: Map<number, OutboxRecord>;
  /** Telemetry dropped under pressure, as the log records it. */
  dropped: number;
  /** The highest seq seen in an add record (0 when none). */
  maxSeq: number;
  /** The highest `src` of an add record, acknowledged or not (undefined when none). */
  maxSrc: number | undefined;
  /** Bytes up to the end of the last intact record: anything after is a torn or damaged tail. */
  validBytes: number;
}

/** Replays `data` up to its first torn, damaged or unknown record. */
export function replayLog(data: Buffer): ReplayedLog {
  const live = new Map<number, OutboxRecord>();
  let dropped = 0;
  let maxSeq = 0;
  let maxSrc: number | undefined;
  let off = 0;
  while (off + HEADER <= data.length) {
    const type = data.readUInt8(off);
    const len = data.readUInt32LE(off + 1);
    const crc = data.readUInt32LE(off + 5);
    if (off + HEADER + len > data.length) break;
    const body = data.subarray(off + HEADER, off + HEADER + len);
    if (crc32(body) !== crc) break;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      break;
    }
    if (type === RecordType.Add && typeof (parsed as OutboxRecord).seq === 'number') {
      const r = parsed as OutboxRecord;
      live.set(r.seq, r);
      if (r.seq > maxSeq) maxSeq = r.seq;
      if (typeof r.src === 'number' && (maxSrc === undefined || r.src > maxSrc)) maxSrc = r.src;
    } else if (
      (type === RecordType.Ack || type === RecordType.Drop) &&
      Array.isArray((parsed as { seqs?: unknown }).seqs)
    ) {
      for (const seq of (parsed as { seqs: number[] }).seqs) {
        if (live.delete(seq) && type === RecordType.Drop) dropped++;
      }
    } else {
      break;
    }
    off += HEADER + len;
  }
  return { live, dropped, maxSeq, maxSrc, validBytes: off };
}
