/**
 * A voucher paid out at the office (issue 14 leftover 1, the kiosk's side), in the real kiosk program
 * over a real Mosquitto: `voucher-settle {ref, by}` books the kiosk's open voucher paid out by `office
 * <by>` (journal `unclaimed_settled` `cash_refund`, `evt/voucher` `paid_out`), and the kiosk then
 * refuses the code ('Schon eingelöst'). Sent again (a lost answer): confirmed `already`, booked once.
 * A voucher the customer redeemed at the kiosk first: `refused: redeemed`, nothing booked. Sent while
 * the kiosk is off: the broker keeps it for the kiosk's session (QoS 1, `clean: false`) and the kiosk
 * settles it when it comes back, within the command's expiry.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { watchedKiosk } from '../fleet/support/observer.js';
import { checkoutFleetConfig, lastVoucherCode, overpayForVoucher } from '../support/vend.js';

const refOf = (code: string): string => `${code.split('.')[2]}.${code.split('.')[3]}`;

describe('e2e: fleet voucher-settle (paid out at the office, real Mosquitto)', function () {
  this.timeout(120_000);
  const id = 'k-office-01';
  const watched = watchedKiosk(id);
  const { topic } = watched;
  const { command } = watched;
  const config = () => checkoutFleetConfig(id, watched.brokerUrl);

  async function start(dir?: string): Promise<KioskProcess> {
    const k = await startKiosk({ ...(dir ? { dir } : {}), keepDir: true, config: config() });
    watched.keep(k);
    await k.waitForIdle(20_000);
    return k;
  }
  async function issueVoucher(k: KioskProcess): Promise<string> {
    await overpayForVoucher(k);
    const code = lastVoucherCode(await k.receipts());
    await k.press('ok');
    await k.waitForSettled();
    return code;
  }
  const paidOut = (ref: string) =>
    watched.observer.messages.filter(
      (m) => m.topic === topic('evt/voucher') && m.json?.action === 'paid_out' && m.json?.voucher === ref,
    );
  async function officePayouts(dir: string, code: string): Promise<number> {
    const j = await Journal.open(join(dir, 'journal'), { fsync: false });
    let n = 0;
    for await (const e of j.entries())
      if (e.type === 'unclaimed_settled' && e.voucher === code && e.by?.startsWith('office')) n++;
    await j.close();
    return n;
  }

  it('settles an open voucher once (a repeat confirms it), the kiosk then refuses it; a redeemed one is refused', async () => {
    const k = await start();
    const code = await issueVoucher(k);
    const ref = refOf(code);

    const bad = await command('voucher-settle', { ref: code, by: 'anna' });
    assert.deepEqual([bad.json?.status, bad.json?.reason], ['rejected', 'bad_args'], 'never the code');
    const foreign = await command('voucher-settle', { ref: 'k-other.ABCDEFGH', by: 'anna' });
    assert.deepEqual([foreign.json?.status, foreign.json?.reason], ['failed', 'refused: not_ours']);

    const settled = await command('voucher-settle', { ref, by: 'anna' });
    assert.equal(settled.json?.status, 'succeeded', JSON.stringify(settled.json));
    assert.deepEqual(settled.json?.result, { ref, amountCents: 120, by: 'office anna', already: false });
    await watched.observer.message((m) => paidOut(ref).includes(m), 'evt/voucher paid_out');
    assert.equal(paidOut(ref)[0]!.json?.by, 'office anna');
    assert.equal((await k.state()).journal.unclaimedVouchers, 0);

    // The answer was lost, the dashboard asks again (a new cmdId): confirmed, not booked again.
    const again = await command('voucher-settle', { ref, by: 'anna' });
    assert.equal(again.json?.status, 'succeeded', JSON.stringify(again.json));
    assert.deepEqual(again.json?.result, { ref, amountCents: 120, by: 'office anna', already: true });

    // The customer comes back to the kiosk with it: refused.
    await k.press('amount2');
    await k.scan(code);
    await k.waitForScreen(/^Nicht angenommen\nSchon eingelöst/);
    await k.press('cancel');
    await k.press('cancel');
    await k.waitForSettled();

    // The race the other way: redeemed at the kiosk before the office's command arrives.
    const code2 = await issueVoucher(k);
    await k.press('amount2');
    await k.scan(code2);
    await k.waitForScreen(/Eingew\. 1,20 EUR/);
    await k.press('ok');
    await k.waitForScreen(/Gutschein-Code:/);
    await k.press('ok');
    await k.waitForSettled();
    const late = await command('voucher-settle', { ref: refOf(code2), by: 'anna' });
    assert.deepEqual([late.json?.status, late.json?.reason], ['failed', 'refused: redeemed']);

    await k.stop();
    watched.forget(k);
    assert.equal(await officePayouts(k.dir, code), 1, 'the journal books the office payout once');
    assert.equal(await officePayouts(k.dir, code2), 0);
    assert.equal(paidOut(ref).length, 1, 'the fleet hears of it once');
  });

  it('sent while the kiosk is off: the broker keeps it, the kiosk settles it when it is back', async () => {
    const k = await start();
    const code = await issueVoucher(k);
    const ref = refOf(code);
    await k.stop();
    watched.forget(k);

    const cmdId = randomUUID();
    const now = Date.now();
    await watched.observer.publish(
      topic('cmd/voucher-settle'),
      JSON.stringify({ cmdId, issuedAt: now, expiresAt: now + 600_000, args: { ref, by: 'bob' } }),
      { qos: 1, properties: { messageExpiryInterval: 600 } },
    );
    const k2 = await start(k.dir);
    const done = await watched.observer.message(
      (m) => m.topic === topic('cmdres') && m.json?.cmdId === cmdId && m.json?.status === 'succeeded',
      'the queued voucher-settle answered',
      20_000,
    );
    assert.deepEqual(done.json?.result, { ref, amountCents: 120, by: 'office bob', already: false });
    assert.equal((await k2.state()).journal.unclaimedVouchers, 0);
    await k2.stop();
    watched.forget(k2);
    assert.equal(await officePayouts(k.dir, code), 1);
  });
});
