/**
 * The fleet's side of the books: an MQTT client that takes every event message of one kiosk (batches
 * unpacked as the dashboard does), through broker outages: a persistent session (clean start off,
 * QoS 1), so what the kiosk sends while the observer is reconnecting waits for it at the broker.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { unpackEvents } from '../fleet/event-batch.js';
import type { FleetEventView } from './books.js';

export class FleetObserver {
  readonly events: FleetEventView[] = [];
  private lastAt = Date.now();

  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, kioskId: string): Promise<FleetObserver> {
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId: `chaos-observer-${kioskId}`,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 200,
    });
    const observer = new FleetObserver(client);
    client.on('message', (topic, payload) => observer.take(topic, payload));
    // Reconnect errors while the broker is down are the point of the exercise.
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(`kiosk/v1/${kioskId}/evt/#`, { qos: 1 });
    return observer;
  }

  private take(topic: string, payload: Buffer): void {
    this.lastAt = Date.now();
    for (const m of unpackEvents(topic, payload)) {
      const type = m.topic.split('/').at(-1) ?? '';
      if (type !== 'cash' && type !== 'transaction') continue;
      try {
        const msg = JSON.parse(Buffer.from(m.payload).toString('utf8')) as Record<string, unknown>;
        if (typeof msg.eventId !== 'string') continue;
        this.events.push({
          eventId: msg.eventId,
          type,
          ...(typeof msg.action === 'string' ? { action: msg.action } : {}),
          ...(typeof msg.outcome === 'string' ? { outcome: msg.outcome } : {}),
          ...(typeof msg.amountCents === 'number' ? { amountCents: msg.amountCents } : {}),
          ...(typeof msg.transactionId === 'string' ? { transactionId: msg.transactionId } : {}),
        });
      } catch {
        // not JSON: not a money event the books can use
      }
    }
  }

  /** Resolves once no message came for `quietMs` (at most `maxMs`). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    this.lastAt = Math.max(this.lastAt, Date.now() - quietMs / 2);
    while (Date.now() - this.lastAt < quietMs && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
