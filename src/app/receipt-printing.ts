/**
 * The kiosk's receipts: numbered by the journal's paid count, laid out (receipt-jobs.ts), journaled
 * before they print (kept for a reprint) and printed with the configured header and footer. The
 * flows' receipts and vouchers (`print`), and the receipt of a sale recovery found paid
 * (`printRecovered`).
 */
import {
  customerReceiptLines,
  saleFigures,
  maskReceiptCards,
  saleLines,
  voucherLines,
  type PrintedSale,
} from '../bookkeeping/receipt-jobs.js';
import type { RecoveredReceipt } from '../bookkeeping/recover-session.js';
import type { SessionJournal } from '../bookkeeping/session-journal.js';
import type { ReceiptLine } from '../api/schemas.js';
import type { KioskConfig } from '../config/config-schema.js';
import type { SaleFigures } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../util/logger.js';
import type { Printer } from '../../hal/printer/printer.js';
import type { PrintFailure, PrintInput } from '../../machines/ports.js';

export interface ReceiptPrintingDeps {
  /** The running config (read at each receipt: the fleet changes `receipts` and the language live). */
  config: Pick<KioskConfig, 'kiosk' | 'receipts'>;
  /** The paid count that numbers receipts, and the records of a recovered sale's receipt. */
  journal: Pick<Journal, 'state' | 'append'>;
  /** The flows' receipts are journaled in their session's money chain. */
  sessions: Pick<SessionJournal, 'receipt' | 'printed'>;
  /** The printer, once the devices are built. */
  printer: () => Pick<Printer, 'print'>;
  logger: Logger;
}

export class ReceiptPrinting {
  constructor(private readonly deps: ReceiptPrintingDeps) {}

  private get config(): Pick<KioskConfig, 'kiosk' | 'receipts'> {
    return this.deps.config;
  }

  /** Lines on paper, between the configured header and footer. */
  printLines(lines: readonly ReceiptLine[]): Promise<void> {
    return this.deps.printer().print({
      lines,
      header: this.config.receipts.header,
      footer: this.config.receipts.footer,
    });
  }

  /** Numbered by the journal's paid count (sales + top-ups): durable, consecutive, already written. */
  private receiptNumber(): string {
    const life = this.deps.journal.state.lifetime;
    return `${this.config.kiosk.id}-${String(life.sales.count + life.topUps.count).padStart(5, '0')}`;
  }

  /** The API's receipt lines as the customer's receipt shows them (card numbers masked if configured). */
  private apiReceiptLines(lines: readonly ReceiptLine[]): ReceiptLine[] {
    return this.config.receipts.maskCardNumber ? maskReceiptCards(lines) : [...lines];
  }

  async print(input: PrintInput): Promise<{ receiptNo?: string }> {
    const lang = this.config.kiosk.language;
    let lines: ReceiptLine[];
    let receiptNo: string | undefined;
    let figures: SaleFigures | undefined;
    if (input.kind === 'receipt' && input.sale) {
      const api = this.apiReceiptLines(input.lines);
      receiptNo = this.receiptNumber();
      figures = saleFigures(input.sale, receiptNo);
      lines = customerReceiptLines(input.sale, api, {
        lang,
        receiptNo,
        when: receiptTime(new Date()),
        merchant: this.config.receipts.merchant,
      });
    } else if (input.kind === 'receipt') {
      const api = this.apiReceiptLines(input.lines);
      // A sale's receipt lists what was bought; the API's lines only cover the loyalty card (none without one).
      lines =
        this.config.kiosk.mode === 'checkout' && input.basket.length > 0
          ? [...saleLines(input.basket, input.method, lang), ...api]
          : api;
    } else {
      lines = voucherLines(input.voucherCode, input.cents, input.transactionId, lang);
    }
    await this.deps.sessions.receipt(input.jobId, lines, figures);
    try {
      await this.printLines(lines);
    } catch (err) {
      // Recorded, not printed (paper out, printer gone): the flow tells the customer staff reprint it.
      const failure: PrintFailure = { kept: true, ...(receiptNo ? { receiptNo } : {}) };
      throw Object.assign(new Error((err as Error).message, { cause: err }), failure);
    }
    await this.deps.sessions.printed(input.jobId);
    return receiptNo ? { receiptNo } : {};
  }

  /**
   * The receipt of a sale recovery found paid (a cut during the payment or the releases): numbered and
   * laid out like any receipt, the API's lines as read back, with where the rest of the money went
   * (recovery settled it first); journaled before it prints (kept for a reprint). The journaled
   * receipt carries the paid transaction (`paid`): the fleet is told the sale from that record
   * (journal-fleet.ts), at once or when the reporter comes up, so a power cut before the reporter
   * is up loses it no more. The flow told it only if it got past its releases, and with the same
   * eventId the dashboard keeps one of the two.
   */
  async printRecovered(r: RecoveredReceipt): Promise<void> {
    const api = this.apiReceiptLines(r.apiLines);
    const receiptNo = this.receiptNumber();
    const sale: PrintedSale = {
      kind: r.kind,
      basket: r.basket,
      bonusProducts: [],
      parts: { card: 0, cash: 0, terminal: r.terminal },
      cardBalance: null,
      cashIn: r.cashIn,
      ...(r.voucherIn > 0 ? { voucherIn: r.voucherIn } : {}),
      credited: r.credited,
      voucher: null,
      // Kept for the operator, not printed as a code: nobody may be at the tray at boot.
      vouchersKept: r.vouchersOut,
      cardMasked: r.cardMasked,
      balanceAfter: null,
      ...(r.changed > 0 ? { changed: r.changed } : {}),
      ...(r.undelivered ? { undelivered: r.undelivered } : {}),
    };
    const lines = customerReceiptLines(sale, api, {
      lang: this.config.kiosk.language,
      receiptNo,
      when: receiptTime(new Date()),
      merchant: this.config.receipts.merchant,
    });
    const figures = saleFigures(sale, receiptNo);
    const given = (r.undelivered ?? []).filter((u) => u.outcome === 'failed').length;
    await this.deps.journal.append({
      type: 'receipt',
      sessionId: r.sessionId,
      jobId: r.jobId,
      lines,
      sale: figures,
      paid: {
        transactionId: r.transactionId,
        ...(r.method ? { method: r.method } : {}),
        ...(r.cardMasked ? { cardMasked: r.cardMasked } : {}),
        itemCount: r.kind === 'topup' ? 0 : r.basket.reduce((n, l) => n + l.quantity, 0) - given,
      },
    });
    await this.printLines(lines);
    await this.deps.journal.append({ type: 'printed', jobId: r.jobId });
    this.deps.logger.info(
      { sessionId: r.sessionId, receiptNo, lines: lines.length },
      'recovery: receipt printed',
    );
  }
}

/** Device-local date and time as a German receipt shows it: `01.12.2026 14:05`. */
export function receiptTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getDate())}.${p(d.getMonth() + 1)}.${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
