/**
 * The fleet dashboard: `npx tsx src/dashboard/server.ts --mqtt mqtt://127.0.0.1:1883 --port 8090`.
 * The composition lives here (which broker, which port, which clock); everything else gets it handed in.
 *
 * Options: --mqtt <url>, --port <n> (8090), --host <addr> (127.0.0.1), --group <shared-sub group>
 * (dashboard), --username <u> (password from $DASHBOARD_MQTT_PASSWORD), --stuck-minutes <n> (10),
 * --tz <IANA zone for "today"> (Europe/Berlin), --store <file | postgres://...> (var/dashboard.sqlite),
 * --client-id <id> (dashboard-<host>-<port>: a persistent MQTT session), --partition <n>/<count> (several
 * workers into one PostgreSQL: this one writes the snapshots of its share of the kiosks),
 * --cashbox-capacity <EUR> (500: when a cash box counts as full, for the fill estimate),
 * --session-idle-minutes <n> (30: a session without a request of its user for that long ends).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { pino } from 'pino';

import type { Logger } from '../util/logger.js';
import { Accounts, isRole, UserError } from './auth.js';
import { BrokerLink, type CommandOrigin, type SentCommand } from './broker-link.js';
import { FleetModel, type IngestResult } from './fleet-model.js';
import { DashboardServer } from './http-server.js';
import { Ingest } from './ingest.js';
import { owns, parsePartition, type Partition } from './partition.js';
import { DEFAULT_STORE, FleetStore } from './store/fleet-store.js';
import { alertClosedOp, auditOp, commandSentOp } from './store/ops.js';
import { WriteBuffer } from './store/write-buffer.js';

export interface Dashboard {
  model: FleetModel;
  link: BrokerLink;
  server: DashboardServer;
  store: FleetStore | undefined;
  buffer: WriteBuffer | undefined;
  port: number;
  stop(): Promise<void>;
}

export interface DashboardOptions {
  mqttUrl: string;
  port?: number;
  host?: string;
  group?: string;
  username?: string;
  password?: string;
  stuckMinutes?: number;
  timeZone?: string;
  tickMs?: number;
  logger?: Logger;
  /** Also told about every ingested message (the benchmark measures latency here). */
  onIngest?: (result: IngestResult, receivedAt: number) => void;
  /** Told when a message's durable part is committed (the ingest benchmark). */
  onStored?: (result: IngestResult, storedAt: number) => void;
  /** Wait for the broker before resolving (tests); by default the page is served while it connects. */
  waitForBroker?: boolean;
  /** A store already opened, or a spec to open (a SQLite path or a postgres:// URL); absent: memory only (the CLI opens var/dashboard.sqlite). */
  store?: FleetStore | string | false;
  /** PostgreSQL schema (tests). */
  storeSchema?: string;
  /** A fixed MQTT client id: a persistent session, so the broker keeps messages across a restart. */
  clientId?: string;
  /** Health samples kept per kiosk: one per this long. Default 5 min. */
  sampleEveryMs?: number;
  /** Operator accounts and login (default: on whenever there is a store). */
  auth?: boolean;
  /** A session without a request of its user for this long ends (default 30 minutes). */
  sessionIdleMs?: number;
  /** Host names the server answers to (default 127.0.0.1, localhost, [::1]). */
  allowedHosts?: string[];
  secureCookies?: boolean;
  trustProxy?: boolean;
  /** Several workers into one store: this one writes only its partition's kiosk snapshots. */
  partition?: Partition;
  /** What a cash box holds when full (the fill estimate). Default 500 EUR. */
  cashBoxCapacityCents?: number;
}

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const log = o.logger;
  const model = new FleetModel({
    ...(o.stuckMinutes !== undefined ? { stuckAfterMs: o.stuckMinutes * 60_000 } : {}),
    ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
  });
  const ownStore = typeof o.store === 'string';
  const store =
    o.store === false || o.store === undefined
      ? undefined
      : typeof o.store === 'object'
        ? o.store
        : await FleetStore.open(o.store, o.storeSchema ? { schema: o.storeSchema } : {});
  // The buffer and the link call the HTTP server, which is made after them.
  const late: { server?: DashboardServer } = {};
  const buffer = store
    ? new WriteBuffer({
        write: (statements) => store.db.batch(statements),
        ...(log ? { logger: log } : {}),
        onHealth: (h) => {
          late.server?.storeHealthChanged(h);
          if (h.ok) sweep?.retryNow();
        },
      })
    : undefined;
  if (store) {
    // The day so far and what was already counted, from the store: a restart loses no figure.
    const now = Date.now();
    const [kiosks, today, seen] = await Promise.all([
      store.kiosks(),
      store.totalsByKiosk(model.dayOf(now)),
      store.recentEventIds(now - 24 * 3600_000),
    ]);
    model.seed(
      kiosks.map((k) => k.id),
      today,
      seen,
      now,
    );
  }
  const sweep = store && buffer ? new StaleAlertSweep(store, buffer, model, o.partition, log) : undefined;
  const ingest = new Ingest({
    model,
    ...(buffer ? { buffer } : {}),
    ...(o.sampleEveryMs !== undefined ? { sampleEveryMs: o.sampleEveryMs } : {}),
    ...(o.partition ? { partition: o.partition } : {}),
  });
  const link = new BrokerLink({
    url: o.mqttUrl,
    ingest,
    ...(buffer ? { buffer } : {}),
    ...(store
      ? {
          recordCommand: (kioskId: string, cmd: SentCommand, origin: CommandOrigin) =>
            store.writeNow([
              commandSentOp({ ...cmd, kioskId, operator: origin.operator }),
              auditOp({
                at: cmd.issuedAt,
                username: origin.operator,
                action: `command ${cmd.name}`,
                kioskId,
                detail: { cmdId: cmd.cmdId, args: cmd.args },
                ip: origin.ip ?? null,
              }),
            ]),
        }
      : {}),
    ...(o.group !== undefined ? { group: o.group } : {}),
    ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
    ...(o.onStored ? { onStored: o.onStored } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(log ? { logger: log } : {}),
    ...(sweep ? { onRetainedSynced: () => sweep.run() } : {}),
    // Runs only after link.start(), when `server` exists.
    onIngest: (result, receivedAt) => {
      late.server?.onIngest(result);
      o.onIngest?.(result, receivedAt);
    },
  });
  const accounts =
    store && o.auth !== false ? new Accounts(store, undefined, o.sessionIdleMs ?? 30 * 60_000) : undefined;
  const server = new DashboardServer({
    model,
    commands: link,
    publicDir: PUBLIC_DIR,
    ...(store ? { store } : {}),
    ...(accounts ? { accounts } : {}),
    ...(o.allowedHosts ? { allowedHosts: o.allowedHosts } : {}),
    ...(o.secureCookies !== undefined ? { secureCookies: o.secureCookies } : {}),
    ...(o.trustProxy !== undefined ? { trustProxy: o.trustProxy } : {}),
    ...(buffer ? { buffer } : {}),
    ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    ...(o.sampleEveryMs !== undefined ? { sampleEveryMs: o.sampleEveryMs } : {}),
    ...(o.cashBoxCapacityCents !== undefined ? { cashBoxCapacityCents: o.cashBoxCapacityCents } : {}),
    ...(log ? { logger: log } : {}),
  });
  late.server = server;
  const port = await server.listen(o.port ?? 8090, o.host ?? '127.0.0.1');
  const linked = link.start();
  if (o.waitForBroker) await linked;
  else
    linked.catch((err: unknown) =>
      log?.error({ err: (err as Error).message }, 'broker refused the dashboard'),
    );
  return {
    model,
    link,
    server,
    store,
    buffer,
    port,
    async stop() {
      sweep?.stop();
      await server.close();
      await link.stop();
      if (buffer) {
        // What was taken in is written before the store closes (a few seconds at most when it is away).
        await Promise.race([buffer.drain(), new Promise((r) => setTimeout(r, 5000).unref())]);
        const left = buffer.close();
        if (left > 0) log?.error({ left }, 'store unreachable at shutdown: writes not done');
      }
      if (store && ownStore) await store.close();
    },
  };
}

