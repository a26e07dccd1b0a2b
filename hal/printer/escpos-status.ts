/**
 * ESC/POS real-time status (`DLE EOT n` = 10 04 n). The printer answers each with one byte, even
 * while it is offline or mid-job. Every answer byte has bits 1 and 4 set and bits 0 and 7 clear,
 * which tells a status byte from stray data.
 *   n = 1 printer:        bit 3 offline
 *   n = 2 offline cause:  bit 2 cover open, bit 3 paper fed by button, bit 5 stopped by paper end, bit 6 error
 *   n = 4 paper sensors:  bits 2-3 roll near end, bits 5-6 paper out
 */
import type { PrinterStatus, PrinterStatusEvent } from './printer.js';

export const DLE_EOT = (n: 1 | 2 | 3 | 4): Buffer => Buffer.from([0x10, 0x04, n]);

export function isStatusByte(b: number): boolean {
  return (b & 0x93) === 0x12;
}

export const PRINTER_OFFLINE = 0x08;
export const CAUSE_COVER_OPEN = 0x04;
export const CAUSE_PAPER_END = 0x20;
export const CAUSE_ERROR = 0x40;
export const PAPER_NEAR_END = 0x0c;
export const PAPER_OUT = 0x60;

export interface StatusAnswers {
  /** Answer to DLE EOT 4. */
  paper: number;
  /** Answer to DLE EOT 1. */
  printer: number;
  /** Answer to DLE EOT 2, asked only when the printer says it is offline. */
  offlineCause?: number;
}

export function decodeStatus(answers: StatusAnswers): PrinterStatusEvent {
  if (answers.paper & PAPER_OUT) return { status: 'paper_out' };
  if (answers.printer & PRINTER_OFFLINE) {
    const cause = answers.offlineCause ?? 0;
    if (cause & CAUSE_PAPER_END) return { status: 'paper_out' };
    if (cause & CAUSE_COVER_OPEN) return { status: 'offline', detail: 'cover_open' };
    if (cause & CAUSE_ERROR) return { status: 'offline', detail: 'error' };
    return { status: 'offline', detail: 'printer_offline' };
  }
  if (answers.paper & PAPER_NEAR_END) return { status: 'paper_low', detail: 'paper_near_end' };
  return { status: 'ok' };
}

/** The answer bytes a printer in `status` gives: for fakes and the simulator. */
export function statusAnswers(
  status: PrinterStatus,
  detail?: 'cover_open' | 'error',
): Required<StatusAnswers> {
  const base = 0x12;
  const paper =
    base |
    (status === 'paper_out' ? PAPER_OUT | PAPER_NEAR_END : status === 'paper_low' ? PAPER_NEAR_END : 0);
  const offline = status === 'paper_out' || status === 'offline';
  const cause =
    base |
    (status === 'paper_out' ? CAUSE_PAPER_END : 0) |
    (detail === 'cover_open' ? CAUSE_COVER_OPEN : 0) |
    (detail === 'error' ? CAUSE_ERROR : 0);
  return { paper, printer: base | (offline ? PRINTER_OFFLINE : 0), offlineCause: cause };
}
