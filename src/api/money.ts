/**
 * Money is always integer cents. This module is the one place that formats cents the way the
 * API's receipts do ("7,96 EUR") and sums baskets, so that no float ever touches an amount.
 */

export type Cents = number;

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

export function assertCents(value: number, what = 'amount'): Cents {
  if (!Number.isSafeInteger(value)) {
    throw new MoneyError(`${what} must be an integer number of cents, got ${String(value)}`);
  }
  return value;
}

/** Formats cents German style: 796 -> "7,96 EUR", -5 -> "-0,05 EUR", 123456 -> "1.234,56 EUR". */
export function formatCents(cents: Cents, currency = 'EUR', opts: { thousands?: boolean } = {}): string {
  assertCents(cents);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const euros = Math.floor(abs / 100);
  const rest = String(abs % 100).padStart(2, '0');
  const whole = opts.thousands ? String(euros).replace(/\B(?=(\d{3})+(?!\d))/g, '.') : String(euros);
  return `${sign}${whole},${rest}${currency ? ` ${currency}` : ''}`;
}

/** Parses "7,96 EUR", "7,96", "1.234,56 EUR" back into cents; returns undefined when it is not money. */
export function parseGermanMoney(text: string): Cents | undefined {
  const m = /^\s*(-?)(\d{1,3}(?:\.\d{3})*|\d+),(\d{2})(?:\s*(?:EUR|€))?\s*$/.exec(text);
  if (!m) return undefined;
  const euros = Number((m[2] ?? '0').replace(/\./g, ''));
  const cents = euros * 100 + Number(m[3]);
  return m[1] === '-' ? -cents : cents;
}

export interface PricedLine {
  quantity: number;
  priceOne: Cents;
  tax?: number | null;
}

/** Total of a basket in cents (priceOne may be negative for bonus products). */
export function basketTotal(lines: readonly PricedLine[]): Cents {
  let total = 0;
  for (const line of lines) {
    assertCents(line.priceOne, 'priceOne');
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 0) {
      throw new MoneyError(`quantity must be a non-negative integer, got ${String(line.quantity)}`);
    }
    total += line.priceOne * line.quantity;
  }
  return assertCents(total, 'basket total');
}

export interface VatSum {
  rate: number;
  gross: Cents;
  /** VAT contained in the gross amount, rounded half up to the cent. */
  vat: Cents;
  net: Cents;
}

/** Gross and contained VAT per rate, sorted by rate; the receipt's tax summary. */
export function sumsPerVatRate(lines: readonly PricedLine[]): VatSum[] {
  const byRate = new Map<number, Cents>();
  for (const line of lines) {
    const rate = line.tax ?? 0;
    byRate.set(rate, (byRate.get(rate) ?? 0) + basketTotal([line]));
  }
  return [...byRate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([rate, gross]) => {
      // Integer arithmetic: vat = gross * rate / (100 + rate), rate may have one decimal (e.g. 5.5).
      const rateTenths = Math.round(rate * 10);
      const numerator = gross * rateTenths;
      const denominator = 1000 + rateTenths;
      const vat =
        Math.sign(numerator) * Math.floor((Math.abs(numerator) * 2 + denominator) / (2 * denominator));
      return { rate, gross, vat, net: gross - vat };
    });
}
