/**
 * What travels over the fleet's topics: the envelope every upward message carries and a zod schema
 * for every payload, up and down. The kiosk builds its messages with these types and validates its
 * events before they enter the outbox; the dashboard validates what it receives with the same schemas.
 *
 * Event payloads are strict objects: a field the contract does not name (a customer's name, a full
 * card number in some debug field) is refused on the kiosk before it can leave. Card numbers appear
 * only masked (`9276********2845`, see `maskCard`).
 */
import * as z from 'zod';
import { DEVICE_HEALTH } from '../contracts/device.js';
import { TOPIC_NAME_PATTERN } from './topics.js';

export const ENVELOPE_VERSION = 1;
export const SCHEMA_VERSION = 1;

const int = z.int();
const nonNegInt = z.int().min(0);
/** UTC milliseconds. */
const ms = z.int().min(0);

/**
 * `sid`: session counter (+1 on every connect, on disk). `seq`: the per-kiosk event counter (on disk,
 * never reset). Events carry their own `seq`; other messages carry the latest `seq` issued so far, so
 * the back end knows which events it should have. `ts`: device time, UTC ms.
 */
export const EnvelopeSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  id: z.string().min(1),
  sid: nonNegInt,
  seq: nonNegInt,
  ts: ms,
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export function envelope(id: string, sid: number, seq: number, ts: number): Envelope {
  return { v: ENVELOPE_VERSION, id, sid, seq, ts };
}

/** A masked card number: at most the first 6 and last 4 digits in clear, at least 2 stars between. */
export const MaskedCardSchema = z
  .string()
  .regex(/^\d{0,6}\*{2,}\d{0,4}$/, 'card numbers travel only masked (maskCard)');

// ---------------------------------------------------------------------------------------------------
// state, birth, health, alert

/** What the kiosk says about itself; `offline` = clean shutdown, `lost` = the Will (it vanished). */
export const KIOSK_STATES = [
  'online',
  'degraded',
  'maintenance',
  'out_of_service',
  'offline',
  'lost',
] as const;
export const KioskStateSchema = z.enum(KIOSK_STATES);
export type KioskStateName = z.infer<typeof KioskStateSchema>;

export const StateBodySchema = z.object({
  state: KioskStateSchema,
  reason: z.string().max(200).optional(),
});
export type StateBody = z.infer<typeof StateBodySchema>;
export const StateMessageSchema = EnvelopeSchema.extend(StateBodySchema.shape);
export type StateMessage = z.infer<typeof StateMessageSchema>;

/**
 * A hopper's coins by the kiosk's journal (fills and take-outs booked in the service menu, minus
 * payouts); null until the first booking. Added in v1 as an optional field: older kiosks omit it.
 */
const bookedCoins = nonNegInt.nullable().optional();

export const DeviceProbeSchema = z.looseObject({
  device: z.string(),
  driver: z.string(),
  found: z.boolean(),
  status: z.string(),
  bookedCoins,
});

export const BirthBodySchema = z.object({
  firmware: z.string(),
  hardware: z.looseObject({ model: z.string(), serial: z.string().nullable().optional() }),
  devices: z.array(DeviceProbeSchema),
  capabilities: z.array(z.string()),
  /** Commands this kiosk understands. */
  commands: z.array(z.string()),
  heartbeatS: z.int().positive(),
  configVersion: int.nullable(),
  schemaVersion: z.literal(SCHEMA_VERSION),
  clockSynced: z.boolean(),
  bootTs: ms,
  /** The kiosk's display name (config `kiosk.name`), for operators; optional, so older kiosks still validate. Not `name`: the reporter's scrub drops that key everywhere (it names people). */
  kioskName: z.string().max(40).nullable().optional(),
  site: z.string().nullable().optional(),
  tenant: z.string().nullable().optional(),
  location: z.string().nullable().optional(),
});
export type BirthBody = z.infer<typeof BirthBodySchema>;
export const BirthMessageSchema = EnvelopeSchema.extend(BirthBodySchema.shape);
export type BirthMessage = z.infer<typeof BirthMessageSchema>;

export const PAPER_LEVELS = ['ok', 'low', 'out', 'unknown'] as const;

