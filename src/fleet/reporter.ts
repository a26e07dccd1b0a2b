/**
 * The kiosk's side of the fleet contract (docs/fleet-mqtt.md): one MQTT 5 connection to the broker,
 * reporting `birth`, `state`, `health`, `alert/*`, `evt/*` (through the durable outbox), `cmdres` and
 * `config/reported`, and obeying `cmd/*` and `config/desired`.
 *
 * - Fixed client id = kiosk id, `clean: false` with a session expiry, keep-alive ~30 s.
 * - Its own reconnect loop (exponential back-off with jitter); every connection uses a fresh MQTT.js
 *   client, so MQTT.js never replays its own store one message per round trip: the outbox pump does it.
 * - Before every connect `sid` + 1 (on disk); the Will (`state = lost`, retained, QoS 1, Will Delay)
 *   carries it. After every CONNACK: `birth`, then `state`, then the subscriptions, then the outbox.
 * - `stop()` publishes `state = offline` and disconnects normally (the Will is discarded).
 *
 * The kiosk serves customers the same whether the broker is up or not: no public method blocks on the
 * network or throws into the caller. What cannot be sent now is either in the outbox (events), kept as
 * the latest value to send on connect (state, alerts, config/reported, pending cmdres), or skipped
 * (health is QoS 0 and only sent while connected).
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../util/logger.js';
import { maskCard } from '../util/privacy.js';
import { CommandHandler, type CommandAnswer } from './commands.js';
import { DesiredConfigHandler } from './desired-config.js';
import {
  COMMAND_NAMES,
  EVENT_SCHEMAS,
  MaskedCardSchema,
  MONEY_EVENT_TYPES,
  SCHEMA_VERSION,
  envelope,
  type AlertBody,
  type BirthBody,
  type ConfigReportedBody,
  type EventInput,
  type EventType,
  type HealthBody,
  type KioskStateName,
  type StateBody,
} from './envelope.js';
import type { BirthFacts, HealthFacts, KioskPort, ValidateConfig } from './kiosk-port.js';
import { Outbox } from './outbox.js';
import { OutboxPump } from './outbox-pump.js';
import { BATCH_EVENT_TYPE } from './event-batch.js';
import { InflightBudget } from './inflight-budget.js';
import { scrub } from './scrub.js';
import { kioskTopics, parseKioskTopic, type KioskTopics } from './topics.js';

export interface FleetReporterOptions {
  kioskId: string;
  /** `mqtts://broker.example:8883` (or `mqtt://127.0.0.1:port` in tests). */
  url: string;
  /** Where the outbox, `sid`/`seq` and remembered command ids live. */
  dataDir: string;
  port: KioskPort;
  /** Read on every connect for `birth`. */
  birth: () => BirthFacts;
  /** Read every heartbeat for `health`. */
  health: () => HealthFacts;
  /** The app's config schema check, for `config/desired`. */
  validateConfig: ValidateConfig;
  /** Whether device time is synchronised (NTP). Default: always true. */
  clockSynced?: () => boolean;
  username?: string;
  password?: string;
  /** Extra MQTT.js options, e.g. TLS: `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`. */
  mqttOptions?: Partial<IClientOptions>;
  /** Health period. Default 30 000 ms. */
  heartbeatMs?: number;
  /** Will Delay: how long a drop may last before `lost` is published. Default 45 s (contract: 30-60). */
  willDelayS?: number;
  /** Session expiry; at least the Will Delay. Default 6 h. */
  sessionExpiryS?: number;
  /** Default 30 s. */
  keepaliveS?: number;
  /** Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect back-off bounds; each delay is jittered to 50-100 % of the current step. Default 1 s .. 60 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Outbox in-flight window (default 32) and bounds. */
  outboxWindow?: number;
  outboxMaxMessages?: number;
  outboxMaxBytes?: number;
  /**
   * Pack outbox events into `evt/batch` messages when the in-flight window is the limit (a replay after
   * an outage). Default true; false sends every event on its own `evt/{type}` topic.
   */
  outboxBatch?: boolean;
  /** fsync the outbox (default true; a benchmark on tmpfs may turn it off). */
  fsync?: boolean;
  /** How long a disturbing command waits for the customer to finish (default 60 s). */
  commandIdleWaitMs?: number;
  commandIdlePollMs?: number;
  /** Largest command payload accepted (default 16 KiB). */
  commandMaxBytes?: number;
  logger?: Logger;
  now?: () => number;
  random?: () => number;
}

