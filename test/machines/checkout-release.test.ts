/**
 * The vending counter's release step: goods only after the payment, item by item; what was not
 * delivered goes back (hopper change first, then a voucher; card credit with a card); sold-out
 * products are refused before any money is taken.
 */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { held } from '../../machines/session-context.js';
import { CATALOGUE, CARD, run } from './fakes.js';

const SLOTTED = CATALOGUE.map((p, i) => ({ ...p, slot: `A${i + 1}` }));
// A hopper that can pay (givesChange): an offline or empty one is never asked (coin-inhibit.test.ts).
const VENDING = { catalogue: SLOTTED, slotStock: { A1: 5, A2: 5, A3: 5 }, changeCoin: 50, givesChange: true };

describe('checkout release step', () => {
  it('releases every unit after the payment, then prints; overpay comes back as hopper change', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    await h.press('amount1', 'amount1', 'ok'); // 2 x 150
    assert.equal(h.stubs.releaseItem.callCount, 0, 'nothing released before the payment');
    await h.coins(200, 200);
    const slots = h.stubs.releaseItem.getCalls().map((c) => (c.args[0] as { slot: string }).slot);
    assert.deepEqual(slots, ['A1', 'A1']);
    const later = h.stubs.releaseItem.getCalls().map((c) => (c.args[0] as { later: unknown[] }).later);
    // Each intent carries the rest of the plan, so a damaged basket record never loses what is owed.
    assert.deepEqual(later, [[{ productId: 11, slot: 'A1', cents: 150 }], []]);
    assert.ok(h.stubs.startPayment.calledBefore(h.stubs.releaseItem));
    assert.ok(h.stubs.releaseItem.calledBefore(h.stubs.print));
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 100);
    assert.equal(h.context.changed, 100);
    assert.equal(h.stubs.recordUnclaimed.callCount, 0, 'no voucher when the hopper paid it all');
    assert.equal(held(h.context), 0);
  });

  it('a partial failure refunds only what was not delivered: hopper first, a voucher for the rest', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    h.stubs.releaseItem.onSecondCall().resolves({ outcome: 'failed', reason: 'no_confirmation' });
    h.stubs.payChange.callsFake(async () => ({ paidCents: 100, outcome: 'short' }));
    await h.press('amount1', 'amount1', 'ok');
    await h.coins(200, 200); // 300 due, 100 over, 150 not delivered -> 250 back
    assert.equal(h.context.returned, 150);
    assert.deepEqual(
      h.context.releases.map((u) => u.outcome),
      ['delivered', 'failed'],
    );
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 250);
    assert.equal(h.context.changed, 100);
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { cents: number }).cents, 150);
    assert.equal(h.stubs.payChange.callCount, 1, 'a short payout is not tried again');
    assert.equal(held(h.context), 0);
  });

  it('a release whose outcome is unknown is neither repeated nor refunded; the rest is not fired', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    h.stubs.releaseItem.onFirstCall().rejects(new Error('journal unavailable'));
    await h.press('amount1', 'amount1', 'ok');
    await h.coins(200, 100);
    assert.equal(h.stubs.releaseItem.callCount, 1);
    assert.deepEqual(
      h.context.releases.map((u) => u.outcome),
      ['unknown', 'failed'],
    );
    assert.equal(h.context.returned, 150, 'only the unit never fired comes back');
    assert.ok(h.events.some((e) => e.type === 'fault' && e.what === 'release'));
  });

  it('with a loyalty card the money for undelivered goods goes back onto the card', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    h.stubs.releaseItem.resolves({ outcome: 'failed', reason: 'sensor_stuck' });
    await h.press('amount1');
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('ok', 'ok');
    assert.equal(h.context.returned, 150);
    assert.equal((h.stubs.creditCard.firstCall.args[0] as { cents: number }).cents, 150);
    assert.equal(h.stubs.payChange.callCount, 0);
  });

  it('the fleet hears of a paid sale after the releases, with the amount of what was delivered', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    let finishedBeforeRelease = false;
    h.stubs.releaseItem.callsFake(async () => {
      finishedBeforeRelease ||= h.events.some((e) => e.type === 'transaction_finished');
      return { outcome: 'delivered' };
    });
    h.stubs.releaseItem.onSecondCall().callsFake(async () => {
      finishedBeforeRelease ||= h.events.some((e) => e.type === 'transaction_finished');
      return { outcome: 'failed', reason: 'no_confirmation' };
    });
    await h.press('amount1', 'amount1', 'ok'); // 2 x 150
    await h.coins(200, 200);
    assert.equal(h.context.returned, 150);
    const done = h.events.filter((e) => e.type === 'transaction_finished');
    assert.equal(done.length, 1, 'one paid event');
    assert.equal(finishedBeforeRelease, false, 'not told while goods were still to come out');
    // Before, the event said 300 (the basket as paid) and 2 units, one of which never came out.
    assert.deepEqual(
      done.map((e) => e.type === 'transaction_finished' && [e.outcome, e.amount, e.itemCount]),
      [['paid', 150, 1]],
    );
  });

  it('a unit in doubt stays in the fleet amount (not given back); units never fired do not', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    h.stubs.releaseItem.onFirstCall().rejects(new Error('journal unavailable'));
    await h.press('amount1', 'amount1', 'ok');
    await h.coins(200, 100);
    const done = h.events.find((e) => e.type === 'transaction_finished');
    assert.ok(done?.type === 'transaction_finished');
    assert.deepEqual([done.outcome, done.amount, done.itemCount], ['paid', 150, 1]);
  });

  it('refuses a sold-out product before any money is taken', async () => {
    const h = run(checkoutMachine, { config: { ...VENDING, slotStock: { A1: 1, A2: 0 } } });
    await h.press('amount2');
    assert.equal(h.context.basket.length, 0);
    assert.equal(h.context.notice, 'sold_out');
    await h.press('amount1', 'amount1');
    assert.equal(h.context.basket[0]?.quantity, 1, 'only one left in A1');
    assert.equal(h.context.notice, 'sold_out');
    assert.equal(h.stubs.createTransaction.callCount, 0);
  });

  it('a counter without slots or hopper behaves as before (no release, voucher for overpay)', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1', 'ok');
    await h.coins(200);
    assert.equal(h.stubs.releaseItem.callCount, 0);
    assert.equal(h.stubs.payChange.callCount, 0);
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { cents: number }).cents, 50);
  });
});