/** One device in `health`: the shared device health, `status` a short code (`paper_low`, `ENOENT`). */
export const DeviceStatusSchema = z.looseObject({
  health: z.enum(DEVICE_HEALTH),
  status: z.string().max(100),
  paper: z.enum(PAPER_LEVELS).optional(),
  bookedCoins,
  /** `hopper_low` at or below this many booked coins. */
  lowAt: nonNegInt.optional(),
});
export type DeviceStatus = z.infer<typeof DeviceStatusSchema>;

export const CounterSchema = z.looseObject({ count: nonNegInt, cents: int });
export type Counter = z.infer<typeof CounterSchema>;

/**
 * A sale's value split by what paid it (src/util/sale-value.ts `saleParts`, one definition for the
 * kiosk's odometer and its events): integer cents, summing exactly to the value.
 */
export const SalePartsSchema = z.strictObject({
  cardBalance: nonNegInt,
  voucher: nonNegInt,
  terminal: nonNegInt,
  cash: nonNegInt,
});

export const CounterSetSchema = z.looseObject({
  sales: CounterSchema,
  topups: CounterSchema,
  cashIn: CounterSchema,
  /**
   * Sales at their basket value with its parts, counted when the sale's receipt figures are journaled
   * (top-ups not included). Added in v1 as an optional field: older kiosks omit it, and the dashboard's
   * counters check then compares no sales cents.
   */
  salesValue: z.looseObject({ count: nonNegInt, cents: int, parts: SalePartsSchema }).optional(),
});
export type CounterSet = z.infer<typeof CounterSetSchema>;
/** Odometers: only ever rising, so a lost or repeated heartbeat cannot corrupt a total. */
export const LifetimeCountersSchema = z.looseObject({
  sinceInstall: CounterSetSchema,
  sinceCollection: CounterSetSchema,
  lastCollectionTs: ms.nullable(),
  /**
   * The last cash collection as the kiosk journaled it: what the technician counted and what the
   * kiosk's books expected in the box. Optional (older kiosks omit it); null before the first one.
   */
  lastCollection: z.looseObject({ ts: ms, countedCents: int, expectedCents: int }).nullable().optional(),
  /** Vouchers this kiosk owes now (issued, not redeemed, paid out or expired): not an odometer. */
  openVouchers: z.looseObject({ count: nonNegInt, cents: int }).optional(),
});
export type LifetimeCounters = z.infer<typeof LifetimeCountersSchema>;

export const OutboxStatsSchema = z.looseObject({
  /** Messages waiting for the broker's acknowledgement. */
  size: nonNegInt,
  bytes: nonNegInt,
  /** Of which money events (never dropped). */
  money: nonNegInt,
  /** Telemetry events dropped under pressure since install. */
  dropped: nonNegInt,
  oldestTs: ms.nullable(),
});
export type OutboxStats = z.infer<typeof OutboxStatsSchema>;

export const HealthBodySchema = z.object({
  state: KioskStateSchema,
  uptimeS: nonNegInt,
  memory: z.looseObject({ rssBytes: nonNegInt, heapUsedBytes: nonNegInt }),
  cpuTempC: z.number().nullable(),
  disk: z.looseObject({ freeBytes: nonNegInt, totalBytes: nonNegInt }).nullable(),
  /** Event-loop delay over the last heartbeat: p99 and max, ms. */
  eventLoopLagMs: z.looseObject({ p99: z.number().min(0), max: z.number().min(0) }),
  devices: z.record(z.string(), DeviceStatusSchema),
  outbox: OutboxStatsSchema,
  counters: LifetimeCountersSchema,
  clockSynced: z.boolean(),
  /** Whether a customer is being served right now (the back end's `stuck` detection uses it). */
  busy: z.boolean(),
  heartbeatS: z.int().positive(),
});
export type HealthBody = z.infer<typeof HealthBodySchema>;
export const HealthMessageSchema = EnvelopeSchema.extend(HealthBodySchema.shape);
export type HealthMessage = z.infer<typeof HealthMessageSchema>;

/**
 * The alert names of the contract (docs/fleet-mqtt.md): the broker's ACL lets a kiosk publish only these
 * (one `pattern` line each in deploy/mosquitto/acl, checked by test/fleet/broker-acl.test.ts), and the
 * dashboard ignores any other name.
 */
