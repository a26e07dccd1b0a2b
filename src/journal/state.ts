/**
 * The journal folded into what recovery and the fleet need to know, as a pure function of the
 * records: `foldRecords(records, from)` never mutates `from` and does no I/O, so recovery, the
 * tests and the chaos harness's reconciliation all compute the same state from the same file.
 *
 * - `sessions`: the sessions not closed yet, i.e. the ones recovery must resolve at boot: money
 *   inserted, the card, the transaction, the last API step and whether its outcome is known, the
 *   receipt and whether it was printed.
 * - `cashBox`: what should be in the cash box since the last collection.
 * - `lifetime` / `sinceCollection`: odometers (count and value of sales, top-ups, cash in, ...) that
 *   only ever grow, so a lost or repeated heartbeat cannot corrupt a total (fleet `health`).
 * - `unclaimedVouchers`: money owed to customers who could not be credited.
 * - `recentReceipts`: the receipts of the last closed sessions, for a reprint.
 *
 * The whole state is also what a compaction snapshot stores, hence the schema.
 */
import * as z from 'zod';
import { ReceiptLineSchema } from '../api/schemas.js';
import { salePartsOfFigures, SALE_PARTS, zeroParts, type SaleParts } from '../util/sale-value.js';
import {
  API_RESULTS,
  API_STEPS,
  PAYMENT_STEPS,
  SESSION_MODES,
  TERMINAL_ACTIONS,
  TERMINAL_RESULTS,
  type ApiResult,
  type ApiStep,
  type JournalEntry,
  type SessionMode,
} from './entries.js';

/** How many closed sessions' receipts stay available for a reprint. */
export const RECENT_RECEIPTS = 20;

const TallySchema = z.object({ count: z.int(), cents: z.int() });
export type Tally = z.infer<typeof TallySchema>;

/**
 * Sales at their value and its parts (src/util/sale-value.ts, the definition the fleet's events share):
 * counted at the sale's receipt record, whose figures are final (the goods delivered, the change
 * given). Sales whose parts cannot be told (payments short of the value) are not in it.
 */
const SalesValueSchema = z.object({
  count: z.int(),
  cents: z.int(),
  parts: z.object({ cardBalance: z.int(), voucher: z.int(), terminal: z.int(), cash: z.int() }),
});
export type SalesValue = z.infer<typeof SalesValueSchema>;
const zeroSalesValue = (): SalesValue => ({ count: 0, cents: 0, parts: zeroParts() });

const CountersSchema = z.object({
  /** Coins and notes accepted. */
  cashIn: TallySchema,
  /** Checkout sessions whose payment step (`start/*`) succeeded, valued at the transaction amount. */
  sales: TallySchema,
  /** Top-up sessions whose payment step succeeded. */
  topUps: TallySchema,
  /** Interrupted sessions' money booked onto a card (`credited`). */
  credits: TallySchema,
  /** Money recorded as owed (`unclaimed`). */
  unclaimed: TallySchema,
  /** Payments reversed by a successful `cancel`. */
  cancellations: TallySchema,
  /** Cash collections by the operator, valued at what they counted. */
  collections: TallySchema,
  /** Vouchers scanned and counted towards a session (snapshots before vouchers could be redeemed have none). */
  redeemed: TallySchema.default({ count: 0, cents: 0 }),
  /** Sales at their basket value, with its parts (snapshots before it have none: it counts from then). */
  salesValue: SalesValueSchema.default(zeroSalesValue),
});
export type Counters = z.infer<typeof CountersSchema>;

const StepSchema = z.object({
  step: z.enum(API_STEPS),
  jobId: z.string(),
  apiId: z.string(),
  cents: z.int().optional(),
  intentSeq: z.int(),
  /** Absent: the intent was written but no outcome yet (the call may or may not have reached the server). */
  outcome: z.enum(API_RESULTS).optional(),
  status: z.string().optional(),
});
export type StepState = z.infer<typeof StepSchema>;

/** A payment (`start/*`) or credit step of a session, kept until the session closes (not only the last step). */
const StartStateSchema = z.object({
  step: z.enum(API_STEPS),
  apiId: z.string(),
  /** The cash a `start/cash` collects: its intent's cents, else the transaction's amount then. */
  cents: z.int().optional(),
  /** The last outcome journaled for it; `ok` stays (a late answer of an older job counts too). */
  outcome: z.enum(API_RESULTS).optional(),
  /** The transaction status its answer reported: absent when the call failed without one. */
  status: z.string().optional(),
});
export type StartState = z.infer<typeof StartStateSchema>;

const ReceiptStateSchema = z.object({
  sessionId: z.string(),
  jobId: z.string(),
  lines: z.array(ReceiptLineSchema),
  printed: z.boolean(),
  ts: z.number(),
});
export type ReceiptState = z.infer<typeof ReceiptStateSchema>;

