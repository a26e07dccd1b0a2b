/**
 * Fleet benchmark: `npx tsx bench/fleet.ts --kiosks 1000`.
 *
 * One local Mosquitto (the test harness), the dashboard (MQTT link + model + HTTP/SSE) in this
 * process, and N simulated kiosk reporters, each with its own MQTT connection and Will, in a few child
 * processes. Prints:
 *   - ramp: time until every kiosk is connected and shown `online`;
 *   - steady: messages/s ingested and end-to-end latency p50/p99 (payload `ts` at publish -> the
 *     dashboard's model updated), with health every --heartbeat s and a sale every --sale-every s;
 *   - burst: every kiosk publishes --burst sales back to back; ingest rate, lost and duplicates;
 *   - the dashboard's memory (RSS, heap) after the steady phase and after the burst;
 *   - outbox replay after a broker outage (src/fleet/outbox.ts + outbox-pump.ts): the in-flight window
 *     with `evt/batch` vs the window alone vs one message per round trip vs MQTT.js's own offline store,
 *     over a link with --rtt ms, to a broker whose Receive Maximum is --receive-max (Mosquitto's
 *     `max_inflight_messages`; its default is 20, deploy/mosquitto says 32). A subscriber on the broker
 *     unpacks what arrives (unpackEvents) and checks that every seq came, in order.
 * Loopback only; stops by itself (about a minute and a half with the defaults; `--outbox-only` skips
 * the fleet part and takes about 20 s).
 *
 *   npx tsx bench/fleet.ts --outbox-only --rtt 50
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import mqtt from 'mqtt';

import type { IngestResult } from '../src/dashboard/fleet-model.js';
import { startDashboard, type Dashboard } from '../src/dashboard/server.js';
import { Outbox } from '../src/fleet/outbox.js';
import { OutboxPump } from '../src/fleet/outbox-pump.js';
import { envelope } from '../src/fleet/envelope.js';
import { unpackEvents } from '../src/fleet/event-batch.js';
import { InflightBudget } from '../src/fleet/inflight-budget.js';
import { kioskTopics } from '../src/fleet/topics.js';
import { newCondition, transactionEvent } from '../src/fleet-sim/payloads.js';
import { startMosquitto, type MosquittoBroker } from '../src/harness/mosquitto.js';
import { startDelayProxy } from './fleet-link-delay.js';

const { values } = parseArgs({
  options: {
    kiosks: { type: 'string', default: '1000' },
    procs: { type: 'string' },
    heartbeat: { type: 'string', default: '5' },
    'sale-every': { type: 'string', default: '10' },
    steady: { type: 'string', default: '20' },
    burst: { type: 'string', default: '20' },
    outbox: { type: 'string', default: '2000' },
    rtt: { type: 'string', default: '20' },
    window: { type: 'string', default: '32' },
    'receive-max': { type: 'string', default: '20' },
    'outbox-only': { type: 'boolean', default: false },
  },
});
const N = Number(values.kiosks);
const PROCS = Number(values.procs ?? Math.max(1, Math.ceil(N / 250)));
const HEARTBEAT_S = Number(values.heartbeat);
const STEADY_S = Number(values.steady);
const BURST = Number(values.burst);
const OUTBOX_N = Number(values.outbox);
const RTT = Number(values.rtt);
const WINDOW = Number(values.window);
const RECEIVE_MAX = Number(values['receive-max']);
const here = path.dirname(fileURLToPath(import.meta.url));

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      console.log(`  (gave up waiting for ${what} after ${timeoutMs / 1000} s)`);
      return false;
    }
    await wait(20);
  }
  return true;
}

/** What the dashboard ingested, per phase. */
class Probe {
  messages = 0;
  events = 0;
  latencies: number[] = [];
  lastEventAt = 0;
  reset(): void {
    this.messages = 0;
    this.events = 0;
    this.latencies = [];
  }
  onIngest = (r: IngestResult, receivedAt: number): void => {
    this.messages++;
    if (!r.ok) return;
    if (r.channel === 'event') {
      this.events++;
      this.lastEventAt = receivedAt;
    }
    if (r.ts !== undefined && (r.channel === 'event' || r.channel === 'health'))
      this.latencies.push(receivedAt - r.ts);
  };
}

