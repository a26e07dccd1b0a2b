/**
 * What the dashboard understands of the fleet contract (docs/fleet-mqtt.md), decoded from raw MQTT
 * topic + payload into one small union. Everything that comes off the wire goes through `decode`:
 * garbage (not JSON, wrong shape, wrong kiosk id, unknown topic) comes back as `{ ok: false }` with a
 * reason, never as an exception, so one broken kiosk cannot take the dashboard down.
 *
 * The schemas are tolerant (loose objects, most fields optional) where the dashboard only displays a
 * value, and strict where it computes something from it (state, sid, eventId, amounts in cents).
 */
import { z } from 'zod';

import { KIOSK_ID_PATTERN, parseKioskTopic } from '../fleet/topics.js';

export const KIOSK_STATES = [
  'online',
  'degraded',
  'maintenance',
  'out_of_service',
  'offline',
  'lost',
] as const;
export type KioskState = (typeof KIOSK_STATES)[number];

export const CMD_STATUSES = ['accepted', 'rejected', 'succeeded', 'failed'] as const;
export type CmdStatus = (typeof CMD_STATUSES)[number];

/** Payloads larger than this are refused before JSON.parse: no kiosk has a reason to send them. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const cents = z.int().refine(Number.isSafeInteger, 'not a safe integer');
const counter = z.int().nonnegative();
const kioskId = z.string().regex(KIOSK_ID_PATTERN);

const Envelope = z.looseObject({
  v: z.literal(1),
  id: kioskId,
  sid: counter,
  seq: counter.optional(),
  ts: z.number().nonnegative(),
});

const StatePayload = Envelope.extend({
  state: z.enum(KIOSK_STATES),
  reason: z.string().max(500).optional(),
});

const BirthPayload = Envelope.extend({
  firmware: z.string().max(100),
  hardware: z.unknown().optional(),
  devices: z.unknown().optional(),
  capabilities: z.array(z.string()).optional(),
  heartbeatS: z.number().positive().optional(),
  configVersion: z.number().optional(),
  schema: z.number().optional(),
  clockSynced: z.boolean().optional(),
});

const DeviceStatus = z.looseObject({
  status: z.string().max(40).optional(),
  paper: z.enum(['ok', 'low', 'out']).optional(),
});

const Counters = z.looseObject({
  salesCount: counter.optional(),
  salesCents: cents.optional(),
  topupCount: counter.optional(),
  topupCents: cents.optional(),
  cashInCents: cents.optional(),
});

const HealthPayload = Envelope.extend({
  uptimeS: z.number().nonnegative().optional(),
  memMb: z.number().nonnegative().optional(),
  cpuTempC: z.number().optional(),
  diskFreeMb: z.number().optional(),
  loopLagMs: z.number().nonnegative().optional(),
  clockSynced: z.boolean().optional(),
  /** The kiosk's current flow (`idle`, `checkout`, `topup`, ...) and since when (device ms). */
  flow: z.string().max(40).optional(),
  flowSince: z.number().nonnegative().optional(),
  outbox: z.number().nonnegative().optional(),
  devices: z.record(z.string(), DeviceStatus).optional(),
  counters: z.looseObject({ lifetime: Counters.optional(), sinceCollection: Counters.optional() }).optional(),
});

const AlertPayload = Envelope.extend({
  severity: z.enum(['info', 'warning', 'critical']).optional(),
  message: z.string().max(500).optional(),
});

const EventPayload = Envelope.extend({
  seq: counter,
  eventId: z.uuid(),
  /** `completed` | `failed` | `cancelled` for transactions, `inserted` | `credited` | `unclaimed` for cash. */
  outcome: z.string().max(40).optional(),
  /** For transactions: `sale` or `topup`. */
  kind: z.string().max(40).optional(),
  amountCents: cents.optional(),
  method: z.string().max(40).optional(),
  card: z.string().max(40).optional(),
  message: z.string().max(500).optional(),
});

