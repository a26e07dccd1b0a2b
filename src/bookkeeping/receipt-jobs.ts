/**
 * What the kiosk prints: the API's receipt lines with the card number masked (a receipt left in the
 * tray must not give a card away), and a voucher for money that could not be booked to a card.
 */
import { basketTotal, formatCents, sumsPerVatRate } from '../api/money.js';
import type { ReceiptLine } from '../api/schemas.js';
import { maskCard } from '../util/privacy.js';

export function maskReceiptCards(lines: readonly ReceiptLine[]): ReceiptLine[] {
  return lines.map((l) =>
    l.type === 'name-value' && /karten/i.test(l.value.name) && /^\d{12,20}$/.test(l.value.value.trim())
      ? { ...l, value: { ...l.value, value: maskCard(l.value.value.trim()) } }
      : l,
  );
}

export function voucherLines(
  code: string,
  cents: number,
  transactionId: string | null,
  lang: 'de' | 'en',
): ReceiptLine[] {
  const de = lang === 'de';
  const text = (t: string, important = false): ReceiptLine => ({
    type: 'textline',
    value: { text: t, decoration: important ? ['important', 'align-center'] : ['align-center'] },
  });
  return [
    { type: 'separator', value: { caption: de ? 'Guthaben-Beleg' : 'Credit voucher' } },
    text(de ? 'Nicht verbuchter Betrag:' : 'Amount not booked:'),
    text(formatCents(cents), true),
    { type: 'space' },
    text(de ? 'Code:' : 'Code:'),
    text(code, true),
    { type: 'space' },
    text(de ? 'Bitte beim Betreiber vorlegen.' : 'Please show it to the operator.'),
    ...(transactionId
      ? [
          {
            type: 'name-value',
            value: { name: 'Vorgang:', value: transactionId.slice(-12), decoration: [] },
          } as ReceiptLine,
        ]
      : []),
  ];
}

export interface SaleLine {
  desc: string;
  quantity: number;
  priceOne: number;
  tax: number;
}

/** The kiosk's own part of a sale's receipt: items, total, VAT contained per rate, how it was paid. */
export function saleLines(
  basket: readonly SaleLine[],
  method: 'cash' | 'loyalty' | 'cashless' | null,
  lang: 'de' | 'en',
): ReceiptLine[] {
  const de = lang === 'de';
  const nv = (name: string, value: string, important = false): ReceiptLine => ({
    type: 'name-value',
    value: { name, value, decoration: important ? ['important'] : [] },
  });
  const items = basket.map((l) =>
    nv(l.quantity > 1 ? `${l.quantity} x ${l.desc}` : l.desc, formatCents(l.priceOne * l.quantity)),
  );
  const vat = sumsPerVatRate(basket).map((v) =>
    nv(
      de ? `MwSt ${v.rate} % auf ${formatCents(v.gross)}` : `VAT ${v.rate} % of ${formatCents(v.gross)}`,
      formatCents(v.vat),
    ),
  );
  const paid =
    method === 'loyalty'
      ? de
        ? 'Kundenkarte'
        : 'Loyalty card'
      : method === 'cashless'
        ? de
          ? 'Kartenzahlung'
          : 'Card payment'
        : de
          ? 'Bar'
          : 'Cash';
  return [
    { type: 'separator', value: { caption: de ? 'Beleg' : 'Receipt' } },
    ...items,
    { type: 'separator', value: {} } as ReceiptLine,
    nv(de ? 'Summe' : 'Total', formatCents(basketTotal(basket)), true),
    ...vat,
    nv(de ? 'Bezahlt mit' : 'Paid by', paid),
    { type: 'space' },
  ];
}
