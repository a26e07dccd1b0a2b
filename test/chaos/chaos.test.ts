/**
 * The chaos harness, short: the real kiosk program, the stand-in in its own process, a Mosquitto;
 * power cuts plus API kills, pauses and faults, and every fault kind of issue 13 item 7 / issue 15
 * item 6 at least once (a vending counter run and a top-up run, `cover`): card terminal, disk full
 * (root only: a tmpfs), byte flip, clock jumps, broker outage, printer failing mid-print, jams,
 * stuck sensors, empty and jamming hopper, cuts during release and payout; and a ccTalk top-up run
 * with the validator's own power losses and buffer overflows. The long version: docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { canMount, chaosRun, FAULT_KINDS, GOODS_KINDS, type RunResult } from '../../src/chaos/run.js';
import { summarize } from '../../src/chaos/summary.js';
import { needs, SOCAT } from '../support/real-parts.js';

describe('chaos harness (short): every fault kind, the books reconciled', function () {
  // A budget, not a guess: two runs take ~2 min alone and several times that on a loaded 2-core machine.
  this.timeout(900_000);

  it('loses no cent, charges nothing twice, gives no goods away, reports every money event once', async () => {
    const results: RunResult[] = [];
    const started = Date.now();
    // 7 sessions cover the 13 kinds of a vending counter, 3 the 5 of a top-up kiosk; then random ones.
    results.push(await chaosRun(0, 7, { sessions: 9, killRate: 0.8, mode: 'vending', cover: true }));
    results.push(await chaosRun(1, 7, { sessions: 5, killRate: 0.8, mode: 'topup', cover: true }));
    const s = summarize(results, Date.now() - started);
    console.log(s.text.replace(/^/gm, '      '));
    const expected = [...FAULT_KINDS, ...GOODS_KINDS].filter((k) => canMount || k !== 'disk_full');
    assert.deepEqual(
      expected.filter((k) => !s.kinds[k]),
      [],
      'every kind tried at least once',
    );
    assert.ok(s.kioskKills >= 3, `only ${s.kioskKills} kills`);
    assert.ok(s.observed['byte_flip:journal_damaged']! > 0, 'a flipped byte raised journal_damaged');
    assert.ok(s.terminalSessions > 0, 'a card-terminal payment in the books');
    assert.ok(s.goods.delivered > 0, 'goods were released');
    assert.ok(s.fleet.distinct > 0, 'the fleet heard money events');
    assert.deepEqual(
      {
        lost: s.lostCents,
        double: s.doubleCharges,
        over: s.overBookedCents,
        open: s.openAtEnd,
        goodsFree: s.goods.releasedWithoutPayment,
        paidNoGoods: s.goods.paidWithoutGoods,
        fleetMissing: s.fleet.missing,
        fleetExtra: s.fleet.extra,
        errors: results.flatMap((r) => (r.error ? [r.error] : [])),
        findings: results.flatMap((r) => r.books.findings),
      },
      {
        lost: 0,
        double: 0,
        over: 0,
        open: 0,
        goodsFree: 0,
        paidNoGoods: 0,
        fleetMissing: 0,
        fleetExtra: 0,
        errors: [],
        findings: [],
      },
    );
  });

  it('with the ccTalk validator on a real line: coins across power cuts, validator powered or not, its own power losses and overflows', async function () {
    await needs(this, SOCAT);
    const started = Date.now();
    // Power cuts, API faults and the validator's own faults: what is new here is the driver's resume
    // across the cuts and its reset, re-inhibit and loss record while the kiosk runs.
    const r = await chaosRun(2, 7, {
      sessions: 6,
      killRate: 0.8,
      mode: 'topup',
      kindRate: 0,
      acceptor: 'cctalk',
      validatorRate: 0.5,
    });
    const s = summarize([r], Date.now() - started);
    console.log(s.text.replace(/^/gm, '      '));
    assert.ok(r.coinsAccepted > 0, 'coins went in at the validator');
    assert.ok(r.kioskKills >= 2, `only ${r.kioskKills} kills`);
    const cuts = (s.observed['validator:power_kept'] ?? 0) + (s.observed['validator:power_lost'] ?? 0);
    assert.equal(cuts, r.kioskKills, 'every cut decided the validator’s power');
    assert.ok(
      (s.kinds.validator_power_loss ?? 0) + (s.kinds.validator_overflow ?? 0) > 0,
      'a validator fault while the kiosk ran',
    );
    assert.equal(s.observed['validator_power_loss:kiosk_accepting_validator_inhibited'], undefined);
    assert.deepEqual(
      {
        lost: s.lostCents,
        over: s.overBookedCents,
        open: s.openAtEnd,
        error: r.error,
        findings: r.books.findings,
      },
      { lost: 0, over: 0, open: 0, error: undefined, findings: [] },
    );
  });
});
