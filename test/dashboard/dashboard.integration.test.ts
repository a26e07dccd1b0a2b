/**
 * The dashboard against a real Mosquitto (MQTT 5: Will Delay, message expiry, shared subscriptions)
 * and simulated kiosks speaking the contract: a kiosk goes online, sells, runs out of paper, obeys a
 * maintenance command sent through the HTTP API, and is killed (its tile turns `lost` after the Will
 * Delay).
 */
import assert from 'node:assert/strict';

import mqtt from 'mqtt';

import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import type { KioskDetail, KioskSummary } from '../../src/dashboard/fleet-model.js';
import { stateMessage, newCondition, transactionEvent } from '../../src/fleet-sim/payloads.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { encodeEventBatch } from '../../src/fleet/event-batch.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { eventually } from './eventually.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

describe('dashboard with a real Mosquitto', function () {
  this.timeout(40_000);
  let broker: MosquittoBroker;
  let dash: Dashboard;
  const kiosks: SimKiosk[] = [];
  const base = () => `http://127.0.0.1:${dash.port}`;
  const summary = async (id: string): Promise<KioskSummary | undefined> => {
    const body = (await (await fetch(`${base()}/api/kiosks`)).json()) as { kiosks: KioskSummary[] };
    return body.kiosks.find((k) => k.id === id);
  };
  const detail = async (id: string): Promise<KioskDetail> =>
    ((await (await fetch(`${base()}/api/kiosks/${id}`)).json()) as { kiosk: KioskDetail }).kiosk;
  const post = (path: string, body: unknown, type = 'application/json') =>
    fetch(`${base()}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': type },
      body: JSON.stringify(body),
    });

  before(async function () {
    await needs(this, MOSQUITTO);
    broker = await startMosquitto();
    dash = await startDashboard({ mqttUrl: broker.url, port: 0, waitForBroker: true, tickMs: 100 });
  });

  after(async () => {
    await Promise.all(kiosks.map((k) => k.drop()));
    await dash?.stop();
    await broker?.stop();
  });

  it('shows a kiosk online, its sales, its paper alert, runs a maintenance command, and turns lost when killed', async () => {
    const commands: { name: string; payload: unknown }[] = [];
    const k = new SimKiosk({
      id: 'k-0101',
      url: broker.url,
      heartbeatS: 1,
      willDelayS: 2,
      onCommand: (name, payload) => commands.push({ name, payload }),
    });
    kiosks.push(k);
    await k.start();

    const online = await eventually(
      'online',
      async () => (await summary('k-0101'))?.status === 'online' && summary('k-0101'),
    );
    assert.equal(online?.firmware, '1.4.2-sim');
    assert.equal(online?.paper, 'ok');

    await k.sell(796);
    await k.sell(2000, 'topup');
    await k.sell(1204);
    const sold = await eventually('sales', async () => {
      const s = await summary('k-0101');
      return s?.today.salesCount === 2 ? s : undefined;
    });
    assert.deepEqual([sold.today.salesCents, sold.today.topupCount, sold.today.topupCents], [2000, 1, 2000]);

    await k.setPaper('out');
    // Alert, state and health are three messages: wait until all three have arrived, not just the first.
    const noPaper = await eventually('paper alert, degraded state and paper in health', async () => {
      const s = await summary('k-0101');
      return s?.alerts.includes('paper_out') && s.paper === 'out' && s.status === 'degraded' ? s : undefined;
    });
    assert.equal(noPaper.paper, 'out');
    assert.equal(noPaper.status, 'degraded');

    const res = await post('/api/kiosks/k-0101/cmd/maintenance', { args: { on: true } });
    assert.equal(res.status, 202);
    const { cmdId } = (await res.json()) as { cmdId: string };
    const done = await eventually('maintenance answer', async () => {
      const c = (await detail('k-0101')).recentCommands.find((x) => x.cmdId === cmdId);
      return c?.status === 'succeeded' ? c : undefined;
    });
    assert.deepEqual(done.result, { state: 'maintenance' });
    const got = commands.find((c) => c.name === 'maintenance');
    assert.ok(got, 'the command reached the kiosk');
    const payload = got.payload as { cmdId: string; issuedAt: number; expiresAt: number; args: unknown };
    assert.equal(payload.cmdId, cmdId);
    assert.deepEqual(payload.args, { on: true });
    assert.ok(payload.expiresAt > payload.issuedAt);
    await eventually('maintenance status', async () => (await summary('k-0101'))?.status === 'maintenance');

    const killedAt = Date.now();
    k.crash();
    await eventually('lost', async () => (await summary('k-0101'))?.status === 'lost', 10_000);
    const took = Date.now() - killedAt;
    assert.ok(took >= 1500, `lost only after the Will Delay of 2 s, took ${took} ms`);
  });

  it('answers bad command requests without publishing anything', async () => {
    const k = new SimKiosk({ id: 'k-0102', url: broker.url, heartbeatS: 1 });
    kiosks.push(k);
    await k.start();
    await eventually('known', async () => (await summary('k-0102')) !== undefined);
    assert.equal((await post('/api/kiosks/k-0102/cmd/selfdestruct', {})).status, 400);
    assert.equal((await post('/api/kiosks/k-0102/cmd/maintenance', { args: { on: 'yes' } })).status, 400);
    assert.equal((await post('/api/kiosks/k-9999/cmd/ping', {})).status, 404);
    assert.equal((await post('/api/kiosks/k-0102/cmd/ping', {}, 'text/plain')).status, 415);
    assert.equal((await fetch(`${base()}/api/kiosks/k-0102/cmd/ping`)).status, 405);
    assert.deepEqual((await detail('k-0102')).recentCommands, []);
  });

  it('counts garbage, ignores a late lost of an older session, and keeps serving', async () => {
    const k = new SimKiosk({ id: 'k-0103', url: broker.url, heartbeatS: 1, sid: 7 });
    kiosks.push(k);
    await k.start();
    await eventually('online', async () => (await summary('k-0103'))?.status === 'online');
    const raw = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    try {
      const before = dash.model.stats.garbage;
      await raw.publishAsync('kiosk/v1/k-0103/state', 'not json', { qos: 1 });
      await raw.publishAsync('kiosk/v1/k-0103/evt/transaction', JSON.stringify({ v: 1, id: 'k-0103' }), {
        qos: 1,
      });
      await raw.publishAsync('kiosk/v1/k-0103/health', Buffer.alloc(100_000, 0x7b), { qos: 1 });
      await raw.publishAsync(
        'kiosk/v1/k-0104/state',
        JSON.stringify(stateMessage(newCondition('k-0103'), Date.now())),
        {
          qos: 1,
        },
      );
      await eventually('garbage counted', () => dash.model.stats.garbage >= before + 4);
      const old = stateMessage(newCondition('k-0103', { sid: 6 }), Date.now(), 'lost');
      await raw.publishAsync('kiosk/v1/k-0103/state', JSON.stringify(old), { qos: 1 });
      await eventually('late lost seen', () => dash.model.stats.ignoredLateLost >= 1);
      assert.equal((await summary('k-0103'))?.status, 'online');
      assert.equal((await fetch(`${base()}/api/health`)).status, 200);
    } finally {
      await raw.endAsync();
    }
  });

  it('shares the event stream between two dashboards of one group: every event counted once', async () => {
    const second = await startDashboard({ mqttUrl: broker.url, port: 0, waitForBroker: true });
    try {
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      const c = newCondition('k-0105');
      const n = 40;
      for (let i = 0; i < n; i++) {
        await pub.publishAsync(
          'kiosk/v1/k-0105/evt/transaction',
          JSON.stringify(transactionEvent(c, Date.now(), 'sale', 100)),
          {
            qos: 1,
          },
        );
      }
      await pub.endAsync();
      const count = (d: Dashboard) => d.model.summary('k-0105', Date.now())?.today.salesCount ?? 0;
      await eventually('all events', () => count(dash) + count(second) === n);
      assert.ok(count(dash) > 0 && count(second) > 0, `split ${count(dash)} / ${count(second)}`);
    } finally {
      await second.stop();
    }
  });

  it('unpacks an evt/batch (an outbox replay): every event inside counted once, duplicates as duplicates', async () => {
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    try {
      const c = newCondition('k-0107');
      const sales = Array.from({ length: 5 }, () =>
        JSON.stringify(transactionEvent(c, Date.now(), 'sale', 100)),
      );
      const topic = 'kiosk/v1/k-0107/evt/transaction';
      const header = { v: 1, id: 'k-0107', sid: c.sid, seq: c.seq, ts: Date.now() };
      const parts = [...sales, sales[4]!].map((body) => ({ topic, body }));
      const dupBefore = dash.model.stats.duplicates;
      await pub.publishAsync('kiosk/v1/k-0107/evt/batch', encodeEventBatch(header, parts), { qos: 1 });
      const count = () => dash.model.summary('k-0107', Date.now())?.today.salesCount ?? 0;
      await eventually('five sales', () => count() === 5 && dash.model.stats.duplicates === dupBefore + 1);
    } finally {
      await pub.endAsync();
    }
  });

  it('streams a snapshot and live tile updates over SSE', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base()}/api/stream`, { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    // The stream is read in the background, so that a wait below ends at its own deadline with its own
    // message: awaiting reader.read() inside the check could block past every deadline.
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })().catch(() => undefined);
    const k = new SimKiosk({ id: 'k-0106', url: broker.url, heartbeatS: 1 });
    kiosks.push(k);
    try {
      await eventually('snapshot', () => text.includes('event: snapshot'));
      await k.start();
      await k.sell(333, 'sale');
      await eventually('kiosk update', () =>
        /event: kiosks\ndata: .*"id":"k-0106".*"salesCents":333/.test(text),
      );
    } finally {
      ac.abort();
      await pump;
    }
    assert.match(text, /"status":"online"/);
  });
});
