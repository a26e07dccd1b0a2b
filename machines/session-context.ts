/**
 * What a customer session (checkout or top-up) remembers. Money is counters that only grow:
 * `inserted` (taken by the acceptor), `paid` (cash applied to a completed payment), `credited`
 * (left-over loaded onto the customer's card), `unclaimed` (recorded with a voucher code), `changed`
 * (coins paid out by the hopper), `returned` (paid for goods that were not released, so owed back)
 * and `reversed` (of that, given back by a terminal reversal, or held while the reversal is in doubt).
 * What the kiosk still holds for the customer is always
 * `inserted + redeemed - paid - credited - unclaimed - changed + returned - reversed`; a session only ends when
 * that is 0 (`redeemed`: the value of vouchers scanned into the session, money it holds like coins).
 */
import type { Cents } from '../src/api/money.js';
import type { ReceiptLine } from '../src/api/schemas.js';
import type { StartMethod } from '../src/api/types.js';
import type { CardProblem } from './card-check.js';
import type { HardwareEvent } from './events.js';
import type { BasketLine, CardInfo, UnclaimedReason, VoucherRefusal } from './ports.js';
import { DEFAULT_CARD_RULE, type CardRule } from './scan.js';

export interface CatalogueItem {
  id: number;
  desc: string;
  ean: string | null;
  priceOne: Cents;
  tax: number;
  /** The vend slot that releases this product (vending counters); none: handed over by staff. */
  slot?: string;
}

export interface SessionConfig {
  /** What a scanned card number looks like (default: 16 digits starting 9276); digits and length, no RegExp. */
  cardPattern: CardRule;
  /** Products of the vending counter; `amount1..4` add the first four, up/down browse all. */
  catalogue: CatalogueItem[];
  /** Preset top-up amounts on `amount1..4`. */
  topupAmounts: Cents[];
  /** The acceptor is inhibited when a top-up reaches this. */
  maxTopup: Cents;
  /** Whether a card terminal (start/cashless) is attached. */
  terminal: boolean;
  /** Quiet time before "are you still there?". */
  inactivityMs: number;
  /** Time the warning stays before the session counts as walked away. */
  warningMs: number;
  /** How long a message (card refused, thanks) stays. */
  messageMs: number;
  /** Upper limit for the customer at the card terminal. */
  cashlessLimitMs: number;
  /** Pause before retrying a call that certainly did not take effect. */
  retryMs: number;
  /** After this, a waiting screen says why it takes long. */
  slowMs: number;
  /** Retries of a call that certainly did not take effect. */
  maxRetries: number;
  /** Read-backs of a `start` whose outcome is unknown before giving up. */
  maxReadBacks: number;
  /**
   * Further reads that must all still say "not started" before a start in doubt is repeated: reads
   * may lag a start that took effect (src/api/read-back.ts). Spaced 1x, 2x, 4x, 8x `retryMs`.
   */
  noEffectReads: number;
  /** The kiosk pays out change (a hopper); without, the screens say so before the first coin. */
  givesChange: boolean;
  /** The printer can print now (paper not low or out): otherwise the customer is told before paying. */
  receiptPossible: boolean;
  /**
   * Products each slot can still release (stock minus blocked slots), as the app knew at session
   * start; a product whose slot has none left is refused before any money is taken.
   */
  slotStock: Record<string, number>;
  /** Value of the change hopper's coin; null without a hopper (change then goes on a voucher). */
  changeCoin: Cents | null;
  /**
   * The coin (and note) values the acceptor takes, for per-coin inhibit (machines/accepted-coins.ts);
   * empty: unknown, every coin is accepted. Optional: absent in older snapshots.
   */
  coinValues?: Cents[];
}