const OpenSessionSchema = z.object({
  sessionId: z.string(),
  /** Absent when money arrived for a session whose `session_started` was never written. */
  mode: z.enum(SESSION_MODES).optional(),
  startedSeq: z.int(),
  startedTs: z.number(),
  cardMasked: z.string().optional(),
  /** Full card number (see entries.ts): for crediting; never log it. */
  card: z.string().optional(),
  insertedCents: z.int(),
  coins: z.int(),
  tx: z
    .object({
      localId: z.string(),
      apiId: z.string().optional(),
      basket: z.looseObject({ products: z.array(z.looseObject({})) }),
      amount: z.int(),
    })
    .optional(),
  /** The API id of the transaction as far as the journal knows it. */
  apiId: z.string().optional(),
  /** Every API transaction id the session's steps named (its sale's, a credit's...): whose a call is. */
  txIds: z.array(z.string()).optional(),
  /** By transaction: the cash a `start/cash` on it collects (`api_outcome.dueCents`, the last answer that set it). */
  cashDue: z.record(z.string(), z.int()).optional(),
  lastStep: StepSchema.optional(),
  /** A payment step (`start/*`) is known to have succeeded (and was not cancelled since). */
  paid: z.boolean(),
  /** Its payment and credit steps by job id, each with its last outcome (absent: none yet, or an older snapshot). */
  starts: z.record(z.string(), StartStateSchema).optional(),
  /**
   * Cash its successful `start/cash` steps collected (every one, also a late answer of an older
   * job), given back by a successful `cancel`: the session's cash that is no longer the customer's.
   */
  paidCashCents: z.int().optional(),
  creditedCents: z.int(),
  /** The API ids of the credits journaled for it (`credited.apiId`): a second report of one books nothing. */
  creditedIds: z.array(z.string()).optional(),
  unclaimedCents: z.int(),
  receipt: ReceiptStateSchema.optional(),
  /**
   * Damaged journal records may have belonged to this session (it was open where the damage sits,
   * or the money cross-check corrected it): recovery settles it with what is known and the operator
   * is told (alert `journal_damaged`).
   */
  damaged: z.boolean().optional(),
  /** Paid out as coins by the change hopper (the hopper's own counters). */
  changedCents: z.int().optional(),
  /**
   * Paid cents counted by job for payouts whose `payout_intent` record was lost (damaged): a later
   * outcome of the same job counts only the difference, as it does with the intent.
   */
  payoutsWithoutIntent: z.record(z.string(), z.int()).optional(),
  /** Paid for goods that were not released: owed back to the customer. */
  returnedCents: z.int().optional(),
  /** Releases journaled for this session (the basket's slotted units after these were never tried). */
  releaseIntents: z.int().optional(),
  /** The units planned after the last release journaled (its intent's `later`): owed if never tried. */
  releaseLater: z.array(z.object({ slot: z.string(), productId: z.int(), cents: z.int() })).optional(),
  /** Its units not handed out, in release order: `failed` (price given back), `unknown` (the operator's). */
  undelivered: z
    .array(
      z.object({
        slot: z.string(),
        productId: z.int(),
        cents: z.int(),
        outcome: z.enum(['failed', 'unknown']),
      }),
    )
    .optional(),
  /** Given back by a terminal reversal (`cancelTrx`): no longer owed to the customer. */
  reversedCents: z.int().optional(),
  /** Value of vouchers redeemed into this session: money it holds like inserted coins. */
  redeemedCents: z.int().optional(),
  /** Its sale is in the sales-value odometer (a second receipt record of it counts no second sale). */
  saleValued: z.literal(true).optional(),
});
export type OpenSession = z.infer<typeof OpenSessionSchema>;

const VoucherSchema = z.object({
  /** The code as issued (a signed `KV1.` code, or an old plain one). */
  voucher: z.string(),
  sessionId: z.string(),
  cents: z.int(),
  ts: z.number(),
  /** `<issuer>.<id>` of a signed code (absent for old plain codes, whose code is their name). */
  ref: z.string().optional(),
  /** Last valid day `YYYYMMDD` (UTC) of a signed code; absent: never expires. */
  expires: z.string().optional(),
});
export type Voucher = z.infer<typeof VoucherSchema>;

const SlotStateSchema = z.object({
  /** The count of the last `stock_set`; null: none journaled yet (the config's `initialStock` applies). */
  base: z.int().nullable(),
  /** Units released since (delivered, or in doubt: a unit that may be gone is not sold again). */
  taken: z.int(),
  /** Why the slot is blocked (a failed or unknown release) until a technician counts it again. */
  blocked: z.string().nullable(),
});
export type SlotState = z.infer<typeof SlotStateSchema>;

const ReleaseStateSchema = z.object({
  jobId: z.string(),
  sessionId: z.string(),
  slot: z.string(),
  productId: z.int(),
  cents: z.int(),
  intentSeq: z.int(),
  ts: z.number(),
  /** Absent: intent only (a restart finds it so: it becomes `unknown`). */
  outcome: z.literal('unknown').optional(),
  fired: z.boolean().optional(),
  /**
   * A whole paid sale whose basket is not known (`goods_unsettled`): no slot (`slot` empty, `productId`
   * 0), `cents` what it paid; settled by the operator as a release in doubt.
   */
  sale: z.literal(true).optional(),
  /**
   * Such a sale whose amount no surviving record names (`goods_unsettled` `amountUnknown`, or an older
   * one of 0 ct): `cents` 0 means nothing; a refund needs the operator's amount.
   */
  amountUnknown: z.literal(true).optional(),
});
export type ReleaseState = z.infer<typeof ReleaseStateSchema>;

const CountersStateSchema = z.object({
  event: z.int(),
  remaining: z.int(),
  paid: z.int(),
  unpaid: z.int(),
  lifetime: z.int().optional(),
});

const PayoutStateSchema = z.object({
  jobId: z.string(),
  sessionId: z.string(),
  coins: z.int(),
  coinCents: z.int(),
  before: CountersStateSchema,
  intentSeq: z.int(),
  ts: z.number(),
  /** Absent: intent only (settle it from the hopper's counters); `unknown`: the operator counts. */
  outcome: z.literal('unknown').optional(),
  /** The least that was paid, for an `unknown` payout. */
  paidCents: z.int().optional(),
});
export type PayoutState = z.infer<typeof PayoutStateSchema>;

/**
 * The change hopper as the books know it: the coins in it (null until a technician first fills it:
 * the journal cannot know what was put in before), and what technicians put in and took out.
 * Payouts (`payout_outcome`, from the hopper's own counters) take their coins off `coins`.
 */
const HopperBookSchema = z.object({
  coins: z.int().nullable(),
  filled: TallySchema,
  emptied: TallySchema,
});
export type HopperBook = z.infer<typeof HopperBookSchema>;
const emptyHopperBook = (): HopperBook => ({
  coins: null,
  filled: { count: 0, cents: 0 },
  emptied: { count: 0, cents: 0 },
});

