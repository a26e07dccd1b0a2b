/**
 * The dashboard with its store against a real Mosquitto, on SQLite and on PostgreSQL: sales go into
 * the ledger once even when the broker delivers an event twice, the dashboard restarts without losing
 * the day's figures, and events published while it was down arrive after it comes back (its MQTT
 * session is persistent, so the broker kept them). A burst is taken in without waiting for each
 * commit (many events in one transaction), yet nothing is acknowledged before it is stored: a
 * dashboard that dies with a burst uncommitted gets all of it again from the broker. An alert cleared
 * while the dashboard was away (its session gone, so the clearing never reached it) is closed in the
 * store when it comes back, and none that is still raised is; so is one cleared while its connection
 * to the broker was cut, even when the store could not answer the sweep at the reconnection.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';

import mqtt from 'mqtt';

import { startDashboard, type Dashboard, type DashboardOptions } from '../../src/dashboard/server.js';
import type { Statement } from '../../src/dashboard/store/database.js';
import { alertMessage, newCondition, transactionEvent } from '../../src/fleet-sim/payloads.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { eventually } from './eventually.js';
import { STORE_TARGETS } from './store-targets.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

for (const makeTarget of STORE_TARGETS) {
  const target = makeTarget();
  describe(`dashboard with its store on ${target.name} and a real Mosquitto`, function () {
    this.timeout(40_000);
    let broker: MosquittoBroker;
    let dash: Dashboard | undefined;
    const clientId = `dash-test-${randomUUID().slice(0, 8)}`;
    // This target's store, waiting for the broker; each test adds its own identity and group.
    const startOn = (o: Partial<DashboardOptions>) =>
      startDashboard({
        mqttUrl: broker.url,
        port: 0,
        waitForBroker: true,
        store: target.spec,
        ...(target.schema ? { storeSchema: target.schema } : {}),
        ...o,
      });
    const start = () => startOn({ tickMs: 100, clientId });

    before(async function () {
      await needs(this, MOSQUITTO);
      broker = await startMosquitto();
    });
    after(async () => {
      await dash?.stop();
      await broker?.stop();
      await target.cleanup();
    });

    it('stores each sale once, keeps the day over a restart and gets what was sent while it was down', async () => {
      dash = await start();
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      const c = newCondition('k-0301');
      const now = Date.now();
      const day = dash.model.dayOf(now);
      const publish = (e: unknown) =>
        pub.publishAsync('kiosk/v1/k-0301/evt/transaction', JSON.stringify(e), { qos: 1 });
      try {
        const first = transactionEvent(c, now, 'sale', 700);
        await publish(first);
        await publish(transactionEvent(c, now, 'sale', 300));
        await publish(first); // the outbox replays it: stored once
        const stored = async () => (await dash!.store!.dailyTotals(day, day, 'k-0301'))[0]?.salesCount ?? 0;
        await eventually('two sales stored', async () => (await stored()) === 2);
        await dash.stop();

        // While the dashboard is down: the broker keeps these for its persistent session.
        await publish(transactionEvent(c, now, 'topup', 5000));
        await publish(first);

        dash = await start();
        assert.equal(
          dash.model.summary('k-0301', Date.now())?.today.salesCents,
          1000,
          'the day so far, from the store',
        );
        await eventually('the top-up sent while it was down', async () => {
          const [t] = await dash!.store!.dailyTotals(day, day, 'k-0301');
          return t?.topupCents === 5000 ? t : undefined;
        });
        const [t] = await dash.store!.dailyTotals(day, day, 'k-0301');
        assert.deepEqual([t?.salesCount, t?.salesCents, t?.topupCount], [2, 1000, 1]);
        const s = dash.model.summary('k-0301', Date.now());
        assert.deepEqual([s?.today.salesCents, s?.today.topupCents], [1000, 5000]);
        const health = (await (await fetch(`http://127.0.0.1:${dash.port}/api/health`)).json()) as {
          store: { ok: boolean; dialect: string };
        };
        assert.deepEqual([health.store.ok, health.store.dialect], [true, target.name]);
      } finally {
        await pub.endAsync();
      }
    });

    it('closes the alerts cleared while it was away, and only those, once the retained ones are in', async () => {
      const alertsId = `dash-alerts-${randomUUID().slice(0, 8)}`;
      const startAlerts = (id: string) => startOn({ clientId: id, group: alertsId, auth: false });
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      // Many retained alerts, far more than the broker's in-flight window (20): the sync marker has to
      // come after all of them, or a still-raised alert would be closed here and reopened after.
      const raised = Array.from({ length: 300 }, (_, i) => `k-05${String(i).padStart(2, '0')}`);
      const alert = (id: string, name: string, body: unknown) =>
        pub.publishAsync(`kiosk/v1/${id}/alert/${name}`, body === null ? '' : JSON.stringify(body), {
          qos: 1,
          retain: true,
        });
      const rows = async (name: string) =>
        (await dash!.store!.alerts(undefined, 10_000)).filter(
          (a) => a.name === name && a.kioskId.startsWith('k-05'),
        );
      try {
        // The first test's dashboard shares this store and would see the clearing live.
        await dash?.stop();
        dash = await startAlerts(alertsId);
        const c = newCondition('k-0500');
        await alert('k-0500', 'paper_out', alertMessage(c, Date.now(), 'paper_out', 'critical'));
        for (const id of raised)
          await alert(id, 'paper_low', alertMessage(newCondition(id), Date.now(), 'paper_low', 'warning'));
        await eventually(
          'every alert stored open',
          async () => (await rows('paper_low')).length === 300,
          20_000,
        );
        await eventually('paper_out stored open', async () => (await rows('paper_out')).length === 1);
        await dash.stop();

        // Cleared while the dashboard is down; it comes back with a new session (the old one expired),
        // so the clearing is never delivered to it: only the broker's retained set tells.
        await alert('k-0500', 'paper_out', null);
        dash = await startAlerts(`${alertsId}-b`);
        const [closed] = await eventually(
          'paper_out closed',
          async () => {
            const r = await rows('paper_out');
            return r.length === 1 && r[0]!.closedAt !== null ? r : undefined;
          },
          20_000,
        );
        assert.ok(closed!.closedAt! >= closed!.openedAt);
        // Decided in the same pass as paper_out: any retained alert that came after the marker would be closed.
        const low = await rows('paper_low');
        assert.equal(low.length, 300, 'no alert reopened as a new episode');
        assert.deepEqual(
          low.filter((a) => a.closedAt !== null).map((a) => a.kioskId),
          [],
          'still raised: open',
        );
        assert.equal(dash.model.alertOpen('k-0500', 'paper_out'), false);
        assert.equal(dash.model.alertOpen('k-0501', 'paper_low'), true);
      } finally {
        for (const id of raised) await alert(id, 'paper_low', null);
        await pub.endAsync();
        await dash?.stop();
        dash = undefined;
      }
    });

    it('after a lost connection closes the alerts cleared meanwhile, also when the store misses the first sweep', async () => {
      // The dashboard reaches the broker through a link the test can cut (a network partition of the
      // dashboard alone): the kiosks, here `pub`, go on publishing to the broker meanwhile.
      const link = await cuttableLink(broker.port);
      const group = `dash-cut-${randomUUID().slice(0, 8)}`;
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      const alert = (id: string, name: string, body: unknown) =>
        pub.publishAsync(`kiosk/v1/${id}/alert/${name}`, body === null ? '' : JSON.stringify(body), {
          qos: 1,
          retain: true,
        });
      const raise = (id: string, name: string) =>
        alert(id, name, alertMessage(newCondition(id), Date.now(), name, 'warning'));
      const open = async (id: string, name: string) =>
        (await dash!.store!.alerts(id, 100)).filter((a) => a.name === name && a.closedAt === null).length;
      // Waits for the event itself: the link seen down by the dashboard, then up and synced again.
      const partition = async (whileCut: () => Promise<unknown>) => {
        link.cut();
        await eventually('the dashboard sees the broker gone', () => !dash!.link.connected);
        await whileCut();
        link.mend();
        await eventually('the dashboard back on the broker', () => dash!.link.connected, 15_000);
      };
      try {
        await dash?.stop();
        // No client id: a clean session, so nothing published while cut is kept for it.
        dash = await startOn({ mqttUrl: link.url, group, auth: false });
        await raise('k-0601', 'paper_low');
        await raise('k-0602', 'paper_out');
        await raise('k-0603', 'paper_low');
        for (const [id, name] of [
          ['k-0601', 'paper_low'],
          ['k-0602', 'paper_out'],
          ['k-0603', 'paper_low'],
        ] as const)
          await eventually(`${id} ${name} stored open`, async () => (await open(id, name)) === 1);

        await partition(() => alert('k-0602', 'paper_out', null));
        await eventually(
          'paper_out closed in the store',
          async () => (await open('k-0602', 'paper_out')) === 0,
        );
        assert.equal(dash.model.alertOpen('k-0602', 'paper_out'), false, 'and in the model (the page)');
        assert.equal(dash.model.alertOpen('k-0601', 'paper_low'), true);

        // The store does not answer the next sweep's read (it is away as the broker comes back).
        const store = dash.store!;
        const realOpenAlerts = store.openAlerts.bind(store);
        let refused = 0;
        store.openAlerts = () => {
          store.openAlerts = realOpenAlerts;
          refused++;
          return Promise.reject(new Error('Connection terminated'));
        };
        await partition(() => alert('k-0601', 'paper_low', null));
        await eventually(
          'paper_low closed by the sweep again',
          async () => (await open('k-0601', 'paper_low')) === 0,
        );
        assert.equal(refused, 1, 'the first sweep was the refused one');
        assert.equal(await open('k-0603', 'paper_low'), 1, 'still raised: open');
        const rows = await dash.store!.alerts('k-0603', 100);
        assert.equal(rows.length, 1, 'no new episode for the alert the burst brought again');
      } finally {
        await alert('k-0603', 'paper_low', null);
        await pub.endAsync();
        await dash?.stop();
        dash = undefined;
        await link.close();
      }
    });

    it('after a broker restart with its session kept, syncs again and closes nothing still raised', async () => {
      const id = `dash-restart-${randomUUID().slice(0, 8)}`;
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 200 });
      const raised = (name: string) =>
        pub.publishAsync(
          `kiosk/v1/k-0611/alert/${name}`,
          name === 'cleared'
            ? ''
            : JSON.stringify(alertMessage(newCondition('k-0611'), Date.now(), name, 'warning')),
          { qos: 1, retain: true },
        );
      try {
        await dash?.stop();
        dash = await startOn({ clientId: id, group: id, auth: false });
        await raised('paper_low');
        await eventually('stored open', async () => (await dash!.store!.alerts('k-0611', 10)).length === 1);
        await eventually('first sync', () => dash!.link.syncs === 1);
        // Persistence on: the retained alert and the dashboard's session survive the restart.
        await broker.restart();
        await eventually('synced after the restart', () => dash!.link.syncs === 2, 15_000);
        await dash.buffer!.drain();
        const rows = await dash.store!.alerts('k-0611', 10);
        assert.deepEqual(
          rows.map((r) => r.closedAt),
          [null],
          'one episode, still open',
        );
        assert.equal(dash.model.alertOpen('k-0611', 'paper_low'), true);
      } finally {
        await eventually('publisher back', () => pub.connected, 15_000);
        await pub.publishAsync('kiosk/v1/k-0611/alert/paper_low', '', { qos: 1, retain: true });
        await pub.endAsync();
        await dash?.stop();
        dash = undefined;
      }
    });

    it('takes a burst in at once, acknowledges nothing before it is stored, and gets it all again after a crash', async () => {
      const store = await target.open();
      // The store hangs: every transaction waits, as on a slow database, until the "crash" below.
      const hung: ((err: Error) => void)[] = [];
      const realBatch = store.db.batch.bind(store.db);
      let transactions = 0;
      store.db.batch = (_statements: readonly Statement[]) => {
        transactions++;
        return new Promise<void>((_resolve, reject) => hung.push(reject));
      };
      const burstId = `dash-burst-${randomUUID().slice(0, 8)}`;
      const startBurst = (s: typeof store) =>
        startDashboard({
          mqttUrl: broker.url,
          port: 0,
          waitForBroker: true,
          store: s,
          clientId: burstId,
          group: burstId, // not shared with the dashboard of the test above
          auth: false,
        });
      const first = await startBurst(store);
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      const c = newCondition('k-0302');
      const ids: string[] = [];
      try {
        for (let i = 0; i < 40; i++) {
          const e = transactionEvent(c, Date.now(), 'sale', 100 + i);
          ids.push(e.eventId);
          await pub.publishAsync('kiosk/v1/k-0302/evt/transaction', JSON.stringify(e), { qos: 1 });
        }
        // All 40 are in the dashboard while its first transaction has not committed.
        await eventually('the whole burst taken in', async () => first.link.acks.waiting === 40);
        assert.equal(transactions, 1, 'the rest waits for one transaction, not one each');
        // The dashboard dies before anything is committed: no PUBACK went out.
        await first.link.stop();
        for (const reject of hung) reject(new Error('Connection terminated'));
        first.buffer!.close();
        await first.server.close();
        store.db.batch = realBatch;

        const second = await startBurst(store);
        try {
          await eventually('the burst redelivered and stored', async () => {
            const [r] = await store.all<{ n: number }>(
              `SELECT COUNT(*) AS n FROM ledger WHERE kiosk_id = 'k-0302'`,
            );
            return Number(r?.n) === 40;
          });
          const rows = await store.all<{ event_id: string }>(
            `SELECT event_id FROM ledger WHERE kiosk_id = 'k-0302'`,
          );
          assert.deepEqual(rows.map((r) => r.event_id).sort(), [...ids].sort());
          assert.ok(
            second.buffer!.health.batches <= 10,
            `40 events in ${second.buffer!.health.batches} transactions`,
          );
        } finally {
          await second.stop();
        }
      } finally {
        await pub.endAsync();
        await store.close();
      }
    });
  });
}

/**
 * A TCP link to the broker that can be cut and mended: cut, every connection through it is dropped and
 * new ones are refused; mended, they go through again. The port stays the same.
 */
async function cuttableLink(
  brokerPort: number,
): Promise<{ url: string; cut(): void; mend(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((inbound) => {
    if (cut) return inbound.destroy();
    const outbound = net.connect(brokerPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    mend() {
      cut = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
