/**
 * The back office's derived figures with the clock passed in: the cash box's fill rate only from the
 * current filling (a collection restarts it), no estimate from too little history, full now when at
 * capacity; time in service weighted by time, an outage (no samples) and maintenance counting as out;
 * weeks from Monday.
 */
import assert from 'node:assert/strict';

import { mondayOf } from '../../src/dashboard/http-server.js';
import { cashBoxEstimate, uptimeOf, type HealthSample } from '../../src/dashboard/office-figures.js';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 11, 2, 12);
const s = (at: number, box: number, collected: number | null = 1, state = 'online'): HealthSample => ({
  at,
  state,
  boxCashInCents: box,
  lastCollectionTs: collected,
});

describe('dashboard office figures', () => {
  it('cash box: the rate of the current filling and when it is full', () => {
    const samples = [s(NOW - 5 * DAY, 90_000, 0), s(NOW - 2 * DAY, 1000), s(NOW - DAY, 3000)];
    const e = cashBoxEstimate(samples, NOW, 10_000, { cents: 4000, lastCollectionTs: 1 });
    // The sample before the collection (90 000 ct) is not part of this filling.
    assert.equal(e?.centsPerDay, 2000);
    assert.equal(e?.fullAt, NOW + 3 * DAY);
    assert.equal(e?.cents, 4000);
  });

  it('cash box: no estimate from an hour of history; full now at capacity; latest sample without live health', () => {
    const short = [s(NOW - 30 * 60_000, 1000), s(NOW - 60_000, 3000)];
    assert.deepEqual(
      [cashBoxEstimate(short, NOW, 10_000)?.centsPerDay, cashBoxEstimate(short, NOW, 10_000)?.fullAt],
      [null, null],
    );
    assert.equal(cashBoxEstimate(short, NOW, 3000)?.fullAt, NOW);
    assert.equal(cashBoxEstimate([], NOW, 3000), undefined);
    assert.equal(cashBoxEstimate([s(NOW - 2 * DAY, 500), s(NOW - DAY, 500)], NOW, 3000)?.fullAt, null);
  });

  it('uptime: each sample stands for at most two intervals; gaps and maintenance are out of service', () => {
    const every = 5 * 60_000;
    const from = NOW - 2 * H;
    const samples: HealthSample[] = [];
    // First hour: a sample every 5 min, online. Then 30 min of silence, then 30 min in maintenance.
    for (let t = from; t < from + H; t += every) samples.push(s(t, 0));
    for (let t = from + 1.5 * H; t < NOW; t += every) samples.push(s(t, 0, 1, 'maintenance'));
    const u = uptimeOf(samples, from, NOW, every);
    // Twelve online samples 5 min apart, the last one reaching 10 min on into the silence: 65 of 120 minutes.
    assert.equal(u?.ratio.toFixed(4), (65 / 120).toFixed(4));
    assert.equal(uptimeOf([], from, NOW, every), undefined);
    // A kiosk younger than the window is measured from its first sample.
    assert.equal(uptimeOf([s(NOW - 10 * 60_000, 0), s(NOW - 5 * 60_000, 0)], from, NOW, every)?.ratio, 1);
  });

  it('weeks start on Monday', () => {
    assert.equal(mondayOf('2026-12-02'), '2026-11-30'); // a Wednesday
    assert.equal(mondayOf('2026-11-30'), '2026-11-30');
    assert.equal(mondayOf('2026-12-06'), '2026-11-30'); // Sunday
    assert.equal(mondayOf('2027-01-01'), '2026-12-28');
  });
});
