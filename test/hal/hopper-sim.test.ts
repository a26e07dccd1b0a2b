import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedHopper } from '../../hal/hopper/sim-hopper.js';
import { settleFromCounters } from '../../hal/hopper/hopper.js';

describe('SimulatedHopper', () => {
  it('pays from its coins, runs dry, jams after N coins and refills', async () => {
    const hopper = new SimulatedHopper(200, 5);
    const statuses: string[] = [];
    hopper.on('status', (s) => statuses.push(s));
    hopper.start();
    const a = await hopper.dispense(2);
    assert.equal(a.outcome, 'complete');
    assert.equal(a.paidCents, 400);
    hopper.jam(1);
    const b = await hopper.dispense(2);
    assert.deepEqual([b.outcome, b.paid, b.fault], ['short', 1, 'jammed']);
    const c = await hopper.dispense(5);
    assert.deepEqual([c.outcome, c.paid, c.unpaidCents, c.fault], ['short', 2, 600, 'empty']);
    hopper.refill(10);
    assert.equal((await hopper.dispense(1)).outcome, 'complete');
    assert.deepEqual(statuses, ['ok', 'jammed', 'empty', 'ok']);
  });

  it('settles a journaled dispense from the counters like the real hopper', async () => {
    const hopper = new SimulatedHopper(100, 3);
    hopper.start();
    const before = await hopper.counters();
    await hopper.dispense(5);
    const settled = await hopper.settle({ coins: 5, coinCents: 100, before });
    assert.deepEqual([settled.outcome, settled.paid], ['short', 3]);
    const notRun = settleFromCounters(
      { coins: 2, coinCents: 100, before: await hopper.counters() },
      await hopper.counters(),
    );
    assert.equal(notRun.outcome, 'not_sent');
  });

  it('with a state file, its counters outlive the kiosk: a payout cut halfway is settled short with the coins that came out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-hopper-'));
    try {
      const file = join(dir, 'hopper.json');
      const hopper = new SimulatedHopper(10, 20, { stateFile: file, coinMs: 40 });
      hopper.start();
      await hopper.dispense(2);
      const before = await hopper.counters();
      const paying = hopper.dispense(5);
      await new Promise((r) => setTimeout(r, 100));
      // The power cut: what the hopper's memory holds at this instant is all the next boot finds.
      const cut = join(dir, 'cut.json');
      copyFileSync(file, cut);
      await paying;
      const after = new SimulatedHopper(10, 999, { stateFile: cut });
      after.start();
      const now = await after.counters();
      assert.equal(now.remaining, 0, 'the motor stopped with the power');
      assert.ok(now.paid >= 1 && now.paid < 5, `some coins out before the cut (${now.paid})`);
      const settled = await after.settle({ coins: 5, coinCents: 10, before });
      assert.deepEqual([settled.outcome, settled.paid], ['short', now.paid]);
      assert.equal(after.coins, 18 - now.paid, 'the coins left are those of the file, not the config');
      assert.equal(now.lifetime, 2 + now.paid);

      // Without a state file (the old twin) the next boot met a fresh hopper: the payout was unknowable.
      const fresh = new SimulatedHopper(10, 20);
      const lost = await fresh.settle({ coins: 5, coinCents: 10, before });
      assert.notEqual(lost.paid, now.paid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
