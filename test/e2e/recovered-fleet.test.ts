/**
 * What the fleet is told after a crash (issue 14), in the real kiosk program over a real Mosquitto:
 *  - a sale recovery finds paid and a voucher it issues reach the broker once, also when the power is
 *    cut after recovery and before the fleet reporter is up (before: held in memory, lost);
 *  - a voucher paid out with `kiosk vouchers payout` while the kiosk is stopped reaches the broker
 *    once, when the kiosk starts again (before: never).
 * Events are counted after unpacking `evt/batch` (the outbox replay may pack them), by eventId too.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { recordingIo } from '../../src/cli/cli-io.js';
import { vouchersCommand } from '../../src/cli/vouchers-command.js';
import { unpackEvents } from '../../src/fleet/event-batch.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { sleep, watchedKiosk } from '../fleet/support/observer.js';
import { buyTwoAndCut, vendFleetConfig } from '../support/vend.js';

describe('e2e: the fleet after a crash (recovered sale, vouchers, real Mosquitto)', function () {
  this.timeout(120_000);
  const id = 'k-recovered-01';
  const watched = watchedKiosk(id);

  async function start(dir?: string, env: Record<string, string> = {}): Promise<KioskProcess> {
    const k = await startKiosk({
      ...(dir ? { dir } : {}),
      keepDir: true,
      env,
      // With the reporter held back the control port (started after it) is not up: wait on the log.
      waitReady: Object.keys(env).length === 0,
      config: vendFleetConfig(id, watched.brokerUrl),
    });
    watched.keep(k);
    if (Object.keys(env).length === 0) await k.waitForIdle(20_000);
    return k;
  }

  const gone = (k: KioskProcess) => watched.forget(k);

  /** Every `evt/{type}` event of the kiosk the broker delivered, batches unpacked. */
  const events = (type: string) =>
    watched.observer.messages
      .flatMap((m) => unpackEvents(m.topic, Buffer.from(m.payload)))
      .filter((m) => m.topic === `kiosk/v1/${id}/evt/${type}`)
      .map((m) => JSON.parse(Buffer.from(m.payload).toString('utf8')) as Record<string, unknown>);

  it('a power cut between recovery and the reporter: the recovered sale and its voucher reach the broker once after the restart; a CLI payout while stopped, once at the next start', async () => {
    // 1. Two coffees paid with 4,00, the power cut during the first release (held): the sale is
    //    paid, the flow never got to tell it.
    const k1 = await start();
    await buyTwoAndCut(k1);
    gone(k1);
    assert.equal(
      events('transaction').filter((e) => e.outcome === 'completed').length,
      0,
      'the flow told no completed sale before the cut',
    );

    // 2. Restart with the reporter held back: recovery prints the receipt and issues the voucher;
    //    the power is cut before the reporter is up.
    const k2 = await start(k1.dir, { KIOSK_TEST_FLEET_DELAY_MS: '60000' });
    await k2.waitFor(
      () => Promise.resolve(k2.logs()),
      (logs) => logs.some((l) => l.msg === 'recovery done' && l.resolved === 1),
      30_000,
    );
    assert.ok(
      k2.logs().some((l) => l.msg === 'recovery: receipt printed'),
      'recovery printed the receipt',
    );
    assert.ok(!k2.logs().some((l) => l.msg === 'fleet: connected'), 'the reporter was not up');
    await k2.kill();
    gone(k2);

    // 3. Restart: the fleet hears the sale and the voucher, once each.
    const k3 = await start(k1.dir);
    await watched.observer.waitFor(
      'the recovered sale',
      () => events('transaction').some((e) => e.outcome === 'completed'),
      20_000,
    );
    await watched.observer.waitFor(
      'the voucher recovery issued',
      () => events('voucher').some((e) => e.action === 'issued'),
      20_000,
    );
    await sleep(1000); // anything told twice would be on the broker by now
    const sold = events('transaction').filter((e) => e.outcome === 'completed');
    assert.deepEqual(
      sold.map((e) => [e.kind, e.amountCents, e.itemCount, e.paymentMethod]),
      [['sale', 180, 1, 'cash']],
      'one sale: the unit in doubt, the unit never tried given back',
    );
    const issued = events('voucher').filter((e) => e.action === 'issued');
    assert.deepEqual(
      issued.map((e) => e.amountCents),
      [220],
      '2,20 (the unit never tried and the change) on one voucher',
    );
    const ref = String(issued[0]!.voucher);
    await k3.stop();
    gone(k3);

    // 4. Stopped: staff pay the voucher out with the CLI; the next start tells the fleet, once.
    const io = recordingIo();
    const code = await vouchersCommand(['payout', ref, '--by', 'Anna', '--config', k3.configPath], io);
    assert.equal(code, 0, io.stderr.join('\n'));
    assert.equal(events('voucher').filter((e) => e.action === 'paid_out').length, 0);
    const k4 = await start(k1.dir);
    await watched.observer.waitFor(
      'evt/voucher paid_out',
      () => events('voucher').some((e) => e.action === 'paid_out'),
      20_000,
    );
    await k4.stop();
    gone(k4);
    // And a further start tells nothing again.
    const k5 = await start(k1.dir);
    await sleep(1500);
    await k5.stop();
    gone(k5);
    const paid = events('voucher').filter((e) => e.action === 'paid_out');
    assert.deepEqual(
      paid.map((e) => [e.voucher, e.amountCents, e.by]),
      [[ref, 220, 'Anna']],
    );
    assert.equal(events('transaction').filter((e) => e.outcome === 'completed').length, 1);
    assert.equal(events('voucher').filter((e) => e.action === 'issued').length, 1);
    const ids = [...events('voucher'), ...events('transaction')].map((e) => e.eventId);
    assert.equal(new Set(ids).size, ids.length, 'no eventId twice');
    rmSync(k1.dir, { recursive: true, force: true });
  });
});
