/**
 * The on-disk format of one journal segment: text, one record per line, so `tail`, `grep` and
 * `jq` (after `cut -c10-`) read it.
 *
 *     <crc32, 8 lowercase hex><mark><JSON>\n
 *
 * The CRC-32 covers the mark byte and the JSON bytes. The mark says where a group commit ended:
 * ` ` (space) closes a batch that was fsynced as one (a single append is a batch of one), `+`
 * means more records of the same batch follow. The first line of every segment is a header
 * `{"magic":"kiosk-journal","version":1,"segment":n,"createdTs":...}`.
 *
 * Reading tells apart two kinds of damage:
 *  - a torn tail: bad bytes (a cut line, garbage, zeros) after which no committed record follows.
 *    A power cut mid-write can only produce this, and nothing in it was ever acknowledged to a
 *    caller (the batch's fsync had not returned), so it is dropped and the file truncated.
 *  - corruption: bad bytes followed by a committed record, a bad header, or seq going backwards.
 *    Acknowledged data was damaged after the fact; the file is not trusted (see journal.ts).
 */
import { crc32 } from './crc32.js';

export const MAGIC = 'kiosk-journal';
export const FORMAT_VERSION = 1;

const NL = 0x0a;
const OPEN_BRACE = 0x7b;
const MARK_COMMIT = 0x20; // ' '
const MARK_MORE = 0x2b; // '+'

export interface SegmentHeader {
  magic: string;
  version: number;
  segment: number;
  createdTs: number;
}

/** Encodes one line; `commit` marks the last record of a batch. */
export function encodeFrame(json: string, commit: boolean): Buffer {
  const body = Buffer.from(` ${json}\n`, 'utf8');
  body[0] = commit ? MARK_COMMIT : MARK_MORE;
  const crc = crc32(body, 0, body.length - 1);
  return Buffer.concat([Buffer.from(crc.toString(16).padStart(8, '0'), 'ascii'), body]);
}

export function encodeHeader(segment: number, createdTs: number): Buffer {
  const header: SegmentHeader = { magic: MAGIC, version: FORMAT_VERSION, segment, createdTs };
  return encodeFrame(JSON.stringify(header), true);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

export interface DecodedFrame {
  value: unknown;
  commit: boolean;
  /** Offset just past the line's newline. */
  end: number;
}

/** Decodes the line starting at `pos` (which must end with a newline); undefined when it is not a valid frame. */
export function decodeFrameAt(buf: Uint8Array, pos: number): DecodedFrame | undefined {
  if (pos + 11 > buf.length || buf[pos + 9] !== OPEN_BRACE) return undefined;
  const nl = indexOfNewline(buf, pos + 9);
  return nl < 0 ? undefined : decodeFrame(buf, pos, nl);
}

/**
 * Decodes the bytes [pos, nl) as a frame whose newline at `nl` was damaged (a flipped byte where
 * the line ended): the record itself is intact when its checksum matches up to there.
 */
export function decodeFrameEndingAt(buf: Uint8Array, pos: number, nl: number): DecodedFrame | undefined {
  if (nl <= pos + 10 || nl > buf.length || buf[pos + 9] !== OPEN_BRACE) return undefined;
  return decodeFrame(buf, pos, nl);
}

/** The frame [pos, nl): its mark, its checksum over mark and JSON, and the JSON itself. */
function decodeFrame(buf: Uint8Array, pos: number, nl: number): DecodedFrame | undefined {
  const mark = buf[pos + 8];
  if (mark !== MARK_COMMIT && mark !== MARK_MORE) return undefined;
  let expected = 0;
  for (let i = 0; i < 8; i++) {
    const h = hexValue(buf[pos + i] as number);
    if (h < 0) return undefined;
    expected = expected * 16 + h;
  }
  if (crc32(buf, pos + 8, nl) !== expected) return undefined;
  try {
    const text = Buffer.from(buf.buffer, buf.byteOffset + pos + 9, nl - pos - 9).toString('utf8');
    return { value: JSON.parse(text) as unknown, commit: mark === MARK_COMMIT, end: nl + 1 };
  } catch {
    return undefined; // CRC matched by chance over bytes that are not JSON: still not a record
  }
}

function indexOfNewline(buf: Uint8Array, from: number): number {
  return buf.indexOf(NL, from);
}

/**
 * The offset of the first valid frame that starts after `from` (at any byte, not only after a
 * newline: damage may have eaten one), or -1. With `committedOnly`, only frames closing a batch count.
 */
export function findFrameAfter(buf: Uint8Array, from: number, committedOnly: boolean): number {
  for (let o = Math.max(from, 0); o + 11 <= buf.length; o++) {
    if (buf[o + 9] !== OPEN_BRACE) continue;
    const frame = decodeFrameAt(buf, o);
    if (frame && (frame.commit || !committedOnly)) return o;
  }
  return -1;
}

export function isHeader(value: unknown): value is SegmentHeader {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.magic === MAGIC &&
    typeof v.version === 'number' &&
    typeof v.segment === 'number' &&
    typeof v.createdTs === 'number'
  );
}