export const DEFAULT_SESSION_CONFIG: SessionConfig = {
  cardPattern: DEFAULT_CARD_RULE,
  catalogue: [],
  topupAmounts: [500, 1000, 2000, 5000],
  maxTopup: 10000,
  terminal: true,
  inactivityMs: 30_000,
  warningMs: 15_000,
  messageMs: 4_000,
  cashlessLimitMs: 120_000,
  retryMs: 2_000,
  slowMs: 3_000,
  maxRetries: 2,
  maxReadBacks: 3,
  noEffectReads: 3,
  givesChange: false,
  receiptPossible: true,
  slotStock: {},
  changeCoin: null,
  coinValues: [],
};

export interface SessionInput {
  /** Unique per session; prefixes every job id so that restarts are idempotent. */
  sessionId: string;
  config?: Partial<SessionConfig>;
  /** The event that woke the kiosk (a scan, a coin, a button): handled as the session's first event. */
  firstEvent?: HardwareEvent | null;
  now?: number;
}

export type SessionOutcome =
  'paid' | 'cancelled' | 'walked_away' | 'card_refused' | 'failed' | 'unresolved' | 'device_fault';

export type Notice =
  'unreadable' | 'unknown_product' | 'card_already' | 'terminal_needs_no_cash' | 'sold_out' | null;

/** One unit to release after the payment: the basket expanded item by item. */
export interface ReleaseUnit {
  productId: number;
  slot: string;
  cents: Cents;
  /** Absent until released; `unknown` when the release actor itself failed (operator settles it). */
  outcome?: 'delivered' | 'failed' | 'unknown';
}

export interface SessionContext {
  flow: 'checkout' | 'topup';
  cfg: SessionConfig;
  sessionId: string;
  now: number;
  ticks: number;
  /** `now` when the current wait on the API or terminal began (for the "takes long" line). */
  waitSince: number;
  /** Deadline of the card terminal, kept in context so that a restored snapshot still honours it. */
  payDeadline: number | null;
  pendingEvent: HardwareEvent | null;

  basket: BasketLine[];
  cursor: number;
  scanned: string | null;
  cardNumber: string | null;
  card: CardInfo | null;
  problem: CardProblem | null;
  txId: string | null;
  /** What the current payment collects by cash or terminal (the basket total, `missing_sum`, or the top-up). */
  due: Cents;
  method: StartMethod | null;
  /** Chosen top-up amount; null while the customer just inserts money. */
  target: Cents | null;

  inserted: Cents;
  /** Value of the vouchers redeemed into this session (journaled before counted). */
  redeemed: Cents;
  /** The voucher code being checked, and why the last one was refused. */
  scannedVoucher: string | null;
  voucherRefused: VoucherRefusal | null;
  paid: Cents;
  credited: Cents;
  unclaimed: Cents;
  /** What the current credit or unclaimed record is for (fixed when the call starts). */
  settling: Cents;
  /** Paid out as coins by the change hopper. */
  changed: Cents;
  /** Paid for goods that were not released: owed back to the customer (settled like held money). */
  returned: Cents;
  /**
   * Of `returned`, what no longer goes back through `#settling`: given back by reversing the terminal
   * payment (`reversal` ok), or held while a reversal in doubt is checked (`unknown`: paying it back
   * as well would refund twice if the reversal took effect). Absent in older snapshots.
   */
  reversed?: Cents;
  /** The terminal reversal of a vending sale none of whose goods came out; null: not tried. */
  reversal?: 'ok' | 'refused' | 'unknown' | null;
  /** The current settling round already tried the hopper (a short payout is not tried again). */
  changeTried: boolean;
  /** Units to release after the payment, in order, and which one is next. */
  releases: ReleaseUnit[];
  releaseAt: number;
  /**
   * The transaction status the payment was decided on (absent: the API gave none), kept for the
   * fleet's `transaction_finished`, which is told only after the releases (what was delivered).
   */
  paidStatus?: string | null;

  attempts: number;
  readBacks: number;
  /** Read-backs of the current start that said "not started" (absent in older snapshots). */
  noEffectSeen?: number;
  startSeq: number;
  repeatedStart: boolean;
  jobSeq: number;

