/**
 * The service menu's "Gutscheine" page in the real kiosk program over a real Mosquitto (issue 14): a
 * customer without a card overpays and gets a voucher; the technician finds it in the menu by the
 * short id printed under its QR, pays it out in cash after a confirmation; the payout is journaled as
 * `kiosk vouchers payout` journals it (by technician) and the fleet hears `evt/voucher` `paid_out`
 * with the reference. The list is empty afterwards; the code is on no topic and in no log line.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { hashPin } from '../../src/app/service-pin.js';
import { Journal } from '../../src/journal/journal.js';
import { simulatorCatalogue, startKiosk } from '../../src/harness/kiosk-process.js';
import { SERVICE_ENTRIES } from '../../machines/service-menu.machine.js';
import { watchedKiosk } from '../fleet/support/observer.js';
import { overpayForVoucher } from '../support/vend.js';

describe('e2e: service menu pays a voucher out (real Mosquitto)', function () {
  this.timeout(90_000);
  const id = 'k-voucher-menu-01';
  const watched = watchedKiosk(id);
  const { topic } = watched;

  it('overpaid sale -> voucher; Gutscheine lists it by its short id, pays it out once, evt/voucher paid_out', async () => {
    const pinHash = await hashPin('1234');
    const k = watched.keep(
      await startKiosk({
        keepDir: true,
        config: {
          kiosk: { id, mode: 'checkout' },
          catalogue: simulatorCatalogue(),
          timeouts: { resultMs: 1500 },
          service: { pinHash },
          fleet: { url: watched.brokerUrl, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
        },
      }),
    );
    await k.waitForIdle(20_000);
    const shown = await overpayForVoucher(k);
    const shortId = shown[1]!;
    assert.match(shortId, /^[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    await k.press('ok');
    await k.waitForSettled();
    const ref = `${id}.${shortId.replace('-', '')}`;
    await watched.observer.message(
      (m) => m.topic === topic('evt/voucher') && m.json?.action === 'issued' && m.json?.voucher === ref,
      'evt/voucher issued',
    );

    await k.longPress('service');
    await k.waitForScreen(/Service-PIN/);
    for (const d of '1234') await k.press(`amount${d}`);
    await k.waitForScreen(/^Service 1\/11/);
    for (let i = 0; i < SERVICE_ENTRIES.indexOf('vouchers'); i++) await k.press('down');
    await k.waitForScreen(/>Gutscheine/);
    await k.press('ok');
    const row = await k.waitForScreen(/^[A-Z2-7]{4}-[A-Z2-7]{4} \d\d\.\d\d\.\nWert 1,20 EUR\n1\/1 OK=Bar/);
    assert.ok(row[0]!.startsWith(shortId), 'the short id printed under the QR');
    await k.press('ok');
    await k.waitForScreen(/^Zahle 1,20 EUR\?\nOK=Ja C=Nein/);
    await k.press('ok');
    await k.waitForScreen(/^Ausgezahlt\n1,20 EUR/, 10_000);
    const paid = await watched.observer.message(
      (m) => m.topic === topic('evt/voucher') && m.json?.action === 'paid_out',
      'evt/voucher paid_out',
    );
    assert.deepEqual(
      [paid.json?.voucher, paid.json?.amountCents, paid.json?.by],
      [ref, 120, 'technician'],
      'the reference, never the code',
    );
    await k.press('ok');
    await k.waitForScreen(/>Gutscheine/);
    await k.press('ok');
    await k.waitForScreen(/^Keine Gutscheine/);

    const logs = JSON.stringify(k.logs());
    await k.stop();
    const { records, state } = await Journal.read(join(k.dir, 'journal'));
    const settled = records.filter((r) => r.type === 'unclaimed_settled');
    assert.deepEqual(
      settled.map((r) => (r.type === 'unclaimed_settled' ? [r.how, r.by, r.cents] : [])),
      [['cash_refund', 'technician', 120]],
      'journaled once, as the CLI journals it',
    );
    assert.equal(state.unclaimedVouchers.length, 0);
    const code = records.find((r) => r.type === 'unclaimed');
    const mac = code?.type === 'unclaimed' ? code.voucher.split('.').at(-1)! : '';
    assert.ok(mac.length > 8);
    for (const m of watched.observer.messages)
      assert.ok(!m.payload.includes(mac), `${m.topic} carries the code`);
    assert.ok(!logs.includes(mac), 'the code is not in the log');
    rmSync(k.dir, { recursive: true, force: true });
  });
});
