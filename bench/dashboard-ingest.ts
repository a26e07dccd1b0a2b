/**
 * Several dashboard workers sharing the event stream (`$share/<group>/...`) into one PostgreSQL, fed by
 * simulated kiosks through a real Mosquitto: ingest rate, publish-to-stored latency (the event's `ts`,
 * set when published, to the commit of its ledger row), and lost and duplicated events (each event
 * is published, some twice as an outbox replay would; the ledger must hold each exactly once), and the
 * store's size per kiosk.
 *
 *   npx tsx bench/dashboard-ingest.ts --kiosks 5000 --workers 2 --events 2 --rate 5000 --health 30
 *
 * Each worker is a process of its own (as in production), the publisher too (so its work does not
 * slow the dashboards' event loops); this process only starts them, waits and counts in PostgreSQL.
 * `--health <s>`: besides the events, every kiosk publishes its retained health every <s> seconds
 * (every worker reads all of it, as in production; `--snapshots hash`, the default, lets one worker per
 * kiosk write it, `--snapshots all` every worker, as before). Needs PostgreSQL (default
 * postgres://postgres@127.0.0.1:5432/test, or --store); uses a schema of its own and drops it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import mqtt from 'mqtt';

import { startDashboard } from '../src/dashboard/server.js';
import { FleetStore } from '../src/dashboard/store/fleet-store.js';
import {
  healthMessage,
  newCondition,
  transactionEvent,
  type SimCondition,
} from '../src/fleet-sim/payloads.js';
import { startMosquitto } from '../src/harness/mosquitto.js';

const { values } = parseArgs({
  options: {
    kiosks: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    events: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    replay: { type: 'string', default: '0.02' },
    health: { type: 'string', default: '0' },
    store: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    // 'hash': each worker writes the snapshots of its partition of the kiosks; 'all': every worker
    // writes every kiosk's snapshots (as before partitioning, for comparison)
    snapshots: { type: 'string', default: 'hash' },
    // internal: the child processes
    role: { type: 'string', default: 'main' },
    mqtt: { type: 'string' },
    schema: { type: 'string' },
    index: { type: 'string', default: '0' },
  },
});
const kiosks = Number(values.kiosks);
const workers = Number(values.workers);
const perKiosk = Number(values.events);
const rate = Number(values.rate);
const replayShare = Number(values.replay);
const healthS = Number(values.health);

type FromChild =
  | { op: 'ready' }
  | { op: 'published'; unique: number; published: number; replays: number; ms: number }
  | { op: 'report'; latencies: number[]; written: number; batches: number; maxAcks: number };

const send = (m: FromChild): void => void process.send?.(m);

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const kioskIds = (): SimCondition[] =>
  Array.from({ length: kiosks }, (_, i) => newCondition(`k-${String(i + 1).padStart(5, '0')}`));

/** A dashboard worker: stores what its share of the stream brings, reports its latencies when asked. */
async function worker(): Promise<void> {
  const latencies: number[] = [];
  const d = await startDashboard({
    mqttUrl: values.mqtt!,
    port: 0,
    waitForBroker: true,
    store: values.store,
    storeSchema: values.schema!,
    auth: false,
    group: 'bench',
    ...(values.snapshots === 'hash' ? { partition: { index: Number(values.index), count: workers } } : {}),
    clientId: `bench-worker-${values.index}-${randomUUID().slice(0, 6)}`,
    onStored: (r, storedAt) => {
      if (r.ok && r.channel === 'event' && r.changed && r.ts !== undefined) latencies.push(storedAt - r.ts);
    },
  });
  send({ op: 'ready' });
  process.on('message', (m: { op: string }) => {
    if (m.op !== 'report') return;
    send({
      op: 'report',
      latencies,
      written: d.buffer!.health.written,
      batches: d.buffer!.health.batches,
      maxAcks: d.link.acks.maxWaiting,
    });
    void d.stop().then(() => process.exit(0));
  });
}

