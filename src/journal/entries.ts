/**
 * What the journal records. Each entry is written (and fsynced) BEFORE the kiosk acts on it or
 * shows the customer that it happened, so after a power cut the journal says at least as much as
 * the customer saw. Every entry read back carries `seq` (strictly increasing, never reused, also
 * across restarts) and `ts` (device time, UTC ms; the Pi has no RTC, so `ts` orders nothing: `seq` does).
 *
 * Privacy: `session_started.card` is the full card number. It is stored because crediting the
 * money of an interrupted session to the card needs it after a reboot; it is never logged and
 * never leaves the kiosk (use `cardMasked` for anything shown or sent). Journal files are 0600.
 */
import * as z from 'zod';
import { ReceiptLineSchema } from '../api/schemas.js';

const cents = z.int().refine(Number.isSafeInteger, 'not a safe integer');
const positiveCents = cents.refine((v) => v > 0, 'must be positive');
const id = z.string().min(1);

export const SESSION_MODES = ['topup', 'checkout'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

/** The API calls the kiosk makes; `credit` is the top-up that books an interrupted session's money onto a card. */
export const API_STEPS = [
  'create',
  'update',
  'preTransaction',
  'start/cash',
  'start/loyalty',
  'start/cashless',
  'cancel',
  'abort',
  'credit',
] as const;
export type ApiStep = (typeof API_STEPS)[number];

/** The steps after which money has moved on the server when they succeed. */
export const PAYMENT_STEPS: readonly ApiStep[] = ['start/cash', 'start/loyalty', 'start/cashless'];

/**
 * What became of a call: `ok` it took effect; `not_applied` it certainly did not (safe to retry);
 * `unknown` it may have (read the transaction back before anything else); `failed` the server
 * answered that it refused or failed it (e.g. a declined payment): it did not take effect.
 */
export const API_RESULTS = ['ok', 'not_applied', 'unknown', 'failed'] as const;
export type ApiResult = (typeof API_RESULTS)[number];

/**
 * How a session ended. `completed`: paid or topped up and done; `cancelled`/`aborted`: the customer
 * or the kiosk gave up (money inserted must then be accounted for by `credited` or `unclaimed`);
 * `credited`/`unclaimed`: recovery settled an interrupted session; `failed`: it ended in an error.
 */
export const SESSION_OUTCOMES = [
  'completed',
  'cancelled',
  'aborted',
  'credited',
  'unclaimed',
  'failed',
] as const;
export type SessionOutcome = (typeof SESSION_OUTCOMES)[number];

export const CoinAcceptedSchema = z.object({
  type: z.literal('coin_accepted'),
  sessionId: id,
  cents: positiveCents,
  /** Which device took it ("coin", "note", ...); free text, for the reconciliation. */
  source: z.string().min(1),
  /**
   * The coin validator's event counter of this credit (ccTalk 229), where the acceptor has one: the
   * last one journaled is where the validator's credits resume after a restart (none twice, none lost).
   */
  ev: z.int().min(0).max(255).optional(),
});

/**
 * The coin validator's event counter moved without a coin (ccTalk 229): its power-up reset to 0, or
 * the counter a kiosk without a resume point started from. Journaled (after every coin before it) as
 * the point credits resume from at the next start; without it a coin taken while the kiosk was down
 * after a reset could carry the counter of a coin journaled before the reset and never be reported.
 */
export const AcceptorCounterSchema = z.object({
  type: z.literal('acceptor_counter'),
  ev: z.int().min(0).max(255),
});

/** `acceptor_lost.lostIn` when the results cannot be told to be one session's. */
export const LOST_IN_UNKNOWN = 'unknown';

/**
 * The coin validator reported more new results than its buffer holds (ccTalk 229 carries 5): the
 * `results` oldest, up to event `ev`, are gone unread. Any of them may have been a coin now in the cash
 * box that no session counted: the operator's to settle (count the box, ask the customer). `ev` is
 * where credits resume, so a restart does not record the same loss again.
 */
export const AcceptorLostSchema = z.object({
  type: z.literal('acceptor_lost'),
  results: z.int().min(1),
  ev: z.int().min(1).max(255),
  /**
   * The session being served when the loss was read, if any. Not named `sessionId`: the record opens
   * no session and belongs to none. It need not be the customer whose coins were lost: the results
   * may have gone before it started (the line silent, the last session timed out, a new one begun);
   * `lostIn` says whose they are where that is known. (Records before `lostIn` named the coins' target
   * here: while idle, the next session's id, which then belonged to whoever came next.)
   */
  servedSession: id.optional(),
  /**
   * The session served when the last result before the loss was read (the driver's previous answer):
   * null when none was; absent when that read was before this kiosk's start, and on older records.
   */
  readSession: id.nullable().optional(),
  /**
   * Whose results they are: the session served throughout, from the last result read before them to
   * the loss read (the only customer who can have put those coins in), else `unknown` (sessions changed
   * in between, none was served, or the last read was before this start). Absent on records written
   * before it: read as `unknown`.
   */
  lostIn: z.union([id, z.literal(LOST_IN_UNKNOWN)]).optional(),
});

export const SessionStartedSchema = z.object({
  type: z.literal('session_started'),
  sessionId: id,
  mode: z.enum(SESSION_MODES),
  cardMasked: z.string().optional(),
  /** Full card number: stored for crediting after a crash, never logged (see file comment). */
  card: z.string().optional(),
});

export const TxCreatedSchema = z.object({
  type: z.literal('tx_created'),
  sessionId: id,
  /** The kiosk's own id for the transaction (sent as `transactionRef`), known before the API answers. */
  localId: id,
  apiId: z.string().min(1).optional(),
  /** The basket as sent to the API (kept loose: the API's product shape varies). */
  basket: z.looseObject({ products: z.array(z.looseObject({})) }),
  amount: cents,
});

export const ApiIntentSchema = z.object({
  type: z.literal('api_intent'),
  sessionId: id,
  /** The API id of the transaction; for `create` the kiosk's local id (the API id does not exist yet). */
  apiId: id,
  step: z.enum(API_STEPS),
  /** Links the intent to its outcome and to a receipt; unique per call attempt. */
  jobId: id,
  /** Cents the step moves, when it moves money (`credit`, `start/*`); for the counters and recovery. */
  cents: cents.optional(),
});

export const ApiOutcomeSchema = z.object({
  type: z.literal('api_outcome'),
  jobId: id,
  result: z.enum(API_RESULTS),
  /** The transaction status the API reported (`ok`, `failed`, ...), when it did. */
  status: z.string().optional(),
  /** The API id learnt from the answer (a `create`'s answer is where the kiosk first learns it). */
  apiId: z.string().min(1).optional(),
  /**
   * The cash a `start/cash` on the transaction (`apiId`) collects, as this answer set it: the basket
   * total of a `create` or `update`, the `missing_sum` of a `preTransaction`. Absent on other steps
   * and on older records.
   */
  dueCents: cents.optional(),
  /**
   * A payment's or credit's intent repeated (its session, step and cents), so that the outcome still
   * counts for the session when the intent's record is damaged (chaos seed 35683: a paid sale read as
   * unpaid, its goods neither tried nor given back). A payment whose intent names no cents (a terminal
   * or card payment) carries the transaction's amount it pays as `cents`: what a paid sale cost stays
   * known when its basket's record is damaged (31418 `--first 3`). Absent on other steps and on older
   * records.
   */
  ofSession: id.optional(),
  step: z.enum(API_STEPS).optional(),
  cents: cents.optional(),
});

/** VAT contained in one rate's gross amount (integer cents; `gross = net + vat`). */
export const VatPartSchema = z.object({
  rate: z.number().min(0).max(100),
  gross: cents,
  net: cents,
  vat: cents,
});
export type VatPart = z.infer<typeof VatPartSchema>;

/**
 * A paid sale's or top-up's figures as its receipt prints them (bookkeeping/receipt-jobs.ts
 * `saleFigures`, the one place they are computed): the export reads them from here, so the books and
 * the paper cannot disagree. `total` is after the card's bonus (`discount`, a price reduction, so VAT
 * is on the price after it) and over the goods delivered only. Every amount is what the customer gave
 * (`card`, `terminal`, `cashIn`, `voucherIn`) or got back (`change`, `credited`, `voucherOut`), and
 * `returned`, the price of vending units not handed out, which went back in one of those three:
 * `total + discount = card + terminal + cashIn + voucherIn - change - credited - voucherOut - reversed
 * - inReview` (the last two: a terminal reversal, see below). (Figures
 * journaled before issue 14 kept such a unit in `total` and `vat`: for them `... + returned`.)
 */
export const SaleFiguresSchema = z.object({
  receiptNo: z.string().min(1).max(60),
  kind: z.enum(['sale', 'topup']),
  total: cents,
  discount: cents,
  card: cents,
  terminal: cents,
  cashIn: cents,
  voucherIn: cents,
  change: cents,
  credited: cents,
  voucherOut: cents,
  // Absent on figures journaled before it was added: read as none.
  returned: cents.default(0),
  /**
   * Vending, none of the goods came out after a terminal payment: given back by reversing it
   * (`reversed`), or held while its reversal is in doubt (`inReview`, recovery and the operator settle
   * it). Both are of `returned`, so `... - voucherOut - reversed - inReview`. Absent before: none.
   */
  reversed: cents.default(0),
  inReview: cents.default(0),
  vat: z.array(VatPartSchema),
});
export type SaleFigures = z.infer<typeof SaleFiguresSchema>;

export const ReceiptSchema = z.object({
  type: z.literal('receipt'),
  sessionId: id,
  jobId: id,
  lines: z.array(ReceiptLineSchema),
  /** A sale's or top-up's customer receipt (absent on older records and on a receipt without a sale). */
  sale: SaleFiguresSchema.optional(),
  /**
   * Recovery's receipt of a sale it found paid (only there): the paid transaction as the fleet's
   * `evt/transaction` names it. The fleet is told the sale from this record (src/app/journal-fleet.ts),
   * so the event is as durable as the receipt, whenever the fleet reporter comes up.
   */
  paid: z
    .object({
      transactionId: id,
      method: z.enum(['cash', 'loyalty', 'cashless']).optional(),
      cardMasked: z.string().max(40).optional(),
      itemCount: z.int().min(0),
    })
    .optional(),
});

export const PrintedSchema = z.object({
  type: z.literal('printed'),
  jobId: id,
});

export const CreditedSchema = z.object({
  type: z.literal('credited'),
  sessionId: id,
  cents: positiveCents,
  apiId: id,
});

export const UnclaimedSchema = z.object({
  type: z.literal('unclaimed'),
  sessionId: id,
  cents: positiveCents,
  /** The code printed for the customer (or kept for the operator) to claim the money later. */
  voucher: id,
  /**
   * Why the flow left it unclaimed (`cancelled`, `walked_away`, `overpaid`, `failed`, `unresolved`,
   * `stray`): the fleet's `evt/cash unclaimed` is told from this record. Absent on other paths and
   * on older records.
   */
  reason: z.string().min(1).max(200).optional(),
});

/**
 * An unclaimed voucher was paid out by staff (`cash_refund`), credited or voided by recovery, written
 * off, or passed its last day (`expired`); it leaves the open-vouchers list. `voucher` is its code
 * or its reference (`<issuer>.<id>` of a signed code).
 */
export const UnclaimedSettledSchema = z.object({
  type: z.literal('unclaimed_settled'),
  voucher: id,
  how: z.enum(['credited', 'cash_refund', 'written_off', 'expired']),
  by: z.string().optional(),
  /** Its value (older records have none: the open list had it). */
  cents: positiveCents.optional(),
});

/**
 * A scanned voucher's value joins a session: durable BEFORE the session counts it, so a second scan
 * (also after a restart) finds it used. `ref` is `<issuer>.<id>`; a voucher of another kiosk (a
 * fleet-wide key) is not in this journal's open list, and its `ref` alone keeps it from a second use.
 */
export const VoucherRedeemedSchema = z.object({
  type: z.literal('voucher_redeemed'),
  sessionId: id,
  ref: id,
  cents: positiveCents,
});

export const SessionClosedSchema = z.object({
  type: z.literal('session_closed'),
  sessionId: id,
  outcome: z.enum(SESSION_OUTCOMES),
});

export const CashCollectedSchema = z.object({
  type: z.literal('cash_collected'),
  /** What the operator took out (counted), which may differ from what the journal expected. */
  cents: cents.refine((v) => v >= 0, 'must not be negative'),
  by: z.string().min(1),
});

/** Something a technician did at the kiosk (service menu): kept with the money trail for the audit. */
export const ServiceActionSchema = z.object({
  type: z.literal('service_action'),
  action: z.string().min(1).max(40),
  ok: z.boolean(),
  detail: z.string().max(300).optional(),
});

/**
 * Vending counter (issue 15). A release is a money step like a payment: `release_intent` is durable
 * before the slot's output fires, `release_outcome` after. An intent without an outcome after a
 * restart becomes `unknown`: never released again automatically, settled by the operator
 * (`release_settled`).
 */
export const ReleaseIntentSchema = z.object({
  type: z.literal('release_intent'),
  sessionId: id,
  jobId: id,
  slot: id,
  productId: z.int().positive(),
  /** The unit's price: owed back when it is not delivered. */
  cents,
  transactionId: z.string().optional(),
  /** The units planned after this one (absent in records from before the plan was journaled). */
  later: z
    .array(z.object({ slot: id, productId: z.int().positive(), cents }))
    .max(100)
    .optional(),
});

export const RELEASE_RESULTS = ['delivered', 'failed', 'unknown'] as const;
export type ReleaseResultKind = (typeof RELEASE_RESULTS)[number];

export const ReleaseOutcomeSchema = z.object({
  type: z.literal('release_outcome'),
  jobId: id,
  /**
   * Its intent's release repeated (session, slot, product, price), so that the outcome still counts
   * when the intent's record is damaged (chaos seed 41002: a failed unit's price not given back).
   * Absent on records written before it: such an outcome is then an anomaly only.
   */
  ofSession: id.optional(),
  slot: id.optional(),
  productId: z.int().positive().optional(),
  cents: cents.optional(),
  /** `failed`: not handed out as far as the kiosk can tell: its price goes back to the customer. */
  result: z.enum(RELEASE_RESULTS),
  /** Why it failed (`no_confirmation`, `sensor_stuck`, `blocked`, `power_cut`...). */
  reason: z.string().max(60).optional(),
  /** The output fired (a failed release that fired may have given something: the operator checks). */
  fired: z.boolean().optional(),
});

/**
 * A paid sale whose goods the journal cannot tell: its basket's record was damaged before any release
 * was journaled, so no unit can be tried or given back by slot. What it paid (`cents`, from the
 * payment's outcome or the card terminal's payment record) waits for the operator, who settles it like
 * a release in doubt (`release_settled` with this `jobId`: delivered, or refunded with a voucher).
 * `amountUnknown`: no surviving record names the amount (a payment outcome journaled by firmware from
 * before the amount was repeated in it); `cents` is then 0 and means nothing, and a refund needs the
 * operator's amount (`release_settled` `cents`). A record without the field and with `cents` 0 (written
 * before the field) is read the same: a paid sale costs more than 0 ct.
 */
export const GoodsUnsettledSchema = z.object({
  type: z.literal('goods_unsettled'),
  sessionId: id,
  jobId: id,
  cents,
  transactionId: z.string().optional(),
  amountUnknown: z.literal(true).optional(),
});

/** The operator settled a release whose outcome was unknown. */
export const ReleaseSettledSchema = z.object({
  type: z.literal('release_settled'),
  jobId: id,
  /** `delivered`: the customer got it; `refunded`: they did not and got the money back (`voucher`). */
  how: z.enum(['delivered', 'refunded']),
  voucher: z.string().optional(),
  by: z.string().optional(),
  /**
   * `refunded` of a sale whose amount the journal does not know (`goods_unsettled` `amountUnknown`):
   * the amount the operator gave, what the voucher pays. Absent otherwise (the release's own price).
   */
  cents: positiveCents.optional(),
});

const HopperCountersSchema = z.object({
  event: z.int().min(0).max(255),
  remaining: z.int().min(0),
  paid: z.int().min(0),
  unpaid: z.int().min(0),
  lifetime: z.int().min(0).optional(),
});

/** Change from the hopper: durable (with the hopper's own counters) before the dispense goes out. */
export const PayoutIntentSchema = z.object({
  type: z.literal('payout_intent'),
  sessionId: id,
  jobId: id,
  coins: z.int().min(1).max(255),
  coinCents: positiveCents,
  before: HopperCountersSchema,
});

export const PAYOUT_RESULTS = ['complete', 'short', 'not_sent', 'unknown'] as const;

/** What the hopper's counters say was paid; `unknown`: `paidCents` is the least that was paid. */
export const PayoutOutcomeSchema = z.object({
  type: z.literal('payout_outcome'),
  jobId: id,
  /**
   * The session and coin of its intent, repeated so that the paid cents still count for the session
   * when the intent's record is damaged (absent in journals written before it: such an outcome is
   * then an anomaly only).
   */
  ofSession: id.optional(),
  coinCents: positiveCents.optional(),
  result: z.enum(PAYOUT_RESULTS),
  paidCents: cents.refine((v) => v >= 0, 'must not be negative'),
  fault: z.string().max(40).optional(),
  after: HopperCountersSchema.optional(),
});

/** A technician counted a slot (refill, correction): its stock is `count` from here; a block is lifted. */
export const StockSetSchema = z.object({
  type: z.literal('stock_set'),
  slot: id,
  count: z.int().min(0).max(999),
  by: z.string().min(1).max(40),
});

/**
 * A blocked slot works again without a count (its stock is unchanged): an operator cleared it (service
 * menu "Fachbestand", fleet `unblock-slot`), or settling its release in doubt as `delivered` showed the
 * unit dropped (`releaseJob`). Never while its sensor reads active (VendJournal refuses).
 */
export const SlotUnblockedSchema = z.object({
  type: z.literal('slot_unblocked'),
  slot: id,
  by: z.string().min(1).max(40),
  releaseJob: id.optional(),
});

/**
 * Coins put into (`coins` > 0) or taken out of (`coins` < 0) the change hopper by a technician
 * (service menu, `Wechselgeld`): the books' count of the hopper follows (`vend.hopper`).
 */
export const HopperFilledSchema = z.object({
  type: z.literal('hopper_filled'),
  coins: z
    .int()
    .min(-100_000)
    .max(100_000)
    .refine((v) => v !== 0, 'must not be 0'),
  coinCents: positiveCents,
  by: z.string().min(1).max(40),
});

/**
 * The card terminal (issue 12 item 8). A terminal payment that took effect is recorded with its
 * receipt number (what `cancelTrx` needs) and the merchant's copy of its receipt; it stays
 * reversible until an end-of-day clears the batch.
 */
export const TerminalPaymentSchema = z.object({
  type: z.literal('terminal_payment'),
  sessionId: id,
  apiId: id,
  receiptNumber: z.string().min(1).max(40).optional(),
  /** What the transaction took (terminal and card part): what a reversal gives back. */
  cents,
  merchantLines: z.array(ReceiptLineSchema).default([]),
});

export const TERMINAL_ACTIONS = ['cancel_trx', 'end_of_day'] as const;
export type TerminalAction = (typeof TERMINAL_ACTIONS)[number];

/** A terminal duty that moves money or clears it: durable before the call goes out. */
export const TerminalIntentSchema = z.object({
  type: z.literal('terminal_intent'),
  jobId: id,
  action: z.enum(TERMINAL_ACTIONS),
  /** Who asked: `recovery`, `vending`, `service`, `fleet`, `schedule`. */
  by: z.string().min(1).max(40),
  receiptNumber: z.string().max(40).optional(),
  apiId: z.string().optional(),
  /** The session whose payment is reversed (not `sessionId`: the duty need not belong to one). */
  ofSession: z.string().optional(),
  cents: cents.optional(),
});

/** `refused`: not sent (after end-of-day, already reversed, no receipt number); nothing moved. */
export const TERMINAL_RESULTS = ['ok', 'failed', 'unknown', 'refused'] as const;
export type TerminalResult = (typeof TERMINAL_RESULTS)[number];

export const TerminalOutcomeSchema = z.object({
  type: z.literal('terminal_outcome'),
  jobId: id,
  result: z.enum(TERMINAL_RESULTS),
  status: z.string().max(40).optional(),
  detail: z.string().max(300).optional(),
  merchantLines: z.array(ReceiptLineSchema).optional(),
});

export const EntryInputSchema = z.discriminatedUnion('type', [
  TerminalPaymentSchema,
  TerminalIntentSchema,
  TerminalOutcomeSchema,
  ReleaseIntentSchema,
  ReleaseOutcomeSchema,
  ReleaseSettledSchema,
  GoodsUnsettledSchema,
  PayoutIntentSchema,
  PayoutOutcomeSchema,
  StockSetSchema,
  SlotUnblockedSchema,
  HopperFilledSchema,
  CoinAcceptedSchema,
  AcceptorCounterSchema,
  AcceptorLostSchema,
  SessionStartedSchema,
  TxCreatedSchema,
  ApiIntentSchema,
  ApiOutcomeSchema,
  ReceiptSchema,
  PrintedSchema,
  CreditedSchema,
  UnclaimedSchema,
  UnclaimedSettledSchema,
  VoucherRedeemedSchema,
  SessionClosedSchema,
  CashCollectedSchema,
  ServiceActionSchema,
]);
/** What callers give `append`: one of the entries above, without `seq`/`ts`. */
export type EntryInput = z.input<typeof EntryInputSchema>;
export type EntryType = EntryInput['type'];

const Stamp = z.object({ seq: z.int().nonnegative(), ts: z.number() });
export type Stamp = z.infer<typeof Stamp>;

/** An entry as stored and replayed. */
export type JournalEntry = z.infer<typeof EntryInputSchema> & Stamp;
export type EntryOf<T extends EntryType> = Extract<JournalEntry, { type: T }>;

export function parseEntryInput(input: unknown): z.infer<typeof EntryInputSchema> {
  return EntryInputSchema.parse(input);
}

export const StampSchema = Stamp;
