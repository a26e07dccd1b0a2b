/**
 * A lightweight simulated kiosk reporter: one MQTT connection with its Will, speaking the fleet
 * contract (birth and state on every connect, retained health with message expiry, alerts set and
 * cleared, sales events with eventId/seq, answers to commands on cmdres). Many run in one process for
 * the benchmark and for demos; tests drive one directly (`sell`, `setPaper`, `crash`).
 *
 * It is not the kiosk's reporter (src/fleet/): no durable outbox, no journal. It exists to exercise the
 * dashboard and the broker at fleet scale with the real topics and payloads.
 */
import { randomUUID } from 'node:crypto';

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

import { COMMAND_ARGS, CommandSchema, type CmdresMessage, type KioskStateName } from '../fleet/envelope.js';
import { kioskTopics, type KioskTopics } from '../fleet/topics.js';
import {
  alertMessage,
  birthMessage,
  cmdresMessage,
  healthMessage,
  newCondition,
  stateMessage,
  transactionEvent,
  type Paper,
  type SimCondition,
} from './payloads.js';

export interface SimKioskOptions {
  id: string;
  url: string;
  heartbeatS?: number;
  /** Will Delay (contract: 30-60 s; tests use 1-2 s). */
  willDelayS?: number;
  sessionExpiryS?: number;
  /** Mean seconds between simulated sales; 0 = only when told (`sell`). */
  saleEveryS?: number;
  /** Random paper/acceptor trouble and busy spells, for demos. */
  lively?: boolean;
  firmware?: string;
  /** The merchant its birth names (`tenant`). */
  tenant?: string;
  /** First session counter; +1 on every connect after the first. */
  sid?: number;
  mqtt?: Partial<IClientOptions>;
  /** Called for every command that arrives (tests look at what reached the kiosk). */
  onCommand?: (name: string, payload: unknown) => void;
}

interface Answer {
  status: CmdresMessage['status'];
  reason?: string;
  result?: unknown;
}

export class SimKiosk {
  readonly condition: SimCondition;
  readonly topics: KioskTopics;
  private client: MqttClient | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly answered = new Map<string, Answer>();
  private connects = 0;
  private stopping = false;

  constructor(private readonly opts: SimKioskOptions) {
    this.topics = kioskTopics(opts.id);
    this.condition = newCondition(opts.id, {
      heartbeatS: opts.heartbeatS ?? 10,
      sid: opts.sid ?? 1,
      ...(opts.firmware ? { firmware: opts.firmware } : {}),
      ...(opts.tenant ? { tenant: opts.tenant } : {}),
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get id(): string {
    return this.opts.id;
  }

  /** Connects; resolves once birth and state of the first session are published. */
  async start(): Promise<void> {
    const o = this.opts;
    const c = this.condition;
    const client = mqtt.connect(o.url, {
      protocolVersion: 5,
      clientId: o.id,
      clean: false,
      keepalive: 30,
      reconnectPeriod: 500 + Math.floor(Math.random() * 1500),
      queueQoSZero: false,
      reconnectOnConnackError: true,
      properties: { sessionExpiryInterval: o.sessionExpiryS ?? 3600 },
      will: this.will(),
      ...o.mqtt,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('close', () => {
      // The next connection is a new session: its Will must carry the new sid.
      if (this.stopping) return;
      c.sid++;
      client.options.will = this.will();
    });
    const ready = new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => {
        if ('code' in err && typeof err.code === 'number') reject(err);
      });
    });
    client.on('connect', (connack) => {
      this.connects++;
      void this.announce(!connack.sessionPresent);
    });
    await ready;
    await this.announced();
    this.timers.push(
      setTimeout(
        () => {
          void this.publishHealth();
          this.timers.push(setInterval(() => this.beat(), c.heartbeatS * 1000));
        },
        Math.random() * c.heartbeatS * 1000,
      ),
    );
    if ((o.saleEveryS ?? 0) > 0) this.scheduleSale();
  }

  private announcing: Promise<void> = Promise.resolve();

  private announced(): Promise<void> {
    return this.announcing;
  }

  /** On every connect: birth, then state, then (re)subscribe, then a health so the tile is fresh at once. */
  private announce(subscribe: boolean): Promise<void> {
    const client = this.client;
    if (!client) return Promise.resolve();
    this.announcing = (async () => {
      const now = Date.now();
      await this.pub(this.topics.birth, birthMessage(this.condition, now), { retain: true });
      await this.pub(this.topics.state, stateMessage(this.condition, now), { retain: true });
      if (subscribe) await client.subscribeAsync(this.topics.cmdAll, { qos: 1 });
      await this.publishHealth();
    })().catch(() => undefined);
    return this.announcing;
  }

  private will(): IClientOptions['will'] {
    const c = this.condition;
    return {
      topic: this.topics.state,
      payload: Buffer.from(JSON.stringify(stateMessage(c, Date.now(), 'lost'))),
      qos: 1,
      retain: true,
      properties: { willDelayInterval: this.opts.willDelayS ?? 30 },
    };
  }

  private beat(): void {
    if (this.opts.lively) this.wander();
    void this.publishHealth();
  }

  /** Demo life: paper runs low and out and gets refilled, customers come and go. */
  private wander(): void {
    const c = this.condition;
    const r = Math.random();
    if (c.paper === 'ok' && r < 0.01) void this.setPaper('low');
    else if (c.paper === 'low' && r < 0.05) void this.setPaper('out');
    else if (c.paper === 'out' && r < 0.1) void this.setPaper('ok');
    c.busy = Math.random() < 0.15;
  }

  private scheduleSale(): void {
    const mean = (this.opts.saleEveryS ?? 0) * 1000;
    const wait = -Math.log(1 - Math.random()) * mean;
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      if (this.connected && this.condition.state === 'online') {
        const topup = Math.random() < 0.25;
        const amount = topup
          ? 500 * (1 + Math.floor(Math.random() * 4))
          : 99 + Math.floor(Math.random() * 2400);
        void this.sell(amount, topup ? 'topup' : 'sale').catch(() => undefined);
      }
      this.scheduleSale();
    }, wait);
    this.timers.push(t);
  }