export const KNOWN_ALERTS = [
  'paper_low',
  'paper_out',
  'printer_offline',
  'reader_offline',
  'display_offline',
  'acceptor_offline',
  'cashbox_full',
  'api_unreachable',
  'clock_unsynced',
  'disk_low',
  'stuck',
  'journal_unwritable',
  'journal_damaged',
  'repair_needed',
  'slot_jammed',
  'stock_low',
  'hopper_empty',
  'hopper_low',
  'hopper_offline',
  'goods_unsettled',
] as const;
export const AlertNameSchema = z.string().regex(TOPIC_NAME_PATTERN);

/** `alert/{name}`, retained. An empty retained payload clears the alert (no schema for that). */
export const AlertBodySchema = z.object({
  name: AlertNameSchema,
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string().max(500).optional(),
  /** When the condition started (device time). */
  since: ms,
});
export type AlertBody = z.infer<typeof AlertBodySchema>;
export const AlertMessageSchema = EnvelopeSchema.extend(AlertBodySchema.shape);
export type AlertMessage = z.infer<typeof AlertMessageSchema>;

// ---------------------------------------------------------------------------------------------------
// events (through the outbox)

const currency = z.string().length(3);
const eventBase = { eventId: z.uuid() };

export const TransactionEventSchema = z.strictObject({
  ...eventBase,
  /** `sale`: a basket paid; `topup`: card balance bought. */
  kind: z.enum(['sale', 'topup']),
  outcome: z.enum(['completed', 'failed', 'cancelled']),
  amountCents: int,
  currency,
  paymentMethod: z.enum(['card_balance', 'cash', 'card_terminal', 'mixed']).optional(),
  transactionId: z.string().max(100).optional(),
  card: MaskedCardSchema.optional(),
  itemCount: nonNegInt.optional(),
  /**
   * The card's bonus used on a completed sale (the receipt's `Bonus` lines, `discount_cents` of
   * `kiosk journal export`): `amountCents` is the goods before it. Absent: none (or a kiosk of before).
   */
  discountCents: nonNegInt.optional(),
  /**
   * A completed sale's `amountCents` split by what paid it (`saleParts`: card balance with its bonus,
   * voucher, terminal, cash kept), summing to it exactly; the same split as the kiosk's
   * `health.counters.*.salesValue`. Absent: a kiosk of before, a top-up, or parts not known.
   */
  parts: SalePartsSchema.optional(),
  /** Why it failed or was cancelled (short code, no customer data). */
  reason: z.string().max(200).optional(),
  durationMs: nonNegInt.optional(),
});
export type TransactionEvent = z.infer<typeof TransactionEventSchema>;

export const CashEventSchema = z.strictObject({
  ...eventBase,
  /** `inserted`: coins/notes taken; `credited`: booked to a card; `unclaimed`: inserted but never credited. */
  action: z.enum(['inserted', 'credited', 'unclaimed']),
  amountCents: int,
  currency,
  card: MaskedCardSchema.optional(),
  transactionId: z.string().max(100).optional(),
  reason: z.string().max(200).optional(),
});
export type CashEvent = z.infer<typeof CashEventSchema>;

/**
 * A voucher's life: `issued` (money the kiosk owes, printed or shown), `redeemed` (scanned into a
 * session), `paid_out` (staff paid it in cash), `expired`, `voided` (recovery: the payment it stood
 * for took effect after all), `written_off`. `voucher` is its reference `<issuer>.<id>`, never the
 * code (the code is what pays).
 */
export const VoucherEventSchema = z.strictObject({
  ...eventBase,
  action: z.enum(['issued', 'redeemed', 'paid_out', 'expired', 'voided', 'written_off']),
  amountCents: int,
  currency,
  voucher: z.string().max(100).optional(),
  /** Why it was issued (`overpaid`, `cancelled`, ...), when known. */
  reason: z.string().max(200).optional(),
  /** Who paid it out (staff name or role as entered), for `paid_out`. */
  by: z.string().max(40).optional(),
});
export type VoucherEvent = z.infer<typeof VoucherEventSchema>;

export const FaultEventSchema = z.strictObject({
  ...eventBase,
  device: z.string().max(50),
  code: z.string().max(100),
  message: z.string().max(500).optional(),
  severity: z.enum(['info', 'warning', 'critical']).default('warning'),
});
export type FaultEvent = z.infer<typeof FaultEventSchema>;

