/**
 * What the kiosk prints: the API's receipt lines with the card number masked (a receipt left in the
 * tray must not give a card away), and a voucher for money that could not be booked to a card.
 */
import { basketTotal, formatCents, sumsPerVatRate, type VatSum } from '../api/money.js';
import type { SaleFigures } from '../journal/entries.js';
import type { ReceiptLine } from '../api/schemas.js';
import { maskCard } from '../util/privacy.js';
import type { ReceiptSale } from '../../machines/ports.js';
import { voucherShortCode } from '../../machines/scan.js';

/** A voucher's code as the reader takes it back: a QR of the whole code, with its short id beneath. */
export function voucherCodeLines(code: string): ReceiptLine[] {
  return [
    { type: 'barcode', value: { data: code, symbology: 'qr' } },
    { type: 'textline', value: { text: voucherShortCode(code), decoration: ['align-center'] } },
  ];
}

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
    ...voucherCodeLines(code),
    { type: 'space' },
    text(
      de
        ? 'Am Kiosk scannen (zählt beim nächsten Einkauf) oder beim Betreiber vorlegen.'
        : 'Scan it at the kiosk (counts towards your next purchase) or show it to the operator.',
    ),
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

/**
 * A sale as a receipt states it. `vouchersKept`: vouchers its leftover went to that are kept for the
 * operator (recovery's, printed when nobody may be at the tray): the receipt names their short id,
 * which staff pay out by (`kiosk vouchers payout`, service menu), never the code, which pays itself.
 */
export type PrintedSale = ReceiptSale & {
  vouchersKept?: readonly { ref: string | null; cents: number }[];
};