export interface AlertInput {
  severity?: AlertBody['severity'];
  message?: string;
  /** When the condition began; default now. */
  since?: number;
}

export interface EventReceipt {
  /** False when the payload could not be made valid (it was logged, not sent). */
  accepted: boolean;
  eventId: string;
  seq: number | null;
  /** Resolves true once on disk; false when not accepted or storage failed. Never rejects. */
  stored: Promise<boolean>;
}

export interface ReporterMetrics {
  connected: boolean;
  sid: number;
  lastSeq: number;
  connects: number;
  outbox: ReturnType<Outbox['stats']>;
  inFlight: number;
  acked: number;
}

interface DueMessage {
  key: string;
  topic: string;
  body: string;
  retain: boolean;
  /** Resolvers waiting for this message's acknowledgement. */
  waiters: ((ok: boolean) => void)[];
}

const ALERTS_FILE = 'alerts.json';
/** Marks an alert cleared in this run (in `alerts`). */
const CLEARED = '';
const DEDUP_FILE = 'cmd-dedup.json';

export class FleetReporter {
  readonly topics: KioskTopics;
  private outbox!: Outbox;
  private pump!: OutboxPump;
  private readonly commands: CommandHandler;
  private readonly desired: DesiredConfigHandler;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly heartbeatMs: number;
  private client: MqttClient | undefined;
  /** The broker's Receive Maximum for this connection, shared with the pump. */
  private budget: InflightBudget | undefined;
  /** QoS 1 messages waiting for a slot of the budget (sent in order as PUBACKs come). */
  private blocked: DueMessage[] = [];
  private connected = false;
  private running = false;
  private attempts = 0;
  private connects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private lag: IntervalHistogram | undefined;
  private readonly bootTs: number;
  /** Latest wanted value per retained topic (and pending cmdres): sent on connect until acknowledged. */
  private readonly due = new Map<string, DueMessage>();
  private dueCounter = 0;
  /** Per alert name: a key of what was last set, or CLEARED. */
  private readonly alerts = new Map<string, string>();
  /** Alerts active in an earlier run: cleared on the first connect unless set again meanwhile. */
  private staleAlerts = new Set<string>();
  private alertsWrite: Promise<void> = Promise.resolve();
  private alertsLoaded = false;

  constructor(private readonly opts: FleetReporterOptions) {
    this.topics = kioskTopics(opts.kioskId);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.bootTs = this.now();
    this.commands = new CommandHandler({
      port: opts.port,
      answer: (a) => this.answer(a),
      rebirth: () => this.rebirth(),
      stateChanged: () => this.publishState(),
      now: this.now,
      clockSynced: () => this.clockSynced(),
      idleWaitMs: opts.commandIdleWaitMs,
      idlePollMs: opts.commandIdlePollMs,
      maxPayloadBytes: opts.commandMaxBytes,
      dedupFile: path.join(opts.dataDir, DEDUP_FILE),
      logger: this.logger,
    });
    this.desired = new DesiredConfigHandler({
      port: opts.port,
      validateConfig: opts.validateConfig,
      report: (r) => this.reportConfig(r),
      idlePollMs: opts.commandIdlePollMs,
      logger: this.logger,
    });
  }