/** The kiosks: paced events (some twice), and optionally every kiosk's health in the background. */
async function publisher(): Promise<void> {
  const url = values.mqtt!;
  const pubs = await Promise.all(
    Array.from({ length: 4 }, () => mqtt.connectAsync(url, { protocolVersion: 5 })),
  );
  const conditions = kioskIds();
  let healthTimer: NodeJS.Timeout | undefined;
  if (healthS > 0) {
    // Spread evenly: kiosk i sends at i/kiosks of the interval, then every interval.
    let next = 0;
    const tick = 50;
    const perTick = Math.max(1, Math.round((kiosks * tick) / (healthS * 1000)));
    healthTimer = setInterval(() => {
      for (let j = 0; j < perTick; j++) {
        const c = conditions[next]!;
        next = (next + 1) % kiosks;
        void pubs[j % pubs.length]!.publishAsync(
          `kiosk/v1/${c.id}/health`,
          JSON.stringify(healthMessage(c, Date.now())),
          { qos: 0, retain: true },
        );
      }
    }, tick);
  }
  send({ op: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const total = kiosks * perKiosk;
  const unique = new Set<string>();
  let published = 0;
  let replays = 0;
  const t0 = Date.now();
  const inflight: Promise<unknown>[] = [];
  for (let n = 0; n < total; n++) {
    const c = conditions[n % kiosks]!;
    // Paced: the n-th event is due at n / rate seconds.
    const due = t0 + (n / rate) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const e = transactionEvent(c, Date.now(), 'sale', 100 + (n % 900));
    unique.add(e.eventId);
    const pub = pubs[n % pubs.length]!;
    const topic = `kiosk/v1/${c.id}/evt/transaction`;
    inflight.push(pub.publishAsync(topic, JSON.stringify(e), { qos: 1 }));
    published++;
    if (Math.random() < replayShare) {
      inflight.push(pub.publishAsync(topic, JSON.stringify(e), { qos: 1 }));
      replays++;
    }
    if (inflight.length > 2000) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  send({ op: 'published', unique: unique.size, published, replays, ms: Date.now() - t0 });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  clearInterval(healthTimer);
  await Promise.all(pubs.map((p) => p.endAsync()));
  process.exit(0);
}

function child(role: string, url: string, schema: string, index: number): ChildProcess {
  const args = ['--role', role, '--mqtt', url, '--schema', schema, '--index', String(index)];
  for (const k of ['kiosks', 'workers', 'events', 'rate', 'replay', 'health', 'store', 'snapshots'] as const)
    args.push(`--${k}`, String(values[k]));
  return fork(fileURLToPath(import.meta.url), args, {
    execArgv: [
      '--import',
      'tsx',
      ...(role === 'worker' && process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T extends FromChild['op']>(c: ChildProcess, op: T): Promise<Extract<FromChild, { op: T }>> {
  return new Promise((resolve, reject) => {
    const on = (m: FromChild): void => {
      if (m.op !== op) return;
      c.off('message', on);
      resolve(m as Extract<FromChild, { op: T }>);
    };
    c.on('message', on);
    c.once('exit', (code) => reject(new Error(`${op}: child exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const schema = `dash_bench_${randomBytes(4).toString('hex')}`;
  const broker = await startMosquitto({
    extraConfig: ['max_queued_messages 200000', 'max_inflight_messages 1000'],
  });
  // The schema exists (migrated) before the workers start, so they do not race to create it.
  const probe = await FleetStore.open(values.store, { schema });
  const ws = Array.from({ length: workers }, (_, i) => child('worker', broker.url, schema, i));
  await Promise.all(ws.map((w) => next(w, 'ready')));
  const pub = child('publisher', broker.url, schema, 0);
  await next(pub, 'ready');
  if (healthS > 0) await new Promise((r) => setTimeout(r, healthS * 1000)); // every kiosk's health once
  const t0 = Date.now();
  const done = next(pub, 'published');
  pub.send({ op: 'go' });
  const p = await done;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [r] = await probe.all('SELECT COUNT(*) AS n FROM ledger');
    if (Number(r?.n ?? 0) >= p.unique) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const storedIn = Date.now() - t0;
  const [r] = await probe.all('SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM ledger');
  const sizes = await probe.all<{ t: string; b: number }>(
    `SELECT c.relname AS t, pg_total_relation_size(c.oid) AS b FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE s.nspname = ? AND c.relkind = 'r' AND c.relname IN ('ledger', 'kiosks', 'health_samples')`,
    [schema],
  );
  const reports = await Promise.all(
    ws.map((w) => {
      const rep = next(w, 'report');
      w.send({ op: 'report' });
      return rep;
    }),
  );
  pub.send({ op: 'stop' });
  const sorted = reports.flatMap((x) => x.latencies).sort((a, b) => a - b);
  const rows = Number(r?.n ?? 0);
  const distinct = Number(r?.d ?? 0);
  console.log(
    `kiosks ${kiosks}, workers ${workers} (processes, shared subscription, one PostgreSQL, snapshots written by ${values.snapshots === 'hash' ? 'one worker per kiosk' : 'every worker'}), target ${rate} events/s${healthS > 0 ? `, health every ${healthS} s` : ''}`,
  );
  console.log(
    `published ${p.published} events (+${p.replays} replayed duplicates) in ${(p.ms / 1000).toFixed(1)} s`,
  );
  console.log(
    `stored ${rows} ledger rows (${distinct} distinct) in ${(storedIn / 1000).toFixed(1)} s = ${Math.round((rows / storedIn) * 1000)} events/s`,
  );
  console.log(`lost ${p.unique - distinct}, duplicates ${rows - distinct}`);
  console.log(
    `publish-to-stored latency: p50 ${pct(sorted, 50)} ms, p99 ${pct(sorted, 99)} ms, max ${sorted[sorted.length - 1]} ms (${sorted.length} samples)`,
  );
  console.log(
    `per worker: operations ${reports.map((x) => x.written).join(' / ')}, transactions ${reports.map((x) => x.batches).join(' / ')}, most PUBACKs held ${reports.map((x) => x.maxAcks).join(' / ')}`,
  );
  const [hs] = await probe.all('SELECT COUNT(*) AS n FROM health_samples');
  const samples = Number(hs?.n ?? 0);
  const sampleBytes = Number(sizes.find((s) => s.t === 'health_samples')?.b ?? 0);
  const ledgerBytes = Number(sizes.find((s) => s.t === 'ledger')?.b ?? 0);
  console.log(
    `ledger ${(ledgerBytes / 1e6).toFixed(1)} MB for ${rows} rows = ${Math.round(ledgerBytes / Math.max(1, rows))} bytes per money event (with indexes); ` +
      sizes.map((s) => `${s.t} ${(Number(s.b) / 1e6).toFixed(1)} MB`).join(', '),
  );
  if (samples > 0)
    console.log(
      `health_samples ${samples} rows = ${Math.round(sampleBytes / samples)} bytes per sample (with indexes; small tables carry page overhead)`,
    );
  await Promise.all(ws.map((w) => new Promise((res) => w.once('exit', res))));
  await probe.dropSchema(schema);
  await probe.close();
  await broker.stop();
}

const run = values.role === 'worker' ? worker : values.role === 'publisher' ? publisher : main;
run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
