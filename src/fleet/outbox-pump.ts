/**
 * Moves the outbox to the broker: QoS 1 publishes with up to `window` in flight at once, and never more
 * than the broker's Receive Maximum allows (the connection's InflightBudget, shared with the reporter's
 * own QoS 1 messages). Each record leaves the outbox only when the PUBACK of the message carrying it
 * arrives. MQTT.js's own store would replay one message per round trip after a reconnect; the reporter
 * gives every connection a fresh client (so that store is empty) and this pump refills the window as
 * acknowledgements come back.
 *
 * Batching: when the window is the limit (more records waiting than free slots), several records go in
 * one `evt/batch` message (src/fleet/event-batch.ts), up to `maxEvents` and `maxBytes` (and the broker's
 * Maximum Packet Size); a live event with a free slot still goes alone on its own `evt/{type}` topic.
 *
 * Order: records go out in `seq` order on one connection, so the broker forwards them in order. After a
 * reconnect, everything not yet acknowledged is sent again from the oldest: the subscriber may see a
 * message twice (de-duplicate by `eventId`), never out of order. A publish the broker refuses (PUBACK
 * with an error reason code) stays in the outbox and is tried again on the next connection.
 */
import type { MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../util/logger.js';
import { batchOverhead, encodeEventBatch } from './event-batch.js';
import { InflightBudget } from './inflight-budget.js';
import type { Outbox } from './outbox.js';
import type { OutboxRecord } from './outbox-log.js';

export interface OutboxBatchOptions {
  /** `kiosk/v1/{id}/evt/batch`. */
  topic: string;
  /** The batch message's own envelope; `lastSeq` is the seq of the last record inside. */
  header: (lastSeq: number) => object;
  /** Records per batch. Default 64. */
  maxEvents?: number;
  /** Bytes per batch body. Default 60 KiB (the dashboard takes messages up to 64 KiB). */
  maxBytes?: number;
}

export interface OutboxPumpOptions {
  outbox: Outbox;
  /** Concurrent unacknowledged publishes of the pump (fewer if the broker's Receive Maximum says so). Default 32. */
  window?: number;
  /** Pack records into `evt/batch` when the window is the limit; without it every record goes alone. */
  batch?: OutboxBatchOptions;
  logger?: Logger;
  /** Called for every acknowledged record (counters, benchmarks). */
  onAck?: (record: OutboxRecord) => void;
}

/** What the pump learns from the CONNACK, and the budget it shares with the connection's other senders. */
export interface PumpConnection {
  /** Shared with the reporter; without one, the pump's window alone is the limit. */
  budget?: InflightBudget;
  /** The broker's Maximum Packet Size (CONNACK), if it sent one. */
  maximumPacketSize?: number;
}

/** The part of MqttClient the pump uses. */
export type PumpClient = Pick<MqttClient, 'publish' | 'connected'>;

/** Slots of the shared budget the pump leaves for the reporter's birth, state, alerts and answers. */
const KEEP_FOR_OTHERS = 2;
/** Room for the packet's fixed header, topic and properties within the broker's Maximum Packet Size. */
const PACKET_OVERHEAD = 512;

export class OutboxPump {
  private client: PumpClient | undefined;
  private budget: InflightBudget | undefined;
  /** Slots of a shared budget the pump leaves to the other senders on the connection. */
  private keep = 0;
  private generation = 0;
  /** Message in flight -> the seqs it carries. */
  private readonly inFlight = new Map<number, number[]>();
  private inFlightRecords = 0;
  private iter: IterableIterator<OutboxRecord> | undefined;
  /** A record read from the iterator that did not fit in the last batch: the next message starts with it. */
  private peeked: OutboxRecord | undefined;
  private pumping = false;
  private pumpAgain = false;
  private lastSent = 0;
  private maxBytes = 0;
  private readonly window: number;
  private readonly logger: Logger;
  private acked = 0;
  private messages = 0;

  constructor(private readonly opts: OutboxPumpOptions) {
    this.window = Math.max(1, opts.window ?? 32);
    this.logger = opts.logger ?? silentLogger;
  }

  /** A connection is up: everything not yet acknowledged is due again, oldest first. */
  attach(client: PumpClient, conn: PumpConnection = {}): void {
    this.generation++;
    this.client = client;
    this.budget = conn.budget ?? new InflightBudget(this.window);
    this.keep = conn.budget ? Math.min(KEEP_FOR_OTHERS, this.budget.max - 1) : 0;
    const gen = this.generation;
    this.budget.onRelease(() => {
      if (gen === this.generation) this.pump();
    });
    const configured = this.opts.batch?.maxBytes ?? 60 * 1024;
    this.maxBytes =
      conn.maximumPacketSize !== undefined
        ? Math.max(1, Math.min(configured, conn.maximumPacketSize - PACKET_OVERHEAD))
        : configured;
    this.inFlight.clear();
    this.inFlightRecords = 0;
    this.iter = undefined;
    this.peeked = undefined;
    this.lastSent = 0;
    this.pump();
  }

  /** The connection is gone: late acknowledgements of this connection are ignored. */
  detach(): void {
    this.generation++;
    this.client = undefined;
    this.budget = undefined;
    this.inFlight.clear();
    this.inFlightRecords = 0;
    this.iter = undefined;
    this.peeked = undefined;
  }

  /** Messages (single events or batches) awaiting their PUBACK. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Acknowledged records since this pump was made. */
  get ackedCount(): number {
    return this.acked;
  }

  /** Messages published since this pump was made (a batch counts once). */
  get messageCount(): number {
    return this.messages;
  }

  /** Fills the window. Cheap to call often (after every enqueue and every acknowledgement). */
  pump(): void {
    // a release inside publish() (it threw) calls back in here: loop instead of recursing
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.fill();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private fill(): void {
    const client = this.client;
    const budget = this.budget;
    if (!client || !client.connected || !budget) return;
    // the pump's own share: its window, and the budget less the slots kept for the reporter's messages
    const share = Math.min(this.window, budget.max - this.keep);
    for (;;) {
      const slots = Math.min(share - this.inFlight.size, budget.free());
      if (slots <= 0) return;
      const first = this.nextUnsent();
      if (!first) return;
      const waiting = this.opts.outbox.size - this.inFlightRecords;
      const records = this.opts.batch && waiting > slots ? this.fillBatch(first) : [first];
      budget.take();
      this.send(client, budget, records);
      if (this.client !== client) return;
    }
  }

  /** The oldest record not yet sent on this connection (and still in the outbox), or undefined. */
  private nextUnsent(): OutboxRecord | undefined {
    const peeked = this.peeked;
    this.peeked = undefined;
    if (peeked && this.opts.outbox.has(peeked.seq)) return peeked;
    for (;;) {
      if (!this.iter) this.iter = this.opts.outbox.pending();
      const next = this.iter.next();
      if (next.done) {
        // a finished Map iterator stays finished: start a fresh one next time, skipping what was sent
        this.iter = undefined;
        return undefined;
      }
      if (next.value.seq > this.lastSent) {
        this.lastSent = next.value.seq;
        return next.value;
      }
    }
  }

  /** `first` and the records after it, while they fit in one batch. */
  private fillBatch(first: OutboxRecord): OutboxRecord[] {
    const maxEvents = Math.max(1, this.opts.batch?.maxEvents ?? 64);
    const records = [first];
    let bytes = 200 + first.body.length + batchOverhead(first.topic);
    while (records.length < maxEvents) {
      const r = this.nextUnsent();
      if (!r) break;
      const size = r.body.length + batchOverhead(r.topic);
      if (bytes + size > this.maxBytes) {
        this.peeked = r; // does not fit: the next message starts with it
        break;
      }
      bytes += size;
      records.push(r);
    }
    return records;
  }

  private send(client: PumpClient, budget: InflightBudget, records: OutboxRecord[]): void {
    const gen = this.generation;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const batch = this.opts.batch;
    const [topic, body] =
      records.length === 1 || !batch
        ? [first.topic, first.body]
        : [batch.topic, encodeEventBatch(batch.header(last.seq), records)];
    const seqs = records.map((r) => r.seq);
    this.inFlight.set(first.seq, seqs);
    this.inFlightRecords += seqs.length;
    this.messages++;
    const settle = (): boolean => {
      if (gen !== this.generation) return false;
      this.inFlight.delete(first.seq);
      this.inFlightRecords -= seqs.length;
      return true;
    };
    try {
      client.publish(topic, body, { qos: 1 }, (err) => {
        if (!settle()) return;
        if (err) {
          this.logger.warn(
            { seq: first.seq, events: seqs.length, topic, err: err.message },
            'outbox: publish refused, kept',
          );
        } else {
          for (const r of records) {
            this.acked++;
            this.opts.outbox.ack(r.seq);
            this.opts.onAck?.(r);
          }
        }
        budget.release(); // refills the window (the pump listens to its budget)
      });
    } catch (err) {
      settle();
      budget.release();
      this.logger.warn({ seq: first.seq, err }, 'outbox: publish threw, kept');
    }
  }
}
