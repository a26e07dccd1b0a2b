/** The vending counter in the fleet's `health`/`birth` device list, and the health's counters (src/app/fleet-bridge.ts). */
import assert from 'node:assert/strict';
import { lifetimeCounters, vendStatus } from '../../src/app/fleet-bridge.js';
import { DeviceStatusSchema, LifetimeCountersSchema } from '../../src/fleet/envelope.js';
import { foldRecords, type JournalRecord } from '../../src/journal/state.js';

describe('fleet health: slots and hopper', () => {
  it('stock per slot, blocks and releases in doubt degrade the slots; an empty hopper is degraded', () => {
    const out = vendStatus({
      slots: [
        { id: 'A1', product: 1, stock: 4, blocked: null },
        { id: 'A2', product: 2, stock: 0, blocked: 'no_confirmation' },
      ],
      releasesInDoubt: [],
      hopper: { coinCents: 10, status: 'empty', coins: 0 },
    });
    assert.deepEqual(out.slots, {
      health: 'degraded',
      status: 'A1 4, A2 0 blocked',
      stock: { A1: 4, A2: 0 },
      blocked: { A2: 'no_confirmation' },
      releasesInDoubt: 0,
      inDoubt: [],
    });
    assert.deepEqual(out.hopper, { health: 'degraded', status: 'empty', coinCents: 10, coins: 0 });
    for (const d of Object.values(out)) assert.ok(DeviceStatusSchema.safeParse(d).success);
  });

  it('all fine: ok; a kiosk without a vending counter adds nothing', () => {
    const out = vendStatus({
      slots: [{ id: 'A1', product: 1, stock: 4, blocked: null }],
      releasesInDoubt: [],
      hopper: { coinCents: 50, status: 'ok' },
    });
    assert.equal(out.slots?.health, 'ok');
    assert.equal(out.hopper?.health, 'ok');
    assert.deepEqual(vendStatus(undefined), {});
    const doubt = vendStatus({
      slots: [{ id: 'A1', product: 1, stock: 4, blocked: 'release power_cut' }],
      releasesInDoubt: [{ jobId: 's:release-0:1', slot: 'A1', cents: 180 }],
      hopper: null,
    });
    assert.equal(doubt.slots?.releasesInDoubt, 1);
    assert.deepEqual(doubt.slots?.inDoubt, [{ jobId: 's:release-0:1', slot: 'A1', cents: 180 }]);
    const many = vendStatus({
      slots: [{ id: 'A1', product: 1, stock: 4, blocked: null }],
      releasesInDoubt: Array.from({ length: 12 }, (_, i) => ({
        jobId: `s:release-${i}:1`,
        slot: 'A1',
        cents: 1,
      })),
      hopper: null,
    }).slots;
    assert.equal(many?.releasesInDoubt, 12);
    assert.equal((many?.inDoubt as unknown[]).length, 10);
    assert.equal(doubt.hopper, undefined);
  });

  it("the journal's hopper count (bookedCoins, null until booked) and lowAt, valid v1 device status", () => {
    const hopper = (booked: number | null) =>
      vendStatus({
        slots: [],
        releasesInDoubt: [],
        hopper: { coinCents: 10, status: 'ok', booked, lowAt: 20 },
      }).hopper;
    assert.deepEqual(hopper(28), { health: 'ok', status: 'ok', coinCents: 10, bookedCoins: 28, lowAt: 20 });
    assert.equal(hopper(null)?.bookedCoins, null);
    for (const b of [0, 28, null]) assert.ok(DeviceStatusSchema.safeParse(hopper(b)).success);
    assert.ok(!DeviceStatusSchema.safeParse({ ...hopper(1), bookedCoins: -1 }).success);
  });
});

describe('fleet health: counters from the journal', () => {
  it('tells the last cash collection as counted and as the books expected it', () => {
    const rec = (seq: number, e: Record<string, unknown>) =>
      ({ seq, ts: 1_700_000_000_000 + seq, ...e }) as JournalRecord;
    const before = lifetimeCounters(foldRecords([]));
    assert.equal(before.lastCollection, null);
    const st = foldRecords([
      rec(0, { type: 'coin_accepted', sessionId: 'S1', cents: 200, source: 'coin' }),
      rec(1, { type: 'coin_accepted', sessionId: 'S1', cents: 50, source: 'coin' }),
      rec(2, { type: 'cash_collected', cents: 240, by: 'technician' }),
    ]);
    const c = lifetimeCounters(st);
    assert.deepEqual(c.lastCollection, { ts: 1_700_000_000_002, countedCents: 240, expectedCents: 250 });
    assert.equal(c.lastCollectionTs, 1_700_000_000_002);
    assert.ok(LifetimeCountersSchema.safeParse(c).success);
  });
});
