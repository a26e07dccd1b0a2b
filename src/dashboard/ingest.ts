/**
 * The one place a message from the fleet is taken in: decoded with the contract's schemas, applied to
 * the in-memory `FleetModel` (the live tiles) and turned into store operations (history). Whatever
 * carries messages in (the broker link today, an `evt/batch` unpacked into its events later, a replay
 * tool) calls `message()` per message, so de-duplication, day bucketing and downsampling are the same
 * for all of them.
 *
 * `stored` settles when the message's durable part (money, alerts, command answers) is committed: the
 * broker link acknowledges a QoS 1 message only then, so the broker keeps what is not stored yet.
 */
import type { FleetModel, IngestMeta, IngestResult } from './fleet-model.js';
import { decode, type FleetMessage } from './messages.js';
import { owns, type Partition } from './partition.js';
import { storeOpsFor } from './store/ops.js';
import type { WriteBuffer } from './store/write-buffer.js';

export interface IngestOptions {
  model: FleetModel;
  /** Absent: memory only (the model), as before the store existed. */
  buffer?: WriteBuffer;
  /** One health sample per kiosk per this long goes into the history. Default 5 min. */
  sampleEveryMs?: number;
  /** This worker's share of the kiosks' snapshot writes (`partition.ts`); absent: all of them. */
  partition?: Partition;
}

export interface Ingested {
  result: IngestResult;
  /** Resolves when the durable part is committed (at once when there is nothing durable). */
  stored: Promise<void>;
}

const NOTHING = Promise.resolve();

export class Ingest {
  private readonly lastSample = new Map<string, number>();
  /** The last collection stored per kiosk (its time): each health repeats it, it is written once. */
  private readonly lastCollection = new Map<string, number>();

  constructor(private readonly opts: IngestOptions) {}

  get model(): FleetModel {
    return this.opts.model;
  }

  /** Decodes and takes in one raw MQTT message. Garbage is counted by the model and stores nothing. */
  raw(topic: string, payload: Uint8Array, meta: IngestMeta): Ingested {
    const d = decode(topic, payload);
    const model = this.opts.model;
    if (!d.ok) return { result: model.garbage(topic, d.reason), stored: NOTHING };
    if (d.newer) model.newer(topic, d.newer);
    return this.message(d.msg, meta);
  }

  message(msg: FleetMessage, meta: IngestMeta): Ingested {
    const result = this.opts.model.ingest(msg, meta);
    const buffer = this.opts.buffer;
    // Refused by the model (too many kiosks), a duplicate event, a late Will of a replaced session:
    // nothing new to store (a cleared alert is stored even when the model did not know it).
    const ignored = (msg.channel === 'event' || msg.channel === 'state') && result.ok && !result.changed;
    if (!buffer || !result.ok || ignored) return { result, stored: NOTHING };
    // Another worker writes this kiosk's rows; events come to one worker only, so they are stored here.
    if (msg.channel !== 'event' && !owns(this.opts.partition, msg.id)) return { result, stored: NOTHING };
    const ops = storeOpsFor(msg, {
      receivedAt: meta.receivedAt,
      dayOf: (ms) => this.opts.model.dayOf(ms),
      sampleHealth: msg.channel === 'health' && this.sampleDue(msg.id, meta.receivedAt),
      recordCollection:
        msg.channel === 'health' && this.collectionNew(msg.id, msg.body.counters.lastCollection?.ts),
    });
    if (ops.length === 0) return { result, stored: NOTHING };
    const written = buffer.add(ops);
    return { result, stored: ops.some((o) => o.durable) ? written : NOTHING };
  }

  private collectionNew(id: string, ts: number | undefined): boolean {
    if (ts === undefined || this.lastCollection.get(id) === ts) return false;
    this.lastCollection.set(id, ts);
    return true;
  }

  private sampleDue(id: string, at: number): boolean {
    const last = this.lastSample.get(id);
    if (last !== undefined && at - last < (this.opts.sampleEveryMs ?? 5 * 60_000)) return false;
    this.lastSample.set(id, at);
    return true;
  }
}
