/**
 * The chaos harness, short: the real kiosk program, the stand-in in its own process, ~20 power
 * cuts plus API kills, pauses and faults. The long version: `npx tsx src/chaos/cli.ts --runs 20
 * --seed 301 --sessions 8 --kill-rate 0.8`, five seeds in parallel (docs/reliability.md).
 */
import assert from 'node:assert/strict';
import { chaosRun, type RunResult } from '../../src/chaos/run.js';
import { summarize } from '../../src/chaos/summary.js';

describe('chaos harness (short): power cuts and API faults, three books reconciled', function () {
  // A budget, not a guess: three runs take ~60 s alone and several times that on a loaded 2-core machine.
  this.timeout(600_000);

  it('loses no cent and charges nothing twice over ~20 kiosk power cuts', async () => {
    const results: RunResult[] = [];
    const started = Date.now();
    for (let run = 0; run < 3; run++) results.push(await chaosRun(run, 7, { sessions: 7, killRate: 0.95 }));
    const s = summarize(results, Date.now() - started);
    console.log(s.text.replace(/^/gm, '      '));
    assert.ok(s.kioskKills >= 15, `only ${s.kioskKills} kills`);
    assert.ok(s.coins > 0 && s.paid + s.credited > 0, 'money moved');
    assert.deepEqual(
      {
        lost: s.lostCents,
        double: s.doubleCharges,
        over: s.overBookedCents,
        open: s.openAtEnd,
        errors: results.flatMap((r) => (r.error ? [r.error] : [])),
        findings: results.flatMap((r) => r.books.findings),
      },
      { lost: 0, double: 0, over: 0, open: 0, errors: [], findings: [] },
    );
  });
});
