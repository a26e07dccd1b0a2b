/**
 * Reads one segment's bytes into records and says how far they can be trusted (see frame.ts for
 * torn tail vs corruption). Pure: the journal decides what to do with the file.
 */
import { EntryInputSchema, StampSchema } from './entries.js';
import { decodeFrameAt, findFrameAfter, FORMAT_VERSION, isHeader, type SegmentHeader } from './frame.js';
import { LedgerStateSchema, type JournalRecord } from './state.js';

export type Damage =
  | { kind: 'bad_header'; detail: string }
  | { kind: 'unsupported_version'; detail: string }
  | { kind: 'bad_record'; offset: number; detail: string }
  | { kind: 'seq_not_increasing'; offset: number; detail: string };

export interface SegmentScan {
  header: SegmentHeader | undefined;
  /** The trusted records, in file order. */
  records: JournalRecord[];
  /** Offset just past the last trusted record (the header counts): where appending continues. */
  goodBytes: number;
  /** Bytes after `goodBytes` that form no record and hide no committed one: a torn write, to drop. */
  tornBytes: number;
  /** Set when the file cannot be trusted; `records` then holds only what came before the damage. */
  damage: Damage | undefined;
  /** Highest seq on any checksummed line, even past damage, so a fresh journal never reuses one. */
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

/** Highest seq on any valid frame from `from` on (used only past damage, so it may be slow). */
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

export function scanSegment(buf: Uint8Array, previousSeq = -1): SegmentScan {
  const scan: SegmentScan = {
    header: undefined,
    records: [],
    goodBytes: 0,
    tornBytes: 0,
    damage: undefined,
    maxSeq: previousSeq,
    unknownRecords: 0,
  };
  const first = decodeFrameAt(buf, 0);
  if (!first || !isHeader(first.value)) {
    scan.damage = {
      kind: 'bad_header',
      detail: first ? 'first record is not a journal header' : 'no valid header',
    };
    scan.maxSeq = Math.max(previousSeq, maxSeqAfter(buf, 0));
    return scan;
  }
  if (first.value.version !== FORMAT_VERSION) {
    scan.damage = { kind: 'unsupported_version', detail: `version ${first.value.version}` };
    scan.maxSeq = Math.max(previousSeq, maxSeqAfter(buf, 0));
    return scan;
  }
  scan.header = first.value;
  scan.goodBytes = first.end;
  let pos = first.end;
  let lastSeq = previousSeq;
  while (pos < buf.length) {
    const frame = decodeFrameAt(buf, pos);
    if (!frame) {
      if (findFrameAfter(buf, pos + 1, true) >= 0) {
        scan.damage = { kind: 'bad_record', offset: pos, detail: 'bad record followed by committed records' };
        scan.maxSeq = Math.max(lastSeq, maxSeqAfter(buf, pos + 1));
      } else {
        scan.tornBytes = buf.length - pos;
      }
      break;
    }
    const seq = seqOf(frame.value);
    if (seq !== undefined && seq <= lastSeq) {
      scan.damage = { kind: 'seq_not_increasing', offset: pos, detail: `seq ${seq} after ${lastSeq}` };
      scan.maxSeq = Math.max(lastSeq, maxSeqAfter(buf, pos));
      break;
    }
    const record = parseRecord(frame.value);
    if (record) scan.records.push(record);
    else scan.unknownRecords += 1;
    if (seq !== undefined) lastSeq = seq;
    pos = frame.end;
    scan.goodBytes = pos;
  }
  scan.maxSeq = Math.max(scan.maxSeq, lastSeq);
  return scan;
}