/**
 * The card terminal's money duties: `end_of_day` (the batch cleared: its count and total) and
 * `reversal` (`cancelTrx` of a payment not served), with who asked and what came of it.
 */
export const TerminalEventSchema = z.strictObject({
  ...eventBase,
  action: z.enum(['end_of_day', 'reversal']),
  result: z.enum(['ok', 'failed', 'unknown', 'refused']),
  amountCents: int,
  currency,
  /** Terminal payments the end-of-day cleared. */
  count: nonNegInt.optional(),
  receiptNumber: z.string().max(40).optional(),
  transactionId: z.string().max(100).optional(),
  /** `recovery`, `service`, `fleet`, `schedule`. */
  by: z.string().max(40),
  reason: z.string().max(200).optional(),
});
export type TerminalEvent = z.infer<typeof TerminalEventSchema>;

export const EVENT_SCHEMAS = {
  transaction: TransactionEventSchema,
  cash: CashEventSchema,
  voucher: VoucherEventSchema,
  fault: FaultEventSchema,
  terminal: TerminalEventSchema,
} as const;
export type EventType = keyof typeof EVENT_SCHEMAS;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];
/** Money events are never dropped from the outbox; the others may be, oldest first, under pressure. */
export const MONEY_EVENT_TYPES: readonly EventType[] = ['transaction', 'cash', 'voucher', 'terminal'];
export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;
/** What the caller gives: the payload without `eventId` (the reporter assigns one unless given). */
export type EventInput<T extends EventType> = Omit<z.input<(typeof EVENT_SCHEMAS)[T]>, 'eventId'> & {
  eventId?: string;
};

/** `evt/{type}` as it arrives: envelope + event payload (strict: nothing else may travel). */
export const TransactionEventMessageSchema = EnvelopeSchema.extend(TransactionEventSchema.shape).strict();
export const CashEventMessageSchema = EnvelopeSchema.extend(CashEventSchema.shape).strict();
export const FaultEventMessageSchema = EnvelopeSchema.extend(FaultEventSchema.shape).strict();
export const TerminalEventMessageSchema = EnvelopeSchema.extend(TerminalEventSchema.shape).strict();
export const VoucherEventMessageSchema = EnvelopeSchema.extend(VoucherEventSchema.shape).strict();
export const EVENT_MESSAGE_SCHEMAS = {
  transaction: TransactionEventMessageSchema,
  cash: CashEventMessageSchema,
  voucher: VoucherEventMessageSchema,
  fault: FaultEventMessageSchema,
  terminal: TerminalEventMessageSchema,
} as const satisfies Record<EventType, unknown>;
export type TransactionEventMessage = z.infer<typeof TransactionEventMessageSchema>;
export type CashEventMessage = z.infer<typeof CashEventMessageSchema>;
export type FaultEventMessage = z.infer<typeof FaultEventMessageSchema>;
export type TerminalEventMessage = z.infer<typeof TerminalEventMessageSchema>;

// ---------------------------------------------------------------------------------------------------
// commands (down) and their answers (up)

/** Every command's payload on `cmd/{name}`. Times are UTC ms. */
export const CommandSchema = z.looseObject({
  cmdId: z.uuid(),
  issuedAt: ms,
  expiresAt: ms,
  args: z.record(z.string(), z.unknown()).default({}),
});
export type Command = z.infer<typeof CommandSchema>;

