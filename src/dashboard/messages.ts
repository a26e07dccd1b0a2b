/**
 * What the dashboard receives from kiosks, decoded from raw MQTT topic + payload with the contract's own
 * schemas (src/fleet/envelope.ts) into one small union. Everything that comes off the wire goes
 * through `decode`: garbage (not JSON, too large, wrong shape, another kiosk's id in the payload, an
 * unknown topic) comes back as `{ ok: false }` with a reason, never as an exception, so one broken
 * kiosk cannot take the dashboard down.
 */
import * as z from 'zod';

import {
  AlertMessageSchema,
  BirthMessageSchema,
  CashEventMessageSchema,
  CmdresMessageSchema,
  ConfigReportedMessageSchema,
  FaultEventMessageSchema,
  HealthMessageSchema,
  StateMessageSchema,
  TerminalEventMessageSchema,
  TransactionEventMessageSchema,
  VoucherEventMessageSchema,
  type AlertMessage,
  type CashEvent,
  type Envelope,
  type FaultEvent,
  type TerminalEvent,
  type TransactionEvent,
  type VoucherEvent,
  type BirthMessage,
  type CmdresMessage,
  type ConfigReportedMessage,
  type HealthMessage,
  type StateMessage,
} from '../fleet/envelope.js';
import { parseKioskTopic } from '../fleet/topics.js';

export type { KioskStateName as KioskState } from '../fleet/envelope.js';
export { CMD_STATUSES } from '../fleet/envelope.js';
export type CmdStatus = CmdresMessage['status'];

// Spelled out: z.infer of the generic `eventMessageSchema(type)` widens to the union of all event shapes.
export type TransactionEventMessage = Envelope & TransactionEvent;
export type CashEventMessage = Envelope & CashEvent;
export type FaultEventMessage = Envelope & FaultEvent;
export type TerminalEventMessage = Envelope & TerminalEvent;
export type VoucherEventMessage = Envelope & VoucherEvent;

/** Payloads larger than this are refused before JSON.parse: no kiosk has a reason to send them. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export type EventMsg =
  | { channel: 'event'; id: string; type: 'transaction'; body: TransactionEventMessage }
  | { channel: 'event'; id: string; type: 'cash'; body: CashEventMessage }
  | { channel: 'event'; id: string; type: 'fault'; body: FaultEventMessage }
  | { channel: 'event'; id: string; type: 'terminal'; body: TerminalEventMessage }
  | { channel: 'event'; id: string; type: 'voucher'; body: VoucherEventMessage };

export type FleetMessage =
  | { channel: 'state'; id: string; body: StateMessage }
  | { channel: 'birth'; id: string; body: BirthMessage }
  | { channel: 'health'; id: string; body: HealthMessage }
  /** `body` null: the retained alert was cleared (empty payload). */
  | { channel: 'alert'; id: string; name: string; body: AlertMessage | null }
  | EventMsg
  | { channel: 'cmdres'; id: string; body: CmdresMessage }
  | { channel: 'config'; id: string; body: ConfigReportedMessage };

/**
 * `newer`: an event's top-level fields this dashboard's contract does not name, dropped (a newer
 * kiosk's optional fields within v1); the event itself is taken.
 */
export type Decoded = { ok: true; msg: FleetMessage; newer?: string[] } | { ok: false; reason: string };
type Checked<T> = { ok: true; body: T; newer?: string[] } | { ok: false; reason: string };

/**
 * An event schema as the dashboard reads it: the kiosk's strict schema (which keeps unnamed fields,
 * a customer's name or a full card number, from leaving the kiosk) with unknown top-level fields
 * dropped instead of refused. A money event from a kiosk newer than this dashboard (an optional field
 * added within v1, e.g. `parts`) would otherwise be garbage: acknowledged, never stored, missing from
 * the books. Each field is still checked as the contract says; nested objects stay strict.
 */
function lenient<S extends z.ZodObject>(schema: S): { schema: z.ZodObject<S['shape']>; known: Set<string> } {
  return { schema: z.object(schema.shape), known: new Set(Object.keys(schema.shape)) };
}
const LENIENT = {
  transaction: lenient(TransactionEventMessageSchema),
  cash: lenient(CashEventMessageSchema),
  fault: lenient(FaultEventMessageSchema),
  terminal: lenient(TerminalEventMessageSchema),
  voucher: lenient(VoucherEventMessageSchema),
};

