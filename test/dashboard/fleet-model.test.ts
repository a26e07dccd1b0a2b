import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import type { KioskStateName } from '../../src/fleet/envelope.js';
import { FleetModel } from '../../src/dashboard/fleet-model.js';
import { computeStatus, DEFAULT_POLICY } from '../../src/dashboard/kiosk-status.js';
import {
  alertMessage,
  birthMessage,
  healthMessage,
  newCondition,
  stateMessage,
  transactionEvent,
  type SimCondition,
} from '../../src/fleet-sim/payloads.js';

const T0 = Date.UTC(2025, 5, 10, 9, 0, 0); // 11:00 in Berlin
const enc = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** `evt/cash inserted`, as a kiosk reports coins taken. */
function cashInserted(c: SimCondition, ts: number, amountCents: number) {
  c.seq++;
  return {
    v: 1,
    id: c.id,
    sid: c.sid,
    seq: c.seq,
    ts,
    eventId: randomUUID(),
    action: 'inserted',
    amountCents,
    currency: 'EUR',
  };
}

/** A small kiosk speaking the contract into a model, with the dashboard clock under the test's control. */
function kiosk(model: FleetModel, id = 'k-0001') {
  const c = newCondition(id, { bootTs: T0 - 3600_000 });
  const send = (sub: string, body: object | '', at: number, retained = false) =>
    model.ingestRaw(`kiosk/v1/${id}/${sub}`, body === '' ? Buffer.alloc(0) : enc(body), {
      receivedAt: at,
      retained,
    });
  return {
    c,
    birth: (sid: number, at: number, more: Partial<SimCondition> = {}) => {
      Object.assign(c, { sid, ...more });
      return send('birth', birthMessage(c, at), at);
    },
    state: (state: KioskStateName, sid: number, at: number, retained = false) => {
      c.sid = sid;
      return send('state', stateMessage(c, at, state), at, retained);
    },
    health: (sid: number, at: number, more: Partial<SimCondition> = {}, retained = false) => {
      Object.assign(c, { sid, ...more });
      return send('health', healthMessage(c, at), at, retained);
    },
    alert: (name: string, at: number) => send(`alert/${name}`, alertMessage(c, at, name, 'critical'), at),
    sale: (sid: number, at: number, amountCents: number, kind: 'sale' | 'topup' = 'sale') => {
      c.sid = sid;
      return send('evt/transaction', transactionEvent(c, at, kind, amountCents), at);
    },
    raw: send,
  };
}

