/**
 * A back-end stand-in for tests: subscribes to one kiosk's topics (or anything), keeps every message,
 * and lets a test wait for a condition with a deadline (polling on real time: the broker is real).
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type IClientSubscribeOptions, type MqttClient } from 'mqtt';
import { needs, MOSQUITTO } from '../../support/real-parts.js';

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  json: Record<string, unknown> | undefined;
  at: number;
}

export class Observer {
  readonly messages: Seen[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = payload.length ? (JSON.parse(payload.toString()) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      this.messages.push({ topic, payload: payload.toString(), retain: packet.retain, json, at: Date.now() });
    });
  }

  /** `subscribe` options: e.g. `rap: true` keeps live messages' retain flag, as a late subscriber sees them. */
  static async connect(
    url: string,
    topics: string[],
    opts: IClientOptions = {},
    subscribe: Partial<IClientSubscribeOptions> = {},
  ): Promise<Observer> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 500, ...opts });
    const o = new Observer(client);
    if (topics.length) await client.subscribeAsync(topics, { qos: 1, ...subscribe });
    return o;
  }

  on(topicSuffix: string): Seen[] {
    return this.messages.filter((m) => m.topic.endsWith(topicSuffix));
  }

  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 8000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = check();
      if (r !== undefined && r !== false) return r;
      if (Date.now() > deadline) {
        const last = this.messages.slice(-8).map((m) => `${m.topic} ${m.payload.slice(0, 160)}`);
        throw new Error(`timed out waiting for ${what}; last messages:\n${last.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The first message (kept or still to come) that `pred` accepts. */
  message(pred: (m: Seen) => boolean, what: string, timeoutMs = 8000): Promise<Seen> {
    return this.waitFor(what, () => this.messages.find(pred), timeoutMs);
  }

  /**
   * Sends a fleet command to the kiosk whose topics start with `prefix` (`kiosk/v1/<id>/`) as the
   * contract says (cmdId, issuedAt, expiresAt, args) and waits for its final `cmdres`.
   */
  async command(
    prefix: string,
    name: string,
    args: Record<string, unknown> = {},
    timeoutMs = 15_000,
  ): Promise<Seen> {
    const cmdId = randomUUID();
    const now = Date.now();
    await this.publish(
      `${prefix}cmd/${name}`,
      JSON.stringify({ cmdId, issuedAt: now, expiresAt: now + 60_000, args }),
    );
    return this.message(
      (m) =>
        m.topic === `${prefix}cmdres` &&
        m.json?.cmdId === cmdId &&
        ['succeeded', 'failed', 'rejected'].includes(String(m.json?.status)),
      `cmdres of ${name}`,
      timeoutMs,
    );
  }

  async publish(
    topic: string,
    payload: string | Buffer,
    opts: mqtt.IClientPublishOptions = { qos: 1 },
  ): Promise<void> {
    await this.client.publishAsync(topic, payload, opts);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A real Mosquitto and an observer of one kiosk's topics, for tests of the kiosk program over the
 * fleet (call after `needs(this, MOSQUITTO)`): `topic` names the kiosk's topics, `command` sends one
 * and waits for its final answer, `close` stops both.
 */
export async function watchKiosk(id: string) {
  const { startMosquitto } = await import('../../../src/harness/mosquitto.js');
  const broker = await startMosquitto();
  const observer = await Observer.connect(broker.url, [`kiosk/v1/${id}/#`], {
    clientId: `observer-${randomUUID()}`,
  });
  const topic = (t: string) => `kiosk/v1/${id}/${t}`;
  return {
    broker,
    observer,
    topic,
    command: (name: string, args: Record<string, unknown> = {}): Promise<Seen> =>
      observer.command(topic(''), name, args, 20_000),
    async close() {
      await observer.close().catch(() => undefined);
      await broker.stop();
    },
  };
}

/**
 * One kiosk watched over a real Mosquitto for a whole `describe` (call it in the describe's body):
 * its `before` skips without Mosquitto and starts the broker and the observer, its `after` stops
 * every kiosk handed to `keep` (last first) and then the broker. `fleet` is set once `before` ran.
 */
export function watchedKiosk(id: string) {
  const running: { stop(): Promise<unknown> }[] = [];
  let fleet: Awaited<ReturnType<typeof watchKiosk>> | undefined;
  const suite = {
    topic: (t: string) => `kiosk/v1/${id}/${t}`,
    get fleet() {
      if (!fleet) throw new Error('watchedKiosk: used before its before() hook ran');
      return fleet;
    },
    get observer(): Observer {
      return suite.fleet.observer;
    },
    get brokerUrl(): string {
      return suite.fleet.broker.url;
    },
    command: (name: string, args: Record<string, unknown> = {}): Promise<Seen> =>
      suite.fleet.command(name, args),
    /** Stopped in `after`; returns it. */
    keep<K extends { stop(): Promise<unknown> }>(kiosk: K): K {
      running.push(kiosk);
      return kiosk;
    },
    /** No longer stopped in `after` (it was stopped or cut already). */
    forget(kiosk: { stop(): Promise<unknown> }): void {
      const i = running.indexOf(kiosk);
      if (i >= 0) running.splice(i, 1);
    },
  };
  before(async function () {
    await needs(this, MOSQUITTO);
    fleet = await watchKiosk(id);
  });
  after(async () => {
    for (const k of running.splice(0).reverse()) await k.stop().catch(() => undefined);
    await fleet?.close();
  });
  return suite;
}
