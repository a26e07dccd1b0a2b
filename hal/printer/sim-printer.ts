/**
 * The receipt printer's simulated twin: the same queue, layout, ESC/POS bytes, paper checks and
 * deadlines as the real driver (they live in `QueuedPrinter`), with paper and cable as controls
 * and the printed receipts kept in memory as text and bytes.
 */
import type { PrinterStatusEvent } from './printer.js';
import { QueuedPrinter } from './printer-queue.js';
import type { PrinterDevice, QueuedPrinterOptions, RenderedReceipt } from './printer-queue.js';

export type SimulatedPaper = 'ok' | 'low' | 'out';

export interface SimulatedReceipt extends RenderedReceipt {
  at: number;
}

class SimulatedPrinterDevice implements PrinterDevice {
  readonly driver = 'simulated';
  readonly where = 'memory';
  paper: SimulatedPaper = 'ok';
  unplugged = false;
  /** Jobs still to fail mid-print (the control port's `printer fail`). */
  failNext = 0;
  readonly receipts: SimulatedReceipt[] = [];

  constructor(private readonly now: () => number) {}

  async readStatus(): Promise<PrinterStatusEvent> {
    if (this.unplugged) return { status: 'offline', detail: 'no_answer' };
    if (this.paper === 'out') return { status: 'paper_out' };
    if (this.paper === 'low') return { status: 'paper_low', detail: 'paper_near_end' };
    return { status: 'ok' };
  }

  async send(receipt: RenderedReceipt): Promise<void> {
    if (this.unplugged)
      throw Object.assign(new Error('simulated printer unplugged'), { code: 'ECONNREFUSED' });
    if (this.failNext > 0) {
      // The head stops half-way: the customer holds a torn receipt and the transport reports an error.
      this.failNext -= 1;
      const half = Math.ceil(receipt.text.length / 2);
      this.receipts.push({
        text: [...receipt.text.slice(0, half), '~~ torn ~~'],
        bytes: receipt.bytes.subarray(0, Math.ceil(receipt.bytes.length / 2)),
        at: this.now(),
      });
      throw Object.assign(new Error('simulated printer failed mid-print'), { code: 'EIO' });
    }
    this.receipts.push({ ...receipt, at: this.now() });
  }

  async close(): Promise<void> {}
}

export class SimulatedPrinter extends QueuedPrinter {
  private readonly sim: SimulatedPrinterDevice;

  constructor(options: QueuedPrinterOptions = { columns: 32 }) {
    const sim = new SimulatedPrinterDevice(options.now ?? Date.now);
    super(sim, options);
    this.sim = sim;
  }

  /** Every receipt that came out, oldest first. */
  get receipts(): readonly SimulatedReceipt[] {
    return this.sim.receipts;
  }

  setPaper(paper: SimulatedPaper): void {
    this.sim.paper = paper;
  }

  unplug(): void {
    this.sim.unplugged = true;
  }

  /** The next `jobs` receipts stop half-way with a transport error (0: back to normal). */
  failMidPrint(jobs: number): void {
    this.sim.failNext = jobs;
  }

  replug(): void {
    this.sim.unplugged = false;
  }
}
