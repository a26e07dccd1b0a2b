import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import {
  anyProbe,
  ClockSyncWatch,
  flagFileProbe,
  timedatectlProbe,
  waitForClockSync,
} from '../../src/ops/time-sync.js';

describe('ops/time-sync', () => {
  it('reads timesyncd’s flag file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-ts-'));
    try {
      const flag = join(dir, 'synchronized');
      assert.equal(await flagFileProbe(flag)(), false);
      writeFileSync(flag, '');
      assert.equal(await flagFileProbe(flag)(), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks timedatectl for NTPSynchronized', async () => {
    const calls: string[][] = [];
    const probe = (answer: string) =>
      timedatectlProbe(async (file, args) => {
        calls.push([file, ...args]);
        return answer;
      });
    assert.equal(await probe('yes\n')(), true);
    assert.equal(await probe('no\n')(), false);
    assert.equal(await probe('')(), false, 'timedatectl missing or failing counts as not synchronised');
    assert.deepEqual(calls[0], ['timedatectl', 'show', '-p', 'NTPSynchronized', '--value']);
  });

  it('any probe saying yes is enough; a throwing probe says no', async () => {
    const boom = async (): Promise<boolean> => {
      throw new Error('dbus down');
    };
    assert.equal(await anyProbe(boom, async () => true)(), true);
    assert.equal(await anyProbe(boom, async () => false)(), false);
  });

  describe('waiting', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(
      () => (clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })),
    );
    afterEach(() => clock.restore());

    it('resolves true as soon as the clock is synchronised', async () => {
      let synced = false;
      const p = waitForClockSync({ probe: async () => synced, timeoutMs: 60_000, intervalMs: 1000 });
      await clock.tickAsync(5000);
      synced = true;
      await clock.tickAsync(1000);
      assert.equal(await p, true);
      assert.ok(Date.now() <= 6000);
    });

    it('resolves false after the timeout, never waiting forever', async () => {
      const probe = sinon.stub().resolves(false);
      const p = waitForClockSync({ probe, timeoutMs: 10_000, intervalMs: 1000 });
      await clock.tickAsync(10_000);
      assert.equal(await p, false);
      assert.ok(probe.callCount >= 10 && probe.callCount <= 12, `polled ${probe.callCount} times`);
    });

    it('keeps watching in the background and reports the moment of synchronisation once', async () => {
      let synced = false;
      const onSynced = sinon.spy();
      const watch = new ClockSyncWatch({ probe: async () => synced, intervalMs: 5000, onSynced });
      assert.equal(await watch.start(), false);
      await clock.tickAsync(20_000);
      assert.equal(watch.synced, false);
      synced = true;
      await clock.tickAsync(5000);
      assert.equal(watch.synced, true);
      await clock.tickAsync(60_000);
      assert.equal(onSynced.callCount, 1);
      watch.stop();
    });
  });
});