  async publishHealth(): Promise<void> {
    const ttl = this.condition.heartbeatS * 3;
    await this.pub(this.topics.health, healthMessage(this.condition, Date.now()), {
      qos: 0,
      retain: true,
      properties: { messageExpiryInterval: ttl },
    }).catch(() => undefined);
  }

  /** A completed sale or top-up, QoS 1; resolves on PUBACK. Returns the eventId. */
  async sell(amountCents: number, kind: 'sale' | 'topup' = 'sale'): Promise<string> {
    const ev = transactionEvent(this.condition, Date.now(), kind, amountCents);
    await this.pub(this.topics.evt('transaction'), ev, { qos: 1 });
    return ev.eventId;
  }

  /** Publishes `count` sales back to back without waiting for each PUBACK (the benchmark's burst). */
  async burst(count: number): Promise<void> {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const ev = transactionEvent(this.condition, Date.now(), 'sale', 100 + i);
      all.push(this.pub(this.topics.evt('transaction'), ev, { qos: 1 }));
    }
    await Promise.all(all);
  }

  async setPaper(paper: Paper): Promise<void> {
    const c = this.condition;
    c.paper = paper;
    const now = Date.now();
    const set = (name: string, on: boolean, severity: 'warning' | 'critical') =>
      on
        ? this.pub(this.topics.alert(name), alertMessage(c, now, name, severity, name.replace('_', ' ')), {
            retain: true,
          })
        : this.pub(this.topics.alert(name), '', { retain: true });
    await set('paper_low', paper === 'low', 'warning');
    await set('paper_out', paper === 'out', 'critical');
    await this.setState(
      paper === 'out' ? 'degraded' : c.state === 'degraded' ? 'online' : c.state,
      paper === 'out' ? 'printer: paper out' : undefined,
    );
  }

  async setState(state: KioskStateName, reason?: string): Promise<void> {
    const c = this.condition;
    c.state = state;
    if (reason) c.stateReason = reason;
    else delete c.stateReason;
    await this.pub(this.topics.state, stateMessage(c, Date.now()), { retain: true });
    await this.publishHealth();
  }

  /** Vanishes without a DISCONNECT (power cut, crash): the broker sends the Will after its delay. */
  crash(): void {
    this.stopping = true;
    this.clearTimers();
    const client = this.client;
    if (!client) return;
    client.options.reconnectPeriod = 0;
    client.stream.destroy();
    client.end(true);
  }

  /** Clean shutdown: `offline`, then DISCONNECT (no Will). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      this.condition.state = 'offline';
      await this.pub(this.topics.state, stateMessage(this.condition, Date.now(), 'offline'), {
        retain: true,
      }).catch(() => undefined);
    }
    await client.endAsync();
  }

  /** Ends the connection without a word and without the Will being sent at once (bench teardown). */
  async drop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    await this.client?.endAsync(true);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private pub(
    topic: string,
    body: object | string,
    opts: mqtt.IClientPublishOptions = { qos: 1 },
  ): Promise<unknown> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('not started'));
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    return client.publishAsync(topic, payload, { qos: 1, ...opts });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const name = topic.slice(topic.lastIndexOf('/') + 1);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      void this.answer(null, name, { status: 'rejected', reason: 'malformed' });
      return;
    }
    this.opts.onCommand?.(name, json);
    const cmd = CommandSchema.safeParse(json);
    if (!cmd.success) {
      void this.answer(null, name, { status: 'rejected', reason: 'malformed' });
      return;
    }
    const { cmdId, expiresAt, args } = cmd.data;
    const before = this.answered.get(cmdId);
    if (before) {
      void this.answer(cmdId, name, before, true);
      return;
    }
    const reject = (reason: string): void => {
      this.remember(cmdId, { status: 'rejected', reason });
      void this.answer(cmdId, name, { status: 'rejected', reason });
    };
    if (expiresAt < Date.now()) return reject('expired');
    if (!(name in COMMAND_ARGS)) return reject('unknown_command');
    const parsed = COMMAND_ARGS[name as keyof typeof COMMAND_ARGS].safeParse(args);
    if (!parsed.success) return reject('bad_args');
    if (this.condition.busy && name !== 'ping' && name !== 'diagnostics') return reject('busy');
    void (async () => {
      await this.answer(cmdId, name, { status: 'accepted' });
      const done = await this.run(name, args);
      this.remember(cmdId, done);
      await this.answer(cmdId, name, done);
      if (name === 'restart' && done.status === 'succeeded') this.client?.stream.destroy();
    })().catch(() => undefined);
  }

  private remember(cmdId: string, a: Answer): void {
    this.answered.set(cmdId, a);
    if (this.answered.size > 200) {
      const first = this.answered.keys().next();
      if (!first.done) this.answered.delete(first.value);
    }
  }

  private async run(name: string, args: Record<string, unknown>): Promise<Answer> {
    const c = this.condition;
    switch (name) {
      case 'ping':
        return { status: 'succeeded', result: { pong: Date.now(), sid: c.sid } };
      case 'rebirth':
        await this.announce(false);
        return { status: 'succeeded', result: { sid: c.sid } };
      case 'maintenance':
        await this.setState(
          args.on === true ? 'maintenance' : 'online',
          args.on === true ? 'maintenance by operator' : undefined,
        );
        return { status: 'succeeded', result: { state: c.state } };
      case 'lock':
        await this.setState(
          'out_of_service',
          typeof args.reason === 'string' ? args.reason : 'locked by operator',
        );
        return { status: 'succeeded', result: { state: c.state } };
      case 'unlock':
        await this.setState('online');
        return { status: 'succeeded', result: { state: c.state } };
      case 'reprint':
        if (c.paper === 'out') return { status: 'failed', reason: 'printer: paper out' };
        return { status: 'succeeded', result: { reprinted: true, receiptId: randomUUID().slice(0, 8) } };
      case 'diagnostics':
        return {
          status: 'succeeded',
          result: ['printer', 'reader', 'display', 'acceptor'].map((device) => ({
            device,
            driver: 'simulated',
            found: true,
            where: 'sim',
            status:
              device === 'printer' && c.paper !== 'ok'
                ? `paper_${c.paper}`
                : device === 'acceptor'
                  ? c.acceptor
                  : 'ok',
            required: true,
          })),
        };
      case 'restart':
        return { status: 'succeeded', result: { restarting: true } };
      default:
        return { status: 'rejected', reason: 'unknown_command' };
    }
  }

  private answer(cmdId: string | null, cmd: string, a: Answer, duplicate = false): Promise<unknown> {
    const msg = cmdresMessage(this.condition, Date.now(), cmdId, cmd.slice(0, 100), a.status, {
      ...(a.reason !== undefined ? { reason: a.reason } : {}),
      ...(a.result !== undefined ? { result: a.result } : {}),
      ...(duplicate ? { duplicate: true } : {}),
    });
    return this.pub(this.topics.cmdres, msg, { qos: 1 }).catch(() => undefined);
  }

  /** How many times this kiosk connected (tests: reconnects). */
  get connectCount(): number {
    return this.connects;
  }
}