function check<T extends { id: string }>(
  schema: z.ZodType<T>,
  topicId: string,
  payload: Uint8Array,
  known?: Set<string>,
): Checked<T> {
  if (payload.length > MAX_PAYLOAD_BYTES)
    return { ok: false, reason: `payload too large (${payload.length} B)` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `schema: ${first ? `${first.path.join('.')} ${first.message}` : 'invalid'}` };
  }
  // A kiosk that names another kiosk in its payload is broken or lying; the topic is what the ACL binds.
  if (parsed.data.id !== topicId)
    return { ok: false, reason: `id ${parsed.data.id} on the topic of ${topicId}` };
  const newer = known ? Object.keys(json as object).filter((k) => !known.has(k)) : [];
  return { ok: true, body: parsed.data, ...(newer.length > 0 ? { newer } : {}) };
}

/** Decodes one MQTT message from a kiosk's upward topics. Never throws. */
export function decode(topic: string, payload: Uint8Array): Decoded {
  const t = parseKioskTopic(topic);
  if (!t) return { ok: false, reason: 'not a kiosk/v1 topic' };
  const { id, name } = t;
  const as = <T extends { id: string }>(
    schema: z.ZodType<T>,
    make: (body: T) => FleetMessage,
    known?: Set<string>,
  ): Decoded => {
    const r = check(schema, id, payload, known);
    return r.ok ? { ok: true, msg: make(r.body), ...(r.newer ? { newer: r.newer } : {}) } : r;
  };
  switch (t.kind) {
    case 'state':
      return as(StateMessageSchema, (body) => ({ channel: 'state', id, body }));
    case 'birth':
      return as(BirthMessageSchema, (body) => ({ channel: 'birth', id, body }));
    case 'health':
      return as(HealthMessageSchema, (body) => ({ channel: 'health', id, body }));
    case 'cmdres':
      return as(CmdresMessageSchema, (body) => ({ channel: 'cmdres', id, body }));
    case 'config/reported':
      return as(ConfigReportedMessageSchema, (body) => ({ channel: 'config', id, body }));
    case 'alert': {
      const alert = name ?? '';
      if (payload.length === 0) return { ok: true, msg: { channel: 'alert', id, name: alert, body: null } };
      const r = check(AlertMessageSchema, id, payload);
      if (!r.ok) return r;
      if (r.body.name !== alert)
        return { ok: false, reason: `alert ${r.body.name} on the topic of ${alert}` };
      return { ok: true, msg: { channel: 'alert', id, name: alert, body: r.body } };
    }
    case 'evt':
      switch (name) {
        case 'transaction': {
          const { schema, known } = LENIENT.transaction;
          const typed = schema as unknown as z.ZodType<TransactionEventMessage>;
          return as(typed, (body) => ({ channel: 'event', id, type: 'transaction', body }), known);
        }
        case 'cash': {
          const { schema, known } = LENIENT.cash;
          const typed = schema as unknown as z.ZodType<CashEventMessage>;
          return as(typed, (body) => ({ channel: 'event', id, type: 'cash', body }), known);
        }
        case 'fault': {
          const { schema, known } = LENIENT.fault;
          const typed = schema as unknown as z.ZodType<FaultEventMessage>;
          return as(typed, (body) => ({ channel: 'event', id, type: 'fault', body }), known);
        }
        case 'terminal': {
          const { schema, known } = LENIENT.terminal;
          const typed = schema as unknown as z.ZodType<TerminalEventMessage>;
          return as(typed, (body) => ({ channel: 'event', id, type: 'terminal', body }), known);
        }
        case 'voucher': {
          const { schema, known } = LENIENT.voucher;
          const typed = schema as unknown as z.ZodType<VoucherEventMessage>;
          return as(typed, (body) => ({ channel: 'event', id, type: 'voucher', body }), known);
        }
        default:
          return { ok: false, reason: `unknown event type ${String(name)}` };
      }
    case 'cmd':
    case 'config/desired':
      return { ok: false, reason: `downward topic ${t.kind}` };
  }
}
