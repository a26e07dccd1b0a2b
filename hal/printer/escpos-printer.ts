/**
 * ESC/POS thermal receipt printer: bytes go out through node-thermal-printer's interface
 * (`tcp://host:9100`, a device path such as `/dev/usb/lp0`, or an object with `execute(buffer)`),
 * status comes back through a `StatusChannel` with `DLE EOT`. The library alone cannot tell paper
 * out (its `isPrinterConnected` only checks that a path exists or a port accepts a connection), so
 * without a status channel the paper state is unknown and only reachability is reported.
 */
import type { ThermalPrinter } from 'node-thermal-printer';
import { DLE_EOT, decodeStatus, isStatusByte, PRINTER_OFFLINE } from './escpos-status.js';
import { receiptBytes, thermalPrinter } from './escpos-receipt.js';
import type { PrinterDataInterface } from './escpos-receipt.js';
import type { PrinterStatusEvent } from './printer.js';
import { QueuedPrinter } from './printer-queue.js';
import type { PrinterDevice, QueuedPrinterOptions, RenderedReceipt } from './printer-queue.js';
import type { StatusChannel } from './printer-status-channel.js';

export interface EscPosPrinterOptions extends QueuedPrinterOptions {
  /** Where the print data goes. */
  interface: string | PrinterDataInterface;
  /** Where status is read; strongly recommended (see above). */
  statusChannel?: StatusChannel;
  /** How long to wait for each DLE EOT answer before calling the printer offline. */
  statusTimeoutMs?: number;
}

function describe(iface: string | PrinterDataInterface): string {
  return typeof iface === 'string' ? iface : 'custom interface';
}

export class EscPosDevice implements PrinterDevice {
  readonly driver = 'escpos';
  readonly where: string;
  private readonly printer: ThermalPrinter;

  constructor(
    iface: string | PrinterDataInterface,
    columns: number,
    private readonly channel: StatusChannel | undefined,
    private readonly timeoutMs: number,
  ) {
    this.printer = thermalPrinter(iface, columns);
    this.where = channel ? `${describe(iface)} (status: ${channel.where})` : describe(iface);
  }

  async readStatus(): Promise<PrinterStatusEvent> {
    const channel = this.channel;
    if (!channel) {
      const connected = await this.printer.isPrinterConnected().catch(() => false);
      return connected
        ? { status: 'ok', detail: 'paper_unknown' }
        : { status: 'offline', detail: 'unreachable' };
    }
    try {
      const ask = (n: 1 | 2 | 4): Promise<number> => channel.query(DLE_EOT(n), this.timeoutMs, isStatusByte);
      const paper = await ask(4);
      const printer = await ask(1);
      const offlineCause = printer & PRINTER_OFFLINE ? await ask(2) : undefined;
      return decodeStatus({ paper, printer, offlineCause });
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      return { status: 'offline', detail: code === 'ETIMEDOUT' ? 'no_answer' : 'unreachable' };
    }
  }

  async send(receipt: RenderedReceipt): Promise<void> {
    await this.printer.raw(receipt.bytes);
  }

  async close(): Promise<void> {
    await this.channel?.close();
  }
}

/** The real receipt printer: ESC/POS over node-thermal-printer with DLE EOT status. */
export function createEscPosPrinter(options: EscPosPrinterOptions): QueuedPrinter {
  const device = new EscPosDevice(
    options.interface,
    options.columns,
    options.statusChannel,
    options.statusTimeoutMs ?? 1000,
  );
  return new QueuedPrinter(device, { ...options, encoder: receiptBytes });
}