function startChildren(url: string): { children: ChildProcess[]; ready: Promise<void> } {
  const per = Math.ceil(N / PROCS);
  const children: ChildProcess[] = [];
  const readies: Promise<void>[] = [];
  for (let p = 0; p < PROCS; p++) {
    const first = 1 + p * per;
    const count = Math.min(per, N - p * per);
    if (count <= 0) break;
    const child = fork(
      path.join(here, '../src/fleet-sim/run.ts'),
      [
        '--mqtt',
        url,
        '--kiosks',
        String(count),
        '--first',
        String(first),
        '--heartbeat',
        String(HEARTBEAT_S),
        '--sale-every',
        values['sale-every'],
        '--will-delay',
        '60',
        '--quiet-life',
      ],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    children.push(child);
    readies.push(
      new Promise((resolve, reject) => {
        child.on('message', (m: { op: string }) => m.op === 'ready' && resolve());
        child.once('exit', (code) => reject(new Error(`sim child exited with ${code}`)));
      }),
    );
  }
  return { children, ready: Promise.all(readies).then(() => undefined) };
}

async function burst(children: ChildProcess[], perKiosk: number): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          const on = (m: { op: string }) => {
            if (m.op === 'burst-done') {
              c.off('message', on);
              resolve();
            }
          };
          c.on('message', on);
          c.send({ op: 'burst', perKiosk });
        }),
    ),
  );
}

interface ReplayResult {
  mode: string;
  sent: number;
  acked: number;
  ms: number;
  /** MQTT messages the pump published (a batch counts once). */
  messages?: number;
  /** What the subscriber saw: distinct seqs, and whether they came in order. */
  received?: { distinct: number; inOrder: boolean };
}

/** Subscribes to a kiosk's events directly on the broker and unpacks batches, as the dashboard does. */
async function eventWatcher(broker: MosquittoBroker, id: string) {
  const seen = new Set<number>();
  let last = 0;
  let inOrder = true;
  const sub = mqtt.connect(broker.url, { protocolVersion: 5, clientId: `${id}-watch` });
  await new Promise<void>((r) => sub.once('connect', () => r()));
  await sub.subscribeAsync(`${kioskTopics(id).base}/evt/+`, { qos: 1 });
  sub.on('message', (topic, payload) => {
    for (const m of unpackEvents(topic, payload)) {
      const seq = (JSON.parse(Buffer.from(m.payload).toString('utf8')) as { seq: number }).seq;
      // a replay after a reconnect may repeat seqs (de-duplicated), never go back behind a new one
      if (!seen.has(seq) && seq < last) inOrder = false;
      seen.add(seq);
      last = Math.max(last, seq);
    }
  });
  return {
    result: () => ({ distinct: seen.size, inOrder }),
    close: () => sub.endAsync(true),
  };
}

