import assert from 'node:assert/strict';
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
});
