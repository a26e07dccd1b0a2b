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
import { z } from 'zod';
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
});

export const ReceiptSchema = z.object({
  type: z.literal('receipt'),
  sessionId: id,
  jobId: id,
  lines: z.array(ReceiptLineSchema),
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
});

/** An unclaimed voucher was paid out or credited later; it leaves the open-vouchers list. */
export const UnclaimedSettledSchema = z.object({
  type: z.literal('unclaimed_settled'),
  voucher: id,
  how: z.enum(['credited', 'cash_refund', 'written_off']),
  by: z.string().optional(),
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

export const EntryInputSchema = z.discriminatedUnion('type', [
  CoinAcceptedSchema,
  SessionStartedSchema,
  TxCreatedSchema,
  ApiIntentSchema,
  ApiOutcomeSchema,
  ReceiptSchema,
  PrintedSchema,
  CreditedSchema,
  UnclaimedSchema,
  UnclaimedSettledSchema,
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