/** A release the operator settled: kept so that a second settle is refused as such, not as unknown. */
const SettledReleaseSchema = z.object({
  how: z.enum(['delivered', 'refunded']),
  by: z.string().optional(),
  cents: z.int(),
  ts: z.number(),
  /** The refund voucher's reference `<issuer>.<id>` (never its code). */
  voucherRef: z.string().optional(),
});
export type SettledRelease = z.infer<typeof SettledReleaseSchema>;
/** How many settled releases the state remembers (a settle comes long after the release, rarely). */
export const SETTLED_RELEASES_KEPT = 200;

const VendStateSchema = z.object({
  slots: z.record(z.string(), SlotStateSchema),
  /** Releases whose outcome is not known: never repeated, settled by the operator. */
  releasesInDoubt: z.record(z.string(), ReleaseStateSchema),
  /** Payouts journaled without an outcome (settle from the counters) or with outcome `unknown`. */
  payoutsInDoubt: z.record(z.string(), PayoutStateSchema),
  /** The last settled releases by job id (snapshots before it have none). */
  settled: z.record(z.string(), SettledReleaseSchema).default({}),
  /** The hopper's coins by the books (snapshots before it have none). */
  hopper: HopperBookSchema.default(emptyHopperBook),
  /** Odometers: units delivered, units not delivered (their price owed back), change paid. */
  delivered: TallySchema,
  notDelivered: TallySchema,
  change: TallySchema,
});
export type VendState = z.infer<typeof VendStateSchema>;

export function emptyVend(): VendState {
  return {
    slots: {},
    releasesInDoubt: {},
    payoutsInDoubt: {},
    settled: {},
    hopper: emptyHopperBook(),
    delivered: { count: 0, cents: 0 },
    notDelivered: { count: 0, cents: 0 },
    change: { count: 0, cents: 0 },
  };
}

const TerminalPaymentStateSchema = z.object({
  apiId: z.string(),
  sessionId: z.string(),
  receiptNumber: z.string().optional(),
  cents: z.int(),
  seq: z.int(),
  ts: z.number(),
  reversed: z.boolean(),
});
export type TerminalPaymentState = z.infer<typeof TerminalPaymentStateSchema>;

const TerminalIntentStateSchema = z.object({
  jobId: z.string(),
  action: z.enum(TERMINAL_ACTIONS),
  by: z.string(),
  receiptNumber: z.string().optional(),
  apiId: z.string().optional(),
  ofSession: z.string().optional(),
  cents: z.int().optional(),
  seq: z.int(),
  ts: z.number(),
  /**
   * A reversal answered `unknown` (no answer, the read-back could not tell): kept in doubt, like one
   * cut off by a power cut, until a read-back settles it with a second `terminal_outcome`.
   */
  outcome: z.literal('unknown').optional(),
});

/** How many merchant receipts stay available for a reprint. */
export const RECENT_MERCHANT_RECEIPTS = 20;

const MerchantReceiptSchema = z.object({
  kind: z.enum(['payment', 'cancel_trx', 'end_of_day']),
  /** The receipt number, or the job of an end-of-day. */
  ref: z.string(),
  lines: z.array(ReceiptLineSchema),
  ts: z.number(),
});
export type MerchantReceipt = z.infer<typeof MerchantReceiptSchema>;

const TerminalStateSchema = z.object({
  /** Terminal payments since the last end-of-day, by transaction id: the only ones `cancelTrx` may reverse. */
  batch: z.record(z.string(), TerminalPaymentStateSchema),
  /** Duties journaled without an outcome (a power cut during the call), and reversals answered `unknown`. */
  inDoubt: z.record(z.string(), TerminalIntentStateSchema),
  lastEndOfDay: z
    .object({ seq: z.int(), ts: z.number(), result: z.enum(TERMINAL_RESULTS), detail: z.string().optional() })
    .nullable(),
  merchantReceipts: z.array(MerchantReceiptSchema),
  reversals: TallySchema,
  endOfDays: TallySchema,
});
export type TerminalState = z.infer<typeof TerminalStateSchema>;

export function emptyTerminal(): TerminalState {
  return {
    batch: {},
    inDoubt: {},
    lastEndOfDay: null,
    merchantReceipts: [],
    reversals: { count: 0, cents: 0 },
    endOfDays: { count: 0, cents: 0 },
  };
}

export const LedgerStateSchema = z.object({
  /** The seq of the last record folded in (-1: none). */
  lastSeq: z.int(),
  sessions: z.record(z.string(), OpenSessionSchema),
  /** jobId -> sessionId of the open sessions' API calls, so outcomes and `printed` find their session. */
  jobs: z.record(z.string(), z.string()),
  cashBox: z.object({ cents: z.int(), count: z.int(), sinceTs: z.number().nullable() }),
  lastCollection: z
    .object({ ts: z.number(), cents: z.int(), expectedCents: z.int(), by: z.string() })
    .nullable(),
  lifetime: CountersSchema,
  sinceCollection: CountersSchema,
  unclaimedVouchers: z.array(VoucherSchema),
  /** References of every voucher redeemed here (own and other kiosks'): a second scan is refused. */
  redeemedVouchers: z.array(z.string()).default([]),
  recentReceipts: z.array(ReceiptStateSchema),
  /** Records that made no sense for the state (an outcome for an unknown job...): kept count, for health. */
  anomalies: z.int(),
  /**
   * The coin validator's event counter of the last coin journaled with one (`coin_accepted.ev`), or
   * where the counter moved without a coin (`acceptor_counter`: a reset, a first baseline; `acceptor_lost`:
   * results past the buffer), or the money check's `ev` where that record was damaged (money-check.ts).
   */
  acceptorEvent: z.int().min(0).max(255).optional(),
  /** The vending counter: stock per slot, releases and payouts in doubt (snapshots before it have none). */
  vend: VendStateSchema.default(emptyVend),
  /** The card terminal: the open batch, duties in doubt, merchant receipts (snapshots before it have none). */
  terminal: TerminalStateSchema.default(emptyTerminal),
});
export type LedgerState = z.infer<typeof LedgerStateSchema>;