/** Outbox with the pump (window W) after an outage: enqueue while the broker is down, then drain. */
async function replayOutbox(
  broker: MosquittoBroker,
  id: string,
  window: number,
  capMs: number,
  batch: boolean,
): Promise<ReplayResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-outbox-'));
  const outbox = await Outbox.open({ dir, fsync: false, maxMessages: OUTBOX_N * 2 });
  const topic = kioskTopics(id).evt('transaction');
  const c = newCondition(id);
  await broker.halt();
  let last: Promise<boolean> = Promise.resolve(true);
  for (let i = 0; i < OUTBOX_N; i++) {
    last = outbox.enqueue(topic, true, Date.now(), (seq) => {
      c.seq = seq - 1;
      return JSON.stringify(transactionEvent(c, Date.now(), 'sale', 100));
    }).stored;
  }
  await last;
  await broker.start();
  const watcher = await eventWatcher(broker, id);
  const proxy = await startDelayProxy(broker.port, RTT);
  const topics = kioskTopics(id);
  const pump = new OutboxPump({
    outbox,
    window,
    ...(batch
      ? { batch: { topic: topics.evt('batch'), header: (seq: number) => envelope(id, 1, seq, Date.now()) } }
      : {}),
  });
  const client = mqtt.connect(proxy.url, { protocolVersion: 5, clientId: id, reconnectPeriod: 200 });
  const t0 = performance.now();
  let receiveMaximum: number | undefined;
  client.on('connect', (connack) => {
    receiveMaximum = connack.properties?.receiveMaximum;
    pump.attach(client, { budget: new InflightBudget(receiveMaximum) });
  });
  client.on('close', () => pump.detach());
  await until(`outbox ${id} drained`, () => outbox.size === 0, capMs);
  const ms = performance.now() - t0;
  const acked = pump.ackedCount;
  await until(`${id} events seen by the subscriber`, () => watcher.result().distinct >= acked, 5000);
  const received = watcher.result();
  await watcher.close();
  await client.endAsync(true);
  await proxy.close();
  await outbox.close();
  await rm(dir, { recursive: true, force: true });
  const limit = `window ${window}, Receive Maximum ${receiveMaximum ?? 'none'}`;
  return {
    mode: `outbox pump${batch ? ' + evt/batch' : ''}, ${limit}`,
    sent: OUTBOX_N,
    acked,
    ms,
    messages: pump.messageCount,
    received,
  };
}

/** MQTT.js's own store: QoS 1 publishes made while offline, replayed by the client on reconnect. */
async function replayMqttJsStore(broker: MosquittoBroker, id: string, capMs: number): Promise<ReplayResult> {
  const proxy = await startDelayProxy(broker.port, RTT);
  const client = mqtt.connect(proxy.url, {
    protocolVersion: 5,
    clientId: id,
    clean: false,
    properties: { sessionExpiryInterval: 600 },
    reconnectPeriod: 200,
  });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await broker.halt();
  await until('client noticed the outage', () => !client.connected, 5000);
  const topic = kioskTopics(id).evt('transaction');
  const c = newCondition(id);
  let acked = 0;
  for (let i = 0; i < OUTBOX_N; i++) {
    client.publish(topic, JSON.stringify(transactionEvent(c, Date.now(), 'sale', 100)), { qos: 1 }, (err) => {
      if (!err) acked++;
    });
  }
  await broker.start();
  const t0 = performance.now();
  await until(`MQTT.js store ${id} drained`, () => acked === OUTBOX_N, capMs);
  const ms = performance.now() - t0;
  client.end(true);
  await proxy.close();
  return { mode: 'MQTT.js offline store', sent: OUTBOX_N, acked, ms };
}

async function main(): Promise<void> {
  const started = performance.now();
  if (!values['outbox-only']) await fleetPhases();
  await outboxReplay();
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.exit(0);
}

