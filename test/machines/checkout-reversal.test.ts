/**
 * The vending counter's terminal reversal (issue 15): a card-terminal payment none of whose goods
 * came out is reversed through the API (`reverseTerminal`) instead of paying its price back by card
 * credit, hopper change or voucher. Reversed: nothing more goes back; refused or failed: the usual way;
 * in doubt: held (never paid back a second way). A partial failure, a unit in doubt or a cash
 * payment is never reversed.
 */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { held } from '../../machines/session-context.js';
import type { PrintInput } from '../../machines/ports.js';
import { CATALOGUE, CARD, run } from './fakes.js';

const SLOTTED = CATALOGUE.map((p, i) => ({ ...p, slot: `A${i + 1}` }));
// A hopper that can pay (givesChange), as in checkout-release.test.ts.
const VENDING = { catalogue: SLOTTED, slotStock: { A1: 5, A2: 5, A3: 5 }, changeCoin: 50, givesChange: true };

/** Two coffees (2 x 150) paid at the card terminal; every release fails unless told otherwise. */
async function paidByTerminal(setup: (h: ReturnType<typeof run>) => void = () => {}) {
  const h = run(checkoutMachine, { config: VENDING });
  h.stubs.releaseItem.resolves({ outcome: 'failed', reason: 'no_confirmation' });
  setup(h);
  await h.press('amount1', 'amount1', 'ok', 'amount2');
  await h.flushAll();
  return h;
}

function receiptOf(h: ReturnType<typeof run>) {
  const call = h.stubs.print.getCalls().find((c) => (c.args[0] as PrintInput).kind === 'receipt');
  const input = call?.args[0] as Extract<PrintInput, { kind: 'receipt' }> | undefined;
  return input?.sale;
}

function paidBackOtherwise(h: ReturnType<typeof run>): number {
  return h.stubs.payChange.callCount + h.stubs.recordUnclaimed.callCount + h.stubs.creditCard.callCount;
}

