/**
 * The vending counter as the kiosk runs it (src/app/vending-counter.ts), over a fake book and fleet:
 * STOCK only once the machine runs; slot_jammed (blocked slots and releases in doubt), stock_low,
 * and the hopper's offline/empty/low alerts set and cleared; the technician's fill follows on the
 * simulated hopper or tells a real one it was refilled; a payout cut off by a restart whose hopper
 * cannot be read is settled unknown with 0 paid, one already unknown is left alone.
 */
import assert from 'node:assert/strict';
import { VendingCounter } from '../../src/app/vending-counter.js';
import type { VendJournal } from '../../src/bookkeeping/vend-journal.js';
import type { KioskInputEvent } from '../../machines/events.js';
import type { Hopper } from '../../hal/hopper/hopper.js';
import type { SimulatedHopper } from '../../hal/hopper/sim-hopper.js';
import { silentLogger } from '../../src/util/logger.js';

type Alert = { severity?: string; message?: string };

function rig(opts: { sim?: boolean; hopperStatus?: string; booked?: number | null } = {}) {
  const slots = [
    { id: 'A1', product: 1, stock: 4, capacity: 10, lowAt: 1, blocked: null as string | null },
    { id: 'A2', product: 2, stock: 1, capacity: 10, lowAt: 1, blocked: null as string | null },
  ];
  const doubt: {
    jobId: string;
    sessionId?: string;
    slot: string;
    cents: number;
    outcome: string;
    sale?: true;
    amountUnknown?: true;
  }[] = [];
  let booked = opts.booked === undefined ? 20 : opts.booked;
  const outcomes: unknown[][] = [];
  const payouts: { jobId: string; coins: number; coinCents: number; before: unknown; outcome?: string }[] =
    [];
  const book = {
    view: () => slots,
    available: () => Object.fromEntries(slots.map((s) => [s.id, s.blocked ? 0 : s.stock])),
    releasesInDoubt: () => doubt,
    hopperCoins: () => booked,
    hopperFilled: async (coins: number) => void (booked = (booked ?? 0) + coins),
    unblockSlot: async (slot: string) => {
      const s = slots.find((x) => x.id === slot)!;
      s.blocked = null;
      return s.stock;
    },
    payoutsInDoubt: () => payouts,
    payoutOutcome: async (...args: unknown[]) => void outcomes.push(args),
  };
  const hopperCalls: string[] = [];
  const hopper = {
    coinCents: 10,
    status: opts.hopperStatus ?? 'ok',
    refilled: () => void hopperCalls.push('refilled'),
    settle: async () => {
      throw new Error('no answer');
    },
  } as unknown as Hopper;
  const sim = opts.sim
    ? ({
        coins: 7,
        refill: (n: number) => void hopperCalls.push(`refill ${n}`),
        take: (n: number) => void hopperCalls.push(`take ${n}`),
      } as unknown as SimulatedHopper)
    : undefined;
  const alerts = new Map<string, Alert>();
  const sent: KioskInputEvent[] = [];
  let running = false;
  let changes = 0;
  const counter = new VendingCounter({
    book: book as unknown as VendJournal,
    devices: { acceptor: { coinValues: [10, 50] } as never, hopper, slots: undefined },
    simHopper: sim,
    config: { hardware: { hopper: { lowAt: 5 } } } as never,
    fleet: () => ({
      setAlert: (name: string, a?: Alert) => void alerts.set(name, a ?? {}),
      clearAlert: (name: string) => void alerts.delete(name),
    }),
    machineRunning: () => running,
    send: (e) => sent.push(e),
    onChange: () => void changes++,
    logger: silentLogger,
  });
  return {
    counter,
    hopper,
    slots,
    doubt,
    payouts,
    outcomes,
    alerts,
    sent,
    hopperCalls,
    run: () => (running = true),
    changes: () => changes,
    setBooked: (n: number | null) => (booked = n),
  };
}

