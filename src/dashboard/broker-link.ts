/**
 * The dashboard's one MQTT connection: it reads the fleet into a `FleetModel` and publishes the
 * operator's commands.
 *
 * Subscriptions (docs/fleet-mqtt.md): the retained topics (`state`, `birth`, `health`, `alert/+`,
 * `config/reported`) and `cmdres` with a normal subscription, so every dashboard instance has the
 * whole picture; events through the shared subscription `$share/<group>/kiosk/v1/+/evt/+`, so several
 * instances split the event stream instead of each processing every event.
 *
 * Acknowledgements: a QoS 1 message is acknowledged (PUBACK) only when what it carries that must not be
 * lost (money, alerts, command answers) is committed to the store, and the link stops taking messages
 * while the write buffer is full; until then the broker keeps them. Messages are taken in without
 * waiting for the previous one's commit (`DeferredAcks`): up to the Receive Maximum are in flight, so
 * the write buffer commits them together, one transaction per batch. With `clientId` set the session is
 * persistent (`clean: false`, one hour expiry), so the broker also keeps what arrives while the
 * dashboard restarts.
 *
 * Errors: `sendCommand` rejects with a `CommandError` whose `kind` says what the HTTP layer should
 * answer: `bad_command` (unknown name, bad args: the operator's mistake), `not_connected` (the broker
 * is down: try again), `publish_failed` (the broker refused or the connection dropped before PUBACK:
 * the command may or may not have been delivered; its cmdId makes a retry safe), `not_stored` (the
 * store could not record it, so it was not sent: no command leaves without its audit record).
 */
import { randomUUID } from 'node:crypto';

import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';

import { COMMAND_ARGS, COMMAND_NAMES, type CommandName } from '../fleet/envelope.js';
import { unpackEvents } from '../fleet/event-batch.js';
import { fleetSubscriptions, kioskTopics, TOPIC_ROOT } from '../fleet/topics.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { DeferredAcks } from './deferred-acks.js';
import type { IngestResult } from './fleet-model.js';
import type { Ingest } from './ingest.js';
import type { WriteBuffer } from './store/write-buffer.js';

/** Who sent a command: the operator (null without accounts) and the client address, for the audit log. */
export interface CommandOrigin {
  operator: string | null;
  ip?: string;
}

export interface BrokerLinkOptions {
  url: string;
  ingest: Ingest;
  /** The store's write buffer: the link waits for room in it before taking more messages. */
  buffer?: WriteBuffer;
  /** Written (and awaited) before a command is published, so its answers and the audit find it. */
  recordCommand?: (kioskId: string, cmd: SentCommand, origin: CommandOrigin) => Promise<void>;
  /** The dashboard's clock (ms). */
  now?: () => number;
  /** Shared-subscription group for events. Default `dashboard`. */
  group?: string;
  /** A fixed client id makes the session persistent (the broker keeps messages while the dashboard is away). */
  clientId?: string;
  username?: string;
  password?: string;
  /** Commands expire after this long unless the caller says otherwise (contract: 60-600 s). Default 120 s. */
  commandTtlS?: number;
  logger?: Logger;
  /** Called after every message the model accepted or refused (the server's change feed, the bench's probe). */
  onIngest?: (result: IngestResult, receivedAt: number) => void;
  onConnection?: (connected: boolean) => void;
  /** Called when a message's durable part is committed (the benchmark's publish-to-stored probe). */
  onStored?: (result: IngestResult, storedAt: number) => void;
  /** QoS 1 messages in flight (stored, not yet acknowledged) at most: our MQTT 5 Receive Maximum. Default 1000. */
  receiveMaximum?: number;
  /**
   * Called after each (re)subscription, when every retained message it brought has been taken in and
   * the model has closed the alerts it did not bring: what is open in the store but not in the model was
   * cleared while the dashboard was away. See `syncTopic`.
   */
  onRetainedSynced?: () => void;
  /** More MQTT.js options (tests: short reconnect periods). */
  mqtt?: Partial<IClientOptions>;
}

export type CommandErrorKind = 'bad_command' | 'not_connected' | 'not_stored' | 'publish_failed' | 'conflict';

export class CommandError extends Error {
  constructor(
    readonly kind: CommandErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface SentCommand {
  cmdId: string;
  name: CommandName;
  issuedAt: number;
  expiresAt: number;
  args: Record<string, unknown>;
}

export function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as string[]).includes(name);
}

/** Passed to MQTT.js's callback so it goes on to the next message without sending the PUBACK itself. */
const ACK_HELD = new Error('PUBACK held until stored');

/** The one MQTT.js internal the link needs: writing a PUBACK packet on the current connection. */
interface PacketWriter {
  _sendPacket(
    packet: { cmd: 'puback'; messageId: number; reasonCode: number },
    cb?: () => void,
    cbStorePut?: () => void,
    noStore?: boolean,
  ): void;
}