describe('checkout terminal reversal', () => {
  it('reverses a terminal payment none of whose goods came out: nothing else is paid back', async () => {
    const h = await paidByTerminal();
    assert.equal(h.stubs.releaseItem.callCount, 2);
    assert.equal(h.stubs.reverseTerminal.callCount, 1);
    assert.deepEqual(h.stubs.reverseTerminal.firstCall.args[0], {
      sessionId: 'S1',
      transactionId: 'STX_NEW',
      cents: 300,
      jobId: 'S1:reversal:0',
    });
    // Before, the 300 went back as hopper change while the terminal kept the customer's payment.
    assert.equal(paidBackOtherwise(h), 0, 'no change, voucher or credit on top of the reversal');
    assert.deepEqual([h.context.reversal, h.context.reversed, h.context.returned], ['ok', 300, 300]);
    assert.equal(held(h.context), 0);
    assert.deepEqual(receiptOf(h)?.reversal, { outcome: 'ok', cents: 300 });
    const done = h.events.filter((e) => e.type === 'transaction_finished');
    assert.deepEqual(
      done.map((e) => e.type === 'transaction_finished' && [e.outcome, e.amount, e.itemCount]),
      [['paid', 0, 0]],
      'the fleet hears of the goods delivered: none',
    );
    assert.ok(h.stubs.reverseTerminal.calledBefore(h.stubs.print), 'the receipt says it was reversed');
  });

  it('a reversal refused (batch cleared by end-of-day) or failed pays back the usual way', async () => {
    for (const outcome of ['refused', 'failed'] as const) {
      const h = await paidByTerminal((x) => x.stubs.reverseTerminal.resolves({ outcome, detail: 'cleared' }));
      assert.equal(h.stubs.reverseTerminal.callCount, 1, outcome);
      assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 300, outcome);
      assert.equal(h.context.reversal, 'refused', outcome);
      assert.equal(h.context.reversed, 0, outcome);
      assert.equal(held(h.context), 0, outcome);
      assert.equal(receiptOf(h)?.reversal, undefined, outcome);
    }
  });

  it('a reversal in doubt holds the money: never paid back a second way, the receipt says so', async () => {
    const h = await paidByTerminal((x) =>
      x.stubs.reverseTerminal.resolves({ outcome: 'unknown', detail: 'timeout' }),
    );
    assert.equal(h.stubs.reverseTerminal.callCount, 1, 'never sent twice');
    assert.equal(paidBackOtherwise(h), 0, 'paying it back as well would refund twice if it took effect');
    assert.deepEqual([h.context.reversal, h.context.reversed], ['unknown', 300]);
    assert.equal(held(h.context), 0);
    assert.deepEqual(receiptOf(h)?.reversal, { outcome: 'unknown', cents: 300 });
    assert.ok(h.events.some((e) => e.type === 'fault' && e.what === 'reversal'));
  });

  it('a reversal actor that fails is held like one in doubt (it may have been sent)', async () => {
    const h = await paidByTerminal((x) => x.stubs.reverseTerminal.rejects(new Error('journal unavailable')));
    assert.equal(paidBackOtherwise(h), 0);
    assert.deepEqual([h.context.reversal, h.context.reversed], ['unknown', 300]);
    assert.ok(h.events.some((e) => e.type === 'fault' && e.what === 'reversal'));
  });

  it('a partial failure is not reversed (a reversal takes it all): the rest goes back as change', async () => {
    const h = await paidByTerminal((x) =>
      x.stubs.releaseItem.onFirstCall().resolves({ outcome: 'delivered' }),
    );
    assert.equal(h.stubs.reverseTerminal.callCount, 0);
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 150);
  });

  it('a unit in doubt is never reversed: it may have been handed out', async () => {
    const h = await paidByTerminal((x) => x.stubs.releaseItem.onFirstCall().rejects(new Error('driver')));
    assert.deepEqual(
      h.context.releases.map((u) => u.outcome),
      ['unknown', 'failed'],
    );
    assert.equal(h.stubs.reverseTerminal.callCount, 0);
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 150);
  });

  it('a cash payment is never reversed: its price comes back from the hopper', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    h.stubs.releaseItem.resolves({ outcome: 'failed', reason: 'no_confirmation' });
    await h.press('amount1', 'ok');
    await h.coins(200);
    assert.equal(h.stubs.reverseTerminal.callCount, 0);
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 200);
  });

  it('a basket with a product handed over by staff is not reversed (the reversal would take it too)', async () => {
    const catalogue = [SLOTTED[0]!, { ...CATALOGUE[1]! }];
    const h = run(checkoutMachine, { config: { ...VENDING, catalogue } });
    h.stubs.releaseItem.resolves({ outcome: 'failed', reason: 'no_confirmation' });
    await h.press('amount1', 'amount2', 'ok', 'amount2');
    await h.flushAll();
    assert.equal(h.context.returned, 150);
    assert.equal(h.stubs.reverseTerminal.callCount, 0);
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 150);
  });

  it('a split payment (card balance and terminal) is reversed as a whole; the card part is not credited again', async () => {
    const h = run(checkoutMachine, { config: VENDING });
    h.stubs.releaseItem.resolves({ outcome: 'failed', reason: 'no_confirmation' });
    h.stubs.preTransaction.resolves({ missingSum: 100 });
    await h.press('amount1', 'amount1');
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('ok', 'amount2');
    await h.flushAll();
    assert.equal(h.context.due, 100, 'the terminal paid 100, the card 200');
    assert.equal((h.stubs.reverseTerminal.firstCall?.args[0] as { cents: number }).cents, 300);
    // cancelTrx undoes the whole transaction, the card's part too (src/sim/ledger.ts reversePaid).
    assert.equal(h.stubs.creditCard.callCount, 0);
    assert.equal(held(h.context), 0);
  });

  it('a coin that lands after the reversal is settled the usual way, and nothing is reversed twice', async () => {
    const h = await paidByTerminal();
    assert.equal(h.value(), 'farewell');
    await h.coins(100);
    await h.flushAll();
    assert.equal(h.stubs.reverseTerminal.callCount, 1);
    assert.equal((h.stubs.payChange.firstCall.args[0] as { cents: number }).cents, 100);
    assert.equal(held(h.context), 0);
  });
});