  receipt: ReceiptLine[] | null;
  /** The API's bonus lines (preTransaction), for the receipt. */
  bonusProducts: BasketLine[];
  /** A paid sale's or top-up's receipt is still to be printed (after settling, so it shows everything). */
  receiptDue: boolean;
  /** A voucher was recorded and its code not yet shown on its own screen. */
  voucherToShow: boolean;
  balanceAfter: Cents | null;
  voucherCode: string | null;
  /** The kiosk's receipt number of the last receipt printed (shown so staff can reprint it). */
  receiptNo: string | null;
  notice: Notice;
  outcome: SessionOutcome | null;
  unclaimedReason: UnclaimedReason;
  /**
   * The journal's storage is offline (DEVICE storage): no more money is taken, and the session is
   * settled as soon as no coin is held unwritten. Optional: absent in older snapshots.
   */
  storageDown?: boolean;
  /** Coins the app holds because their journal write failed (COINS_HELD): shown, not counted. */
  unwrittenCents?: Cents;
  /**
   * The printer as the app last reported it during the session (DEVICE printer: `ok` or not); absent:
   * as at the start (`cfg.receiptPossible`). Paper running out mid-session is said before paying.
   * Optional: absent in older snapshots.
   */
  printerOk?: boolean;
  /**
   * The receipt did not print but is in the journal (a reprint by staff): the farewell says how to
   * get it. Optional: absent in older snapshots.
   */
  receiptUnprinted?: boolean;
}

/** Whether a receipt can be printed now: the printer's last report in the session, else its state at the start. */
export function receiptPossible(c: Pick<SessionContext, 'cfg' | 'printerOk'>): boolean {
  return c.printerOk ?? c.cfg.receiptPossible;
}

export interface SessionOutput {
  outcome: SessionOutcome;
  inserted: Cents;
  redeemed: Cents;
  paid: Cents;
  credited: Cents;
  unclaimed: Cents;
  transactionId: string | null;
  voucherCode: string | null;
}

export function held(
  c: Pick<SessionContext, 'inserted' | 'paid' | 'credited' | 'unclaimed'> &
    Partial<Pick<SessionContext, 'changed' | 'returned' | 'redeemed' | 'reversed'>>,
): Cents {
  return (
    c.inserted +
    (c.redeemed ?? 0) -
    c.paid -
    c.credited -
    c.unclaimed -
    (c.changed ?? 0) +
    (c.returned ?? 0) -
    (c.reversed ?? 0)
  );
}

export function basketSum(basket: readonly BasketLine[]): Cents {
  return basket.reduce((s, l) => s + l.priceOne * l.quantity, 0);
}

export function initialSessionContext(flow: 'checkout' | 'topup', input: SessionInput): SessionContext {
  return {
    flow,
    cfg: { ...DEFAULT_SESSION_CONFIG, ...input.config },
    sessionId: input.sessionId,
    now: input.now ?? 0,
    ticks: 0,
    waitSince: input.now ?? 0,
    payDeadline: null,
    pendingEvent: input.firstEvent ?? null,
    basket: [],
    cursor: 0,
    scanned: null,
    cardNumber: null,
    card: null,
    problem: null,
    txId: null,
    due: 0,
    method: null,
    target: null,
    inserted: 0,
    redeemed: 0,
    scannedVoucher: null,
    voucherRefused: null,
    paid: 0,
    credited: 0,
    unclaimed: 0,
    settling: 0,
    changed: 0,
    returned: 0,
    reversed: 0,
    reversal: null,
    changeTried: false,
    releases: [],
    releaseAt: 0,
    attempts: 0,
    readBacks: 0,
    noEffectSeen: 0,
    startSeq: 0,
    repeatedStart: false,
    jobSeq: 0,
    receipt: null,
    bonusProducts: [],
    receiptDue: false,
    voucherToShow: false,
    balanceAfter: null,
    voucherCode: null,
    receiptNo: null,
    notice: null,
    outcome: null,
    unclaimedReason: 'cancelled',
    storageDown: false,
    unwrittenCents: 0,
  };
}
