/**
 * Moves the outbox to the broker: QoS 1 publishes with up to `window` in flight at once, each removed
 * from the outbox only when its PUBACK arrives. MQTT.js's own store would replay one message per round
 * trip after a reconnect; the reporter gives every connection a fresh client (so that store is empty)
 * and this pump refills the window as acknowledgements come back.
 *
 * Order: records go out in `seq` order on one connection, so the broker forwards them in order. After a
 * reconnect, everything not yet acknowledged is sent again from the oldest: the subscriber may see a
 * message twice (de-duplicate by `eventId`), never out of order. A publish the broker refuses (PUBACK
 * with an error reason code) stays in the outbox and is tried again on the next connection.
 */
import type { MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../util/logger.js';
import type { Outbox, OutboxRecord } from './outbox.js';

export interface OutboxPumpOptions {
  outbox: Outbox;
  /** Concurrent unacknowledged publishes. Default 32. */
  window?: number;
  logger?: Logger;
  /** Called for every acknowledged record (counters, benchmarks). */
  onAck?: (record: OutboxRecord) => void;
}

/** The part of MqttClient the pump uses. */
export type PumpClient = Pick<MqttClient, 'publish' | 'connected'>;

export class OutboxPump {
  private client: PumpClient | undefined;
  private generation = 0;
  private readonly inFlight = new Set<number>();
  private iter: IterableIterator<OutboxRecord> | undefined;
  private lastSent = 0;
  private readonly window: number;
  private readonly logger: Logger;
  private acked = 0;

  constructor(private readonly opts: OutboxPumpOptions) {
    this.window = Math.max(1, opts.window ?? 32);
    this.logger = opts.logger ?? silentLogger;
  }

  /** A connection is up: everything not yet acknowledged is due again, oldest first. */
  attach(client: PumpClient): void {
    this.generation++;
    this.client = client;
    this.inFlight.clear();
    this.iter = undefined;
    this.lastSent = 0;
    this.pump();
  }

  /** The connection is gone: late acknowledgements of this connection are ignored. */
  detach(): void {
    this.generation++;
    this.client = undefined;
    this.inFlight.clear();
    this.iter = undefined;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Acknowledged records since this pump was made. */
  get ackedCount(): number {
    return this.acked;
  }

  /** Fills the window. Cheap to call often (after every enqueue and every acknowledgement). */
  pump(): void {
    const client = this.client;
    if (!client || !client.connected) return;
    const outbox = this.opts.outbox;
    while (this.inFlight.size < this.window) {
      if (!this.iter) this.iter = outbox.pending();
      const next = this.iter.next();
      if (next.done) {
        // a finished Map iterator stays finished: start a fresh one next time, skipping what was sent
        this.iter = undefined;
        return;
      }
      const r = next.value;
      if (r.seq <= this.lastSent) continue;
      this.send(client, r);
    }
  }

  private send(client: PumpClient, r: OutboxRecord): void {
    const gen = this.generation;
    this.lastSent = r.seq;
    this.inFlight.add(r.seq);
    try {
      client.publish(r.topic, r.body, { qos: 1 }, (err) => {
        if (gen !== this.generation) return;
        this.inFlight.delete(r.seq);
        if (err) {
          this.logger.warn({ seq: r.seq, topic: r.topic, err: err.message }, 'outbox: publish refused, kept');
        } else {
          this.acked++;
          this.opts.outbox.ack(r.seq);
          this.opts.onAck?.(r);
        }
        this.pump();
      });
    } catch (err) {
      this.inFlight.delete(r.seq);
      this.logger.warn({ seq: r.seq, err }, 'outbox: publish threw, kept');
    }
  }
}