/** A compaction snapshot: the whole state at the head of a fresh segment. */
export interface SnapshotRecord {
  type: 'snapshot';
  seq: number;
  ts: number;
  state: LedgerState;
}
export type JournalRecord = JournalEntry | SnapshotRecord;

function zeroCounters(): Counters {
  const t = (): Tally => ({ count: 0, cents: 0 });
  return {
    cashIn: t(),
    sales: t(),
    topUps: t(),
    credits: t(),
    unclaimed: t(),
    cancellations: t(),
    collections: t(),
    redeemed: t(),
    salesValue: zeroSalesValue(),
  };
}

export function emptyState(): LedgerState {
  return {
    lastSeq: -1,
    sessions: {},
    jobs: {},
    cashBox: { cents: 0, count: 0, sinceTs: null },
    lastCollection: null,
    lifetime: zeroCounters(),
    sinceCollection: zeroCounters(),
    unclaimedVouchers: [],
    redeemedVouchers: [],
    recentReceipts: [],
    anomalies: 0,
    vend: emptyVend(),
    terminal: emptyTerminal(),
  };
}

/** Folds `records` (in seq order) onto `from` and returns the new state; `from` is left untouched. */
export function foldRecords(records: Iterable<JournalRecord>, from: LedgerState = emptyState()): LedgerState {
  return applyRecords(structuredClone(from), records);
}

/**
 * The same fold, updating `state` in place and returning it (a snapshot's state is copied in).
 * For an owner of a private copy, like the journal's live state, where cloning per append would cost.
 */
export function applyRecords(state: LedgerState, records: Iterable<JournalRecord>): LedgerState {
  let current = state;
  for (const record of records) {
    if (record.type === 'snapshot') current = structuredClone(record.state);
    else applyInPlace(current, record);
    current.lastSeq = record.seq;
  }
  return current;
}

function tally(state: LedgerState, key: Exclude<keyof Counters, 'salesValue'>, cents: number): void {
  for (const counters of [state.lifetime, state.sinceCollection]) {
    counters[key].count += 1;
    counters[key].cents += cents;
  }
}

/** Adds a sale of `parts` to both odometers' sales value. */
function tallySale(state: LedgerState, parts: SaleParts): void {
  for (const counters of [state.lifetime, state.sinceCollection]) {
    const v = counters.salesValue;
    v.count += 1;
    for (const p of SALE_PARTS) {
      v.parts[p] += parts[p];
      v.cents += parts[p];
    }
  }
}

function sessionFor(state: LedgerState, sessionId: string, e: JournalEntry): OpenSession {
  const existing = state.sessions[sessionId];
  if (existing) return existing;
  // Money or a step for a session we never saw start: never ignore it, open it implicitly.
  const created: OpenSession = {
    sessionId,
    startedSeq: e.seq,
    startedTs: e.ts,
    insertedCents: 0,
    coins: 0,
    paid: false,
    creditedCents: 0,
    unclaimedCents: 0,
  };
  state.sessions[sessionId] = created;
  return created;
}

function isPayment(step: ApiStep): boolean {
  return PAYMENT_STEPS.includes(step);
}

/** The session's transaction is now `apiId` (one more of its transactions, if it is new). */
function useApiId(s: OpenSession, apiId: string): void {
  s.apiId = apiId;
  const ids = (s.txIds ??= []);
  if (!ids.includes(apiId)) ids.push(apiId);
}

/**
 * Whether a start (or credit) may have run at the server: anything but a call that failed without
 * an answer and is journaled as certainly not applied (`not_applied`, or an HTTP refusal `failed`).
 * A second start on a transaction one of these may have run is read back when refused.
 */
export function mayHaveRun(start: StartState): boolean {
  return !(start.status === undefined && (start.outcome === 'not_applied' || start.outcome === 'failed'));
}

/**
 * The open session an API transaction belongs to (the one whose steps named it), if any: a call on
 * a transaction carries no session of its own.
 */
export function sessionOfTransaction(state: LedgerState, apiId: string): string | undefined {
  for (const s of Object.values(state.sessions)) if (s.txIds?.includes(apiId)) return s.sessionId;
  return undefined;
}

/** A payment or credit step of the session, by job. Job ids are unique per call; were one written twice, its first record (and an `ok`) stays. */
function registerStart(
  s: OpenSession,
  jobId: string,
  step: ApiStep,
  apiId: string,
  cents: number | undefined,
): void {
  (s.starts ??= {})[jobId] ??= { step, apiId, ...(cents !== undefined ? { cents } : {}) };
}

/**
 * The outcome of one of the session's payment or credit steps, whichever of its steps is the last:
 * the first `ok` of a `start/cash` adds the cash it collected to the session's paid cash.
 */
function startOutcome(
  s: OpenSession,
  jobId: string,
  result: ApiResult,
  status: string | undefined,
  cents: number | undefined,
): void {
  const start = s.starts?.[jobId];
  if (!start || start.outcome === 'ok') return;
  // The outcome repeats the amount where the intent named none (a terminal or card payment): it
  // stays known when the basket's record is damaged.
  if (start.cents === undefined && cents !== undefined) start.cents = cents;
  start.outcome = result;
  if (status !== undefined) start.status = status;
  else delete start.status;
  if (result === 'ok' && start.step === 'start/cash')
    s.paidCashCents = (s.paidCashCents ?? 0) + (start.cents ?? 0);
}