  /**
   * Opens the outbox and starts connecting in the background. Resolves without waiting for the broker;
   * rejects only when the data directory is unusable.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.outbox = await Outbox.open({
      dir: path.join(this.opts.dataDir, 'outbox'),
      maxMessages: this.opts.outboxMaxMessages,
      maxBytes: this.opts.outboxMaxBytes,
      fsync: this.opts.fsync,
      logger: this.logger,
    });
    const outbox = this.outbox;
    this.pump = new OutboxPump({
      outbox,
      window: this.opts.outboxWindow,
      logger: this.logger,
      ...(this.opts.outboxBatch === false
        ? {}
        : {
            batch: {
              topic: this.topics.evt(BATCH_EVENT_TYPE),
              header: (lastSeq: number) => envelope(this.opts.kioskId, outbox.sid, lastSeq, this.now()),
            },
          }),
    });
    await this.commands.load();
    await this.loadStaleAlerts();
    this.alertsLoaded = true;
    this.persistAlerts();
    this.running = true;
    this.lag = monitorEventLoopDelay({ resolution: 20 });
    this.lag.enable();
    this.healthTimer = setInterval(() => this.publishHealth(), this.heartbeatMs);
    this.healthTimer.unref?.();
    void this.connect();
  }

  /** Clean shutdown: `state = offline`, pending events given `drainMs` to go out, normal DISCONNECT. */
  async stop(opts: { reason?: string; drainMs?: number } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopTimers();
    const client = this.client;
    if (client && this.connected) {
      const deadline = this.now() + (opts.drainMs ?? 2000);
      while (this.outbox.size > 0 && this.pump.inFlightCount > 0 && this.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await this.publish(this.topics.state, this.stateBody('offline', opts.reason ?? 'shutdown'), true, 2000);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        client.end(false, { reasonCode: 0 }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    } else {
      client?.end(true);
    }
    this.dropConnection();
    await this.alertsWrite;
    await this.outbox.close();
  }

  /**
   * Stops as a crash would: the socket is destroyed without DISCONNECT (the broker publishes the Will
   * after the Will Delay) and no reconnect follows. For tests and the fleet benchmark.
   */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopTimers();
    this.client?.stream?.destroy();
    this.dropConnection();
    await this.outbox.close();
  }

  /** Drops the current connection without DISCONNECT and reconnects as after a network fault. */
  dropConnectionForTest(): void {
    this.client?.stream?.destroy();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  metrics(): ReporterMetrics {
    return {
      connected: this.connected,
      sid: this.outbox.sid,
      lastSeq: this.outbox.lastSeq,
      connects: this.connects,
      outbox: this.outbox.stats(),
      inFlight: this.pump.inFlightCount,
      acked: this.pump.ackedCount,
    };
  }

  /**
   * How far the kiosk journal has been told: the highest journal seq an event was told from
   * (`event`'s `src`, on disk), undefined when none ever was (or before `start`).
   */
  get journalTold(): number | undefined {
    return this.outbox?.sourceSeq;
  }

  /** The kiosk journal is told up to `seq` (Outbox.noteSource); false when not kept. Never throws. */
  async noteJournalTold(seq: number): Promise<boolean> {
    if (!this.running) return false;
    return this.outbox.noteSource(seq).catch(() => false);
  }

  /**
   * An event through the durable outbox (`evt/{type}`). Card numbers in it are masked and fields naming
   * a person removed before validation. `src`: the seq of the journal record it is told from (see
   * `journalTold`). Never throws.
   */
  event<T extends EventType>(type: T, input: EventInput<T>, src?: number): EventReceipt {
    const eventId = input.eventId ?? randomUUID();
    try {
      // eventId stays out of scrub: a UUID can contain digit groups that look like a card number
      const cleaned: Record<string, unknown> = { ...(scrub(input) as Record<string, unknown>), eventId };
      if (typeof cleaned.card === 'string' && !MaskedCardSchema.safeParse(cleaned.card).success) {
        // a card number in an odd shape (short, with letters): masked here rather than losing the event
        const masked = maskCard(cleaned.card.replace(/\D/g, ''));
        if (MaskedCardSchema.safeParse(masked).success) cleaned.card = masked;
        else delete cleaned.card;
      }
      const schema = EVENT_SCHEMAS[type];
      let payload: Record<string, unknown>;
      const strict = schema.safeParse(cleaned);
      if (strict.success) {
        payload = strict.data as Record<string, unknown>;
      } else {
        // unknown fields: dropped rather than losing a money event; wrong types: nothing to send
        this.logger.error({ type, issues: strict.error.issues.slice(0, 5) }, 'fleet: invalid event payload');
        const stripped = schema.strip().safeParse(cleaned);
        if (!stripped.success) return { accepted: false, eventId, seq: null, stored: Promise.resolve(false) };
        payload = stripped.data as Record<string, unknown>;
      }
      const ts = this.now();
      const money = MONEY_EVENT_TYPES.includes(type);
      const receipt = this.outbox.enqueue(
        this.topics.evt(type),
        money,
        ts,
        (seq) => JSON.stringify({ ...envelope(this.opts.kioskId, this.outbox.sid, seq, ts), ...payload }),
        src,
      );
      this.pump.pump();
      return { accepted: true, eventId, seq: receipt.seq, stored: receipt.stored };
    } catch (err) {
      this.logger.error({ err, type }, 'fleet: event not queued');
      return { accepted: false, eventId, seq: null, stored: Promise.resolve(false) };
    }
  }

  /** Sets (or updates) `alert/{name}`, retained. Repeating the same alert publishes nothing. Never throws. */
  setAlert(name: string, input: AlertInput = {}): void {
    try {
      const topic = this.topics.alert(name);
      this.staleAlerts.delete(name);
      const key = `${input.severity ?? 'warning'}|${input.message ?? ''}`;
      if (this.alerts.get(name) === key) return;
      this.alerts.set(name, key);
      const body: AlertBody = {
        name,
        severity: input.severity ?? 'warning',
        ...(input.message ? { message: String(scrub(input.message)) } : {}),
        since: input.since ?? this.now(),
      };
      void this.publish(topic, this.body(body), true);
      this.persistAlerts();
    } catch (err) {
      this.logger.error({ err, name }, 'fleet: alert not set');
    }
  }

  /**
   * Clears `alert/{name}` (empty retained payload). Repeated clears publish once per run; the first one
   * always goes out, since an earlier run may have left the alert retained. Never throws.
   */
  clearAlert(name: string): void {
    try {
      const topic = this.topics.alert(name);
      this.staleAlerts.delete(name);
      if (this.alerts.get(name) === CLEARED) return;
      this.alerts.set(name, CLEARED);
      void this.publish(topic, '', true);
      this.persistAlerts();
    } catch (err) {
      this.logger.error({ err, name }, 'fleet: alert not cleared');
    }
  }

  /** Publishes `state` from `port.status()` (call when the kiosk's state changes). Never throws. */
  publishState(): void {
    try {
      const s = this.opts.port.status();
      void this.publish(this.topics.state, this.stateBody(s.state, s.reason), true);
    } catch (err) {
      this.logger.error({ err }, 'fleet: state not published');
    }
  }

  /** `birth`, `state` and `health` again (the `rebirth` command; also after a firmware or device change). */
  async rebirth(): Promise<void> {
    const s = this.opts.port.status();
    const birth = this.publish(this.topics.birth, this.birthBody(), true);
    const state = this.publish(this.topics.state, this.stateBody(s.state, s.reason), true);
    this.publishHealth();
    await Promise.all([birth, state]);
  }

  /** Publishes `health` now (QoS 0, retained, expires after ~3 heartbeats); skipped while offline. */
  publishHealth(): void {
    if (!this.running || !this.connected || !this.client) return;
    try {
      const body = this.body(this.healthBody());
      const expiry = Math.ceil((3 * this.heartbeatMs) / 1000);
      this.client.publish(this.topics.health, body, {
        qos: 0,
        retain: true,
        properties: { messageExpiryInterval: expiry },
      });
    } catch (err) {
      this.logger.error({ err }, 'fleet: health not published');
    }
  }

  // -------------------------------------------------------------------------------------------------
  // connection

  private async connect(): Promise<void> {
    if (!this.running) return;
    let sid: number;
    try {
      sid = await this.outbox.nextSid();
    } catch (err) {
      this.logger.error({ err }, 'fleet: sid not persisted; retrying');
      return this.scheduleReconnect();
    }
    if (!this.running) return;
    const will = this.stateBody('lost', 'connection lost', sid);
    const options: IClientOptions = {
      ...this.opts.mqttOptions,
      protocolVersion: 5,
      clientId: this.opts.kioskId,
      clean: false,
      keepalive: this.opts.keepaliveS ?? 30,
      reconnectPeriod: 0,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      queueQoSZero: false,
      resubscribe: false,
      // Without it mqtt-packet fills a cache of 65,536 two-byte Buffers at the first write (one per
      // 16-bit number it might send): 6 MB of heap for the kiosk's life, a tenth of its memory.
      writeCache: false,
      ...(this.opts.username ? { username: this.opts.username } : {}),
      ...(this.opts.password ? { password: this.opts.password } : {}),
      properties: {
        sessionExpiryInterval: Math.max(this.opts.sessionExpiryS ?? 6 * 3600, this.willDelayS()),
      },
      will: {
        topic: this.topics.state,
        payload: Buffer.from(will),
        qos: 1,
        retain: true,
        properties: { willDelayInterval: this.willDelayS() },
      },
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(this.opts.url, options);
    } catch (err) {
      this.logger.error({ err }, 'fleet: connect failed');
      return this.scheduleReconnect();
    }
    this.client = client;
    client.on('connect', (connack) => {
      if (this.client !== client) return;
      void this.onConnected(client, sid, connack.sessionPresent, connack.properties);
    });
    client.on('message', (topic, payload) => {
      if (this.client !== client) return;
      this.onMessage(topic, payload);
    });
    client.on('error', (err) => {
      this.logger.warn({ err: err.message, url: this.opts.url }, 'fleet: mqtt error');
    });
    client.on('close', () => {
      if (this.client !== client) return;
      const wasConnected = this.connected;
      this.dropConnection();
      client.removeAllListeners('message');
      client.end(true);
      if (wasConnected) this.logger.warn({ sid }, 'fleet: connection lost');
      if (wasConnected) this.attempts = 0;
      this.scheduleReconnect();
    });
  }

  private async onConnected(
    client: MqttClient,
    sid: number,
    sessionPresent: boolean,
    connack: { receiveMaximum?: number; maximumPacketSize?: number } = {},
  ): Promise<void> {
    const budget = new InflightBudget(connack.receiveMaximum);
    budget.onRelease(() => {
      if (this.budget === budget && this.client === client) this.sendBlocked(client, budget);
    });
    this.budget = budget;
    this.blocked = [];
    this.connected = true;
    this.attempts = 0;
    this.connects++;
    this.logger.info({ sid, sessionPresent, connects: this.connects }, 'fleet: connected');
    const s = this.opts.port.status();
    // birth, then state, before anything else that is due
    this.due.delete(this.topics.birth);
    this.due.delete(this.topics.state);
    const earlier = [...this.due.values()];
    void this.publish(this.topics.birth, this.birthBody(), true);
    void this.publish(this.topics.state, this.stateBody(s.state, s.reason), true);
    for (const name of this.staleAlerts) {
      if (this.alerts.has(name)) continue;
      this.alerts.set(name, CLEARED);
      void this.publish(this.topics.alert(name), '', true);
    }
    this.staleAlerts.clear();
    for (const m of earlier) if (this.due.get(m.key) === m) this.send(client, m);
    try {
      await client.subscribeAsync({
        [this.topics.cmdAll]: { qos: 1 },
        [this.topics.configDesired]: { qos: 1 },
      });
    } catch (err) {
      if (this.client === client) this.logger.error({ err }, 'fleet: subscribe failed');
    }
    if (this.client !== client || !this.connected) return;
    this.pump.attach(client, {
      budget,
      ...(connack.maximumPacketSize !== undefined ? { maximumPacketSize: connack.maximumPacketSize } : {}),
    });
    this.publishHealth();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseKioskTopic(topic);
    if (!t || t.id !== this.opts.kioskId) return;
    if (t.kind === 'cmd' && t.name) void this.commands.handle(t.name, payload);
    else if (t.kind === 'config/desired') void this.desired.handle(payload);
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const min = this.opts.reconnectMinMs ?? 1000;
    const max = this.opts.reconnectMaxMs ?? 60_000;
    const step = Math.min(max, min * 2 ** Math.min(this.attempts, 20));
    const delay = Math.round(step / 2 + (this.random() * step) / 2);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  private dropConnection(): void {
    this.connected = false;
    this.pump?.detach();
    this.budget = undefined;
    this.blocked = [];
    // QoS 1 callbacks of a dead connection may never come: whoever waits is told "not sent"
    for (const m of this.due.values()) {
      const waiters = m.waiters;
      m.waiters = [];
      for (const w of waiters) w(false);
    }
    this.client = undefined;
  }

  private stopTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    this.lag?.disable();
  }

  // -------------------------------------------------------------------------------------------------
  // publishing

  /**
   * QoS 1 publish that is kept until acknowledged: the latest body per retained topic, every cmdres.
   * Resolves true on PUBACK, false when the connection went away or `timeoutMs` passed (it is still sent
   * on the next connect). Never rejects.
   */
  private publish(topic: string, body: string, retain: boolean, timeoutMs?: number): Promise<boolean> {
    const key = retain ? topic : `${topic}#${++this.dueCounter}`;
    const previous = this.due.get(key);
    const m: DueMessage = { key, topic, body, retain, waiters: [] };
    if (previous) {
      for (const w of previous.waiters) w(false);
    }
    this.due.delete(key);
    this.due.set(key, m);
    const done = new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (ok: boolean): void => {
        if (timer) clearTimeout(timer);
        resolve(ok);
      };
      m.waiters.push(finish);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          m.waiters = m.waiters.filter((w) => w !== finish);
          resolve(false);
        }, timeoutMs);
      }
    });
    if (this.connected && this.client) this.send(this.client, m);
    return done;
  }

  private send(client: MqttClient, m: DueMessage): void {
    const budget = this.budget;
    if (!budget) return;
    // never more unacknowledged than the broker's Receive Maximum: wait for a PUBACK instead
    if (this.blocked.length > 0 || !budget.take()) {
      if (!this.blocked.includes(m)) this.blocked.push(m);
      return;
    }
    this.transmit(client, m, budget);
  }

  /** Publishes `m` on a slot already taken from `budget`; the PUBACK (or refusal) gives it back. */
  private transmit(client: MqttClient, m: DueMessage, budget: InflightBudget): void {
    const opts: IClientPublishOptions = { qos: 1, retain: m.retain };
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      budget.release();
    };
    try {
      client.publish(m.topic, m.body, opts, (err) => {
        release();
        if (this.client !== client) return;
        if (err) {
          this.logger.warn({ topic: m.topic, err: err.message }, 'fleet: publish refused');
          return;
        }
        if (this.due.get(m.key) === m) this.due.delete(m.key);
        const waiters = m.waiters;
        m.waiters = [];
        for (const w of waiters) w(true);
      });
    } catch (err) {
      release();
      this.logger.warn({ err, topic: m.topic }, 'fleet: publish threw');
    }
  }

  /** Sends what waited for a slot, oldest first, while the budget has room (skipping superseded ones). */
  private sendBlocked(client: MqttClient, budget: InflightBudget): void {
    for (let m = this.blocked[0]; m; m = this.blocked[0]) {
      if (this.due.get(m.key) === m) {
        if (!budget.take()) return;
        this.blocked.shift();
        this.transmit(client, m, budget);
      } else {
        this.blocked.shift(); // replaced by a newer body, or acknowledged meanwhile
      }
    }
  }

  private async answer(a: CommandAnswer): Promise<void> {
    await this.publish(this.topics.cmdres, this.body(a), false, 5000);
  }

  private async reportConfig(r: ConfigReportedBody): Promise<void> {
    await this.publish(this.topics.configReported, this.body(r), true, 5000);
  }

  // -------------------------------------------------------------------------------------------------
  // payloads

  /** Envelope + payload. Before start() (an alert set early) sid and seq are those not yet known: 0. */
  private body(payload: object, sid = this.outbox?.sid ?? 0): string {
    return JSON.stringify({
      ...envelope(this.opts.kioskId, sid, this.outbox?.lastSeq ?? 0, this.now()),
      ...payload,
    });
  }

  private stateBody(state: KioskStateName, reason?: string, sid?: number): string {
    const b: StateBody = { state, ...(reason ? { reason: reason.slice(0, 200) } : {}) };
    return this.body(b, sid);
  }

  private birthBody(): string {
    const facts = this.opts.birth();
    const b: BirthBody = {
      firmware: facts.firmware,
      hardware: facts.hardware,
      devices: facts.devices.map((d) => ({
        device: d.device,
        driver: d.driver,
        found: d.found,
        status: d.status,
        ...(d.bookedCoins !== undefined ? { bookedCoins: d.bookedCoins } : {}),
      })),
      capabilities: facts.capabilities,
      commands: [...COMMAND_NAMES],
      heartbeatS: Math.max(1, Math.round(this.heartbeatMs / 1000)),
      configVersion: this.opts.port.appliedConfigVersion(),
      schemaVersion: SCHEMA_VERSION,
      clockSynced: this.clockSynced(),
      bootTs: this.bootTs,
      ...(facts.kioskName !== undefined ? { kioskName: facts.kioskName } : {}),
      ...(facts.site !== undefined ? { site: facts.site } : {}),
      ...(facts.tenant !== undefined ? { tenant: facts.tenant } : {}),
      ...(facts.location !== undefined ? { location: facts.location } : {}),
    };
    return JSON.stringify(scrub(JSON.parse(this.body(b))));
  }

  private healthBody(): HealthBody {
    let facts: HealthFacts;
    try {
      facts = this.opts.health();
    } catch (err) {
      this.logger.error({ err }, 'fleet: health provider failed');
      const zero = { count: 0, cents: 0 };
      const set = { sales: zero, topups: zero, cashIn: zero };
      facts = { devices: {}, counters: { sinceInstall: set, sinceCollection: set, lastCollectionTs: null } };
    }
    const mem = process.memoryUsage();
    const lag = this.lag;
    const p99 = lag ? lag.percentile(99) / 1e6 : 0;
    const max = lag ? lag.max / 1e6 : 0;
    lag?.reset();
    return {
      state: this.opts.port.status().state,
      uptimeS: Math.round(process.uptime()),
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      cpuTempC: facts.cpuTempC ?? null,
      disk: facts.disk ?? null,
      eventLoopLagMs: { p99: round1(p99), max: round1(max) },
      devices: scrub(facts.devices) as HealthBody['devices'],
      outbox: this.outbox.stats(),
      counters: facts.counters,
      clockSynced: this.clockSynced(),
      busy: this.opts.port.isServingCustomer(),
      heartbeatS: Math.max(1, Math.round(this.heartbeatMs / 1000)),
    };
  }

  private clockSynced(): boolean {
    try {
      return this.opts.clockSynced?.() ?? true;
    } catch {
      return false;
    }
  }

  private willDelayS(): number {
    return this.opts.willDelayS ?? 45;
  }

  // -------------------------------------------------------------------------------------------------
  // alerts that outlive a run

  private async loadStaleAlerts(): Promise<void> {
    try {
      const names = JSON.parse(await readFile(path.join(this.opts.dataDir, ALERTS_FILE), 'utf8')) as unknown;
      if (Array.isArray(names)) {
        for (const n of names) if (typeof n === 'string' && !this.alerts.has(n)) this.staleAlerts.add(n);
      }
    } catch {
      // no file yet, or unreadable: nothing to clear
    }
  }

  private persistAlerts(): void {
    // before start() has read the earlier run's file, writing it would lose what must be cleared
    if (!this.alertsLoaded) return;
    const file = path.join(this.opts.dataDir, ALERTS_FILE);
    const names = [...this.alerts.entries()].filter(([, v]) => v !== CLEARED).map(([k]) => k);
    this.alertsWrite = this.alertsWrite
      .then(async () => {
        await writeFile(`${file}.tmp`, JSON.stringify(names));
        await rename(`${file}.tmp`, file);
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'fleet: alerts file not written'));
  }
}

function round1(n: number): number {
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : 0;
}
