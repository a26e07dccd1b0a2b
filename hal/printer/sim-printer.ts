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

  replug(): void {
    this.sim.unplugged = false;
  }
}
