/**
 * Two dashboard workers into one PostgreSQL through a real Mosquitto, each with its partition of the
 * kiosks: every worker reads every kiosk's retained topics, but a kiosk's snapshot rows (its `kiosks`
 * row, health samples, alerts) are written by one worker only, so the two never wait on each other's
 * row locks and no sample is stored twice; the events, split by the shared subscription, are all stored.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import mqtt from 'mqtt';

import { owns, parsePartition, partitionOf } from '../../src/dashboard/partition.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import type { FleetStore } from '../../src/dashboard/store/fleet-store.js';
import {
  alertMessage,
  healthMessage,
  newCondition,
  stateMessage,
  transactionEvent,
} from '../../src/fleet-sim/payloads.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { eventually } from './eventually.js';
import { postgresTarget } from './store-targets.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

describe('dashboard partitions', () => {
  it('hashes a kiosk id onto one partition, stably, and spreads a fleet over all of them', () => {
    assert.equal(partitionOf('k-0001', 4), partitionOf('k-0001', 4));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[partitionOf(`k-${String(i).padStart(4, '0')}`, 4)]!++;
    for (const n of counts) assert.ok(n > 800 && n < 1200, `spread: ${counts.join(' / ')}`);
    assert.ok(owns(undefined, 'k-1'));
    assert.equal(
      [0, 1, 2].filter((index) => owns({ index, count: 3 }, 'k-0042')).length,
      1,
      'exactly one owner',
    );
    assert.deepEqual(parsePartition('2/3'), { index: 1, count: 3 });
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0'])
      assert.throws(() => parsePartition(bad), /partition/);
  });

  describe('two workers into one PostgreSQL and a real Mosquitto', function () {
    this.timeout(60_000);
    const target = postgresTarget();
    let broker: MosquittoBroker;
    const dashes: Dashboard[] = [];
    const stores: FleetStore[] = [];

    before(async function () {
      await needs(this, MOSQUITTO);
      broker = await startMosquitto();
    });
    after(async () => {
      for (const d of dashes) await d.stop();
      for (const s of stores) await s.close();
      await broker?.stop();
      await target.cleanup();
    });

    it('each kiosk’s snapshot rows are written by one worker only; samples once; every event stored', async () => {
      const group = `part-${randomUUID().slice(0, 6)}`;
      // Which kiosks each worker wrote snapshot rows for, seen at the database's door.
      const wrote: Set<string>[] = [new Set(), new Set()];
      for (const index of [0, 1]) {
        const store = await target.open();
        stores.push(store);
        const batch = store.db.batch.bind(store.db);
        store.db.batch = (statements) => {
          for (const s of statements)
            if (/UPDATE kiosks|health_samples|INTO alerts|UPDATE alerts|DO UPDATE/.test(s.sql))
              for (const p of s.params)
                if (typeof p === 'string' && /^k-07\d\d$/.test(p)) wrote[index]!.add(p);
          return batch(statements);
        };
        dashes.push(
          await startDashboard({
            mqttUrl: broker.url,
            port: 0,
            waitForBroker: true,
            store,
            auth: false,
            group,
            clientId: `${group}-${index}`,
            partition: { index, count: 2 },
          }),
        );
      }
      const ids = Array.from({ length: 40 }, (_, i) => `k-07${String(i).padStart(2, '0')}`);
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
      try {
        for (const id of ids) {
          const c = newCondition(id);
          const now = Date.now();
          await pub.publishAsync(`kiosk/v1/${id}/state`, JSON.stringify(stateMessage(c, now)), {
            qos: 1,
            retain: true,
          });
          await pub.publishAsync(`kiosk/v1/${id}/health`, JSON.stringify(healthMessage(c, now)), {
            qos: 0,
            retain: true,
          });
          await pub.publishAsync(
            `kiosk/v1/${id}/alert/paper_low`,
            JSON.stringify(alertMessage(c, now, 'paper_low', 'warning')),
            { qos: 1, retain: true },
          );
          for (let n = 0; n < 3; n++)
            await pub.publishAsync(
              `kiosk/v1/${id}/evt/transaction`,
              JSON.stringify(transactionEvent(c, now, 'sale', 100 + n)),
              { qos: 1 },
            );
        }
        const count = async (sql: string) => Number((await stores[0]!.all<{ n: number }>(sql))[0]?.n);
        await eventually(
          'everything stored',
          async () =>
            (await count(`SELECT COUNT(*) AS n FROM ledger`)) === 120 &&
            (await count(
              `SELECT COUNT(*) AS n FROM kiosks WHERE health IS NOT NULL AND state = 'online'`,
            )) === 40 &&
            (await count(`SELECT COUNT(*) AS n FROM alerts`)) === 40,
          20_000,
        );
        // Both workers see every kiosk live.
        for (const d of dashes) assert.equal(ids.filter((id) => d.model.has(id)).length, 40);
        assert.equal(await count(`SELECT COUNT(*) AS n FROM health_samples`), 40, 'one sample per kiosk');
        const [a, b] = wrote as [Set<string>, Set<string>];
        assert.deepEqual(
          [...a].filter((id) => b.has(id)),
          [],
          'no kiosk written by both',
        );
        assert.deepEqual([...a, ...b].sort(), ids, 'every kiosk written by its owner');
        for (const id of a) assert.ok(owns({ index: 0, count: 2 }, id));
        assert.ok(a.size > 0 && b.size > 0, `both workers write: ${a.size} / ${b.size}`);
        // Events are split by the broker, not by the partition: both workers stored some.
        assert.ok(dashes.every((d) => d.buffer!.health.written > 0));
      } finally {
        await pub.endAsync();
      }
    });
  });
});