function applyInPlace(state: LedgerState, e: JournalEntry): void {
  switch (e.type) {
    case 'session_started': {
      const s = state.sessions[e.sessionId];
      if (s) {
        s.mode = e.mode;
        if (e.cardMasked !== undefined) s.cardMasked = e.cardMasked;
        if (e.card !== undefined) s.card = e.card;
        return;
      }
      const created: OpenSession = {
        sessionId: e.sessionId,
        mode: e.mode as SessionMode,
        startedSeq: e.seq,
        startedTs: e.ts,
        insertedCents: 0,
        coins: 0,
        paid: false,
        creditedCents: 0,
        unclaimedCents: 0,
      };
      if (e.cardMasked !== undefined) created.cardMasked = e.cardMasked;
      if (e.card !== undefined) created.card = e.card;
      state.sessions[e.sessionId] = created;
      return;
    }
    case 'coin_accepted': {
      const s = sessionFor(state, e.sessionId, e);
      s.insertedCents += e.cents;
      s.coins += 1;
      state.cashBox.cents += e.cents;
      state.cashBox.count += 1;
      state.cashBox.sinceTs ??= e.ts;
      tally(state, 'cashIn', e.cents);
      if (e.ev !== undefined) state.acceptorEvent = e.ev;
      return;
    }
    case 'acceptor_counter':
    case 'acceptor_lost':
      state.acceptorEvent = e.ev;
      return;
    case 'tx_created': {
      const s = sessionFor(state, e.sessionId, e);
      s.tx = { localId: e.localId, basket: e.basket, amount: e.amount };
      if (e.apiId !== undefined) {
        s.tx.apiId = e.apiId;
        useApiId(s, e.apiId);
      }
      return;
    }
    case 'api_intent': {
      const s = sessionFor(state, e.sessionId, e);
      s.lastStep = { step: e.step, jobId: e.jobId, apiId: e.apiId, intentSeq: e.seq };
      if (e.cents !== undefined) s.lastStep.cents = e.cents;
      if (e.step !== 'create') useApiId(s, e.apiId);
      state.jobs[e.jobId] = e.sessionId;
      if (isPayment(e.step) || e.step === 'credit') {
        const cents = e.step === 'start/cash' ? (e.cents ?? s.tx?.amount) : e.cents;
        registerStart(s, e.jobId, e.step, e.apiId, cents);
      }
      return;
    }
    case 'api_outcome': {
      const sessionId = state.jobs[e.jobId];
      let s = sessionId === undefined ? undefined : state.sessions[sessionId];
      if (!s) {
        state.anomalies += 1;
        s = intentLost(state, e);
        if (!s) return;
      }
      if (e.apiId !== undefined) {
        useApiId(s, e.apiId);
        if (s.tx) s.tx.apiId = e.apiId;
      }
      startOutcome(s, e.jobId, e.result, e.status, e.cents);
      if (e.dueCents !== undefined && e.apiId !== undefined) (s.cashDue ??= {})[e.apiId] = e.dueCents;
      const step = s.lastStep;
      // An outcome for an older job of this session (a late answer) changes no step state.
      if (!step || step.jobId !== e.jobId) return;
      step.outcome = e.result;
      if (e.status !== undefined) step.status = e.status;
      if (e.result !== 'ok') return;
      const amount = step.cents ?? s.tx?.amount ?? 0;
      if (isPayment(step.step) && !s.paid) {
        s.paid = true;
        tally(state, s.mode === 'topup' ? 'topUps' : 'sales', amount);
      } else if (step.step === 'cancel' && s.paid) {
        s.paid = false;
        tally(state, 'cancellations', amount);
      }
      // A cancel that took effect gives the cash back (as recovery reads the records: bookkeeping/recovery.ts).
      if (step.step === 'cancel' && s.paidCashCents) s.paidCashCents = 0;
      return;
    }
    case 'receipt': {
      const s = sessionFor(state, e.sessionId, e);
      s.receipt = { sessionId: e.sessionId, jobId: e.jobId, lines: e.lines, printed: false, ts: e.ts };
      state.jobs[e.jobId] = e.sessionId;
      // A top-up is not a sale (its own odometer, `topUps`); only a sale's figures say its value.
      const parts = e.sale?.kind === 'sale' && !s.saleValued ? salePartsOfFigures(e.sale) : undefined;
      if (parts) {
        s.saleValued = true;
        tallySale(state, parts);
      }
      return;
    }
    case 'printed': {
      const sessionId = state.jobs[e.jobId];
      const open = sessionId === undefined ? undefined : state.sessions[sessionId]?.receipt;
      const receipt = open?.jobId === e.jobId ? open : state.recentReceipts.find((r) => r.jobId === e.jobId);
      if (receipt) receipt.printed = true;
      else state.anomalies += 1;
      return;
    }
    case 'credited': {
      const s = state.sessions[e.sessionId];
      if (s) {
        s.creditedCents += e.cents;
        const ids = (s.creditedIds ??= []);
        if (!ids.includes(e.apiId)) ids.push(e.apiId);
      }
      tally(state, 'credits', e.cents);
      return;
    }
    case 'unclaimed': {
      const s = state.sessions[e.sessionId];
      if (s) s.unclaimedCents += e.cents;
      state.unclaimedVouchers.push({
        voucher: e.voucher,
        sessionId: e.sessionId,
        cents: e.cents,
        ts: e.ts,
        ...signedVoucherParts(e.voucher),
      });
      tally(state, 'unclaimed', e.cents);
      return;
    }
    case 'unclaimed_settled': {
      const before = state.unclaimedVouchers.length;
      state.unclaimedVouchers = state.unclaimedVouchers.filter(
        (v) => v.voucher !== e.voucher && v.ref !== e.voucher,
      );
      if (state.unclaimedVouchers.length === before) state.anomalies += 1;
      return;
    }
    case 'voucher_redeemed': {
      const s = sessionFor(state, e.sessionId, e);
      s.redeemedCents = (s.redeemedCents ?? 0) + e.cents;
      // An own voucher leaves the open list; another kiosk's is only remembered as used.
      state.unclaimedVouchers = state.unclaimedVouchers.filter((v) => v.ref !== e.ref);
      if (!state.redeemedVouchers.includes(e.ref)) state.redeemedVouchers.push(e.ref);
      tally(state, 'redeemed', e.cents);
      return;
    }
    case 'session_closed': {
      const s = state.sessions[e.sessionId];
      if (!s) {
        state.anomalies += 1;
        return;
      }
      delete state.sessions[e.sessionId];
      for (const [jobId, sessionId] of Object.entries(state.jobs)) {
        if (sessionId === e.sessionId) delete state.jobs[jobId];
      }
      if (s.receipt) {
        state.recentReceipts.push(s.receipt);
        if (state.recentReceipts.length > RECENT_RECEIPTS) state.recentReceipts.shift();
      }
      return;
    }
    case 'service_action':
      // Audit only: no money moves.
      return;
    case 'release_intent':
    case 'release_outcome':
    case 'release_settled':
    case 'goods_unsettled':
    case 'payout_intent':
    case 'payout_outcome':
    case 'stock_set':
    case 'slot_unblocked':
    case 'hopper_filled':
      applyVend(state, e);
      return;
    case 'terminal_payment':
    case 'terminal_intent':
    case 'terminal_outcome':
      applyTerminal(state, e);
      return;
    case 'cash_collected': {
      state.lastCollection = { ts: e.ts, cents: e.cents, expectedCents: state.cashBox.cents, by: e.by };
      state.cashBox = { cents: 0, count: 0, sinceTs: null };
      state.sinceCollection = zeroCounters();
      tally(state, 'collections', e.cents);
      return;
    }
  }
}

