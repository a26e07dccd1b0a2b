/**
 * What a sale is worth and how it was paid, the one definition the kiosk's sales odometer (the
 * journal's fold, `health.counters.*.salesValue`) and the fleet's `evt/transaction` `parts` share, so
 * the dashboard's counters check compares like with like (issue 16). Here, and not in the journal or
 * the fleet contract, because both the kiosk's journal and the dashboard import it (src/util is the
 * only layer both may).
 *
 * A sale's value is its basket value as delivered: the goods handed out, before the card's bonus
 * (`SaleFigures.total + discount`, the event's `amountCents`). A unit not served is not in it, so its
 * refund (change, card credit or voucher) is no part of the sale either.
 *
 * Its parts say which payments that value stands on, in integer cents, summing exactly to the value.
 * The value is laid onto what the customer paid in a fixed order: card balance (its bonus included:
 * the bonus is what the card paid), voucher, card terminal, cash last. Cash is last because whatever
 * went back (change, a card credit, a voucher for the rest, the price of a unit not served) is taken
 * off what was paid too much, and that is the cash a customer put in beyond the price first. So a cash
 * sale with change has as cash part the cash kept, not the cash inserted, whichever way the rest went
 * back (coins, card or voucher), and the parts are known as soon as the goods are: the flow's event
 * (sent before the change is paid) and the receipt's figures (journaled after) give the same parts.
 *
 * A top-up is not a sale: it buys card balance, has its own odometer (`topups`) and no parts.
 */

export const SALE_PARTS = ['cardBalance', 'voucher', 'terminal', 'cash'] as const;
export type SalePart = (typeof SALE_PARTS)[number];
export type SaleParts = Record<SalePart, number>;

export interface SalePaid {
  /** Taken from the loyalty card's balance, its bonus included (`SaleFigures.card`). */
  cardBalance: number;
  /** Vouchers redeemed into the session (`voucherIn`). */
  voucher: number;
  /** Paid at the card terminal, before any reversal (`terminal`). */
  terminal: number;
  /** Coins and notes inserted (`cashIn`), before change. */
  cash: number;
}

export const zeroParts = (): SaleParts => ({ cardBalance: 0, voucher: 0, terminal: 0, cash: 0 });

/**
 * The parts of a sale worth `valueCents` given what was paid: undefined when the payments do not
 * cover the value (damaged records, or a figure not integer cents), so that a sale whose parts cannot
 * be told counts in neither the odometer's parts nor the event's, rather than a guessed part in both.
 */
export function saleParts(valueCents: number, paid: SalePaid): SaleParts | undefined {
  const amounts = [valueCents, ...SALE_PARTS.map((p) => paid[p])];
  if (!amounts.every((c) => Number.isSafeInteger(c) && c >= 0)) return undefined;
  const parts = zeroParts();
  let rest = valueCents;
  for (const p of SALE_PARTS) {
    parts[p] = Math.min(rest, paid[p]);
    rest -= parts[p];
  }
  return rest === 0 ? parts : undefined;
}

/** The value a set of parts adds up to. */
export function partsTotal(parts: SaleParts): number {
  return SALE_PARTS.reduce((sum, p) => sum + parts[p], 0);
}

/** The parts in which `a` and `b` differ, in `SALE_PARTS` order (empty: they agree to the cent). */
export function partsDiffering(a: SaleParts, b: SaleParts): SalePart[] {
  return SALE_PARTS.filter((p) => a[p] !== b[p]);
}

/** What a sale's receipt figures (`SaleFigures` of the journal's `receipt` record) need for its parts. */
export interface SaleFiguresPaid {
  total: number;
  discount: number;
  card: number;
  terminal: number;
  cashIn: number;
  voucherIn: number;
}

/** A sale's value (`total + discount`) and parts from its receipt figures: the journal's and recovery's. */
export function salePartsOfFigures(f: SaleFiguresPaid): SaleParts | undefined {
  return saleParts(f.total + f.discount, {
    cardBalance: f.card,
    voucher: f.voucherIn,
    terminal: f.terminal,
    cash: f.cashIn,
  });
}
