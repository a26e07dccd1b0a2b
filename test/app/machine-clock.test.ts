import assert from 'node:assert/strict';
import sinon from 'sinon';
import { machineClock } from '../../src/app/machine-clock.js';

describe('app/machine-clock: the machines’ clock is monotonic', () => {
  it('does not follow the wall clock when it is set back or forward by hours', () => {
    const wall = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      const t0 = machineClock();
      wall.setSystemTime(Date.now() - 5 * 3_600_000);
      const back = machineClock();
      wall.setSystemTime(Date.now() + 10 * 3_600_000);
      const forward = machineClock();
      assert.ok(back >= t0 && back - t0 < 1000, `set back 5 h: moved ${back - t0} ms`);
      assert.ok(forward >= back && forward - back < 1000, `set forward 10 h: moved ${forward - back} ms`);
    } finally {
      wall.restore();
    }
  });
});