function slotOf(vend: VendState, slot: string): SlotState {
  return (vend.slots[slot] ??= { base: null, taken: 0, blocked: null });
}

function addTally(t: Tally, cents: number): void {
  t.count += 1;
  t.cents += cents;
}

/** The vending counter's records: stock, releases and payouts, and each session's change and returns. */
function applyVend(state: LedgerState, e: JournalEntry): void {
  const vend = state.vend;
  switch (e.type) {
    case 'release_intent': {
      vend.releasesInDoubt[e.jobId] = {
        jobId: e.jobId,
        sessionId: e.sessionId,
        slot: e.slot,
        productId: e.productId,
        cents: e.cents,
        intentSeq: e.seq,
        ts: e.ts,
      };
      const s = state.sessions[e.sessionId];
      if (s) {
        s.releaseIntents = (s.releaseIntents ?? 0) + 1;
        // An intent without a plan (the last unit, or one recovery records) is the plan's next unit.
        if (e.later) s.releaseLater = e.later.map((u) => ({ ...u }));
        else if (s.releaseLater) s.releaseLater = s.releaseLater.slice(1);
      }
      return;
    }
    case 'release_outcome': {
      let r = vend.releasesInDoubt[e.jobId];
      if (!r) {
        state.anomalies += 1;
        r = releaseIntentLost(state, e);
        if (!r) return;
      }
      const slot = slotOf(vend, r.slot);
      const owner = state.sessions[r.sessionId];
      if (owner && e.result !== 'delivered' && r.outcome !== 'unknown') {
        // The receipt recovery prints lists it (given back, or left to the operator).
        const unit = { slot: r.slot, productId: r.productId, cents: r.cents, outcome: e.result };
        (owner.undelivered ??= []).push(unit);
      }
      if (e.result === 'unknown') {
        // It may be gone: not sold again, and the slot waits for a technician.
        if (r.outcome !== 'unknown') slot.taken += 1;
        r.outcome = 'unknown';
        if (e.fired !== undefined) r.fired = e.fired;
        slot.blocked = `release ${e.reason ?? 'unknown'}`;
        return;
      }
      delete vend.releasesInDoubt[e.jobId];
      if (e.result === 'delivered') {
        slot.taken += 1;
        addTally(vend.delivered, r.cents);
        return;
      }
      addTally(vend.notDelivered, r.cents);
      const s = state.sessions[r.sessionId];
      if (s) s.returnedCents = (s.returnedCents ?? 0) + r.cents;
      // Refused before firing for a reason that is not the slot's (busy, sold out, already blocked).
      if (!['busy', 'sold_out', 'blocked', 'not_tried'].includes(e.reason ?? ''))
        slot.blocked = e.reason ?? 'failed';
      return;
    }
    case 'goods_unsettled': {
      // Once: a second record of the same sale (recovery tried again) changes nothing.
      if (vend.releasesInDoubt[e.jobId] || vend.settled[e.jobId]) return;
      vend.releasesInDoubt[e.jobId] = {
        jobId: e.jobId,
        sessionId: e.sessionId,
        slot: '',
        productId: 0,
        cents: e.cents,
        intentSeq: e.seq,
        ts: e.ts,
        outcome: 'unknown',
        sale: true,
        // Written 0 before the flag (no amount known): a paid sale is not of 0 ct.
        ...(e.amountUnknown || e.cents === 0 ? { amountUnknown: true as const } : {}),
      };
      return;
    }
    case 'release_settled': {
      const r = vend.releasesInDoubt[e.jobId];
      if (!r || r.outcome !== 'unknown') {
        state.anomalies += 1;
        return;
      }
      delete vend.releasesInDoubt[e.jobId];
      // Refunded with the operator's amount where the journal knew none.
      const settledCents = e.how === 'refunded' ? (e.cents ?? r.cents) : r.cents;
      if (e.how === 'delivered') addTally(vend.delivered, r.cents);
      else addTally(vend.notDelivered, settledCents);
      const voucherRef = e.voucher ? signedVoucherParts(e.voucher).ref : undefined;
      vend.settled[e.jobId] = {
        how: e.how,
        ...(e.by ? { by: e.by } : {}),
        cents: settledCents,
        ts: e.ts,
        ...(voucherRef ? { voucherRef } : {}),
      };
      const names = Object.keys(vend.settled);
      for (const old of names.slice(0, Math.max(0, names.length - SETTLED_RELEASES_KEPT)))
        delete vend.settled[old];
      return;
    }
    case 'payout_intent': {
      vend.payoutsInDoubt[e.jobId] = {
        jobId: e.jobId,
        sessionId: e.sessionId,
        coins: e.coins,
        coinCents: e.coinCents,
        before: e.before,
        intentSeq: e.seq,
        ts: e.ts,
      };
      return;
    }
    case 'payout_outcome': {
      const p = vend.payoutsInDoubt[e.jobId];
      if (!p) {
        state.anomalies += 1;
        payoutWithoutIntent(state, e);
        return;
      }
      // What was counted already (an `unknown` payout settled later counts only the difference).
      const before = p.paidCents ?? 0;
      countPayout(state, p.sessionId, p.coinCents, before, e.paidCents);
      if (e.result === 'unknown') {
        p.outcome = 'unknown';
        p.paidCents = Math.max(before, e.paidCents);
      } else delete vend.payoutsInDoubt[e.jobId];
      return;
    }
    case 'stock_set': {
      const slot = slotOf(vend, e.slot);
      slot.base = e.count;
      slot.taken = 0;
      slot.blocked = null;
      return;
    }
    case 'slot_unblocked':
      // The stock stays what it was (a unit settled `delivered` was counted out when it went unknown).
      slotOf(vend, e.slot).blocked = null;
      return;
    case 'hopper_filled': {
      // Signed: coins put in (> 0) or taken out (< 0). The first fill counts from an empty hopper.
      const book = vend.hopper;
      if (e.coins > 0) addTally(book.filled, e.coins * e.coinCents);
      else addTally(book.emptied, -e.coins * e.coinCents);
      book.coins = Math.max(0, (book.coins ?? 0) + e.coins);
      return;
    }
    default:
      return;
  }
}

