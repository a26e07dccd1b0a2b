import assert from 'node:assert/strict';
import sinon from 'sinon';
import { Watchdog, watchdogIntervalMs, type HealthVerdict } from '../../src/ops/watchdog.js';
import { StuckStateGuard } from '../../src/ops/stuck-state.js';
import { recordingLogger } from '../../src/util/logger.js';

describe('ops/watchdog', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'],
    });
  });
  afterEach(() => clock.restore());

  const notifier = () => ({ watchdog: sinon.stub().resolves(), status: sinon.stub().resolves() });

  it('pings at half of WATCHDOG_USEC, and only for the process it is meant for', () => {
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), undefined);
    assert.equal(watchdogIntervalMs({}, 42), undefined);
  });

  it('does not start without a watchdog from systemd', () => {
    const n = notifier();
    const w = new Watchdog({
      notifier: n,
      isHealthy: () => ({ healthy: true }),
      env: {},
      eventLoopLagMs: () => 0,
    });
    assert.equal(w.start(), false);
    clock.tick(60_000);
    assert.equal(n.watchdog.callCount, 0);
  });

  it('feeds every interval while healthy', async () => {
    const n = notifier();
    const w = new Watchdog({
      notifier: n,
      isHealthy: () => ({ healthy: true }),
      env: { WATCHDOG_USEC: '30000000' },
      eventLoopLagMs: () => 3,
    });
    assert.equal(w.start(), true);
    await clock.tickAsync(15_000 * 4);
    assert.equal(n.watchdog.callCount, 4);
    w.stop();
    await clock.tickAsync(60_000);
    assert.equal(n.watchdog.callCount, 4, 'stopped');
  });

  it('stops feeding while the event loop lags, says why once, and resumes', async () => {
    const n = notifier();
    const logger = recordingLogger();
    let lag = 10;
    const w = new Watchdog({
      notifier: n,
      isHealthy: () => ({ healthy: true }),
      env: { WATCHDOG_USEC: '30000000' },
      maxEventLoopLagMs: 1000,
      eventLoopLagMs: () => lag,
      logger,
    });
    w.start();
    await clock.tickAsync(15_000);
    lag = 4000;
    await clock.tickAsync(30_000);
    assert.equal(n.watchdog.callCount, 1, 'no ping during the two lagging checks');
    assert.equal(n.status.callCount, 1);
    assert.match(String(n.status.firstCall.args[0]), /event loop lagged 4000 ms/);
    assert.equal(logger.records.filter((r) => r.level === 'warn').length, 1);
    lag = 5;
    await clock.tickAsync(15_000);
    assert.equal(n.watchdog.callCount, 2);
    w.stop();
  });

  it('stops feeding while a machine is stuck in a transient state', async () => {
    const n = notifier();
    const guard = new StuckStateGuard(() => Date.now());
    const w = new Watchdog({
      notifier: n,
      isHealthy: () => guard.verdict(),
      env: { WATCHDOG_USEC: '30000000' },
      eventLoopLagMs: () => 0,
    });
    w.start();
    guard.enter('checkout', 'printingReceipt', 60_000);
    await clock.tickAsync(60_000);
    assert.equal(n.watchdog.callCount, 4, 'within the limit');
    await clock.tickAsync(30_000);
    assert.equal(n.watchdog.callCount, 4, 'past the limit: no more pings');
    assert.match(String(n.status.firstCall.args[0]), /checkout stuck in printingReceipt/);
    guard.enter('checkout', 'idle');
    await clock.tickAsync(15_000);
    assert.equal(n.watchdog.callCount, 5);
    w.stop();
  });

  it('treats a health check that throws as unhealthy', async () => {
    const n = notifier();
    const w = new Watchdog({
      notifier: n,
      isHealthy: (): HealthVerdict => {
        throw new Error('boom');
      },
      env: { WATCHDOG_USEC: '2000000' },
      eventLoopLagMs: () => 0,
    });
    const check = await w.check();
    assert.deepEqual([check.fed, check.reason], [false, 'health check threw: Error: boom']);
    assert.equal(n.watchdog.callCount, 0);
  });

  it('measures real event-loop lag with perf_hooks when none is injected', async () => {
    clock.restore();
    const n = notifier();
    const w = new Watchdog({
      notifier: n,
      isHealthy: () => ({ healthy: true }),
      env: { WATCHDOG_USEC: '3600000000' },
      maxEventLoopLagMs: 50,
    });
    w.start();
    await new Promise((r) => setTimeout(r, 50)); // let the histogram's timer run once
    const until = Date.now() + 200;
    while (Date.now() < until) {
      /* block the loop for 200 ms */
    }
    await new Promise((r) => setTimeout(r, 30));
    const check = await w.check();
    w.stop();
    assert.equal(check.fed, false);
    assert.ok(check.lagMs >= 100, `lag ${check.lagMs} ms`);
    clock = sinon.useFakeTimers();
  });
});

describe('ops/stuck-state', () => {
  it('keeps the time a machine entered a state when told the same state again', () => {
    let t = 0;
    const g = new StuckStateGuard(() => t);
    g.enter('topup', 'charging', 10_000);
    t = 8000;
    g.enter('topup', 'charging', 10_000);
    t = 10_001;
    assert.equal(g.verdict().healthy, false);
    g.forget('topup');
    assert.equal(g.verdict().healthy, true);
    g.enter('lifecycle', 'outOfService');
    t = 1e9;
    assert.equal(g.verdict().healthy, true, 'no limit, never stuck');
  });
});