const CmdResPayload = Envelope.extend({
  cmdId: z.uuid(),
  cmd: z.string().max(40).optional(),
  status: z.enum(CMD_STATUSES),
  reason: z.string().max(500).optional(),
  result: z.unknown().optional(),
});

const ConfigReportedPayload = Envelope.extend({
  version: z.number(),
  status: z.enum(['applied', 'rejected']),
  errors: z.array(z.unknown()).optional(),
});

export type StateMsg = { channel: 'state' } & z.infer<typeof StatePayload>;
export type BirthMsg = { channel: 'birth' } & z.infer<typeof BirthPayload>;
export type HealthMsg = { channel: 'health' } & z.infer<typeof HealthPayload>;
export type AlertMsg =
  | ({ channel: 'alert'; name: string; cleared: false } & z.infer<typeof AlertPayload>)
  | { channel: 'alert'; name: string; cleared: true; id: string };
export type EventMsg = { channel: 'event'; type: string } & z.infer<typeof EventPayload>;
export type CmdResMsg = { channel: 'cmdres' } & z.infer<typeof CmdResPayload>;
export type ConfigReportedMsg = { channel: 'config' } & z.infer<typeof ConfigReportedPayload>;
export type FleetMessage =
  StateMsg | BirthMsg | HealthMsg | AlertMsg | EventMsg | CmdResMsg | ConfigReportedMsg;

export type Decoded = { ok: true; msg: FleetMessage } | { ok: false; reason: string };

function parseJson(payload: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (payload.length > MAX_PAYLOAD_BYTES)
    return { ok: false, reason: `payload too large (${payload.length} B)` };
  try {
    return { ok: true, value: JSON.parse(Buffer.from(payload).toString('utf8')) };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

function check<T extends { id: string }>(
  schema: z.ZodType<T>,
  topicId: string,
  payload: Uint8Array,
): { ok: true; value: T } | { ok: false; reason: string } {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `schema: ${first ? `${first.path.join('.')} ${first.message}` : 'invalid'}` };
  }
  // A kiosk that names another kiosk in its payload is broken or lying; the topic is what the ACL binds.
  if (parsed.data.id !== topicId) return { ok: false, reason: `id ${parsed.data.id} on topic of ${topicId}` };
  return { ok: true, value: parsed.data };
}

/** Decodes one MQTT message from a kiosk's upward topics. Never throws. */
export function decode(topic: string, payload: Uint8Array): Decoded {
  const t = parseKioskTopic(topic);
  if (!t) return { ok: false, reason: 'not a kiosk/v1 topic' };
  const { id, name } = t;
  const wrap = <T extends { id: string }, K extends FleetMessage['channel']>(
    schema: z.ZodType<T>,
    channel: K,
    more: object = {},
  ): Decoded => {
    const r = check(schema, id, payload);
    return r.ok ? { ok: true, msg: { ...r.value, ...more, channel } as unknown as FleetMessage } : r;
  };
  switch (t.kind) {
    case 'state':
      return wrap(StatePayload, 'state');
    case 'birth':
      return wrap(BirthPayload, 'birth');
    case 'health':
      return wrap(HealthPayload, 'health');
    case 'cmdres':
      return wrap(CmdResPayload, 'cmdres');
    case 'config/reported':
      return wrap(ConfigReportedPayload, 'config');
    case 'alert':
      if (name === undefined) return { ok: false, reason: 'alert without name' };
      if (payload.length === 0) return { ok: true, msg: { channel: 'alert', name, cleared: true, id } };
      return wrap(AlertPayload, 'alert', { name, cleared: false });
    case 'evt':
      if (name === undefined) return { ok: false, reason: 'event without type' };
      return wrap(EventPayload, 'event', { type: name });
    case 'cmd':
    case 'config/desired':
      return { ok: false, reason: `downward topic ${t.kind}` };
  }
}
