/**
 * Reads one segment's bytes into records and says how far they can be trusted (see frame.ts for
 * torn tail vs corruption). Pure: the journal decides what to do with the file.
 *
 * A damaged record costs at most that record: the scan resynchronises at the next valid frame
 * (any byte offset: the damage may have eaten a newline) and keeps every valid record before and
 * after it. Each damaged byte range is reported with the seq of the last intact record before
 * it, so the fold can tell which sessions were open there. A record whose only damage is its
 * newline is read back whole (its checksum covers everything before the newline).
 */
import { EntryInputSchema, StampSchema } from './entries.js';
import {
  decodeFrameAt,
  decodeFrameEndingAt,
  findFrameAfter,
  FORMAT_VERSION,
  isHeader,
  type SegmentHeader,
} from './frame.js';
import { isMoneyCheck, MoneyCheckSchema, type MoneyCheck } from './money-check.js';
import { LedgerStateSchema, type JournalRecord } from './state.js';

export type Damage =
  | { kind: 'bad_header'; detail: string }
  | { kind: 'unsupported_version'; detail: string }
  | { kind: 'bad_record'; offset: number; detail: string }
  | { kind: 'seq_not_increasing'; offset: number; detail: string };

/** Bytes [start, end) of a segment that form no trusted record. */
export interface DamagedRange {
  start: number;
  end: number;
  kind: 'bad_header' | 'bad_record' | 'seq_not_increasing' | 'torn_sealed';
  detail: string;
  /** The seq of the last intact record before the range (-1: none in this segment before it). */
  afterSeq: number;
  /** The record was read back whole (only its newline was damaged). */
  repaired?: boolean;
}

/** Bytes [start, end) of one trusted frame; `healNewline`: its last byte must be written as a newline. */
export interface FrameSpan {
  start: number;
  end: number;
  healNewline: boolean;
}

export interface SegmentScan {
  header: SegmentHeader | undefined;
  /** The trusted records, in file order. */
  records: JournalRecord[];
  /** The money cross-checks (money-check.ts), in file order. */
  checks: MoneyCheck[];
  /** Offset just past the last trusted record (the header counts): where appending continues. */
  goodBytes: number;
  /** Bytes after `goodBytes` that form no record and hide no committed one: a torn write, to drop. */
  tornBytes: number;
  /**
   * Set only when nothing in the file can be read with this version (an unknown format version):
   * the file is moved aside whole. Ordinary damage is in `damaged`.
   */
  damage: Damage | undefined;
  /** Damaged byte ranges, resynchronised past (records before and after are in `records`). */
  damaged: DamagedRange[];
  /** Every trusted frame (header, records, checks), to rewrite a repaired file without the damage. */
  frames: FrameSpan[];
  /** Highest seq on any checksummed line, so a journal never reuses one. */
  maxSeq: number;
  /** Lines whose checksum was right but whose content no schema of this version knows (skipped). */
  unknownRecords: number;
}

function parseRecord(value: unknown): JournalRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stamp = StampSchema.safeParse(value);
  if (!stamp.success) return undefined;
  if ((value as { type?: unknown }).type === 'snapshot') {
    const state = LedgerStateSchema.safeParse((value as { state?: unknown }).state);
    return state.success
      ? { type: 'snapshot', seq: stamp.data.seq, ts: stamp.data.ts, state: state.data }
      : undefined;
  }
  const entry = EntryInputSchema.safeParse(value);
  return entry.success ? { ...entry.data, seq: stamp.data.seq, ts: stamp.data.ts } : undefined;
}