/** A voucher reference's id as printed (`k-0042.QX7MD2KA` -> `QX7M-D2KA`), null when it has none. */
export function voucherRefShortId(ref: string | null): string | null {
  const id = ref?.split('.')[1];
  return id && id.length === 8 ? `${id.slice(0, 4)}-${id.slice(4)}` : null;
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
  const vat = vatLines(sumsPerVatRate(basket), de, nv);
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

/** Who sold it (§33 UStDV: name and address of the seller on every small-amount invoice). */
export interface Merchant {
  name: string;
  address: string[];
  vatId?: string | undefined;
}

export interface CustomerReceiptOptions {
  lang: 'de' | 'en';
  receiptNo: string;
  /** Local date and time as printed (`01.12.2026 14:05`). */
  when: string;
  merchant?: Merchant | undefined;
}

/**
 * The card's bonus used, per VAT rate: a discount, so VAT is computed on the price after it. The card's
 * prepaid cash is a payment, not a discount. The API takes the card's cash first, then its bonus; its
 * `bonus_products` give the split per rate (scaled to the bonus actually used, so a stand-in that lists
 * the whole card part still gives the right discount). A vending unit given back (`returned`) was not
 * sold: the split is over the delivered goods only, so a rate whose goods all went back gets no share
 * (unless nothing the bonus weighs was delivered: then the split stays over the basket as paid).
 */
export function bonusDiscounts(sale: ReceiptSale): SaleLine[] {
  const cardPart = sale.parts.card;
  if (cardPart <= 0 || !sale.cardBalance) return [];
  const bonusUsed = Math.max(0, cardPart - Math.min(sale.cardBalance.cash, cardPart));
  if (bonusUsed === 0) return [];
  const fromApi = sale.bonusProducts.length > 0;
  const source = fromApi ? sale.bonusProducts : sale.basket;
  const weighed = new Map<number, number>();
  for (const l of source) weighed.set(l.tax, (weighed.get(l.tax) ?? 0) + Math.abs(l.priceOne * l.quantity));
  const weights = new Map(weighed);
  for (const u of givenBack(sale)) {
    // A bonus line from the API counts only for its own product; the basket's for every unit.
    if (fromApi && !sale.bonusProducts.some((l) => l.id === u.productId && l.tax === u.tax)) continue;
    weights.set(u.tax, Math.max(0, (weights.get(u.tax) ?? 0) - u.cents));
  }
  const delivered = [...weights.values()].reduce((a, b) => a + b, 0);
  const split = delivered > 0 ? weights : weighed;
  const total = [...split.values()].reduce((a, b) => a + b, 0);
  // A rate whose goods all went back gets no line (a rate weighing 0 from the start keeps its line, as before).
  const rates = [...split.entries()]
    .filter(([rate, w]) => w > 0 || weighed.get(rate) === w)
    .sort(([a], [b]) => a - b);
  let given = 0;
  return rates.map(([rate, w], i) => {
    // The last rate takes the rounding rest: the discounts add up to the bonus used, to the cent.
    const cents = i === rates.length - 1 ? bonusUsed - given : Math.floor((bonusUsed * w) / total);
    given += cents;
    return { desc: `Bonus ${rate} %`, quantity: 1, priceOne: -cents, tax: rate };
  });
}

/** The bonus discount in cents (what the receipt's `Bonus` lines and `SaleFigures.discount` add up to). */
export function bonusDiscountCents(sale: ReceiptSale): number {
  return bonusDiscounts(sale).reduce((sum, d) => sum - d.priceOne * d.quantity, 0);
}

/** The vending units whose price went back (a unit in doubt is not: the operator settles it). */
function givenBack(sale: ReceiptSale): NonNullable<ReceiptSale['undelivered']> {
  return (sale.undelivered ?? []).filter((u) => u.outcome === 'failed');
}

/** A unit given back as a negative line at its own VAT rate, so the total and VAT leave it out. */
function givenBackLines(sale: ReceiptSale): SaleLine[] {
  return givenBack(sale).map((u) => ({ desc: u.desc, quantity: 1, priceOne: -u.cents, tax: u.tax }));
}

/**
 * What a paid sale's or top-up's receipt says in figures, journaled with it for the export: the one
 * place VAT is computed (per rate, on the price after the bonus discounts), so the printed receipt and
 * `kiosk journal export` cannot differ by a cent. A top-up is a prepayment: no VAT. A vending unit
 * given back (`returned`) is not in the total nor in the VAT: the total is what the customer paid for
 * the goods they got, so `total + discount = card + terminal + cashIn + voucherIn - change - credited -
 * voucherOut - reversed - inReview` (the returned price left through change, credited or voucherOut, or
 * through the terminal reversal of a sale none of whose goods came out).
 */
export function saleFigures(sale: PrintedSale, receiptNo: string): SaleFigures {
  const topup = sale.kind === 'topup';
  const discounts = topup ? [] : bonusDiscounts(sale);
  const back = topup ? [] : givenBackLines(sale);
  const lines = [...sale.basket, ...back, ...discounts];
  // A rate whose goods all went back has nothing left to show (no "VAT 19 % of 0,00" line).
  const backRates = new Set(back.map((l) => l.tax));
  const vat = topup ? [] : sumsPerVatRate(lines).filter((v) => v.gross !== 0 || !backRates.has(v.rate));
  return {
    receiptNo,
    kind: sale.kind,
    total: basketTotal(lines),
    discount: topup ? 0 : bonusDiscountCents(sale),
    card: sale.parts.card,
    terminal: sale.parts.terminal,
    cashIn: sale.cashIn,
    voucherIn: sale.voucherIn ?? 0,
    change: sale.changed ?? 0,
    credited: sale.credited,
    voucherOut: (sale.voucher?.cents ?? 0) + (sale.vouchersKept ?? []).reduce((sum, v) => sum + v.cents, 0),
    returned: back.reduce((sum, l) => sum - l.priceOne, 0),
    reversed: sale.reversal?.outcome === 'ok' ? sale.reversal.cents : 0,
    inReview: sale.reversal?.outcome === 'unknown' ? sale.reversal.cents : 0,
    vat,
  };
}

/**
 * The one customer receipt of a paid sale or top-up (a small-amount invoice, §33 UStDV): seller,
 * date and time, receipt number, items with quantity, total, VAT per rate after discounts, every
 * payment part, where a coin too many went; then the API's own lines (TA code, card) as given.
 */
export function customerReceiptLines(
  sale: PrintedSale,
  apiLines: readonly ReceiptLine[],
  o: CustomerReceiptOptions,
): ReceiptLine[] {
  const de = o.lang === 'de';
  const nv = (name: string, value: string, important = false): ReceiptLine => ({
    type: 'name-value',
    value: { name, value, decoration: important ? ['important'] : [] },
  });
  const text = (t: string, center = false): ReceiptLine => ({
    type: 'textline',
    value: { text: t, decoration: center ? ['align-center'] : [] },
  });
  const head: ReceiptLine[] = [
    ...(o.merchant ? [text(o.merchant.name, true), ...o.merchant.address.map((a) => text(a, true))] : []),
    ...(o.merchant?.vatId ? [text(`${de ? 'USt-IdNr.' : 'VAT ID'} ${o.merchant.vatId}`, true)] : []),
    nv(de ? 'Datum' : 'Date', o.when),
    nv(de ? 'Beleg-Nr.' : 'Receipt no.', o.receiptNo),
  ];
  const f = saleFigures(sale, o.receiptNo);
  const paid: ReceiptLine[] = [];
  if (f.card > 0)
    paid.push(
      nv(`${de ? 'Kundenkarte' : 'Loyalty card'} ${sale.cardMasked ?? ''}`.trim(), formatCents(f.card)),
    );
  if (f.terminal > 0) paid.push(nv(de ? 'Kartenzahlung' : 'Card payment', formatCents(f.terminal)));
  if (f.cashIn > 0) paid.push(nv(de ? 'Bar gegeben' : 'Cash given', formatCents(f.cashIn)));
  if (f.voucherIn > 0)
    paid.push(nv(de ? 'Gutschein eingelöst' : 'Voucher redeemed', formatCents(f.voucherIn)));
  if (f.change > 0) paid.push(nv(de ? 'Wechselgeld (Münzen)' : 'Change (coins)', formatCents(f.change)));
  if (f.credited > 0) paid.push(nv(de ? 'Rest auf Karte' : 'Rest to card', formatCents(f.credited)));
  if (sale.voucher) {
    paid.push(nv(de ? 'Rest als Gutschein' : 'Rest as voucher', formatCents(f.voucherOut)));
    paid.push(...voucherCodeLines(sale.voucher.code));
  }
  for (const v of sale.vouchersKept ?? []) {
    const short = voucherRefShortId(v.ref);
    paid.push(nv(de ? 'Rest als Gutschein' : 'Rest as voucher', formatCents(v.cents)));
    if (short) paid.push(nv(de ? 'Gutschein-Nr.' : 'Voucher no.', short));
  }
  if ((sale.vouchersKept ?? []).length > 0)
    paid.push(text(de ? 'Auszahlung beim Betreiber' : 'Paid out by the operator'));
  if (sale.balanceAfter !== null)
    paid.push(nv(de ? 'Neues Guthaben' : 'New balance', formatCents(sale.balanceAfter)));
  // The terminal payment of goods that never came out went back through the terminal, or is checked.
  if (f.reversed > 0) paid.push(nv(de ? 'Zahlung storniert' : 'Payment reversed', formatCents(f.reversed)));
  if (f.inReview > 0) {
    paid.push(nv(de ? 'Erstattung wird geprüft' : 'Refund under review', formatCents(f.inReview)));
    paid.push(
      text(de ? 'Storno ungeklärt: Betreiber prüft, Beleg aufheben' : 'Reversal in doubt: keep this receipt'),
    );
  }

  if (sale.kind === 'topup') {
    return [
      { type: 'separator', value: { caption: de ? 'Kartenaufladung' : 'Card top-up' } },
      ...head,
      { type: 'space' },
      ...(sale.cardMasked ? [nv(de ? 'Karte' : 'Card', sale.cardMasked)] : []),
      nv(de ? 'Aufgeladen' : 'Loaded', formatCents(f.total), true),
      ...paid,
      text(de ? 'Guthaben ist keine Lieferung: ohne MwSt.' : 'Prepaid credit: no VAT.'),
      { type: 'space' },
      ...apiLines,
    ];
  }
  const discounts = bonusDiscounts(sale);
  const items = sale.basket.map((l) =>
    nv(l.quantity > 1 ? `${l.quantity} x ${l.desc}` : l.desc, formatCents(l.priceOne * l.quantity)),
  );
  return [
    { type: 'separator', value: { caption: de ? 'Beleg' : 'Receipt' } },
    ...head,
    { type: 'space' },
    ...items,
    ...givenBack(sale).map((u) =>
      nv(`${de ? 'Nicht ausgegeben' : 'Not handed out'} ${u.slot} ${u.desc}`, formatCents(-u.cents)),
    ),
    ...discounts.map((d) => nv(d.desc, formatCents(d.priceOne))),
    ...inDoubtLines(sale, de, nv, text),
    { type: 'separator', value: {} } as ReceiptLine,
    nv(de ? 'Summe' : 'Total', formatCents(f.total), true),
    ...vatLines(f.vat, de, nv),
    { type: 'space' },
    ...paid,
    { type: 'space' },
    ...apiLines,
  ];
}

/** The receipt's VAT summary: per rate, the gross it is contained in and the tax. */
function vatLines(
  vat: readonly VatSum[],
  de: boolean,
  nv: (name: string, value: string) => ReceiptLine,
): ReceiptLine[] {
  return vat.map((v) =>
    nv(
      de ? `MwSt ${v.rate} % auf ${formatCents(v.gross)}` : `VAT ${v.rate} % of ${formatCents(v.gross)}`,
      formatCents(v.vat),
    ),
  );
}

/**
 * Units whose release is in doubt: not given back here (the operator checks and settles), so they stay
 * in the total; the receipt says which and that the customer should keep it.
 */
function inDoubtLines(
  sale: ReceiptSale,
  de: boolean,
  nv: (name: string, value: string, important?: boolean) => ReceiptLine,
  text: (t: string, center?: boolean) => ReceiptLine,
): ReceiptLine[] {
  const units = (sale.undelivered ?? []).filter((u) => u.outcome === 'unknown');
  if (units.length === 0) return [];
  return [
    { type: 'space' },
    text(de ? 'Ausgabe ungeklärt:' : 'Hand-out in doubt:'),
    ...units.map((u) => nv(`${u.slot} ${u.desc}`, formatCents(u.cents))),
    text(
      de ? 'Ungeklärt: Betreiber prüft, Beleg aufheben' : 'In doubt: the operator checks; keep this receipt',
    ),
  ];
}

/** The kiosk's receipt number as a customer receipt prints it (`Beleg-Nr.` / `Receipt no.`); null without one. */
export function receiptNumberOf(lines: readonly ReceiptLine[]): string | null {
  for (const l of lines)
    if (l.type === 'name-value' && (l.value.name === 'Beleg-Nr.' || l.value.name === 'Receipt no.'))
      return l.value.value;
  return null;
}
