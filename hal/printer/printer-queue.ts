/**
 * What every receipt printer does the same, whatever the transport: lay the job out, keep it as the
 * last receipt, queue it, ask for status right before sending, refuse without paper, wait for an
 * offline printer only until the job's deadline, and report status changes. The transport is a
 * `PrinterDevice`: the ESC/POS driver (`printer-escpos.ts`) and the simulator (`sim/printer.ts`).
 */
import { EventEmitter } from 'node:events';
import type { DeviceHealth, ProbeResult } from '../../src/contracts/device.js';
import { receiptBytes } from './escpos-receipt.js';
import type {
  KeptReceipt,
  PrintJob,
  Printer,
  PrinterEvents,
  PrinterStatus,
  PrinterStatusEvent,
} from './printer.js';
import { PrinterError, printerHealthOf } from './printer.js';
import { layoutReceipt, receiptText } from './receipt-layout.js';
import type { ReceiptLayoutOptions } from './receipt-layout.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface RenderedReceipt {
  bytes: Buffer;
  text: string[];
}

export interface PrinterDevice {
  readonly driver: string;
  readonly where: string;
  /** Current status; must not reject (no answer = `offline`). */
  readStatus(): Promise<PrinterStatusEvent>;
  /** Sends one whole job; rejects when the transport fails. */
  send(receipt: RenderedReceipt): Promise<void>;
  close(): Promise<void>;
}

export interface QueuedPrinterOptions {
  columns: 32 | 48;
  /** How long a job may wait (queue + offline printer) before it is dropped. */
  jobTtlMs?: number;
  /** How often an offline printer is asked again while a job waits. */
  offlineRetryMs?: number;
  layout?: Omit<ReceiptLayoutOptions, 'width'>;
  name?: string;
  required?: boolean;
  logger?: Logger;
  now?: () => number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class QueuedPrinter extends EventEmitter implements Printer {
  readonly columns: number;
  private readonly jobTtlMs: number;
  private readonly offlineRetryMs: number;
  private readonly layout: Omit<ReceiptLayoutOptions, 'width'>;
  private readonly name: string;
  private readonly required: boolean;
  private readonly logger: Logger;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private last: { job: PrintJob; kept: KeptReceipt } | undefined;
  private current: PrinterStatusEvent | undefined;

  constructor(
    protected readonly device: PrinterDevice,
    options: QueuedPrinterOptions,
  ) {
    super();
    this.columns = options.columns;
    this.jobTtlMs = options.jobTtlMs ?? 60_000;
    this.offlineRetryMs = options.offlineRetryMs ?? 2_000;
    this.layout = options.layout ?? {};
    this.name = options.name ?? 'printer';
    this.required = options.required ?? false;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  override on<K extends keyof PrinterEvents>(event: K, listener: (...args: PrinterEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof PrinterEvents>(event: K, listener: (...args: PrinterEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  /** Lays a job out as this printer would print it, without printing. */
  render(job: PrintJob): RenderedReceipt {
    const rows = layoutReceipt(job, { ...this.layout, width: this.columns });
    return { bytes: receiptBytes(rows, this.columns), text: receiptText(rows) };
  }

  print(job: PrintJob): Promise<void> {
    const deadline = job.deadline ?? this.now() + this.jobTtlMs;
    const receipt = this.render(job);
    const kept: KeptReceipt = { text: receipt.text, at: this.now(), printed: false };
    this.last = { job, kept };
    const run = this.queue.then(() => this.printNow(receipt, kept, deadline));
    this.queue = run.catch(() => undefined);
    return run;
  }

  reprint(deadline?: number): Promise<void> {
    if (!this.last) return Promise.reject(new PrinterError('expired', 'no', 'no receipt to reprint'));
    return this.print({ ...this.last.job, deadline: deadline ?? this.now() + this.jobTtlMs });
  }

  lastReceipt(): KeptReceipt | undefined {
    return this.last && { ...this.last.kept, text: [...this.last.kept.text] };
  }

  async status(): Promise<PrinterStatus> {
    return (await this.refresh()).status;
  }

  health(): DeviceHealth {
    return printerHealthOf(this.current?.status ?? 'ok');
  }

  watch(intervalMs: number): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      await this.refresh();
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }

  async probe(): Promise<ProbeResult> {
    const s = await this.refresh();
    const base = {
      device: this.name,
      driver: this.device.driver,
      where: this.device.where,
      required: this.required,
    };
    const status = s.detail && s.status === 'offline' ? `offline (${s.detail})` : s.status;
    const hints: Record<PrinterStatus, string | undefined> = {
      ok: undefined,
      paper_low: 'paper roll nearly empty: replace it soon',
      paper_out: 'out of paper: load a new roll and close the cover',
      offline:
        s.detail === 'cover_open'
          ? 'cover open: close it'
          : `no status answer on ${this.device.where}: check power, cable or network and the configured port`,
    };
    const hint = hints[s.status];
    return hint ? { ...base, found: s.status !== 'offline', status, hint } : { ...base, found: true, status };
  }

  async close(): Promise<void> {
    await this.queue;
    await this.device.close();
  }

  private async refresh(): Promise<PrinterStatusEvent> {
    const next = await this.device.readStatus();
    this.setStatus(next);
    return next;
  }

  private setStatus(next: PrinterStatusEvent): void {
    const prev = this.current;
    this.current = next;
    if (prev && prev.status === next.status && prev.detail === next.detail) return;
    this.logger.info({ device: this.name, status: next.status, detail: next.detail }, 'printer status');
    this.emit('status', { ...next });
  }

  private async printNow(receipt: RenderedReceipt, kept: KeptReceipt, deadline: number): Promise<void> {
    for (;;) {
      if (this.now() > deadline) {
        const offline = this.current?.status === 'offline';
        throw new PrinterError(
          offline ? 'offline' : 'expired',
          'no',
          offline ? 'printer stayed offline until the job deadline' : 'job deadline passed while queued',
        );
      }
      const s = await this.refresh();
      if (s.status === 'paper_out') throw new PrinterError('paper_out', 'no', 'printer is out of paper');
      if (s.status !== 'offline') break;
      await sleep(Math.max(0, Math.min(this.offlineRetryMs, deadline - this.now() + 1)));
    }
    try {
      await this.device.send(receipt);
    } catch (err) {
      this.logger.warn({ device: this.name, err: (err as Error)?.message ?? String(err) }, 'printing failed');
      this.setStatus({ status: 'offline', detail: 'unreachable' });
      throw new PrinterError('write_failed', 'unknown', `sending the receipt failed: ${String(err)}`);
    }
    kept.printed = true;
  }
}