/**
 * The store's open alerts that the broker no longer holds (the model has every retained alert once the
 * link's retained sync arrived): cleared while this dashboard was down or disconnected past its
 * session, so their clearing never reached it. Closed now, at the moment it was learned.
 */
export async function closeStaleAlerts(
  store: FleetStore,
  buffer: WriteBuffer,
  model: FleetModel,
  partition: Partition | undefined,
  now: number = Date.now(),
): Promise<number> {
  const stale = (await store.openAlerts()).filter(
    (a) => owns(partition, a.kioskId) && !model.alertOpen(a.kioskId, a.name),
  );
  if (stale.length > 0) await buffer.add(stale.map((a) => alertClosedOp(a.kioskId, a.name, now)));
  return stale.length;
}

/**
 * Runs `closeStaleAlerts` after each retained sync. A sweep the store could not answer (it was away
 * while the broker came back) is not lost: it runs again when the write buffer sees the store back,
 * and on a growing timer meanwhile (a read can fail while no write is waiting to notice).
 */
export class StaleAlertSweep {
  private timer: NodeJS.Timeout | undefined;
  private failed = false;
  private stopped = false;
  /** Settles when the latest sweep is done (tests). */
  last: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: FleetStore,
    private readonly buffer: WriteBuffer,
    private readonly model: FleetModel,
    private readonly partition: Partition | undefined,
    private readonly log: Logger | undefined,
    private readonly retryMs: { min: number; max: number } = { min: 500, max: 30_000 },
  ) {}

  run(delayMs: number = this.retryMs.min): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    this.failed = false;
    this.last = closeStaleAlerts(this.store, this.buffer, this.model, this.partition).then(
      (n) => this.log?.info({ closed: n }, 'alerts cleared while away closed'),
      (err: unknown) => {
        this.log?.warn(
          { err: (err as Error).message },
          'could not close alerts cleared while away: will retry',
        );
        if (this.stopped) return;
        this.failed = true;
        this.timer = setTimeout(() => this.run(Math.min(delayMs * 2, this.retryMs.max)), delayMs);
        this.timer.unref();
      },
    );
  }

  /** The store answers again: a failed sweep goes now instead of at its timer. */
  retryNow(): void {
    if (this.failed) this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/**
 * `dashboard user add <name> --role admin [--tenant <merchant>]`, `user passwd <name>`, `user disable|enable <name>`, `user list`
 * (each with `--store <spec>`): the password from $DASHBOARD_PASSWORD or stdin.
 */
async function userCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      role: { type: 'string', default: 'viewer' },
      store: { type: 'string', default: DEFAULT_STORE },
      tenant: { type: 'string' },
    },
  });
  const [verb, name] = positionals;
  const store = await FleetStore.open(values.store);
  try {
    const accounts = new Accounts(store);
    if (verb === 'list') {
      for (const u of await accounts.users())
        console.log(
          `${u.username}\t${u.role}${u.tenant ? `\ttenant ${u.tenant}` : ''}${u.disabled ? '\tdisabled' : ''}`,
        );
      return;
    }
    if (!name || !['add', 'passwd', 'disable', 'enable'].includes(verb ?? ''))
      throw new UserError(
        'usage: dashboard user add <name> --role viewer|operator|admin [--tenant <merchant>] | passwd <name> | disable <name> | enable <name> | list [--store <spec>]',
      );
    if (verb === 'disable' || verb === 'enable') {
      await accounts.setDisabled(name, verb === 'disable');
      console.log(
        `user ${name} ${verb}d in ${store.db.where}${verb === 'disable' ? ' (sessions ended)' : ''}`,
      );
      return;
    }
    const password = process.env.DASHBOARD_PASSWORD ?? (await readStdin()).replace(/\r?\n$/, '');
    if (verb === 'passwd') {
      await accounts.setPassword(name, password);
      console.log(`password of ${name} changed in ${store.db.where} (sessions ended)`);
      return;
    }
    if (!isRole(values.role)) throw new UserError('role: viewer, operator or admin');
    await accounts.addUser(name, password, values.role, Date.now(), values.tenant ?? null);
    console.log(
      `user ${name} (${values.role}${values.tenant ? `, tenant ${values.tenant}` : ''}) added to ${store.db.where}`,
    );
  } finally {
    await store.close();
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return readHidden('password (at least 10 characters, then Enter): ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A password typed on the terminal, not echoed: it must not stand in the scrollback or over a shoulder. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt: whoever types as soon as it shows (a person, a script, the test)
  // would otherwise have the first characters echoed by the terminal.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UserError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === 'user') return userCommand(process.argv.slice(3));
  const { values } = parseArgs({
    options: {
      mqtt: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      group: { type: 'string', default: 'dashboard' },
      username: { type: 'string' },
      'stuck-minutes': { type: 'string', default: '10' },
      tz: { type: 'string', default: 'Europe/Berlin' },
      store: { type: 'string', default: DEFAULT_STORE },
      'client-id': { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'trust-proxy': { type: 'boolean', default: false },
      partition: { type: 'string' },
      'cashbox-capacity': { type: 'string' },
      'session-idle-minutes': { type: 'string', default: '30' },
    },
  });
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const password = process.env.DASHBOARD_MQTT_PASSWORD;
  const d = await startDashboard({
    mqttUrl: values.mqtt,
    port: Number(values.port),
    host: values.host,
    group: values.group,
    ...(values.username !== undefined ? { username: values.username } : {}),
    ...(password !== undefined ? { password } : {}),
    stuckMinutes: Number(values['stuck-minutes']),
    timeZone: values.tz,
    store: values.store,
    clientId: values['client-id'] ?? `dashboard-${os.hostname()}-${values.port}`,
    ...(values['allowed-host']
      ? { allowedHosts: ['127.0.0.1', 'localhost', '[::1]', ...values['allowed-host']] }
      : {}),
    trustProxy: values['trust-proxy'],
    sessionIdleMs: positiveMinutes(values['session-idle-minutes'], '--session-idle-minutes'),
    ...(values.partition !== undefined ? { partition: parsePartition(values.partition) } : {}),
    ...(values['cashbox-capacity'] !== undefined
      ? { cashBoxCapacityCents: Math.round(Number(values['cashbox-capacity']) * 100) }
      : {}),
    logger,
  });
  logger.info(
    { url: `http://${values.host}:${d.port}/`, mqtt: values.mqtt, store: d.store?.db.where },
    'dashboard listening',
  );
  const shutdown = (): void => {
    d.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function positiveMinutes(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} wants a number of minutes above 0, not ${v}`);
  return n * 60_000;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err instanceof UserError ? err.message : err);
    process.exit(1);
  });
}