const reason = z.string().min(1).max(200);
/** Arguments per command; strict, so a misspelt argument is a `bad_args` rejection, not silently ignored. */
export const COMMAND_ARGS = {
  ping: z.strictObject({}),
  rebirth: z.strictObject({}),
  maintenance: z.strictObject({ on: z.boolean(), reason: reason.optional() }),
  restart: z.strictObject({ reason: reason.optional() }),
  reprint: z.strictObject({}),
  diagnostics: z.strictObject({}),
  /** Card terminal: clear the batch now (refused without a terminal). */
  'end-of-day': z.strictObject({}),
  /** Card terminal: reverse a payment of the open batch by its receipt number (a customer charged, not served). */
  'terminal-cancel': z.strictObject({
    receiptNumber: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
    reason: reason.optional(),
  }),
  lock: z.strictObject({ reason: reason.optional() }),
  unlock: z.strictObject({}),
  /**
   * Vending counter: settle a paid release whose outcome is unknown, by its job id (`slot_jammed` and
   * `health.devices.slots` name it): `delivered` (the customer got it) or `refunded` (a voucher for its
   * price; printed at the kiosk only with `print: true`, e.g. the customer is standing there).
   * `cents`: the amount of a refund where the kiosk does not know it (a paid sale of damaged journal
   * records, `amountUnknown` in `health.devices.slots.inDoubt`): whole cents, 1 to 100000; refused
   * by the kiosk without it there, and with it anywhere else.
   */
  'settle-release': z.strictObject({
    jobId: z.string().regex(/^[A-Za-z0-9_.:-]{1,120}$/),
    how: z.enum(['delivered', 'refunded']),
    print: z.boolean().optional(),
    cents: z.int().min(1).max(100_000).optional(),
    reason: reason.optional(),
  }),
  /**
   * Vending counter: a blocked slot works again, its stock unchanged (the operator knows it is clear:
   * a technician freed the jam). Refused while a release of it is still in doubt (settle that first)
   * or while its sensor reads active.
   */
  'unblock-slot': z.strictObject({
    slot: z.string().regex(/^[A-Z0-9]{1,4}$/),
    reason: reason.optional(),
  }),
  /**
   * Back office: an open voucher of this kiosk was paid out at the office (or elsewhere by staff), so
   * the kiosk books it paid out (`payOutVoucher`, by `office <by>`) and refuses it if it is scanned
   * again. Named by its whole reference `<issuer>.<id>`, never its code; `by` is the operator account.
   */
  'voucher-settle': z.strictObject({
    ref: z.string().regex(/^[A-Za-z0-9_-]{1,64}\.[A-Z0-9]{8}$/),
    by: z.string().regex(/^[A-Za-z0-9_.@-]{1,32}$/),
    reason: reason.optional(),
  }),
} as const;
export type CommandName = keyof typeof COMMAND_ARGS;
export const COMMAND_NAMES = Object.keys(COMMAND_ARGS) as CommandName[];
export type CommandArgs<N extends CommandName> = z.infer<(typeof COMMAND_ARGS)[N]>;

/** `accepted`/`rejected` first, then `succeeded`/`failed` for an accepted one. */
export const CMD_STATUSES = ['accepted', 'rejected', 'succeeded', 'failed'] as const;
export const REJECT_REASONS = [
  'malformed',
  'too_large',
  'unknown_command',
  'bad_args',
  'expired',
  'busy',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const CmdresBodySchema = z.object({
  /** Null when the command was too broken to carry a readable cmdId. */
  cmdId: z.string().max(100).nullable(),
  cmd: z.string().max(100),
  status: z.enum(CMD_STATUSES),
  /** For `rejected`: one of REJECT_REASONS; for `failed`: a short error text. */
  reason: z.string().max(500).optional(),
  errors: z.array(z.string()).optional(),
  result: z.unknown().optional(),
  /** Set when this answer repeats one already given (the command was delivered twice). */
  duplicate: z.boolean().optional(),
});
export type CmdresBody = z.infer<typeof CmdresBodySchema>;
export const CmdresMessageSchema = EnvelopeSchema.extend(CmdresBodySchema.shape);
export type CmdresMessage = z.infer<typeof CmdresMessageSchema>;

/** `config/desired` (retained, down): the fleet-settable values the operator wants, with a rising `version`. */
export const ConfigDesiredSchema = z.looseObject({ version: z.int().min(0) });
export type ConfigDocument = z.infer<typeof ConfigDesiredSchema>;

/** `config/reported` (retained, up). */
export const ConfigReportedBodySchema = z.object({
  /** The version this report is about (null when the document was too broken to have one). */
  version: int.nullable(),
  status: z.enum(['applied', 'rejected']),
  errors: z.array(z.string()).optional(),
  /** The fields that made a rejected document fail (forbidden, unknown or out of bounds). */
  fields: z.array(z.string()).optional(),
  /** The version in effect after this report. */
  appliedVersion: int.nullable(),
  /** Applied but only takes effect after a restart. */
  restartRequired: z.boolean().optional(),
});
export type ConfigReportedBody = z.infer<typeof ConfigReportedBodySchema>;
export const ConfigReportedMessageSchema = EnvelopeSchema.extend(ConfigReportedBodySchema.shape);
export type ConfigReportedMessage = z.infer<typeof ConfigReportedMessageSchema>;