/**
 * A release outcome whose intent record was lost (damaged, quarantined): the outcome repeats the
 * release (session, slot, product, price), which is taken as its intent would have been, so a failed
 * unit's price is still owed back (chaos seed 41002: paid at the terminal, the unit failed, the
 * hopper short and recovery gave nothing back) and an unknown one still waits for the operator.
 * The session's count of releases is not raised here: the money cross-check after the intent's
 * batch holds it (adopted at the open), and would be raised twice. Its plan (`later`) is lost with
 * the intent; the basket still says it. Outcomes written before they named their release, and a
 * second outcome of a release already settled, stay an anomaly only.
 */
function releaseIntentLost(
  state: LedgerState,
  e: Extract<JournalEntry, { type: 'release_outcome' }>,
): ReleaseState | undefined {
  const { ofSession, slot, productId, cents } = e;
  if (ofSession === undefined || slot === undefined || productId === undefined || cents === undefined)
    return undefined;
  if (state.vend.settled[e.jobId]) return undefined;
  const r: ReleaseState = {
    jobId: e.jobId,
    sessionId: ofSession,
    slot,
    productId,
    cents,
    intentSeq: e.seq,
    ts: e.ts,
  };
  state.vend.releasesInDoubt[e.jobId] = r;
  return r;
}

/**
 * A payment's or credit's outcome whose intent record was lost (damaged, quarantined): the outcome
 * repeats the intent (session, step, cents), which is folded as the intent would have been, so a
 * paid sale still reads paid (its goods tried or given back, chaos seed 35683) and an `unknown` one
 * is read back. It becomes the last step unless a newer step is still without its outcome (this
 * is then a late answer of an older job). Outcomes written before they named their session stay
 * an anomaly only.
 */
function intentLost(
  state: LedgerState,
  e: Extract<JournalEntry, { type: 'api_outcome' }>,
): OpenSession | undefined {
  const s = e.ofSession === undefined || e.step === undefined ? undefined : state.sessions[e.ofSession];
  if (!s || e.step === undefined) return undefined;
  const apiId = e.apiId ?? s.apiId ?? s.tx?.apiId ?? '';
  state.jobs[e.jobId] = s.sessionId;
  registerStart(s, e.jobId, e.step, apiId, e.cents);
  if (!s.lastStep || s.lastStep.outcome !== undefined) {
    s.lastStep = { step: e.step, jobId: e.jobId, apiId, intentSeq: e.seq };
    if (e.cents !== undefined) s.lastStep.cents = e.cents;
  }
  return s;
}

/** Counts a payout's paid cents beyond the `before` counted already: the session's change, the odometer, the hopper's coins. */
function countPayout(
  state: LedgerState,
  sessionId: string,
  coinCents: number | undefined,
  before: number,
  paidCents: number,
): void {
  const paid = Math.max(before, paidCents);
  if (paid <= before) return;
  const s = state.sessions[sessionId];
  if (s) s.changedCents = (s.changedCents ?? 0) + paid - before;
  const vend = state.vend;
  vend.change.count += before === 0 ? 1 : 0;
  vend.change.cents += paid - before;
  const book = vend.hopper;
  if (book.coins !== null && coinCents !== undefined)
    book.coins = Math.max(0, book.coins - Math.round((paid - before) / coinCents));
}

/**
 * A payout outcome whose intent record was lost (damaged, quarantined): the coins left the hopper
 * all the same (its counters say so), so they count as change for the session the outcome names;
 * else recovery would give the same cents back a second time. Nothing is left in doubt: there is no
 * `before` to settle it from, and an `unknown` outcome's least paid is what counts. Outcomes written
 * before they named their session stay an anomaly only.
 */
function payoutWithoutIntent(state: LedgerState, e: Extract<JournalEntry, { type: 'payout_outcome' }>): void {
  if (e.ofSession === undefined) return;
  const s = state.sessions[e.ofSession];
  const counted = s?.payoutsWithoutIntent?.[e.jobId] ?? 0;
  countPayout(state, e.ofSession, e.coinCents, counted, e.paidCents);
  if (s) (s.payoutsWithoutIntent ??= {})[e.jobId] = Math.max(counted, e.paidCents);
}