function seqOf(value: unknown): number | undefined {
  const seq = (value as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : undefined;
}

/** Highest seq on any valid frame from `from` on. */
function maxSeqAfter(buf: Uint8Array, from: number): number {
  let max = -1;
  let o = findFrameAfter(buf, from, false);
  while (o >= 0) {
    const frame = decodeFrameAt(buf, o);
    if (!frame) break;
    max = Math.max(max, seqOf(frame.value) ?? -1);
    o = findFrameAfter(buf, frame.end, false);
  }
  return max;
}

/**
 * Whether a committed frame that could follow a record of seq `lastSeq` starts after `from`: one
 * with a higher seq, or a check closing a batch at or after it. Only then is bad data damage; bytes
 * hiding only stale copies are a torn tail.
 */
function committedFollows(buf: Uint8Array, from: number, lastSeq: number): boolean {
  let o = findFrameAfter(buf, from, true);
  while (o >= 0) {
    const frame = decodeFrameAt(buf, o);
    if (!frame) return false;
    const v = frame.value as { after?: unknown };
    if (isMoneyCheck(v) ? typeof v.after === 'number' && v.after >= lastSeq : (seqOf(v) ?? -1) > lastSeq)
      return true;
    o = findFrameAfter(buf, frame.end, true);
  }
  return false;
}

export function scanSegment(buf: Uint8Array, previousSeq = -1): SegmentScan {
  const scan: SegmentScan = {
    header: undefined,
    records: [],
    checks: [],
    goodBytes: 0,
    tornBytes: 0,
    damage: undefined,
    damaged: [],
    frames: [],
    maxSeq: previousSeq,
    unknownRecords: 0,
  };
  let pos = 0;
  const first = decodeFrameAt(buf, 0);
  if (first && isHeader(first.value)) {
    if (first.value.version !== FORMAT_VERSION) {
      scan.damage = { kind: 'unsupported_version', detail: `version ${first.value.version}` };
      scan.maxSeq = Math.max(previousSeq, maxSeqAfter(buf, 0));
      return scan;
    }
    scan.header = first.value;
    scan.frames.push({ start: 0, end: first.end, healNewline: false });
    pos = first.end;
    scan.goodBytes = pos;
  } else if (buf.length > 0) {
    const next = findFrameAfter(buf, 1, false);
    const end = next < 0 ? buf.length : next;
    scan.damaged.push({
      start: 0,
      end,
      kind: 'bad_header',
      detail: first ? 'first record is not a journal header' : 'no valid header',
      afterSeq: previousSeq,
    });
    if (next < 0) return scan;
    pos = next;
  }
  let lastSeq = previousSeq;
  while (pos < buf.length) {
    let frame = decodeFrameAt(buf, pos);
    let repaired = false;
    if (!frame) {
      if (!committedFollows(buf, pos + 1, lastSeq)) {
        // Nothing committed follows: a write cut by a power cut (or a damaged last check), never acknowledged.
        scan.tornBytes = buf.length - pos;
        break;
      }
      const next = findFrameAfter(buf, pos + 1, false);
      const healed = decodeFrameEndingAt(buf, pos, next - 1);
      if (healed && healed.end === next) {
        frame = healed;
        repaired = true;
      } else {
        scan.damaged.push({
          start: pos,
          end: next,
          kind: 'bad_record',
          detail: 'bad record followed by committed records',
          afterSeq: lastSeq,
        });
        pos = next;
        continue;
      }
    }
    if (repaired) {
      scan.damaged.push({
        start: pos,
        end: frame.end,
        kind: 'bad_record',
        detail: 'damaged line end; record read back whole',
        afterSeq: lastSeq,
        repaired: true,
      });
    }
    if (isMoneyCheck(frame.value)) {
      const check = MoneyCheckSchema.safeParse(frame.value);
      if (check.success && check.data.after < lastSeq) {
        // A check always closes its own batch: one naming an earlier point is a stale copy.
        scan.damaged.push({
          start: pos,
          end: frame.end,
          kind: 'seq_not_increasing',
          detail: `check after ${check.data.after} behind seq ${lastSeq}`,
          afterSeq: lastSeq,
        });
        pos = frame.end;
        continue;
      }
      if (check.success) scan.checks.push(check.data);
      else scan.unknownRecords += 1;
    } else {
      const seq = seqOf(frame.value);
      if (seq !== undefined && seq <= lastSeq) {
        scan.damaged.push({
          start: pos,
          end: frame.end,
          kind: 'seq_not_increasing',
          detail: `seq ${seq} after ${lastSeq}`,
          afterSeq: lastSeq,
        });
        pos = frame.end;
        continue;
      }
      const record = parseRecord(frame.value);
      if (record) scan.records.push(record);
      else scan.unknownRecords += 1;
      if (seq !== undefined) lastSeq = seq;
    }
    scan.frames.push({ start: pos, end: frame.end, healNewline: repaired });
    pos = frame.end;
    scan.goodBytes = pos;
  }
  scan.maxSeq = Math.max(scan.maxSeq, lastSeq);
  return scan;
}
