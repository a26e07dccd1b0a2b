/**
 * What every receipt printer does the same, whatever the transport: lay the job out, keep it as the
 * last receipt, queue it, ask for status right before sending, refuse without paper, wait for an
 * offline printer only until the job's deadline, and report status changes. The transport is a
 * `PrinterDevice`: the ESC/POS driver (`printer-escpos.ts`) and the simulator (`sim/printer.ts`).
 */
import { EventEmitter } from 'node:events';
import type { DeviceHealth, ProbeResult } from '../../src/contracts/device.js';
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
import type { ReceiptLayoutOptions, ReceiptRow } from './receipt-layout.js';
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
  /** How rows become bytes; default: the ESC/POS encoder, loaded when first needed. */
  encoder?: ReceiptEncoder;
}

/** Receipt rows -> the bytes sent to the printer (`receiptBytes` of escpos-receipt.ts). */
export type ReceiptEncoder = (rows: readonly ReceiptRow[], width: number) => Buffer;

/**
 * Without an encoder given, the ESC/POS one (node-thermal-printer with iconv-lite and pngjs, 28
 * files) is loaded with the first receipt, not at start-up: a simulated kiosk takes coins before it
 * ever prints. The real driver has loaded it already and passes it.
 */
async function loadEncoder(): Promise<ReceiptEncoder> {
  return (await import('./escpos-receipt.js')).receiptBytes;
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
  private encoder: ReceiptEncoder | undefined;

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
    this.encoder = options.encoder;
  }

  private async encode(rows: readonly ReceiptRow[]): Promise<Buffer> {
    this.encoder ??= await loadEncoder();
    return this.encoder(rows, this.columns);
  }

  override on<K extends keyof PrinterEvents>(event: K, listener: (...args: PrinterEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof PrinterEvents>(event: K, listener: (...args: PrinterEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  /** Lays a job out as this printer would print it, without printing. */
  async render(job: PrintJob): Promise<RenderedReceipt> {
    const rows = layoutReceipt(job, { ...this.layout, width: this.columns });
    return { bytes: await this.encode(rows), text: receiptText(rows) };
  }

  print(job: PrintJob): Promise<void> {
    const deadline = job.deadline ?? this.now() + this.jobTtlMs;
    const rows = layoutReceipt(job, { ...this.layout, width: this.columns });
    const text = receiptText(rows);
    // kept at once (the control port's `receipts`, a reprint), printed in turn
    const kept: KeptReceipt = { text, at: this.now(), printed: false };
    this.last = { job, kept };
    const run = this.queue.then(() => this.printNow(rows, kept, deadline));
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

  private async printNow(rows: readonly ReceiptRow[], kept: KeptReceipt, deadline: number): Promise<void> {
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
    // encoded once the printer is ready: loading the encoder never eats into the job's deadline
    const receipt: RenderedReceipt = { bytes: await this.encode(rows), text: kept.text };
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
