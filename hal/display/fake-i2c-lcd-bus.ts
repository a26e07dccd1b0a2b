/**
 * A recording I2C bus with a PCF8574 + HD44780 at one address. Keeps every write (bytes and the
 * time it happened, from an injectable clock), feeds the bytes into an `Hd44780Model`, and can
 * fail like real hardware: unplugged (EREMOTEIO, nothing in `scan`) or the next N writes failing.
 */
import type { LcdBus } from '../io/pcf8574-bus.js';
import { Hd44780Model } from './fake-hd44780-model.js';

export interface RecordedWrite {
  address: number;
  bytes: number[];
  at: number;
}

function ioError(code: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: simulated I2C failure`), { code });
}

export class RecordingLcdBus implements LcdBus {
  readonly writes: RecordedWrite[] = [];
  model = new Hd44780Model();
  closed = false;
  private failures: string[] = [];
  private unplugged = false;

  constructor(
    readonly deviceAddress = 0x27,
    private readonly now: () => number = Date.now,
  ) {}

  async i2cWrite(address: number, length: number, buffer: Buffer): Promise<{ bytesWritten: number }> {
    const failure = this.failures.shift();
    if (failure) throw ioError(failure);
    if (this.unplugged || address !== this.deviceAddress) throw ioError('EREMOTEIO');
    const bytes = [...buffer.subarray(0, length)];
    this.writes.push({ address, bytes, at: this.now() });
    for (const b of bytes) this.model.feed(b);
    return { bytesWritten: length };
  }

  async scan(): Promise<number[]> {
    return this.unplugged ? [] : [this.deviceAddress];
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Makes the next writes fail with these codes, one per write. */
  failNext(...codes: string[]): void {
    this.failures.push(...codes);
  }

  /** Display disconnected: writes fail with EREMOTEIO. `replug` powers it up fresh (controller reset). */
  unplug(): void {
    this.unplugged = true;
  }

  replug(): void {
    this.unplugged = false;
    this.model = new Hd44780Model();
  }

  /** Total bytes written since `fromWrite` (an index into `writes`). */
  bytesSince(fromWrite: number): number {
    return this.writes.slice(fromWrite).reduce((n, w) => n + w.bytes.length, 0);
  }
}