/**
 * The retained messages of a subscription are queued to the subscriber when the broker handles the
 * SUBSCRIBE; a QoS 1 message this client publishes after the SUBACK to a topic it subscribes is queued
 * behind them (Mosquitto keeps one ordered queue per client; MQTT 5 orders QoS 1 per topic anyway for
 * the alerts, and the marker only has to come after the burst), so its arrival says the retained burst
 * is in. MQTT has no other end-of-retained signal. The ACL gives each back-end account this one topic.
 */
export function syncTopic(clientId: string): string {
  return `dashboard/v1/${clientId.replace(/[^A-Za-z0-9_-]/g, '_')}/sync`;
}

export class BrokerLink {
  private client: MqttClient | undefined;
  /** The marker this link waits for: the token it published after its latest subscription. */
  private sync: { token: string; mark: number } | undefined;
  /** PUBACKs owed for messages not yet stored, in arrival order. */
  readonly acks = new DeferredAcks((messageId) => {
    const c = this.client;
    // Never stored offline for a later connection: that one gets the messages again.
    if (c?.connected)
      (c as unknown as PacketWriter)._sendPacket(
        { cmd: 'puback', messageId, reasonCode: 0 },
        undefined,
        undefined,
        true,
      );
  });
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: BrokerLinkOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
  }

  /** Retained syncs completed (one per connection whose marker came back): tests wait for this event. */
  syncs = 0;

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Connects and subscribes; resolves on the first successful subscription, keeps reconnecting after.
   * Every connection subscribes again (and syncs): a connection without its session (a clean one, an
   * expired one, a broker restarted without persistence) missed every alert cleared while it was away,
   * and even a kept session may have had queued messages dropped at the broker's limit; only a new
   * retained burst tells what is still raised.
   */
  async start(): Promise<void> {
    const o = this.opts;
    const clientId = o.clientId ?? `dashboard-${randomUUID().slice(0, 8)}`;
    const topic = syncTopic(clientId);
    const client = mqtt.connect(o.url, {
      protocolVersion: 5,
      clientId,
      clean: o.clientId === undefined,
      properties: {
        receiveMaximum: o.receiveMaximum ?? 1000,
        ...(o.clientId !== undefined ? { sessionExpiryInterval: 3600 } : {}),
      },
      keepalive: 30,
      // MQTT.js has no jitter of its own: many dashboards restarting together should not reconnect in step.
      reconnectPeriod: 1000 + Math.floor(Math.random() * 1000),
      connectTimeout: 10_000,
      queueQoSZero: false,
      // Ours on every connection (see above); MQTT.js's would skip a connection whose session is present.
      resubscribe: false,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...o.mqtt,
    });
    this.client = client;
    // Instead of the 'message' event: MQTT.js sends the PUBACK when this calls back.
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void): void => {
      if (packet.topic === topic) {
        const sync = this.sync;
        // A marker of an earlier connection's subscription says nothing about this one's burst.
        if (sync && String(packet.payload) === sync.token) {
          this.sync = undefined;
          this.synced(sync.mark);
        }
        return callback();
      }
      const stored = this.take(packet);
      // The buffer at its bound: take nothing more until there is room (the broker keeps the rest).
      const room = o.buffer?.full ? o.buffer.whenRoom() : undefined;
      if (packet.qos === 1 && packet.messageId !== undefined) {
        const stored1 = this.acks.hold(packet.messageId);
        stored.then(stored1, stored1);
        // An error makes MQTT.js skip its own PUBACK and go on to the next message.
        const next = (): void => callback(ACK_HELD);
        if (room) room.then(next, next);
        else next();
        return;
      }
      if (!room && packet.qos === 0) return callback();
      Promise.all([stored, room]).then(
        () => callback(),
        () => callback(),
      );
    };
    let first: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const subscribed = new Promise<void>((resolve, reject) => (first = { resolve, reject }));
    client.on('connect', () => {
      this.acks.reset();
      this.log.info({ url: o.url }, 'connected to broker');
      o.onConnection?.(true);
      const settle = first;
      first = undefined;
      this.subscribe(client, topic).then(
        () => settle?.resolve(),
        (err: unknown) => {
          if (settle) settle.reject(err as Error);
          else this.log.warn({ err: (err as Error).message }, 'subscription after reconnect failed');
        },
      );
    });
    client.on('close', () => {
      this.acks.reset();
      o.onConnection?.(false);
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'broker connection error'));

    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        // Keep trying on connection refusals; only a broker that refuses us (auth) is fatal at start.
        if ('code' in err && typeof err.code === 'number') reject(err);
      };
      client.once('connect', () => {
        client.off('error', onError);
        resolve();
      });
      client.on('error', onError);
    });
    await subscribed;
  }

  /**
   * Subscribes, then publishes the sync marker (see `syncTopic`): when it comes back, the retained
   * burst of this subscription is in and the alerts it did not bring are closed.
   */
  private async subscribe(client: MqttClient, topic: string): Promise<void> {
    const o = this.opts;
    const sync = { token: randomUUID(), mark: o.ingest.model.beginAlertSync() };
    this.sync = sync;
    const root = TOPIC_ROOT;
    await client.subscribeAsync({
      [`${root}/+/state`]: { qos: 1 },
      [`${root}/+/birth`]: { qos: 1 },
      [`${root}/+/health`]: { qos: 0 },
      [`${root}/+/alert/+`]: { qos: 1 },
      [`${root}/+/config/reported`]: { qos: 1 },
      [`${root}/+/cmdres`]: { qos: 1 },
      [fleetSubscriptions.sharedEvents(o.group ?? 'dashboard')]: { qos: 1 },
      [topic]: { qos: 1 },
    });
    client
      .publishAsync(topic, sync.token, { qos: 1 })
      .catch((err: unknown) =>
        this.log.warn(
          { err: (err as Error).message, topic },
          'retained sync refused by the broker: alerts cleared while the dashboard was away stay open',
        ),
      );
  }

  /** The retained burst is in: the model drops what it did not bring, then the store follows. */
  private synced(mark: number): void {
    const o = this.opts;
    const closed = o.ingest.model.endAlertSync(mark);
    const now = this.now();
    for (const a of closed) {
      this.log.info(a, 'alert cleared while away');
      o.onIngest?.(
        {
          ok: true,
          kioskId: a.kioskId,
          channel: 'alert',
          ts: undefined,
          changed: true,
          note: 'cleared while away',
        },
        now,
      );
    }
    this.syncs++;
    o.onRetainedSynced?.();
  }

  /** One message in: never throws (one broken message must not take the dashboard down). */
  private take(packet: IPublishPacket): Promise<void> {
    const o = this.opts;
    const receivedAt = this.now();
    try {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      // an outbox replay may pack several events in one evt/batch message: each is ingested on its own
      const stored: Promise<void>[] = [];
      for (const m of unpackEvents(packet.topic, payload)) {
        const r = o.ingest.raw(m.topic, m.payload, { receivedAt, retained: packet.retain });
        if (!r.result.ok) this.log.debug({ topic: m.topic, reason: r.result.reason }, 'ignored message');
        o.onIngest?.(r.result, receivedAt);
        const onStored = o.onStored;
        stored.push(onStored ? r.stored.then(() => onStored(r.result, this.now())) : r.stored);
      }
      return Promise.all(stored).then(() => undefined);
    } catch (err) {
      this.log.error({ err: (err as Error).message, topic: packet.topic }, 'ingest failed');
      return Promise.resolve();
    }
  }

  /** Publishes a command (QoS 1, message expiry = its lifetime) and resolves on the broker's PUBACK. */
  async sendCommand(
    kioskId: string,
    name: string,
    args: unknown = {},
    ttlS: number = this.opts.commandTtlS ?? 120,
    origin: CommandOrigin = { operator: null },
    /**
     * Runs once the command is recorded and before it is published (a voucher's settlement marked
     * pending under this cmdId, so its answer finds it); throwing a CommandError stops the send.
     */
    prepare?: (cmd: SentCommand) => Promise<void>,
  ): Promise<SentCommand> {
    if (!isCommandName(name)) throw new CommandError('bad_command', `unknown command ${name}`);
    const parsed = COMMAND_ARGS[name].safeParse(args ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CommandError(
        'bad_command',
        `bad args for ${name}: ${issue ? `${issue.path.join('.')} ${issue.message}` : ''}`,
      );
    }
    if (!Number.isInteger(ttlS) || ttlS < 10 || ttlS > 3600)
      throw new CommandError('bad_command', 'ttlS must be 10..3600');
    const client = this.client;
    if (!client?.connected) throw new CommandError('not_connected', 'not connected to the broker');
    let topic: string;
    try {
      topic = kioskTopics(kioskId).cmd(name);
    } catch {
      throw new CommandError('bad_command', `bad kiosk id ${kioskId}`);
    }
    const issuedAt = this.now();
    const cmd: SentCommand = {
      cmdId: randomUUID(),
      name,
      issuedAt,
      expiresAt: issuedAt + ttlS * 1000,
      args: parsed.data as Record<string, unknown>,
    };
    // Known (and stored) before the answer can arrive, so `accepted` finds its command.
    if (this.opts.recordCommand) {
      try {
        await this.opts.recordCommand(kioskId, cmd, origin);
      } catch (err) {
        throw new CommandError(
          'not_stored',
          `not sent: the store did not take it (${(err as Error).message})`,
        );
      }
    }
    if (prepare) {
      try {
        await prepare(cmd);
      } catch (err) {
        if (err instanceof CommandError) throw err;
        throw new CommandError('not_stored', `not sent: ${(err as Error).message}`);
      }
    }
    this.opts.ingest.model.commandSent(kioskId, { cmdId: cmd.cmdId, name, issuedAt, args: cmd.args });
    try {
      await client.publishAsync(
        topic,
        JSON.stringify({
          cmdId: cmd.cmdId,
          issuedAt: cmd.issuedAt,
          expiresAt: cmd.expiresAt,
          args: cmd.args,
        }),
        { qos: 1, properties: { messageExpiryInterval: ttlS } },
      );
    } catch (err) {
      throw new CommandError('publish_failed', `publish failed: ${(err as Error).message}`);
    }
    this.log.info({ kioskId, name, cmdId: cmd.cmdId }, 'command sent');
    return cmd;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }
}