describe('dashboard fleet model', () => {
  describe('status', () => {
    it('is online only while state says online and health is fresh, stale after three heartbeats', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(1, T0);
      k.state('online', 1, T0);
      k.health(1, T0 + 1000);
      assert.equal(m.statusOf('k-0001', T0 + 2000), 'online');
      assert.equal(m.statusOf('k-0001', T0 + 1000 + 29_999), 'online');
      assert.equal(m.statusOf('k-0001', T0 + 1000 + 30_000), 'stale');
      k.health(1, T0 + 40_000);
      assert.equal(m.statusOf('k-0001', T0 + 41_000), 'online');
    });

    it('does not trust a retained online without a live health (broker restart)', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(3, T0);
      k.state('online', 3, T0, true);
      assert.equal(m.statusOf('k-0001', T0 + 10), 'stale');
      k.health(3, T0 + 500);
      assert.equal(m.statusOf('k-0001', T0 + 600), 'online');
    });

    it('uses a retained health by its device time when the clock is synchronised', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(1, T0);
      k.state('online', 1, T0, true);
      k.raw('health', healthMessage(k.c, T0 - 25_000), T0, true);
      assert.equal(m.statusOf('k-0001', T0 + 1000), 'online');
      assert.equal(m.statusOf('k-0001', T0 + 5000), 'stale');
    });

    it('turns lost on the Will and ignores a late lost with an older sid', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(4, T0);
      k.state('online', 4, T0);
      k.health(4, T0);
      k.state('lost', 4, T0 + 1000);
      assert.equal(m.statusOf('k-0001', T0 + 1000), 'lost');

      k.birth(5, T0 + 2000);
      k.state('online', 5, T0 + 2000);
      k.health(5, T0 + 2000);
      const late = k.state('lost', 4, T0 + 3000);
      assert.equal(late.ok && late.note, 'late lost ignored');
      assert.equal(m.statusOf('k-0001', T0 + 3000), 'online');
      assert.equal(m.stats.ignoredLateLost, 1);
    });

    it('reports the declared states as they are', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.health(1, T0);
      for (const s of ['maintenance', 'out_of_service', 'offline'] as const) {
        k.state(s, 1, T0);
        assert.equal(m.statusOf('k-0001', T0 + 100_000), s);
      }
    });

    it('is stuck when busy without a break for far longer than any flow takes', () => {
      const m = new FleetModel({ stuckAfterMs: 5 * 60_000 });
      const k = kiosk(m);
      k.birth(1, T0, { heartbeatS: 30 });
      k.state('online', 1, T0);
      for (let t = 0; t <= 5 * 60_000; t += 30_000) k.health(1, T0 + t, { busy: true });
      assert.equal(m.statusOf('k-0001', T0 + 5 * 60_000), 'online');
      assert.equal(m.statusOf('k-0001', T0 + 5 * 60_000 + 1), 'stuck');
      k.health(1, T0 + 5 * 60_000 + 30_000, { busy: false });
      assert.equal(m.statusOf('k-0001', T0 + 5 * 60_000 + 30_001), 'online');
      k.health(1, T0 + 6 * 60_000, { busy: true });
      assert.equal(m.statusOf('k-0001', T0 + 6 * 60_000 + 1000), 'online', 'a new customer, a new clock');
    });

    it('is stuck while the kiosk holds a stuck alert, and not after it is cleared', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(1, T0);
      k.state('online', 1, T0);
      k.health(1, T0);
      k.alert('stuck', T0);
      assert.equal(m.statusOf('k-0001', T0 + 1), 'stuck');
      assert.deepEqual(m.summary('k-0001', T0 + 1)?.alerts, ['stuck']);
      k.raw('alert/stuck', '', T0 + 2);
      assert.equal(m.statusOf('k-0001', T0 + 3), 'online');
    });

    it('closes at the end of an alert sync the open alerts its retained burst did not bring again', () => {
      const m = new FleetModel();
      const a = kiosk(m, 'k-0001');
      const b = kiosk(m, 'k-0002');
      a.alert('paper_low', T0);
      b.alert('paper_out', T0);
      const mark = m.beginAlertSync();
      a.alert('paper_low', T0 + 1); // still retained: delivered again
      assert.deepEqual(m.endAlertSync(mark), [{ kioskId: 'k-0002', name: 'paper_out' }]);
      assert.equal(m.alertOpen('k-0001', 'paper_low'), true);
      assert.equal(m.alertOpen('k-0002', 'paper_out'), false);
      assert.deepEqual(m.summary('k-0002', T0 + 2)?.alerts, []);
      // An earlier sync's end, arriving late, closes nothing raised since.
      b.alert('paper_out', T0 + 3);
      assert.deepEqual(m.endAlertSync(mark), []);
    });

    it('ignores alert names the contract does not list', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(1, T0);
      k.state('online', 1, T0);
      k.health(1, T0);
      for (let i = 0; i < 50; i++) k.alert(`flood_${i}`, T0);
      k.alert('paper_out', T0);
      assert.deepEqual(m.summary('k-0001', T0 + 1)?.alerts, ['paper_out']);
    });

    it('computeStatus: unknown without a state, degraded kept when fresh', () => {
      const base = {
        heartbeatMs: 1000,
        lastLifeAt: 0,
        busySince: undefined,
        openAlerts: [],
      };
      assert.equal(computeStatus({ ...base, state: undefined }, 10, DEFAULT_POLICY), 'unknown');
      assert.equal(computeStatus({ ...base, state: 'degraded' }, 10, DEFAULT_POLICY), 'degraded');
      assert.equal(computeStatus({ ...base, state: 'degraded' }, 3000, DEFAULT_POLICY), 'stale');
    });
  });

  describe('events and today', () => {
    it('counts sales and top-ups once per eventId', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      const sale = transactionEvent(k.c, T0, 'sale', 796);
      k.raw('evt/transaction', sale, T0);
      k.raw('evt/transaction', sale, T0 + 5); // QoS 1 redelivery
      k.raw('evt/transaction', transactionEvent(k.c, T0, 'topup', 2000), T0 + 6);
      k.raw('evt/transaction', transactionEvent(k.c, T0, 'sale', 500, { outcome: 'failed' }), T0 + 7);
      k.raw(
        'evt/cash',
        {
          ...sale,
          seq: 4,
          eventId: randomUUID(),
          kind: undefined,
          outcome: undefined,
          paymentMethod: undefined,
          action: 'inserted',
        },
        T0 + 8,
      );
      const s = m.summary('k-0001', T0 + 10);
      assert.deepEqual(
        { ...s?.today },
        {
          day: '2025-06-10',
          salesCount: 1,
          salesCents: 796,
          topupCount: 1,
          topupCents: 2000,
          failedCount: 1,
        },
      );
      assert.equal(m.stats.duplicates, 1);
      const d = m.detail('k-0001', T0 + 10);
      assert.deepEqual(
        d?.recentEvents.map((e) => `${e.seq} ${e.title}`),
        ['4 cash inserted', '3 sale failed', '2 top-up completed', '1 sale completed'],
      );
      assert.equal(d?.seq.duplicates, 1);
    });

    it('keeps recent events and remembered ids bounded', () => {
      const m = new FleetModel({ recentEvents: 5, dedupWindow: 10 });
      const k = kiosk(m);
      for (let i = 0; i < 30; i++) k.sale(1, T0 + i, 100);
      const d = m.detail('k-0001', T0 + 100);
      assert.equal(d?.recentEvents.length, 5);
      assert.equal(d?.today.salesCount, 30);
      assert.equal(d?.today.salesCents, 3000);
    });

    it('records seq gaps and starts a new day at midnight in Berlin', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      const late = Date.UTC(2025, 5, 10, 21, 59, 0); // 23:59 Berlin
      k.raw('evt/transaction', transactionEvent(k.c, late, 'sale', 100), late);
      k.c.seq += 2; // two events lost on the way
      k.raw('evt/transaction', transactionEvent(k.c, late, 'sale', 100), late);
      assert.equal(m.summary('k-0001', late)?.today.salesCount, 2);
      assert.equal(m.detail('k-0001', late)?.seq.gaps, 2);
      const next = late + 2 * 60_000; // 00:01 Berlin
      assert.equal(m.summary('k-0001', next)?.today.salesCount, 0);
      k.sale(1, next, 250);
      assert.deepEqual(
        [m.summary('k-0001', next)?.today.day, m.summary('k-0001', next)?.today.salesCents],
        ['2025-06-11', 250],
      );
    });

    it('cross-checks like with like: counts and cash in, not the basket value against the cash part', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      delete k.c.lifetime.salesValue; // counts and cash only here; the sales value has its own test
      k.c.lifetime.sales = { count: 100, cents: 50_000 };
      k.health(1, T0);
      // A cash sale of a 9,06 EUR basket of which 4,00 EUR were paid in coins (the rest card balance):
      // the odometer rises by the cash part, the event carries the basket value.
      k.raw('evt/cash', { ...cashInserted(k.c, T0 + 1, 400) }, T0 + 1);
      k.sale(1, T0 + 2, 906);
      k.c.lifetime.sales.cents += 400 - 906;
      k.c.lifetime.cashIn = { count: k.c.lifetime.cashIn.count + 1, cents: k.c.lifetime.cashIn.cents + 400 };
      k.health(1, T0 + 3);
      const check = m.detail('k-0001', T0 + 4)?.counterCrossCheck;
      assert.deepEqual(check, {
        since: T0,
        counters: { salesCount: 1, topupCount: 0, cashInCents: 400 },
        events: { salesCount: 1, topupCount: 0, cashInCents: 400 },
        agrees: true,
      });
      // Coins the odometer counted but no event reported: a real discrepancy.
      k.c.lifetime.cashIn.cents += 200;
      k.health(1, T0 + 5);
      assert.equal(m.detail('k-0001', T0 + 6)?.counterCrossCheck?.agrees, false);
    });

    it('cross-checks the sales value part by part: the odometer against the events’ parts', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      const parts = { cardBalance: 5000, voucher: 0, terminal: 3000, cash: 2000 };
      k.c.lifetime.salesValue = { count: 20, cents: 10_000, parts };
      k.health(1, T0);
      // A 9,06 EUR basket: 5,06 EUR card balance, 4,00 EUR cash kept (a 5 EUR note, 1 EUR change);
      // a vending sale of 3,00 EUR delivered at the terminal (5,00 EUR charged, a unit given back).
      const sold = [
        { amount: 906, parts: { cardBalance: 506, voucher: 0, terminal: 0, cash: 400 } },
        { amount: 300, parts: { cardBalance: 0, voucher: 0, terminal: 300, cash: 0 } },
      ];
      for (const [i, s] of sold.entries()) {
        const at = T0 + 1 + i;
        k.raw('evt/transaction', { ...transactionEvent(k.c, at, 'sale', s.amount), parts: s.parts }, at);
      }
      k.c.lifetime.salesValue = {
        count: 22,
        cents: 10_000 + 906 + 300,
        parts: { cardBalance: 5506, voucher: 0, terminal: 3300, cash: 2400 },
      };
      k.health(1, T0 + 5);
      const check = m.detail('k-0001', T0 + 6)?.counterCrossCheck;
      assert.deepEqual(check?.sales, {
        counters: {
          count: 2,
          cents: 1206,
          parts: { cardBalance: 506, voucher: 0, terminal: 300, cash: 400 },
        },
        events: { count: 2, cents: 1206, parts: { cardBalance: 506, voucher: 0, terminal: 300, cash: 400 } },
        differing: [],
      });
      assert.equal(check?.agrees, true);
      // One cent more of cash on the odometer than the events told: the check names the part.
      k.c.lifetime.salesValue.parts.cash += 1;
      k.c.lifetime.salesValue.cents += 1;
      k.health(1, T0 + 7);
      const off = m.detail('k-0001', T0 + 8)?.counterCrossCheck;
      assert.equal(off?.agrees, false);
      assert.deepEqual(off?.sales?.differing, ['cash']);
    });

    it('a simulated kiosk reports its sales value as a kiosk of now does: the check compares it', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.health(1, T0);
      k.sale(1, T0 + 1, 906);
      k.sale(1, T0 + 2, 250);
      k.sale(1, T0 + 3, 500, 'topup');
      k.health(1, T0 + 4);
      const check = m.detail('k-0001', T0 + 5)?.counterCrossCheck;
      const parts = { cardBalance: 1156, voucher: 0, terminal: 0, cash: 0 };
      assert.deepEqual(check?.sales?.events, { count: 2, cents: 1156, parts });
      assert.deepEqual(check?.sales?.differing, []);
      assert.equal(check?.agrees, true);
    });

    it('says nothing of sales cents for a kiosk of before (no salesValue in its health)', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      delete k.c.lifetime.salesValue;
      k.health(1, T0);
      // Even an event with parts (a newer kiosk's) has no odometer to be held against.
      const at = T0 + 1;
      const parts = { cardBalance: 0, voucher: 0, terminal: 0, cash: 250 };
      k.raw('evt/transaction', { ...transactionEvent(k.c, at, 'sale', 250), parts }, at);
      k.health(1, T0 + 2);
      const check = m.detail('k-0001', T0 + 3)?.counterCrossCheck;
      assert.equal(check?.sales, undefined);
      assert.equal(check?.agrees, true);
    });

    it('takes an inhibited acceptor on an idle kiosk for normal: only its health says trouble', () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.state('online', 1, T0);
      const devices = (acceptor: object) => ({
        ...healthMessage(k.c, T0).devices,
        acceptor,
      });
      k.raw(
        'health',
        { ...healthMessage(k.c, T0), devices: devices({ health: 'ok', status: 'inhibited' }) },
        T0,
      );
      let s = m.summary('k-0001', T0 + 1);
      assert.deepEqual([s?.status, s?.acceptor, s?.acceptorHealth], ['online', 'inhibited', 'ok']);
      k.raw(
        'health',
        { ...healthMessage(k.c, T0), devices: devices({ health: 'offline', status: 'ENOENT' }) },
        T0,
      );
      s = m.summary('k-0001', T0 + 1);
      assert.deepEqual([s?.acceptor, s?.acceptorHealth], ['ENOENT', 'offline']);
    });
  });

  describe('garbage', () => {
    it('counts and ignores what breaks the contract, never throws', () => {
      const m = new FleetModel();
      const bad: [string, Buffer][] = [
        ['kiosk/v1/k-1/state', Buffer.from('not json')],
        ['kiosk/v1/k-1/state', enc({ v: 1, id: 'k-1', sid: 1, ts: 1, state: 'exploded' })],
        ['kiosk/v1/k-1/state', enc({ v: 2, id: 'k-1', sid: 1, ts: 1, state: 'online' })],
        ['kiosk/v1/k-1/state', enc({ v: 1, id: 'k-2', sid: 1, ts: 1, state: 'online' })],
        ['kiosk/v1/k-1/state', enc(null)],
        ['kiosk/v1/k-1/state', enc([1, 2])],
        ['kiosk/v1/k-1/evt/transaction', enc({ v: 1, id: 'k-1', sid: 1, seq: 1, ts: 1, eventId: 'x' })],
        [
          'kiosk/v1/k-1/evt/transaction',
          enc({ v: 1, id: 'k-1', sid: 1, seq: 1, ts: 1, eventId: randomUUID(), amountCents: 1.5 }),
        ],
        ['kiosk/v1/k-1/health', Buffer.alloc(100_000, 0x20)],
        [
          'kiosk/v1/k-1/cmdres',
          enc({ v: 1, id: 'k-1', sid: 1, ts: 1, cmdId: randomUUID(), status: 'maybe' }),
        ],
        ['kiosk/v1/k-1/cmd/ping', enc({})],
        ['kiosk/v1/k 1/state', enc({})],
        ['kiosk/v2/k-1/state', enc({})],
        ['kiosk/v1/k-1/nonsense', enc({})],
        ['kiosk/v1/k-1/state', Buffer.from([0xff, 0xfe, 0x00])],
      ];
      for (const [topic, payload] of bad) {
        const r = m.ingestRaw(topic, payload, { receivedAt: T0 });
        assert.equal(r.ok, false, topic + ' ' + payload.toString().slice(0, 40));
      }
      assert.equal(m.stats.garbage, bad.length);
      assert.equal(m.size, 0);
    });

    it("takes a newer kiosk's money event with fields it does not know, counting them, and still refuses a bad known one", () => {
      const m = new FleetModel();
      const k = kiosk(m);
      k.birth(1, T0);
      k.state('online', 1, T0);
      const sale = (more: object) => {
        k.c.seq++;
        const e = { ...transactionEvent(k.c, T0 + 10, 'sale', 250), ...more };
        return k.raw('evt/transaction', e, T0 + 10);
      };
      // A v1 kiosk newer than this dashboard: an optional field added within v1.
      assert.equal(sale({ futureSplit: { a: 1 }, loyaltyTier: 'gold' }).ok, true);
      assert.equal(m.stats.garbage, 0);
      assert.equal(m.stats.newerFields, 1);
      assert.match(m.stats.lastNewer ?? '', /evt\/transaction: futureSplit, loyaltyTier$/);
      assert.equal(m.detail('k-0001', T0 + 20)?.today.salesCents, 250, 'in the books');
      // The fields the contract names are checked as before.
      assert.equal(sale({ amountCents: 2.5 }).ok, false);
      assert.equal(sale({ card: '9276001234562845' }).ok, false, 'a full card number');
      assert.equal(m.stats.garbage, 2);
      assert.equal(m.detail('k-0001', T0 + 20)?.today.salesCents, 250);
    });
  });

  describe('commands', () => {
    it('follows a command from sent to its result and never back to accepted', () => {
      const m = new FleetModel();
      const cmdId = randomUUID();
      m.commandSent('k-0001', { cmdId, name: 'maintenance', issuedAt: T0, args: { on: true } });
      const res = (status: string, at: number) =>
        m.ingestRaw(
          'kiosk/v1/k-0001/cmdres',
          enc({ v: 1, id: 'k-0001', sid: 1, seq: 1, ts: at, cmdId, cmd: 'maintenance', status }),
          { receivedAt: at },
        );
      assert.equal(m.command('k-0001', cmdId)?.status, 'sent');
      res('accepted', T0 + 1);
      res('succeeded', T0 + 2);
      res('accepted', T0 + 3);
      assert.equal(m.command('k-0001', cmdId)?.status, 'succeeded');
    });
  });
});
