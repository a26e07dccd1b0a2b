/**
 * Stream parser for PN532 frames. Serial data arrives in chunks of any size: a frame can be split
 * anywhere, preceded by garbage (line noise, the tail of a frame from before a reset), or corrupted.
 * The parser looks for the start code `00 FF` (the leading preamble 00 is optional in the datasheet),
 * checks both checksums and, after anything invalid, resynchronises by searching again one byte after
 * the start code it gave up on, so a valid frame right behind a broken one is still found.
 */
import { TFI_CHIP, TFI_ERROR, TFI_HOST } from './pn532-frame.js';

export type Pn532Packet =
  | { kind: 'ack' }
  | { kind: 'nack' }
  /** `data` starts with the command (host) or response (chip) code. */
  | { kind: 'frame'; tfi: number; data: Buffer }
  /** The chip's application-level error frame (TFI 7F). */
  | { kind: 'error' }
  /** Bytes dropped: `garbage` before a start code, or a start code whose frame failed a check. */
  | { kind: 'invalid'; reason: 'garbage' | 'bad_lcs' | 'bad_dcs' | 'bad_tfi' | 'extended'; bytes: number };

/** Bound on buffered bytes without a start code: noise must not grow memory. */
const MAX_BUFFER = 512;

export class Pn532FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  /** The last frame ended at a chunk boundary before its postamble 00 arrived. */
  private postamblePending = false;

  push(chunk: Buffer): Pn532Packet[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: Pn532Packet[] = [];
    for (;;) {
      const p = this.next();
      if (!p) break;
      out.push(p);
    }
    if (this.buf.length > MAX_BUFFER) {
      // Keep the last bytes: they may be the 00 00 of a frame whose FF is still on the wire.
      out.push({ kind: 'invalid', reason: 'garbage', bytes: this.buf.length - 2 });
      this.buf = this.buf.subarray(this.buf.length - 2);
    }
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.postamblePending = false;
  }

  private next(): Pn532Packet | undefined {
    if (this.postamblePending && this.buf.length > 0) {
      this.postamblePending = false;
      if (this.buf[0] === 0x00) this.buf = this.buf.subarray(1);
    }
    const i = this.findStartCode();
    if (i < 0) {
      // No start code: all but up to two trailing 00s (preamble and the start of a start code) is garbage.
      const n = this.buf.length;
      const keep = this.buf[n - 1] !== 0x00 ? 0 : this.buf[n - 2] === 0x00 ? 2 : 1;
      const dropped = this.buf.length - keep;
      if (dropped <= 0) return undefined;
      this.buf = this.buf.subarray(dropped);
      return { kind: 'invalid', reason: 'garbage', bytes: dropped };
    }
    // A preamble 00 directly before the start code belongs to the frame; anything earlier is garbage.
    const frameStart = i > 0 && this.buf[i - 1] === 0x00 ? i - 1 : i;
    if (frameStart > 0) {
      this.buf = this.buf.subarray(frameStart);
      return { kind: 'invalid', reason: 'garbage', bytes: frameStart };
    }
    const s = i; // index of the start code's 00: 0 without preamble, 1 with
    if (this.buf.length < s + 4) return undefined;
    const len = this.buf[s + 2] ?? 0;
    const lcs = this.buf[s + 3] ?? 0;
    if (len === 0x00 && lcs === 0xff) return this.consume(s + 4, { kind: 'ack' });
    if (len === 0xff && lcs === 0x00) return this.consume(s + 4, { kind: 'nack' });
    if (len === 0xff && lcs === 0xff) return this.drop(s, 'extended');
    if (((len + lcs) & 0xff) !== 0) return this.drop(s, 'bad_lcs');
    const bodyStart = s + 4;
    if (this.buf.length < bodyStart + len + 1) return undefined;
    const body = this.buf.subarray(bodyStart, bodyStart + len);
    let total = this.buf[bodyStart + len] ?? 0;
    for (const b of body) total += b;
    if ((total & 0xff) !== 0) return this.drop(s, 'bad_dcs');
    const tfi = body[0] ?? 0;
    if (tfi !== TFI_HOST && tfi !== TFI_CHIP && !(tfi === TFI_ERROR && len === 1))
      return this.drop(s, 'bad_tfi');
    const packet: Pn532Packet =
      tfi === TFI_ERROR ? { kind: 'error' } : { kind: 'frame', tfi, data: Buffer.from(body.subarray(1)) };
    return this.consume(bodyStart + len + 1, packet);
  }

  /** Index of the 00 of the first `00 FF`, or -1. */
  private findStartCode(): number {
    for (let i = 0; i + 1 < this.buf.length; i++) {
      if (this.buf[i] === 0x00 && this.buf[i + 1] === 0xff) return i;
    }
    return -1;
  }

  /** Consumes up to `end` plus the postamble 00 when it is already there. */
  private consume(end: number, packet: Pn532Packet): Pn532Packet {
    this.postamblePending = end >= this.buf.length;
    const skip = this.buf[end] === 0x00 ? end + 1 : end;
    this.buf = this.buf.subarray(skip);
    return packet;
  }

  /** Gives up on the start code at `s` and searches again from the byte after its 00. */
  private drop(s: number, reason: 'bad_lcs' | 'bad_dcs' | 'bad_tfi' | 'extended'): Pn532Packet {
    this.buf = this.buf.subarray(s + 1);
    return { kind: 'invalid', reason, bytes: s + 1 };
  }
}
