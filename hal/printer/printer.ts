/**
 * The receipt printer. A job is the API's receipt lines plus the kiosk's own header and footer;
 * the printer lays them out for its paper width. It never claims success it cannot know about:
 * no paper is an error, and a job that waited too long is dropped rather than printed hours later
 * (after a paper change, a stale receipt for someone long gone is worse than none).
 * Real driver: `printer-escpos.ts` (node-thermal-printer + DLE EOT status); twin: `sim/printer.ts`.
 */
import type { DeviceHealth, Probeable } from '../../src/contracts/device.js';
import type { ReceiptLine } from '../../src/api/schemas.js';

/**
 * `paper_low`: the near-end sensor sees the roll ending; still prints, tell the operator.
 * `paper_out`: nothing can be printed. `offline`: no answer (power, cable, network) or the printer
 * reports itself offline (cover open, cutter error).
 */
export type PrinterStatus = 'ok' | 'paper_low' | 'paper_out' | 'offline';

/** The printer's status in the one device-health vocabulary (the specific status stays as the code). */
export function printerHealthOf(s: PrinterStatus): DeviceHealth {
  return s === 'ok' ? 'ok' : s === 'paper_low' ? 'degraded' : 'offline';
}

export interface PrintJob {
  /** Receipt lines as the API returned them (`transaction.receipt`). */
  lines: readonly ReceiptLine[];
  /** Kiosk lines above the receipt (shop name, address), centred. */
  header?: readonly string[];
  /** Kiosk lines below (thanks, support number), centred. */
  footer?: readonly string[];
  /** Epoch ms after which the job is dropped instead of printed; default: the driver's job TTL. */
  deadline?: number;
}

export interface KeptReceipt {
  /** The receipt as text, one string per printed line, as it appears on paper. */
  text: string[];
  /** When it was handed to `print` (epoch ms). */
  at: number;
  /** Whether the printer accepted it. */
  printed: boolean;
}

/**
 * Why a job was not printed. `printed` says what the caller may assume: `no` means nothing came
 * out (safe to offer a reprint or show the receipt on the display); `unknown` means the bytes may
 * have partly reached the printer (the connection broke while sending).
 */
export type PrinterErrorKind = 'paper_out' | 'offline' | 'expired' | 'write_failed';

export class PrinterError extends Error {
  override readonly name = 'PrinterError';
  constructor(
    readonly kind: PrinterErrorKind,
    readonly printed: 'no' | 'unknown',
    message: string,
  ) {
    super(message);
  }
}

export interface PrinterStatusEvent {
  status: PrinterStatus;
  /** Finer cause when known: `cover_open`, `no_answer`, `unreachable`, `error`, `paper_near_end`... */
  detail?: string;
}

export interface PrinterEvents {
  /** Emitted when the status changes (found by a print, a `status()` call or `watch`). */
  status: [PrinterStatusEvent];
}

export interface Printer extends Probeable {
  /** Characters per line: 32 (58 mm paper) or 48 (80 mm). */
  readonly columns: number;

  /**
   * Queues the job; resolves when the printer accepted all bytes. Rejects with `PrinterError`:
   * `paper_out` (refused, nothing printed), `offline` (no printer until the deadline),
   * `expired` (its deadline passed while queued), `write_failed` (sending broke off).
   * The receipt is kept as `lastReceipt()` in every case.
   */
  print(job: PrintJob): Promise<void>;

  /** Asks the printer now. Never rejects: a printer that does not answer is `offline`. */
  status(): Promise<PrinterStatus>;

  /** Status as of the last question, for the fleet's health report. */
  health(): DeviceHealth;

  /** The last receipt handed to `print`, printed or not: for the display, a reprint or the operator. */
  lastReceipt(): KeptReceipt | undefined;

  /** Prints the last receipt again (same errors as `print`); rejects with `expired` when there is none. */
  reprint(deadline?: number): Promise<void>;

  /** Polls the status every `intervalMs` and emits `status` on changes; returns a stop function. */
  watch(intervalMs: number): () => void;

  on<K extends keyof PrinterEvents>(event: K, listener: (...args: PrinterEvents[K]) => void): this;
  off<K extends keyof PrinterEvents>(event: K, listener: (...args: PrinterEvents[K]) => void): this;

  close(): Promise<void>;
}
