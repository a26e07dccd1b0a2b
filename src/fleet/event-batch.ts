/**
 * `evt/batch`: several outbox events in one MQTT message, for when the broker's in-flight window (its
 * Receive Maximum) and the round trip are what limit the outbox replay. Each event inside is exactly the
 * message it would have been on its own `evt/{type}` topic (own envelope, `seq`, `eventId`), so a consumer
 * unpacks a batch into the same messages and de-duplicates them as before. Format, version 1:
 *
 *   { "v": 1, "id": "k-0042", "sid": 18, "seq": <last seq inside>, "ts": <sent>, "batch": 1,
 *     "events": [ { "type": "transaction", "msg": { "v": 1, "id": "k-0042", "seq": 1235, ... } }, ... ] }
 *
 * `batch` is the batch format's own version: a consumer that does not know it must not guess.
 */
import { kioskTopics, parseKioskTopic, TOPIC_NAME_PATTERN } from './topics.js';

/** The event type of the batch topic itself (`kiosk/v1/{id}/evt/batch`). */
export const BATCH_EVENT_TYPE = 'batch';
/** The batch format's version (the `batch` field). */
export const BATCH_FORMAT_VERSION = 1;
/** Bigger batch payloads are refused unread (the packet limit of the broker is 1 MiB). */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** One message as a consumer ingests it: topic and raw payload. */
export interface TopicMessage {
  topic: string;
  payload: Uint8Array;
}

/** One event going into a batch: its own topic (`.../evt/{type}`) and the body it would be sent with. */
export interface BatchPart {
  topic: string;
  body: string;
}

/** The event type of an `evt/{type}` topic, or undefined if the topic is not one. */
function eventTypeOf(topic: string): string | undefined {
  const t = parseKioskTopic(topic);
  return t?.kind === 'evt' ? t.name : undefined;
}

/**
 * The `evt/batch` body for `parts` (in seq order). `header` is the batch's own envelope (`seq` = the
 * last seq inside). The bodies are spliced in as they are (they are JSON already): no re-encoding.
 */
export function encodeEventBatch(header: object, parts: readonly BatchPart[]): string {
  const events = parts.map((p) => `{"type":${JSON.stringify(eventTypeOf(p.topic) ?? '')},"msg":${p.body}}`);
  const head = JSON.stringify({ ...header, batch: BATCH_FORMAT_VERSION });
  return `${head.slice(0, -1)},"events":[${events.join(',')}]}`;
}

/** Bytes an event adds to a batch body besides its own body (the wrapper `{"type":"...","msg":}` and a comma). */
export function batchOverhead(topic: string): number {
  return 20 + (eventTypeOf(topic)?.length ?? 0);
}

/**
 * What a consumer ingests for one received message: for `evt/batch` the events inside, each as the
 * message it would have been on its own topic; anything else as it came. A batch that is malformed (not
 * JSON, unknown batch version, an event without a valid type or naming another kiosk) comes back
 * unchanged, as one message: the consumer's own decoding then rejects it as garbage, visibly. Pure.
 */
export function unpackEvents(topic: string, payload: Uint8Array): TopicMessage[] {
  const t = parseKioskTopic(topic);
  if (t?.kind !== 'evt' || t.name !== BATCH_EVENT_TYPE || payload.length > MAX_BATCH_BYTES) {
    return [{ topic, payload }];
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return [{ topic, payload }];
  }
  const batch = doc as { id?: unknown; batch?: unknown; events?: unknown };
  if (
    typeof doc !== 'object' ||
    doc === null ||
    batch.id !== t.id ||
    batch.batch !== BATCH_FORMAT_VERSION ||
    !Array.isArray(batch.events)
  ) {
    return [{ topic, payload }];
  }
  const topics = kioskTopics(t.id);
  const out: TopicMessage[] = [];
  for (const e of batch.events as unknown[]) {
    const part = e as { type?: unknown; msg?: unknown } | null;
    const type = part?.type;
    const msg = part?.msg as { id?: unknown } | undefined;
    if (
      typeof type !== 'string' ||
      type === BATCH_EVENT_TYPE ||
      !TOPIC_NAME_PATTERN.test(type) ||
      typeof msg !== 'object' ||
      msg === null ||
      msg.id !== t.id
    ) {
      return [{ topic, payload }];
    }
    out.push({ topic: topics.evt(type), payload: Buffer.from(JSON.stringify(msg)) });
  }
  return out;
}
