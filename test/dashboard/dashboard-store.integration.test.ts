/**
 * The dashboard with its store against a real Mosquitto, on SQLite and on PostgreSQL: sales go into
 * the ledger once even when the broker delivers an event twice, the dashboard restarts without losing
 * the day's figures, and events published while it was down arrive after it comes back (its MQTT
 * session is persistent, so the broker kept them).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import mqtt from 'mqtt';

import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { newCondition, transactionEvent } from '../../src/fleet-sim/payloads.js';
import { findMosquitto, startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { eventually } from './eventually.js';
import { STORE_TARGETS } from './store-targets.js';

for (const makeTarget of STORE_TARGETS) {
  const target = makeTarget();
  describe(`dashboard with its store on ${target.name} and a real Mosquitto`, function () {
    this.timeout(40_000);
    let broker: MosquittoBroker;
    let dash: Dashboard | undefined;
    const clientId = `dash-test-${randomUUID().slice(0, 8)}`;
    const start = () =>
      startDashboard({
        mqttUrl: broker.url,
        port: 0,
        waitForBroker: true,
        tickMs: 100,
        store: target.spec,
        ...(target.schema ? { storeSchema: target.schema } : {}),
        clientId,
      });

    before(async function () {
      if (!findMosquitto()) {
        console.log('skipped: mosquitto is not installed (apt-get install mosquitto)');
        this.skip();
      }
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
  });
}
