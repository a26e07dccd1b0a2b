/**
 * Receipt lines in the form the real API sends (see the seeds): a "Kundenkarte" section and, for
 * a top-up, a "Kundenkarte Aufladung" section; a cancellation adds a STORNO line.
 */
import { formatCents } from '../api/money.js';
import type { ReceiptLine } from '../api/schemas.js';

const sep = (caption?: string): ReceiptLine =>
  ({ type: 'separator', value: caption ? { caption } : {} }) as ReceiptLine;
const nv = (name: string, value: string): ReceiptLine => ({
  type: 'name-value',
  value: { name, value, decoration: [] },
});
const text = (t: string, important = false): ReceiptLine => ({
  type: 'textline',
  value: { text: t, decoration: important ? ['important'] : [] },
});
const space: ReceiptLine = { type: 'space' };

export interface CardReceiptFacts {
  cardnumber: string;
  transId: string;
  /** Paid from the card balance (0 when nothing was redeemed). */
  redeemed: number;
  /** The sale recorded (the basket total without top-up products). */
  turnover: number;
  /** Balance after the sale, before any top-up. */
  balanceAfterSale: number;
  topUp?: { transId: string; amount: number; balanceAfter: number };
  storno?: boolean;
}

export function cardReceipt(f: CardReceiptFacts): ReceiptLine[] {
  const lines: ReceiptLine[] = [
    sep('Kundenkarte'),
    nv('Kartennummer:', f.cardnumber),
    nv('TA Code:', f.transId),
    space,
  ];
  if (f.storno) lines.push(text('STORNO', true), space);
  if (f.redeemed > 0) lines.push(text('Zahlung über:'), text(formatCents(f.redeemed), true), space);
  lines.push(text('Umsatz erfasst:'), text(formatCents(f.turnover), true), space);
  lines.push(text('Aktuelles Guthaben'), text(formatCents(f.balanceAfterSale), true));
  if (f.topUp) {
    lines.push(
      sep('Kundenkarte Aufladung'),
      nv('Kartennummer:', f.cardnumber),
      nv('TA Code:', f.topUp.transId),
      space,
      text(f.storno ? 'Folgender Betrag' : 'Folgender Betrag'),
      text(f.storno ? 'wurde storniert:' : 'wurde aufgeladen:'),
      text(formatCents(f.topUp.amount), true),
      space,
      text('Aktuelles Guthaben:'),
      text(formatCents(f.topUp.balanceAfter), true),
    );
  }
  return lines;
}
