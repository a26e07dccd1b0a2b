/**
 * Byte-level stand-ins for a receipt printer, so the real ESC/POS driver runs in tests:
 * - `RecordingPrinterInterface`: what node-thermal-printer writes to (a custom `execute(buffer)`
 *   interface), keeping every buffer; unplugged, it fails like a refused TCP connection.
 * - `FakeEscPosStatusStream`: a Duplex that answers `DLE EOT n` like a printer in a settable state;
 *   unplugged, it stays silent (the driver's read timeout must turn that into `offline`).
 * - `FakeStatusPort`: hands out such streams as a `connect()` for `duplexStatusChannel`, counting
 *   connections and refusing them while unplugged, like a USB-serial adapter that is gone.
 */
import { Duplex } from 'node:stream';
import { statusAnswers } from './escpos-status.js';
import type { PrinterDataInterface } from './escpos-receipt.js';
import type { PrinterStatus } from './printer.js';

function refused(): Error & { code: string } {
  return Object.assign(new Error('connect ECONNREFUSED (simulated)'), { code: 'ECONNREFUSED' });
}

export class RecordingPrinterInterface implements PrinterDataInterface {
  readonly jobs: Buffer[] = [];
  unplugged = false;

  async execute(buffer: Buffer): Promise<void> {
    if (this.unplugged) throw refused();
    this.jobs.push(Buffer.from(buffer));
  }

  async isPrinterConnected(): Promise<boolean> {
    return !this.unplugged;
  }

  getPrinterName(): string {
    return 'recording';
  }

  /** Every byte sent so far. */
  bytes(): Buffer {
    return Buffer.concat(this.jobs);
  }
}

export interface FakePrinterState {
  status: PrinterStatus;
  detail?: 'cover_open' | 'error';
  /** Connected but answering nothing (powered off behind a live adapter). */
  silent: boolean;
}

export class FakeEscPosStatusStream extends Duplex {
  /** Status requests received, e.g. `[4, 1]`. */
  readonly requests: number[] = [];
  private pendingDle = 0;

  constructor(private readonly state: () => FakePrinterState) {
    super();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (const b of chunk) {
      // DLE EOT n is recognised anywhere in the byte stream, as real printers do.
      if (this.pendingDle === 2) {
        this.pendingDle = 0;
        this.answer(b);
      } else if (this.pendingDle === 1) this.pendingDle = b === 0x04 ? 2 : 0;
      else if (b === 0x10) this.pendingDle = 1;
    }
    callback();
  }

  private answer(n: number): void {
    this.requests.push(n);
    const s = this.state();
    if (s.silent) return;
    const a = statusAnswers(s.status, s.detail);
    const byte = n === 1 ? a.printer : n === 2 ? a.offlineCause : n === 4 ? a.paper : 0x12;
    // Answer on the microtask queue, not a timer: tests with fake timers must not see the read timeout win.
    queueMicrotask(() => this.push(Buffer.from([byte])));
  }
}

export class FakeStatusPort {
  state: FakePrinterState = { status: 'ok', silent: false };
  connections = 0;
  unplugged = false;
  readonly streams: FakeEscPosStatusStream[] = [];

  /** The `connect` for `duplexStatusChannel`. */
  readonly connect = async (): Promise<Duplex> => {
    if (this.unplugged) throw refused();
    this.connections++;
    const stream = new FakeEscPosStatusStream(() => this.state);
    this.streams.push(stream);
    return stream;
  };

  /** Pulls the cable: open streams close with an error, new connections are refused. */
  unplug(): void {
    this.unplugged = true;
    for (const s of this.streams)
      if (!s.destroyed) s.destroy(Object.assign(new Error('disconnected'), { code: 'EIO' }));
  }

  replug(): void {
    this.unplugged = false;
  }
}
