/**
 * The store against real SQLite and real PostgreSQL, the same tests for both: one migration path, the
 * ledger counting each money event once however often it arrives, days taken from the kiosk's clock,
 * alerts with open and close times, commands with every answer, the kiosk page's cash box and time in
 * service from a digest of the week equal to those from every sample, and everything still there after
 * the store is closed and opened again (a dashboard restart).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { FleetModel } from '../../src/dashboard/fleet-model.js';
import { cashBoxEstimate, uptimeFrom, uptimeOf } from '../../src/dashboard/office-figures.js';
import { Ingest } from '../../src/dashboard/ingest.js';
import type { FleetStore } from '../../src/dashboard/store/fleet-store.js';
import { auditOp, commandSentOp } from '../../src/dashboard/store/ops.js';
import { migrate } from '../../src/dashboard/store/schema.js';
import { WriteBuffer } from '../../src/dashboard/store/write-buffer.js';
import {
  alertMessage,
  birthMessage,
  cmdresMessage,
  healthMessage,
  newCondition,
  stateMessage,
  transactionEvent,
  voucherEvent,
} from '../../src/fleet-sim/payloads.js';
import { ledgerCsv } from '../../src/dashboard/ledger-csv.js';
import { healthSampleInserts, simulatedHealthWeek } from '../../src/fleet-sim/health-week.js';
import { STORE_TARGETS, type StoreTarget } from './store-targets.js';

const T0 = Date.UTC(2026, 5, 10, 9, 0, 0); // 11:00 in Berlin
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const enc = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

for (const makeTarget of STORE_TARGETS) {
  const target: StoreTarget = makeTarget();
  describe(`dashboard store on ${target.name}`, function () {
    this.timeout(20_000);
    let store: FleetStore;
    let buffer: WriteBuffer;
    let ingest: Ingest;

    const wire = (s: FleetStore) => {
      buffer = new WriteBuffer({ write: (statements) => s.db.batch(statements) });
      ingest = new Ingest({ model: new FleetModel(), buffer });
    };
    const send = (id: string, sub: string, body: unknown, at: number, retained = false) =>
      ingest.raw(`kiosk/v1/${id}/${sub}`, body === '' ? Buffer.alloc(0) : enc(body), {
        receivedAt: at,
        retained,
      });

    before(async () => {
      store = await target.open();
      wire(store);
    });
    after(async () => {
      await store?.close();
      await target.cleanup();
    });

    it('migrates once: a second run applies nothing and the tables are there', async () => {
      assert.deepEqual(await migrate(store.db), []);
      const v = await store.all<{ version: number }>('SELECT version FROM schema_migrations');
      assert.deepEqual(
        v.map((r) => Number(r.version)).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6],
      );
      assert.deepEqual(await store.kiosks(), []);
    });

    it('counts a money event once however often it arrives (QoS 1 redelivery, outbox replay)', async () => {
      const c = newCondition('k-0001');
      const sale = transactionEvent(c, T0, 'sale', 796);
      const topup = transactionEvent(c, T0 + 1000, 'topup', 2000);
      const failed = transactionEvent(c, T0 + 2000, 'sale', 500, { outcome: 'failed' });
      const stored = [sale, sale, topup, sale, failed, topup].map(
        (e) => send('k-0001', 'evt/transaction', e, T0 + 5000).stored,
      );
      await Promise.all(stored);
      // The same event again after a restart: the model has forgotten it, the ledger has not.
      wire(store);
      await send('k-0001', 'evt/transaction', sale, T0 + 9000).stored;
      const rows = await store.all<{ n: number }>(
        "SELECT COUNT(*) AS n FROM ledger WHERE kiosk_id = 'k-0001'",
      );
      assert.equal(Number(rows[0]?.n), 3);
      const [day] = await store.dailyTotals('2026-06-10', '2026-06-10', 'k-0001');
      assert.deepEqual(day, {
        day: '2026-06-10',
        salesCount: 1,
        salesCents: 796,
        salesDiscountCents: 0,
        topupCount: 1,
        topupCents: 2000,
        failedCount: 1,
        cashInCents: 0,
        unclaimedCents: 0,
      });
    });

    it('books an event replayed after an outage on the day it happened, and sums the fleet per day', async () => {
      const a = newCondition('k-0002');
      const b = newCondition('k-0003');
      const yesterday = T0 - 24 * 3600_000;
      await send('k-0002', 'evt/transaction', transactionEvent(a, yesterday, 'sale', 1000), T0).stored;
      await send('k-0003', 'evt/transaction', transactionEvent(b, T0, 'sale', 250), T0).stored;
      await send('k-0003', 'evt/transaction', transactionEvent(b, T0, 'sale', 150), T0).stored;
      const fleet = await store.dailyTotals('2026-06-09', '2026-06-10');
      assert.deepEqual(
        fleet.map((d) => [d.day, d.salesCount, d.salesCents]),
        [
          ['2026-06-09', 1, 1000],
          ['2026-06-10', 3, 796 + 250 + 150],
        ],
      );
      const byKiosk = await store.totalsByKiosk('2026-06-10');
      assert.equal(byKiosk.get('k-0003')?.salesCents, 400);
      assert.equal(byKiosk.get('k-0002'), undefined);
      const csv = await store.ledgerOfDay('2026-06-09');
      assert.deepEqual(
        csv.map((r) => [r.kioskId, r.amountCents, r.card]),
        [['k-0002', 1000, '9276********2845']],
      );
    });

    it("keeps a sale's bonus discount (evt/transaction discountCents) for the day's totals and the CSV", async () => {
      const c = newCondition('k-0009');
      const bonus = transactionEvent(c, T0, 'sale', 778, { discountCents: 278 });
      const plain = transactionEvent(c, T0 + 1000, 'sale', 349);
      for (const e of [bonus, plain, bonus]) await send('k-0009', 'evt/transaction', e, T0 + 5000).stored;
      const [day] = await store.dailyTotals('2026-06-10', '2026-06-10', 'k-0009');
      assert.deepEqual([day?.salesCount, day?.salesCents, day?.salesDiscountCents], [2, 778 + 349, 278]);
      const rows = await store.ledgerOfDay('2026-06-10', 'k-0009');
      assert.deepEqual(
        rows.map((r) => [r.amountCents, r.discountCents]),
        [
          [778, 278],
          [349, null],
        ],
      );
      const csv = ledgerCsv(rows).split('\r\n');
      assert.match(csv[0]!, /,seq,discount_cents$/);
      assert.match(csv[1]!, /,778,.*,278$/);
      assert.match(csv[2]!, /,349,.*,$/);
    });

    it("keeps a voucher's life in the ledger, once, and in the day's CSV (the kiosk's export has it too)", async () => {
      const c = newCondition('k-0004');
      const issued = voucherEvent(c, T0, 'issued', 21, 'k-0004.ABCDEFGH');
      const redeemed = voucherEvent(c, T0 + 1000, 'redeemed', 21, 'k-0004.ABCDEFGH');
      const paidOut = voucherEvent(c, T0 + 2000, 'paid_out', 50, 'k-0004.IJKLMNOP');
      for (const e of [issued, redeemed, issued, paidOut])
        await send('k-0004', 'evt/voucher', e, T0 + 5000).stored;
      const rows = await store.ledgerOfDay('2026-06-10', 'k-0004');
      assert.deepEqual(
        rows.map((r) => [r.type, r.kind, r.outcome, r.amountCents, r.paymentMethod, r.card]),
        [
          ['voucher', 'issued', 'issued', 21, null, null],
          ['voucher', 'redeemed', 'redeemed', 21, null, null],
          ['voucher', 'paid_out', 'paid_out', 50, null, null],
        ],
      );
      assert.match(
        ledgerCsv(rows),
        /^2026-06-10,k-0004,2026-06-10T09:00:00\.000Z,[\w-]+,voucher,issued,issued,21,EUR,,,,\d+,\r$/m,
      );
    });

    it('lists the open vouchers the fleet owes, with their count and sum, per merchant too', async () => {
      const c = newCondition('k-0008');
      await send('k-0008', 'birth', { ...birthMessage(c, T0), tenant: 'beta' }, T0).stored;
      for (const [at, action, cents, ref] of [
        [T0, 'issued', 300, 'k-0008.AAAABBBB'],
        [T0 + 1, 'issued', 150, 'k-0008.CCCCDDDD'],
        [T0 + 2, 'issued', 70, 'k-0008.EEEEFFFF'],
        [T0 + 3, 'redeemed', 300, 'k-0008.AAAABBBB'],
      ] as const)
        await send('k-0008', 'evt/voucher', voucherEvent(c, at, action, cents, ref), T0 + 10).stored;
      await buffer.drain();
      const open = await store.openVouchers();
      assert.deepEqual(
        [open.count, open.cents, open.vouchers.map((v) => v.ref)],
        [2, 220, ['k-0008.EEEEFFFF', 'k-0008.CCCCDDDD']],
        'newest first; the redeemed one is not owed',
      );
      assert.equal((await store.openVouchers('beta')).count, 2);
      assert.deepEqual(await store.openVouchers('alpha'), { vouchers: [], count: 0, cents: 0 });
      assert.equal((await store.openVouchers(undefined, 1)).vouchers.length, 1, 'cut, the sum over all');
    });

    it('keeps the kiosk row (birth, state, health) and ignores a late lost of an older session', async () => {
      const c = newCondition('k-0004', { sid: 5 });
      await send('k-0004', 'birth', { ...birthMessage(c, T0), location: 'Hall 2', site: 'Berlin' }, T0)
        .stored;
      await send('k-0004', 'state', stateMessage(c, T0, 'online'), T0).stored;
      await send('k-0004', 'health', healthMessage(c, T0 + 100), T0 + 100).stored;
      await send('k-0004', 'state', stateMessage({ ...c, sid: 4 }, T0 + 200, 'lost'), T0 + 200).stored;
      await buffer.drain();
      const k = (await store.kiosks()).find((r) => r.id === 'k-0004');
      assert.deepEqual(
        [k?.state, k?.sid, k?.location, k?.site, k?.firmware],
        ['online', 5, 'Hall 2', 'Berlin', '1.4.2-sim'],
      );
      const samples = await store.all("SELECT * FROM health_samples WHERE kiosk_id = 'k-0004'");
      assert.equal(samples.length, 1);
    });

    it('keeps each cash collection once, counted and expected, however many healths repeat it', async () => {
      const c = newCondition('k-0006');
      const health = (
        at: number,
        last: { ts: number; countedCents: number; expectedCents: number } | null,
      ) => {
        const m = healthMessage(c, at);
        m.counters = { ...m.counters, lastCollectionTs: last?.ts ?? null, lastCollection: last };
        return m;
      };
      const first = { ts: T0 - DAY, countedCents: 12_340, expectedCents: 12_350 };
      const second = { ts: T0 + 5_000, countedCents: 800, expectedCents: 800 };
      await send('k-0006', 'health', health(T0 - DAY - 1, null), T0 - DAY).stored;
      for (const at of [T0, T0 + 1_000, T0 + 2_000])
        await send('k-0006', 'health', health(at, first), at).stored;
      await send('k-0006', 'health', health(T0 + 6_000, second), T0 + 6_000).stored;
      // A restarted dashboard (new ingest) hears the last one again.
      wire(store);
      await send('k-0006', 'health', health(T0 + 7_000, second), T0 + 7_000).stored;
      await buffer.drain();
      assert.deepEqual(await store.collections('k-0006'), [
        { kioskId: 'k-0006', at: second.ts, countedCents: 800, expectedCents: 800 },
        { kioskId: 'k-0006', at: first.ts, countedCents: 12_340, expectedCents: 12_350 },
      ]);
    });

    it("gives the kiosk page's cash box and time in service from a digest, the same as from the whole week", async () => {
      const every = 5 * 60_000;
      const end = T0 + 8 * DAY;
      const ids = ['k-0701', 'k-0702', 'k-0703', 'k-0704'];
      for (const [i, id] of ids.entries())
        await store.db.batch(
          healthSampleInserts(simulatedHealthWeek(id, end - 9 * DAY, end, every, 7100 + i)),
        );
      const figures = {
        // What the page computed before: every sample of the week through the pure functions.
        whole: async (
          id: string,
          now: number,
          level?: { cents: number; lastCollectionTs: number | null },
        ) => {
          const samples = await store.healthSamples(id, now - WEEK);
          return {
            cashBox: cashBoxEstimate(samples, now, 30_000, level),
            uptime: uptimeOf(samples, now - WEEK, now, every),
            read: samples.length,
          };
        },
        digest: async (
          id: string,
          now: number,
          level?: { cents: number; lastCollectionTs: number | null },
        ) => {
          const d = await store.officeDigest(id, {
            cashSince: now - WEEK,
            serviceFrom: now - WEEK,
            now,
            sampleEveryMs: every,
            ...(level ? { lastCollectionTs: level.lastCollectionTs } : {}),
          });
          return {
            cashBox: cashBoxEstimate(d.samples, now, 30_000, level),
            uptime: uptimeFrom(d.service, now - WEEK, now),
            read: d.samples.length,
          };
        },
      };
      let rates = 0;
      let partial = 0;
      for (const id of [...ids, 'k-0799']) {
        const collections = await store.all<{ last_collection_ts: number | null }>(
          'SELECT last_collection_ts FROM health_samples WHERE kiosk_id = ? GROUP BY last_collection_ts ORDER BY MAX(at) DESC',
          [id],
        );
        const [latest, earlier] = collections;
        const collected =
          latest?.last_collection_ts === null || latest === undefined
            ? null
            : Number(latest.last_collection_ts);
        for (const now of [end, end - 2 * DAY - 1234, end - 8 * DAY])
          for (const level of [
            undefined,
            { cents: 12_345, lastCollectionTs: collected },
            // An earlier filling than the latest sample's (the live health out of order with the samples).
            ...(earlier
              ? [
                  {
                    cents: 500,
                    lastCollectionTs:
                      earlier.last_collection_ts === null ? null : Number(earlier.last_collection_ts),
                  },
                ]
              : []),
            // Collected a moment ago: no sample of this filling yet.
            { cents: 0, lastCollectionTs: now - 1000 },
          ]) {
            const whole = await figures.whole(id, now, level);
            const digest = await figures.digest(id, now, level);
            assert.deepEqual(
              [digest.cashBox, digest.uptime],
              [whole.cashBox, whole.uptime],
              `${id} at ${now} with ${JSON.stringify(level)}`,
            );
            assert.ok(digest.read <= 3, `${digest.read} samples read, not ${whole.read}`);
            if (whole.cashBox?.centsPerDay) rates++;
            if (whole.uptime && whole.uptime.ratio < 1 && whole.uptime.ratio > 0) partial++;
          }
      }
      // The comparison had something to compare: rates and outages, not only empty figures.
      assert.ok(rates >= 4 && partial >= 8, `rates ${rates}, partial uptimes ${partial}`);
    });

    it('keeps alerts with open and close times; a redelivered retained alert stays one open alert', async () => {
      const c = newCondition('k-0005');
      await send('k-0005', 'alert/paper_out', alertMessage(c, T0, 'paper_out', 'critical'), T0).stored;
      await send('k-0005', 'alert/paper_out', alertMessage(c, T0, 'paper_out', 'critical'), T0 + 50, true)
        .stored;
      let alerts = await store.alerts('k-0005');
      assert.deepEqual(
        alerts.map((a) => [a.name, a.openedAt, a.closedAt]),
        [['paper_out', T0, null]],
      );
      await send('k-0005', 'alert/paper_out', '', T0 + 60_000).stored;
      await send(
        'k-0005',
        'alert/paper_out',
        alertMessage(c, T0 + 90_000, 'paper_out', 'critical'),
        T0 + 90_000,
      ).stored;
      alerts = await store.alerts('k-0005');
      assert.deepEqual(
        alerts.map((a) => [a.openedAt, a.closedAt]),
        [
          [T0 + 90_000, null],
          [T0, T0 + 60_000],
        ],
      );
    });

    it('keeps a command with its operator and args and every answer; a late accepted never undoes succeeded', async () => {
      const cmdId = randomUUID();
      await store.writeNow([
        commandSentOp({
          cmdId,
          kioskId: 'k-0006',
          name: 'maintenance',
          args: { on: true },
          operator: 'olga',
          issuedAt: T0,
          expiresAt: T0 + 120_000,
        }),
        auditOp({ at: T0, username: 'olga', action: 'command', kioskId: 'k-0006', detail: { cmdId } }),
      ]);
      const c = newCondition('k-0006');
      const answer = (status: 'accepted' | 'succeeded', at: number, more = {}) =>
        send('k-0006', 'cmdres', { ...cmdresMessage(c, at, cmdId, 'maintenance', status), ...more }, at)
          .stored;
      await answer('accepted', T0 + 10);
      await answer('succeeded', T0 + 20, { result: { state: 'maintenance' } });
      await answer('accepted', T0 + 30, { duplicate: true });
      const [cmd] = await store.commands('k-0006');
      assert.equal(cmd?.status, 'succeeded');
      assert.equal(cmd?.operator, 'olga');
      assert.deepEqual(cmd?.args, { on: true });
      assert.deepEqual(cmd?.result, { state: 'maintenance' });
      assert.deepEqual(
        cmd?.answers.map((a) => [a.status, a.duplicate]),
        [
          ['accepted', false],
          ['succeeded', false],
          ['accepted', true],
        ],
      );
      const [audit] = await store.audit(1);
      assert.deepEqual([audit?.username, audit?.action, audit?.kioskId], ['olga', 'command', 'k-0006']);
    });

    it('has everything after a restart (closed and opened again)', async () => {
      await buffer.drain();
      await store.close();
      store = await target.open();
      wire(store);
      const [day] = await store.dailyTotals('2026-06-10', '2026-06-10', 'k-0001');
      assert.equal(day?.salesCents, 796);
      assert.equal((await store.commands('k-0006'))[0]?.status, 'succeeded');
      assert.ok((await store.kiosks()).some((k) => k.id === 'k-0004'));
    });
  });
}
