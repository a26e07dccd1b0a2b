/** A stand-in's ledger file and journal records as the chaos books read them (books and summary tests). */
import type { LedgerFileView } from '../../src/chaos/books.js';
import type { EntryInput } from '../../src/journal/entries.js';

export interface SaleFixture {
  id: string;
  /** The transaction's `merchantRef`: names the session (`<session>:create:0`, `<session>:credit:3`). */
  ref: string;
  method: string;
  collected: number;
  /** Units of goods the transaction's basket holds (0: none, a top-up). */
  units?: number;
  /** A terminal payment reversed. */
  cancelled?: boolean;
}

export const ledgerOf = (sales: readonly SaleFixture[]): LedgerFileView => ({
  cards: {},
  transactions: Object.fromEntries(
    sales.map((s) => [
      s.id,
      {
        id: s.id,
        status: 'ok',
        merchantRef: s.ref,
        transactionRef: null,
        card: null,
        products: s.units ? [{ id: 1, quantity: s.units, priceOne: 100, item_type: 'article' }] : [],
      },
    ]),
  ),
  sales: sales.map((s) => ({
    txId: s.id,
    method: s.method,
    collected: s.collected,
    redeemed: 0,
    loaded: 0,
    cancelled: s.cancelled ?? false,
  })),
});

/** A hopper payout of `paidCents` in 10 ct coins, journaled as the kiosk does: intent, then outcome. */
export const payout = (sessionId: string, jobId: string, paidCents: number): EntryInput[] => [
  {
    type: 'payout_intent',
    sessionId,
    jobId,
    coins: paidCents / 10,
    coinCents: 10,
    before: { event: 1, remaining: 0, paid: 0, unpaid: 0 },
  },
  { type: 'payout_outcome', jobId, result: 'complete', paidCents },
];

/** Recovery's reversal of a session's terminal payment (`cancelTrx`), answered ok. */
export const reversal = (sessionId: string, jobId: string, cents: number): EntryInput[] => [
  { type: 'terminal_intent', jobId, action: 'cancel_trx', by: 'recovery', ofSession: sessionId, cents },
  { type: 'terminal_outcome', jobId, result: 'ok' },
];
