/**
 * The kiosk detail's back-office figures (cash box estimate, time in service) on a store holding a
 * realistic week, on SQLite and PostgreSQL: the whole week of samples carried to Node (how the page
 * did it) against the digest computed in SQL (`FleetStore.officeDigest`), per request time and rows
 * carried; then the dashboard's HTTP answers (`GET /api/kiosks/:id`, `GET /api/kiosks`) on a quiet
 * machine, p50/p99, through a running dashboard (a real Mosquitto on a free port, no kiosk publishing).
 *
 *   npx tsx bench/dashboard-detail.ts --kiosks 300 --days 7 --requests 400 --store both [--only figures|http]
 *
 * The store is filled as the dashboard fills it: kiosks publish health every 30 s (src/fleet/reporter.ts)
 * and the dashboard keeps one sample per kiosk per 5 min (`sampleEveryMs`), 2016 rows a kiosk a week.
 * PostgreSQL: postgres://postgres@127.0.0.1:5432/test (or --pg), in a schema of its own, dropped after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { startDashboard } from '../src/dashboard/server.js';
import { cashBoxEstimate, RATE_WINDOW_MS, uptimeFrom, uptimeOf } from '../src/dashboard/office-figures.js';
import { FleetStore } from '../src/dashboard/store/fleet-store.js';
import { healthSampleInserts, simulatedHealthWeek } from '../src/fleet-sim/health-week.js';
import { startMosquitto } from '../src/harness/mosquitto.js';
import { fmtMs, percentile } from './app-rig.js';

const { values } = parseArgs({
  options: {
    kiosks: { type: 'string', default: '300' },
    days: { type: 'string', default: '7' },
    'sample-every': { type: 'string', default: '300' },
    requests: { type: 'string', default: '400' },
    store: { type: 'string', default: 'both' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    // `http`: only the HTTP part (it runs on a tree without officeDigest too, for a before/after).
    only: { type: 'string' },
  },
});
const KIOSKS = Number(values.kiosks);
const DAYS = Number(values.days);
const EVERY = Number(values['sample-every']) * 1000;
const REQUESTS = Number(values.requests);
const WEEK = 7 * 86_400_000;
const CAPACITY = 50_000;

interface Timed {
  ms: number[];
  rows: number;
}

function summary(name: string, t: Timed): string {
  const s = [...t.ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${name}: p50 ${fmtMs(percentile(s, 50))}, p99 ${fmtMs(percentile(s, 99))}, mean ${fmtMs(mean)}, rows to Node ${(t.rows / s.length).toFixed(1)} per request`;
}

async function fill(store: FleetStore, now: number): Promise<number> {
  const started = performance.now();
  let rows = 0;
  for (let i = 0; i < KIOSKS; i++) {
    const id = `k-${String(i).padStart(4, '0')}`;
    const samples = simulatedHealthWeek(id, now - DAYS * 86_400_000, now, EVERY, 1000 + i);
    rows += samples.length;
    await store.db.batch([
      {
        sql: 'INSERT INTO kiosks (id, first_seen, last_seen, state) VALUES (?, ?, ?, ?)',
        params: [id, now - DAYS * 86_400_000, now, 'online'],
      },
      ...healthSampleInserts(samples),
    ]);
  }
  if (store.dialect === 'postgres') await store.db.batch([{ sql: 'ANALYZE health_samples', params: [] }]);
  console.log(
    `  filled ${rows} samples for ${KIOSKS} kiosks x ${DAYS} days in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return rows;
}

async function figures(store: FleetStore, now: number): Promise<void> {
  const ids = Array.from({ length: REQUESTS }, (_, i) => `k-${String((i * 7919) % KIOSKS).padStart(4, '0')}`);
  const whole: Timed = { ms: [], rows: 0 };
  const digest: Timed = { ms: [], rows: 0 };
  let differ = 0;
  // Interleaved, so both meet the same cache and the same neighbours.
  for (const id of ids) {
    let t = performance.now();
    const samples = await store.healthSamples(id, now - WEEK);
    const a = [cashBoxEstimate(samples, now, CAPACITY), uptimeOf(samples, now - WEEK, now, EVERY)];
    whole.ms.push(performance.now() - t);
    whole.rows += samples.length;
    t = performance.now();
    const d = await store.officeDigest(id, {
      cashSince: now - RATE_WINDOW_MS,
      serviceFrom: now - WEEK,
      now,
      sampleEveryMs: EVERY,
    });
    const b = [cashBoxEstimate(d.samples, now, CAPACITY), uptimeFrom(d.service, now - WEEK, now)];
    digest.ms.push(performance.now() - t);
    digest.rows += d.samples.length + 1;
    if (JSON.stringify(a) !== JSON.stringify(b)) differ++;
  }
  console.log(`  ${summary('before, the week to Node', whole)}`);
  console.log(`  ${summary('after, the digest in SQL ', digest)}`);
  console.log(`  figures that differ: ${differ} of ${ids.length}`);
}

async function http(store: FleetStore): Promise<void> {
  const broker = await startMosquitto({ persistence: false });
  const dash = await startDashboard({
    mqttUrl: broker.url,
    port: 0,
    waitForBroker: true,
    store,
    auth: false,
  });
  try {
    const base = `http://127.0.0.1:${dash.port}`;
    const get = async (p: string, into: number[]) => {
      const t = performance.now();
      const res = await fetch(base + p);
      await res.arrayBuffer();
      into.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
    };
    const detail: number[] = [];
    const list: number[] = [];
    for (let i = 0; i < 20; i++) await get('/api/kiosks/k-0000', []); // warm-up
    for (let i = 0; i < REQUESTS; i++) {
      await get(`/api/kiosks/k-${String((i * 7919) % KIOSKS).padStart(4, '0')}`, detail);
      await get('/api/kiosks', list);
    }
    for (const [name, ms] of [
      ['GET /api/kiosks/:id', detail],
      ['GET /api/kiosks    ', list],
    ] as const) {
      const s = [...ms].sort((a, b) => a - b);
      console.log(
        `  ${name}: p50 ${fmtMs(percentile(s, 50))}, p99 ${fmtMs(percentile(s, 99))}, max ${fmtMs(s.at(-1) ?? NaN)} (${s.length} requests, one at a time)`,
      );
    }
  } finally {
    await dash.stop();
    await broker.stop();
  }
}

async function run(kind: 'sqlite' | 'postgres'): Promise<void> {
  const dir = kind === 'sqlite' ? mkdtempSync(path.join(os.tmpdir(), 'bench-detail-')) : undefined;
  const schema = `bench_detail_${randomBytes(4).toString('hex')}`;
  const store = dir
    ? await FleetStore.open(path.join(dir, 'dashboard.sqlite'))
    : await FleetStore.open(values.pg, { schema });
  console.log(`${kind}:`);
  try {
    const now = Date.now();
    await fill(store, now);
    if (values.only !== 'http') await figures(store, now);
    if (values.only !== 'figures') await http(store);
  } finally {
    if (!dir) await store.dropSchema(schema);
    await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `${KIOSKS} kiosks, ${DAYS} days of health samples, one per ${EVERY / 1000} s; ${REQUESTS} requests; node ${process.version}, ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const kind of values.store === 'both'
  ? (['sqlite', 'postgres'] as const)
  : [values.store as 'sqlite' | 'postgres'])
  await run(kind);
