/**
 * Several dashboard workers sharing the event stream (`$share/<group>/...`) into one PostgreSQL, fed by
 * simulated kiosks through a real Mosquitto: ingest rate, publish-to-stored latency (the event's `ts`,
 * set when published, to the commit of its ledger row), and lost and duplicated events (each event
 * is published, some twice as an outbox replay would; the ledger must hold each exactly once).
 *
 *   npx tsx bench/dashboard-ingest.ts --kiosks 1000 --workers 2 --events 5 --rate 1000
 *
 * Needs PostgreSQL (default postgres://postgres@127.0.0.1:5432/test, or --store); uses a schema of its
 * own and drops it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import mqtt from 'mqtt';

import { startDashboard, type Dashboard } from '../src/dashboard/server.js';
import { FleetStore } from '../src/dashboard/store/fleet-store.js';
import { newCondition, transactionEvent, type SimCondition } from '../src/fleet-sim/payloads.js';
import { startMosquitto } from '../src/harness/mosquitto.js';

const { values } = parseArgs({
  options: {
    kiosks: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    events: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    replay: { type: 'string', default: '0.02' },
    store: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const kiosks = Number(values.kiosks);
const workers = Number(values.workers);
const perKiosk = Number(values.events);
const rate = Number(values.rate);
const replayShare = Number(values.replay);
const schema = `dash_bench_${randomBytes(4).toString('hex')}`;

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const broker = await startMosquitto({
    extraConfig: ['max_queued_messages 200000', 'max_inflight_messages 100'],
  });
  const latencies: number[] = [];
  const dashes: Dashboard[] = [];
  for (let i = 0; i < workers; i++) {
    dashes.push(
      await startDashboard({
        mqttUrl: broker.url,
        port: 0,
        waitForBroker: true,
        store: values.store,
        storeSchema: schema,
        auth: false,
        group: 'bench',
        clientId: `bench-worker-${i}-${randomUUID().slice(0, 6)}`,
        onStored: (r, storedAt) => {
          if (r.ok && r.channel === 'event' && r.changed && r.ts !== undefined)
            latencies.push(storedAt - r.ts);
        },
      }),
    );
  }
  const pubs = await Promise.all(
    Array.from({ length: 4 }, () => mqtt.connectAsync(broker.url, { protocolVersion: 5 })),
  );
  const conditions: SimCondition[] = Array.from({ length: kiosks }, (_, i) =>
    newCondition(`k-${String(i + 1).padStart(5, '0')}`),
  );
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
  const publishedIn = Date.now() - t0;

  const probe = await FleetStore.open(values.store, { schema });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [r] = await probe.all('SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM ledger');
    if (Number(r?.n ?? 0) >= unique.size) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const storedIn = Date.now() - t0;
  const [r] = await probe.all(
    'SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d, SUM(amount_cents) AS c FROM ledger',
  );
  const sorted = [...latencies].sort((a, b) => a - b);
  const perWorker = dashes.map((d) => d.buffer!.health.written);
  console.log(
    `kiosks ${kiosks}, workers ${workers} (shared subscription, one PostgreSQL), target ${rate} events/s`,
  );
  console.log(
    `published ${published} events (+${replays} replayed duplicates) in ${(publishedIn / 1000).toFixed(1)} s`,
  );
  console.log(
    `stored ${r?.n} ledger rows (${r?.d} distinct) in ${(storedIn / 1000).toFixed(1)} s = ${Math.round((Number(r?.n) / storedIn) * 1000)} events/s`,
  );
  console.log(`lost ${unique.size - Number(r?.d ?? 0)}, duplicates ${Number(r?.n ?? 0) - Number(r?.d ?? 0)}`);
  console.log(
    `publish-to-stored latency: p50 ${pct(sorted, 50)} ms, p99 ${pct(sorted, 99)} ms, max ${sorted[sorted.length - 1]} ms (${sorted.length} samples)`,
  );
  console.log(`operations written per worker: ${perWorker.join(' / ')}`);
  await probe.dropSchema(schema);
  await probe.close();
  await Promise.all(pubs.map((p) => p.endAsync()));
  for (const d of dashes) await d.stop();
  await broker.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
