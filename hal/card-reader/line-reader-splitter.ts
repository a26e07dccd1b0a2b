/**
 * Splits a reader's byte stream into lines. Readers are configured to end a read with CR, LF or CR LF;
 * all three are accepted, and the LF of a CR LF (even in the next chunk) does not make an empty read.
 * Memory is bounded: an over-long line is dropped, not buffered. A line with bytes outside printable
 * ASCII is dropped as garbage (a baud-rate mismatch or a half-read after a replug looks like that).
 * A partial line left stale longer than `staleMs` (reader unplugged mid-line) is dropped so that it
 * cannot glue itself to the next read.
 */
import { maskCard } from '../../src/util/privacy.js';

export type SplitResult =
  | { kind: 'line'; text: string }
  | { kind: 'dropped'; reason: 'garbage' | 'too_long' | 'stale'; length: number; preview: string };

export interface LineSplitterOptions {
  /** Longest accepted line in bytes, without terminator. Default 64 (a 20-digit card or an EAN fits). */
  maxLength?: number;
  /** A partial line older than this is dropped when the next byte arrives. Default 1000 ms. */
  staleMs?: number;
}

const CR = 0x0d;
const LF = 0x0a;

export class LineSplitter {
  private buf: number[] = [];
  private overflow = 0;
  private afterCr = false;
  private lastByteAt = 0;
  private readonly maxLength: number;
  private readonly staleMs: number;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLength = options.maxLength ?? 64;
    this.staleMs = options.staleMs ?? 1000;
  }

  /** `now`: monotonic ms (a wall-clock jump must not make a half-read card stale or fresh). */
  push(chunk: Buffer, now: number = performance.now()): SplitResult[] {
    const out: SplitResult[] = [];
    if (this.buf.length + this.overflow > 0 && now - this.lastByteAt > this.staleMs) {
      out.push(this.dropped('stale'));
      this.afterCr = false;
    }
    this.lastByteAt = now;
    for (const byte of chunk) {
      if (byte === LF && this.afterCr) {
        this.afterCr = false;
        continue;
      }
      this.afterCr = byte === CR;
      if (byte === CR || byte === LF) {
        const r = this.endLine();
        if (r) out.push(r);
        continue;
      }
      if (this.overflow || this.buf.length >= this.maxLength) this.overflow++;
      else this.buf.push(byte);
    }
    return out;
  }

  /** Forgets a partial line, e.g. after the port was reopened. */
  reset(): void {
    this.buf = [];
    this.overflow = 0;
    this.afterCr = false;
  }

  private endLine(): SplitResult | undefined {
    if (this.overflow) return this.dropped('too_long');
    if (this.buf.some((b) => b < 0x20 || b > 0x7e)) return this.dropped('garbage');
    const text = Buffer.from(this.buf).toString('latin1').trim();
    this.buf = [];
    // An empty line (LF LF, or spaces only) is not a read.
    return text ? { kind: 'line', text } : undefined;
  }

  private dropped(reason: 'garbage' | 'too_long' | 'stale'): SplitResult {
    const length = this.buf.length + this.overflow;
    const preview = maskDigitsForLog(
      Buffer.from(this.buf.slice(0, 24).map((b) => (b >= 0x20 && b <= 0x7e ? b : 0x3f))).toString('latin1'),
    );
    this.buf = [];
    this.overflow = 0;
    return { kind: 'dropped', reason, length, preview };
  }
}

/**
 * Masks every run of 5 or more digits the way `maskCard` does, whatever its length: a dropped line
 * may be a card number cut or glued to garbage, which `maskCardsInText` (12 to 20 digits) would miss.
 */
export function maskDigitsForLog(text: string): string {
  return text.replace(/\d{5,}/g, (run) => maskCard(run));
}