describe('vending counter', () => {
  it('tells the machine nothing before it runs; then STOCK with what can be sold and whether change is given', () => {
    const r = rig();
    r.counter.changed();
    assert.deepEqual(r.sent, []);
    assert.equal(r.changes(), 0);
    r.run();
    r.counter.changed();
    assert.deepEqual(r.sent, [
      { type: 'STOCK', slotStock: { A1: 4, A2: 1 }, givesChange: true, coinValues: [10, 50] },
    ]);
    assert.equal(r.changes(), 1);
  });

  it('goods_unsettled names a paid sale whose goods are unknown, with what it paid; slot_jammed leaves it out; cleared once settled', () => {
    const r = rig();
    r.run();
    r.doubt.push({
      jobId: 's9:recovery-goods:boot',
      sessionId: 's9',
      slot: '',
      cents: 678,
      outcome: 'unknown',
      sale: true,
    });
    r.counter.changed();
    assert.deepEqual(r.alerts.get('goods_unsettled'), {
      severity: 'critical',
      message: 's9: paid 678 ct, goods unknown: settle-release s9:recovery-goods:boot',
    });
    assert.ok(!r.alerts.has('slot_jammed'), 'no slot is jammed');
    // Its amount unknown (an older journal's payment record): never "paid 0 ct".
    r.doubt.push({
      jobId: 's10:recovery-goods:boot',
      sessionId: 's10',
      slot: '',
      cents: 0,
      outcome: 'unknown',
      sale: true,
      amountUnknown: true,
    });
    r.counter.changed();
    assert.equal(
      r.alerts.get('goods_unsettled')?.message,
      's9: paid 678 ct, goods unknown: settle-release s9:recovery-goods:boot; ' +
        's10: paid, amount unknown, goods unknown: settle-release s10:recovery-goods:boot (refunded: give cents)',
    );
    r.doubt.length = 0;
    r.counter.changed();
    assert.ok(!r.alerts.has('goods_unsettled'));
  });

  it('slot_jammed names blocked slots and releases in doubt; stock_low the low ones; both cleared when fine', () => {
    const r = rig();
    r.run();
    r.slots[0]!.blocked = 'no_confirmation';
    r.doubt.push({ jobId: 's:release:1', slot: 'A2', cents: 180, outcome: 'unknown' });
    r.counter.changed();
    assert.equal(r.alerts.get('slot_jammed')?.severity, 'critical');
    assert.equal(
      r.alerts.get('slot_jammed')?.message,
      'A1: no_confirmation; A2: release s:release:1 unknown (180 ct), settle it',
    );
    assert.equal(r.alerts.get('stock_low')?.message, 'A2: 1');
    r.slots[0]!.blocked = null;
    r.doubt.length = 0;
    r.slots[1]!.stock = 5;
    r.counter.changed();
    assert.ok(!r.alerts.has('slot_jammed'));
    assert.ok(!r.alerts.has('stock_low'));
  });

  it('hopper alerts: empty by the books, low at lowAt, offline; none when the books are unknown', () => {
    const r = rig({ booked: 0 });
    r.run();
    r.counter.changed();
    assert.equal(r.alerts.get('hopper_empty')?.message, '10 ct hopper: 0 coins by the books');
    assert.ok(!r.alerts.has('hopper_low'));
    r.setBooked(5);
    r.counter.changed();
    assert.ok(!r.alerts.has('hopper_empty'));
    assert.equal(r.alerts.get('hopper_low')?.message, '10 ct hopper: 5 coins by the books');
    r.setBooked(null);
    r.counter.changed();
    assert.ok(!r.alerts.has('hopper_low') && !r.alerts.has('hopper_empty'));
    const off = rig({ hopperStatus: 'offline' });
    off.run();
    off.counter.changed();
    assert.equal(off.alerts.get('hopper_offline')?.message, '10 ct hopper: not answering, no change');
    assert.deepEqual(off.sent.at(-1), {
      type: 'STOCK',
      slotStock: { A1: 4, A2: 1 },
      givesChange: false,
      coinValues: [10, 50],
    });
  });

  it('the technician’s fill: booked first, the simulated hopper follows; a real one is told it was refilled', async () => {
    const sim = rig({ sim: true });
    const book = sim.counter.hopperBook(sim.hopper);
    assert.equal(await book.count(30), 50);
    assert.equal(await book.count(-10), 40);
    assert.deepEqual(sim.hopperCalls, ['refill 30', 'take 10']);
    assert.equal(sim.counter.summary().hopper?.coins, 7);
    const real = rig();
    const realBook = real.counter.hopperBook(real.hopper);
    await realBook.count(10);
    await realBook.count(-3);
    assert.deepEqual(real.hopperCalls, ['refilled']);
    assert.equal(real.counter.summary().hopper?.coins, undefined);
  });

  it('a payout cut off by a restart, hopper not readable: settled unknown with 0 paid; an unknown one left alone', async () => {
    const r = rig();
    r.payouts.push(
      { jobId: 'p1', coins: 3, coinCents: 10, before: { event: 4, remaining: 0, paid: 0, unpaid: 0 } },
      {
        jobId: 'p2',
        coins: 2,
        coinCents: 10,
        before: { event: 5, remaining: 0, paid: 0, unpaid: 0 },
        outcome: 'unknown',
      },
    );
    await r.counter.settlePayouts();
    assert.equal(r.outcomes.length, 1);
    assert.deepEqual(r.outcomes[0]!.slice(0, 3), ['p1', 'unknown', 0]);
  });
});