function keepMerchantReceipt(t: TerminalState, r: MerchantReceipt): void {
  if (r.lines.length === 0) return;
  t.merchantReceipts.push(r);
  if (t.merchantReceipts.length > RECENT_MERCHANT_RECEIPTS) t.merchantReceipts.shift();
}

/**
 * The card terminal's records. A reversal that took effect gives the session's money back (its
 * `reversedCents`, no longer paid); an end-of-day clears the batch, also when its outcome is unknown
 * (the terminal may have cleared it: a reversal is then refused, and the money goes back another way).
 */
function applyTerminal(state: LedgerState, e: JournalEntry): void {
  const t = (state.terminal ??= emptyTerminal());
  switch (e.type) {
    case 'terminal_payment': {
      t.batch[e.apiId] = {
        apiId: e.apiId,
        sessionId: e.sessionId,
        ...(e.receiptNumber !== undefined ? { receiptNumber: e.receiptNumber } : {}),
        cents: e.cents,
        seq: e.seq,
        ts: e.ts,
        reversed: false,
      };
      keepMerchantReceipt(t, {
        kind: 'payment',
        ref: e.receiptNumber ?? e.apiId,
        lines: e.merchantLines ?? [],
        ts: e.ts,
      });
      return;
    }
    case 'terminal_intent': {
      const { type: _t, seq, ts, ...rest } = e;
      t.inDoubt[e.jobId] = { ...rest, seq, ts };
      return;
    }
    case 'terminal_outcome': {
      const i = t.inDoubt[e.jobId];
      if (!i) {
        state.anomalies += 1;
        return;
      }
      // A reversal in doubt stays so: taking it as "not reversed" would pay the money back a second way.
      if (i.action === 'cancel_trx' && e.result === 'unknown') {
        i.outcome = 'unknown';
        return;
      }
      delete t.inDoubt[e.jobId];
      if (i.action === 'end_of_day') {
        t.lastEndOfDay = {
          seq: e.seq,
          ts: e.ts,
          result: e.result,
          ...(e.detail !== undefined ? { detail: e.detail } : {}),
        };
        if (e.result === 'ok' || e.result === 'unknown') {
          if (e.result === 'ok')
            addTally(
              t.endOfDays,
              Object.values(t.batch)
                .filter((p) => !p.reversed)
                .reduce((sum, p) => sum + p.cents, 0),
            );
          t.batch = {};
        }
        keepMerchantReceipt(t, { kind: 'end_of_day', ref: e.jobId, lines: e.merchantLines ?? [], ts: e.ts });
        return;
      }
      if (e.result !== 'ok') return;
      const cents = i.cents ?? 0;
      const p = i.apiId ? t.batch[i.apiId] : undefined;
      if (p) p.reversed = true;
      addTally(t.reversals, cents);
      tally(state, 'cancellations', cents);
      const s = i.ofSession ? state.sessions[i.ofSession] : undefined;
      if (s) {
        s.reversedCents = (s.reversedCents ?? 0) + cents;
        s.paid = false;
      }
      keepMerchantReceipt(t, {
        kind: 'cancel_trx',
        ref: i.receiptNumber ?? e.jobId,
        lines: e.merchantLines ?? [],
        ts: e.ts,
      });
      return;
    }
    default:
      return;
  }
}

/**
 * What a paid sale cost as its payments' records say: the basket's amount, or where its record was
 * damaged the most any successful payment step repeated (each pays the transaction or its missing
 * sum); undefined when neither is known (no basket, no payment naming its amount: older records).
 */
export function knownSaleCents(s: Pick<OpenSession, 'tx' | 'starts'>): number | undefined {
  if (s.tx) return s.tx.amount;
  const named = Object.values(s.starts ?? {})
    .filter((p) => isPayment(p.step) && p.outcome === 'ok' && p.cents !== undefined)
    .map((p) => p.cents as number);
  return named.length > 0 ? Math.max(...named) : undefined;
}

/**
 * `knownSaleCents`, else the card terminal's payment record of the session (it carries the sale's
 * amount as the transaction had it when paid; one journaled by recovery without an amount, 0, names
 * none); undefined when no surviving record names it.
 */
export function unsettledSaleCents(
  s: Pick<OpenSession, 'sessionId' | 'tx' | 'starts'>,
  terminal: Pick<TerminalState, 'batch'> | undefined,
): number | undefined {
  const known = knownSaleCents(s);
  if (known !== undefined && known > 0) return known;
  const paid = Object.values(terminal?.batch ?? {})
    .filter((p) => p.sessionId === s.sessionId && p.cents > 0)
    .map((p) => p.cents);
  return paid.length > 0 ? Math.max(...paid) : undefined;
}

/**
 * The price of goods paid for and not served that is still owed: what a terminal reversal gave
 * back is not (a reversal of a payment never counted gives nothing back twice).
 */
export function notServed(s: Pick<OpenSession, 'returnedCents' | 'reversedCents'>): number {
  return Math.max(0, (s.returnedCents ?? 0) - (s.reversedCents ?? 0));
}

/** A slot's stock as the journal knows it (`initialStock` until the first count is journaled). */
export function slotStock(vend: VendState, slot: string, initialStock: number): number {
  const s = vend.slots[slot];
  return Math.max(0, (s?.base ?? initialStock) - (s?.taken ?? 0));
}

/**
 * The reference and last day of a signed code `KV1.<kid>.<issuer>.<id>.<cents>.<YYYYMMDD|0>.<mac>`
 * (src/bookkeeping/voucher-code.ts makes and checks them; the journal only needs to name them).
 */
export function signedVoucherParts(code: string): { ref?: string; expires?: string } {
  const p = code.split('.');
  if (p.length !== 7 || p[0] !== 'KV1') return {};
  return { ref: `${p[2]}.${p[3]}`, ...(p[5] && p[5] !== '0' ? { expires: p[5] } : {}) };
}
