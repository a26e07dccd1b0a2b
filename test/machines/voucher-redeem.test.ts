/**
 * A voucher scanned into a session: its value counts like money inserted (towards a basket or a
 * top-up), once; a refused code is said on its own screen and counts nothing.
 */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { screenFor } from '../../machines/screens.js';
import { CARD, run } from './fakes.js';

const CODE = 'KV1.K1.k-0042.AAAAAAAA.500.0.AAAAAAAAAAAAAAAA';

describe('vouchers in a session (machines)', () => {
  it('checkout: a voucher scanned in the basket pays for it with cash start, the rest is a new voucher', async () => {
    const h = run(checkoutMachine, { config: { terminal: false } });
    await h.press('amount1'); // Kaffee 1,50
    await h.send({ type: 'SCAN', data: `${CODE}\r\n` });
    assert.deepEqual(h.stubs.redeemVoucher.firstCall.args[0], {
      code: CODE,
      sessionId: 'S1',
      jobId: 'S1:redeem:0',
    });
    assert.equal(h.context.redeemed, 500);
    assert.equal(h.value(), 'session.basket.browsing', 'back where the customer was');
    assert.ok(h.events.some((e) => e.type === 'voucher_redeemed' && e.cents === 500));
    await h.press('ok');
    await h.flushAll();
    const start = h.stubs.startPayment.firstCall.args[0] as { method: string };
    assert.equal(start.method, 'cash');
    assert.equal(h.context.paid, 150);
    // 3,50 left over, no card, no hopper: a voucher for the rest.
    assert.equal(
      h.stubs.recordUnclaimed.firstCall.args[0] &&
        (h.stubs.recordUnclaimed.firstCall.args[0] as { cents: number }).cents,
      350,
    );
    const printed = h.stubs.print
      .getCalls()
      .map((c) => c.args[0] as { kind: string; sale?: { voucherIn?: number } });
    assert.equal(printed.find((p) => p.kind === 'receipt')?.sale?.voucherIn, 500);
  });

  it('checkout: scanned while collecting cash, the voucher completes the payment', async () => {
    const h = run(checkoutMachine, { config: { terminal: false } });
    await h.press('amount2', 'amount2'); // 2 x Wasser 5,00
    await h.press('ok');
    await h.flushAll();
    assert.equal(h.value(), 'session.collecting.waiting');
    await h.coins(200);
    h.stubs.redeemVoucher.resolves({ ok: true, cents: 300, ref: 'k-0042.BBBBBBBB' });
    await h.send({ type: 'SCAN', data: CODE });
    await h.flushAll();
    assert.equal(h.context.paid, 500);
    assert.equal(h.context.redeemed, 300);
    assert.equal(h.stubs.recordUnclaimed.callCount, 0, 'nothing left over');
  });

  it('a refused code says why, counts nothing, and the session goes on', async () => {
    const h = run(checkoutMachine, { config: { terminal: false } });
    h.stubs.redeemVoucher.resolves({ ok: false, reason: 'forged' });
    await h.press('amount1');
    await h.send({ type: 'SCAN', data: CODE });
    assert.equal(h.value(), 'voucherRefused');
    assert.deepEqual(
      screenFor(h.snapshot as never, { cols: 20, rows: 4, lang: 'de' })
        .slice(0, 3)
        .map((l) => l.trim()),
      ['Nicht angenommen', 'Code ungültig', 'Personal fragen'],
    );
    assert.equal(
      screenFor(h.snapshot as never, { cols: 16, rows: 2, lang: 'en' })[1]?.trim(),
      'Invalid code',
    );
    await h.advance(3000);
    assert.equal(h.value(), 'session.basket.browsing');
    assert.equal(h.context.redeemed, 0);
    assert.equal(h.context.basket.length, 1, 'the basket is kept');
  });

  it('an actor failure is a refusal ("try again"), never counted', async () => {
    const h = run(topupMachine);
    h.stubs.redeemVoucher.rejects(new Error('journal down'));
    await h.send({ type: 'SCAN', data: CODE });
    assert.equal(h.value(), 'voucherRefused');
    assert.equal(h.context.voucherRefused, 'error');
    assert.equal(h.context.redeemed, 0);
  });

  it('top-up: a voucher before the card is loaded onto the card with the coins', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CODE });
    assert.equal(h.value(), 'session.scanCard');
    assert.equal(h.context.redeemed, 500);
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'session.chooseAmount');
    await h.coins(200);
    await h.press('ok');
    await h.flushAll();
    const put = h.stubs.updateTransaction.firstCall.args[0] as { basket: { priceOne: number }[] };
    assert.equal(put.basket[0]?.priceOne, 700, 'voucher and coins loaded together');
    assert.equal(h.context.paid, 700);
  });

  it('a walk-away after a redeemed voucher settles its value like coins (onto the card)', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CARD });
    await h.send({ type: 'SCAN', data: CODE });
    assert.equal(h.value(), 'session.chooseAmount');
    await h.press('cancel');
    await h.flushAll();
    assert.equal((h.stubs.creditCard.firstCall.args[0] as { cents: number }).cents, 500);
    assert.equal(h.context.credited, 500);
  });
});
