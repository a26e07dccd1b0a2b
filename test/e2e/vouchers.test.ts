/**
 * Vouchers end to end on a real kiosk process (checkout, catalogue of config/simulator.json:
 * amount1 Kaffee 1,80, amount2 Wasser 0,99): an overpayment is printed as a signed code with a QR
 * (`[qr: ...]` on the simulated printer); the code read off that receipt pays a later purchase; a
 * forged code is refused; the same code scanned again is refused, also after a power cut.
 */
import assert from 'node:assert/strict';
import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { overpayForVoucher } from '../support/vend.js';

const CONFIG = { kiosk: { mode: 'checkout' }, catalogue: simulatorCatalogue(), timeouts: { resultMs: 1500 } };

/** What a customer holding the receipt would scan: the data of its last QR code. */
function scannedFrom(receipts: string[][]): string {
  const codes = receipts.flat().flatMap((l) => {
    const m = /^\[qr: (KV1\.\S+)\]$/.exec(l.trim());
    return m ? [m[1]!] : [];
  });
  assert.ok(codes.length > 0, `a QR on the receipts:\n${receipts.map((r) => r.join('\n')).join('\n---\n')}`);
  return codes.at(-1)!;
}

describe('e2e: vouchers', function () {
  this.timeout(60_000);
  const kiosks: KioskProcess[] = [];
  after(async () => {
    for (const k of kiosks.reverse()) await k.stop().catch(() => undefined);
  });

  it('a printed voucher pays once; a forged one is refused; a second scan is refused after a restart', async () => {
    const k = await startKiosk({ config: CONFIG, keepDir: true });
    kiosks.push(k);
    await k.waitForIdle();

    // 1,80 paid with 3,00: 1,20 becomes a voucher, printed with its QR code. No hopper: per-coin
    // inhibit would return both coins; ones that drop in anyway are money.
    const shown = await overpayForVoucher(k);
    assert.equal(shown[2], 'Wert 1,20 EUR');
    const code = scannedFrom(await k.receipts());
    assert.match(code, /^KV1\.[A-Za-z0-9]+\.[a-z0-9-]+\.[A-Z2-7]{8}\.120\.(0|\d{8})\.[A-Z2-7]{16}$/);
    assert.equal(shown[1], `${code.split('.')[3]!.slice(0, 4)}-${code.split('.')[3]!.slice(4)}`);
    await k.press('ok');
    let idle = await k.waitForSettled();
    assert.equal(idle.journal.unclaimedVouchers, 1);

    // Forged: the amount changed on a copy. Refused offline, nothing counted.
    const parts = code.split('.');
    parts[4] = '9990';
    await k.scan(parts.join('.'));
    await k.waitForScreen(/^Nicht angenommen\nCode ungültig/);
    await k.press('cancel');
    await k.press('cancel');
    idle = await k.waitForSettled();
    assert.equal(idle.journal.unclaimedVouchers, 1, 'the genuine voucher is still open');

    // The printed code pays a 0,99 purchase (sent as cash: the money is in the box already).
    await k.press('amount2');
    await k.scan(code);
    await k.waitForScreen(/Eingew\. 1,20 EUR/);
    await k.press('ok');
    const change = await k.waitForScreen(/Gutschein-Code:/);
    assert.equal(change[2], 'Wert 0,21 EUR', 'the rest as a new voucher');
    const ledger = await k.ledger();
    const sale = ledger.sales.at(-1)!;
    assert.deepEqual({ method: sale.method, collected: sale.collected }, { method: 'cash', collected: 99 });
    const receipt = (await k.receipts()).map((r) => r.join('\n')).find((r) => r.includes('Wasser'));
    assert.ok(receipt);
    assert.match(receipt, /Gutschein eingelöst\s+1,20 EUR/);
    await k.press('ok');
    idle = await k.waitForSettled();
    assert.equal(idle.journal.unclaimedVouchers, 1, 'the old one redeemed, the new one open');
    assert.equal(idle.journal.cashBoxCents, 300, 'no coin more: the voucher was money already in');

    // The same code again: refused.
    await k.scan(code);
    await k.waitForScreen(/^Nicht angenommen\nSchon eingelöst/);

    // Power cut, restart on the same journal and key file: still refused.
    await k.kill();
    const k2 = await startKiosk({ config: CONFIG, dir: k.dir });
    kiosks.push(k2);
    await k2.waitForSettled(20_000);
    await k2.scan(code);
    await k2.waitForScreen(/^Nicht angenommen\nSchon eingelöst/);
    const st = await k2.state();
    assert.equal(st.journal.unclaimedVouchers, 1);
  });
});
