/**
 * The fleet dashboard: `npx tsx src/dashboard/server.ts --mqtt mqtt://127.0.0.1:1883 --port 8090`.
 * The composition lives here (which broker, which port, which clock); everything else gets it handed in.
 *
 * Options: --mqtt <url>, --port <n> (8090), --host <addr> (127.0.0.1), --group <shared-sub group>
 * (dashboard), --username <u> (password from $DASHBOARD_MQTT_PASSWORD), --stuck-minutes <n> (10),
 * --tz <IANA zone for "today"> (Europe/Berlin).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { pino } from 'pino';

import type { Logger } from '../util/logger.js';
import { BrokerLink } from './broker-link.js';
import { FleetModel, type IngestResult } from './fleet-model.js';
import { DashboardServer } from './http-server.js';

export interface Dashboard {
  model: FleetModel;
  link: BrokerLink;
  server: DashboardServer;
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
  /** Wait for the broker before resolving (tests); by default the page is served while it connects. */
  waitForBroker?: boolean;
}

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const model = new FleetModel({
    ...(o.stuckMinutes !== undefined ? { stuckAfterMs: o.stuckMinutes * 60_000 } : {}),
    ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
  });
  const link = new BrokerLink({
    url: o.mqttUrl,
    model,
    ...(o.group !== undefined ? { group: o.group } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    // Runs only after link.start(), when `server` exists.
    onIngest: (result, receivedAt) => {
      server.onIngest(result);
      o.onIngest?.(result, receivedAt);
    },
  });
  const server = new DashboardServer({
    model,
    commands: link,
    publicDir: PUBLIC_DIR,
    ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const port = await server.listen(o.port ?? 8090, o.host ?? '127.0.0.1');
  const linked = link.start();
  if (o.waitForBroker) await linked;
  else
    linked.catch((err: unknown) =>
      o.logger?.error({ err: (err as Error).message }, 'broker refused the dashboard'),
    );
  return {
    model,
    link,
    server,
    port,
    async stop() {
      await server.close();
      await link.stop();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mqtt: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      group: { type: 'string', default: 'dashboard' },
      username: { type: 'string' },
      'stuck-minutes': { type: 'string', default: '10' },
      tz: { type: 'string', default: 'Europe/Berlin' },
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
    logger,
  });
  logger.info({ url: `http://${values.host}:${d.port}/`, mqtt: values.mqtt }, 'dashboard listening');
  const shutdown = (): void => {
    d.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