/** Ramp, steady, burst: N simulated kiosks and the dashboard on one broker. */
async function fleetPhases(): Promise<void> {
  console.log(
    `fleet bench: ${N} kiosks in ${PROCS} processes, heartbeat ${HEARTBEAT_S} s, sale every ${values['sale-every']} s`,
  );
  const broker = await startMosquitto({
    // The dashboard's QoS 1 event queue must hold a burst from the whole fleet (default 1000 drops).
    extraConfig: ['max_queued_messages 200000', 'max_inflight_messages 1000'],
  });
  const probe = new Probe();
  const dash: Dashboard = await startDashboard({
    mqttUrl: broker.url,
    port: 0,
    waitForBroker: true,
    onIngest: probe.onIngest,
  });
  const { children, ready } = startChildren(broker.url);
  const stopChildren = () => {
    for (const c of children) {
      if (c.connected) c.send({ op: 'stop' });
      setTimeout(() => c.kill('SIGKILL'), 3000).unref();
    }
  };
  try {
    const t0 = performance.now();
    await ready;
    const connected = performance.now() - t0;
    const allOnline = () =>
      dash.model.ids().filter((id) => dash.model.statusOf(id, Date.now()) === 'online').length === N;
    await until('all online on the dashboard', allOnline, 60_000);
    const online = performance.now() - t0;
    console.log(
      `ramp: ${N} connected in ${(connected / 1000).toFixed(1)} s, all online on the dashboard in ${(online / 1000).toFixed(1)} s`,
    );

    probe.reset();
    const s0 = performance.now();
    await wait(STEADY_S * 1000);
    const steadyS = (performance.now() - s0) / 1000;
    const lat = [...probe.latencies].sort((a, b) => a - b);
    const memSteady = process.memoryUsage();
    console.log(
      `steady: ${(probe.messages / steadyS).toFixed(0)} msg/s ingested (${probe.events} events), ` +
        `latency publish->dashboard p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat.at(-1)} ms`,
    );
    console.log(
      `dashboard memory (steady, ${dash.model.size} kiosks): RSS ${mb(memSteady.rss)}, heap used ${mb(memSteady.heapUsed)}`,
    );

    probe.reset();
    const dupBefore = dash.model.stats.duplicates;
    const expected = N * BURST;
    const b0 = performance.now();
    const bWall = Date.now();
    await burst(children, BURST);
    const publishedMs = performance.now() - b0;
    await until('burst ingested', () => probe.events >= expected, 60_000);
    const burstS = (probe.lastEventAt - bWall) / 1000;
    const bl = [...probe.latencies].sort((a, b) => a - b);
    const memBurst = process.memoryUsage();
    console.log(
      `burst: ${expected} events published in ${(publishedMs / 1000).toFixed(1)} s, ingested ${probe.events} in ${burstS.toFixed(1)} s ` +
        `= ${(probe.events / burstS).toFixed(0)} events/s; lost ${Math.max(0, expected - probe.events)}, ` +
        `duplicates ${dash.model.stats.duplicates - dupBefore}; latency under burst p50 ${pct(bl, 50)} ms, p99 ${pct(bl, 99)} ms`,
    );
    console.log(
      `dashboard memory (after burst): RSS ${mb(memBurst.rss)}, heap used ${mb(memBurst.heapUsed)}`,
    );
    console.log(`ingest totals: ${dash.model.stats.messages} messages, ${dash.model.stats.garbage} garbage`);
    stopChildren();
    await wait(500);
  } finally {
    stopChildren();
    await dash.stop();
    await broker.stop();
  }
}

/** Outbox replay after a broker outage, each mode on a broker with Receive Maximum --receive-max. */
async function outboxReplay(): Promise<void> {
  const broker = await startMosquitto({ extraConfig: [`max_inflight_messages ${RECEIVE_MAX}`] });
  try {
    const cap = 12_000;
    console.log(
      `outbox replay after a broker outage: ${OUTBOX_N} money events, link RTT ${RTT} ms (capped at ${cap / 1000} s per mode)`,
    );
    const results = [
      await replayOutbox(broker, 'k-bench-b', WINDOW, cap, true),
      await replayOutbox(broker, 'k-bench-w', WINDOW, cap, false),
      await replayOutbox(broker, 'k-bench-1', 1, cap, false),
      await replayMqttJsStore(broker, 'k-bench-m', cap),
    ];
    for (const r of results) {
      const rate = r.acked / (r.ms / 1000);
      const extra = [
        r.messages !== undefined ? `${r.messages} MQTT messages` : '',
        r.received
          ? `subscriber got ${r.received.distinct} distinct seqs${r.received.inOrder ? ', in order' : ', OUT OF ORDER'}`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
      console.log(
        `  ${r.mode.padEnd(52)} ${String(r.acked).padStart(5)}/${r.sent} acked in ${(r.ms / 1000).toFixed(2)} s = ${rate.toFixed(0).padStart(5)} msg/s${extra ? ` (${extra})` : ''}`,
      );
    }
    const [batched, windowed, one] = results;
    if (batched && windowed && one)
      console.log(
        `  evt/batch vs window alone: ${(batched.acked / batched.ms / (windowed.acked / windowed.ms)).toFixed(1)}x; window vs one per round trip: ${(windowed.acked / windowed.ms / (one.acked / one.ms)).toFixed(1)}x`,
      );
  } finally {
    await broker.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
