/**
 * Every API outcome of `start` and its neighbours, on the simplest flow that reaches them: a checkout
 * without card, paid with 200 cents for a 150 basket (so there is always money to account for).
 */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { apiError, money, run, RECEIPT } from './fakes.js';

const EFFECT = {
  took: 'effect' as const,
  result: { id: 'STX_NEW', status: 'ok', took: 'effect' as const, receipt: RECEIPT, balance: null },
};
const NO_EFFECT = {
  took: 'no_effect' as const,
  result: { id: 'STX_NEW', status: 'created', took: 'no_effect' as const, receipt: [], balance: null },
};
const PENDING = {
  took: 'pending' as const,
  result: { id: 'STX_NEW', status: 'pending', took: 'pending' as const, receipt: [], balance: null },
};
const FAILED = {
  took: 'failed' as const,
  result: { id: 'STX_NEW', status: 'failed', took: 'failed' as const, receipt: [], balance: null },
};

async function payWith200(h: ReturnType<typeof run>) {
  await h.press('amount1', 'ok', 'ok');
  await h.coins(200);
}

describe('payment errors, by kind and outcome', () => {
  it('refused and retryable (network, not applied): waits and sends again, then paid', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.onFirstCall().rejects(apiError('network', 'not_applied'));
    await payWith200(h);
    assert.equal(h.value(), 'pay.retryWait');
    await h.advance(999);
    assert.equal(h.stubs.startPayment.callCount, 1);
    await h.advance(1);
    assert.equal(h.stubs.startPayment.callCount, 2);
    assert.equal(h.context.outcome, 'paid');
    assert.equal(h.stubs.readBack.callCount, 0);
  });

  it('retryable refusals are bounded: after maxRetries the payment failed, money to a voucher', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('http', 'not_applied', { httpStatus: 503 }));
    await payWith200(h);
    await h.advance(1000);
    await h.advance(1000);
    assert.equal(h.stubs.startPayment.callCount, 3);
    assert.equal(h.value(), 'payFailed');
    await h.press('ok');
    assert.equal(h.stubs.abortTransaction.callCount, 1);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 0, credited: 0, unclaimed: 200 });
    assert.equal(h.context.outcome, 'failed');
  });

  it('refused, not retryable (http 400): failed at once, never read back', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('http', 'not_applied', { httpStatus: 400, code: 1001 }));
    await payWith200(h);
    assert.equal(h.value(), 'payFailed');
    assert.equal(h.stubs.readBack.callCount, 0);
    await h.advance(3000);
    assert.equal(h.context.unclaimed, 200);
  });

  for (const kind of ['timeout', 'network', 'http', 'bad_response'] as const) {
    it(`outcome unknown (${kind}) then read back: effect -> paid, start not repeated`, async () => {
      const h = run(checkoutMachine);
      h.stubs.startPayment.rejects(apiError(kind, 'unknown', kind === 'http' ? { httpStatus: 502 } : {}));
      h.stubs.readBack.resolves(EFFECT);
      await payWith200(h);
      assert.equal(h.stubs.startPayment.callCount, 1);
      assert.equal(h.stubs.readBack.callCount, 1);
      assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
    });
  }

  /** The reads that must confirm "not started" (noEffectReads 3, spaced 1x, 2x, 4x retryMs). */
  async function confirmingReads(h: ReturnType<typeof run>) {
    for (const ms of [1000, 2000, 4000]) {
      assert.equal(h.value(), 'pay.confirmingNoEffect');
      assert.equal(h.stubs.startPayment.callCount, 1, 'never repeated before the reads confirm it');
      await h.advance(ms);
    }
  }

  it('outcome unknown then no_effect: start repeated exactly once, with a new job id', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.onFirstCall().rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.resolves(NO_EFFECT);
    await payWith200(h);
    await confirmingReads(h);
    assert.equal(h.stubs.readBack.callCount, 4, 'the first read and three confirming ones');
    assert.equal(h.stubs.startPayment.callCount, 2);
    const jobs = h.stubs.startPayment.getCalls().map((c) => (c.args[0] as { jobId: string }).jobId);
    assert.deepEqual(jobs, ['S1:start:STX_NEW:1', 'S1:start:STX_NEW:2']);
    assert.equal(h.context.outcome, 'paid');
  });

  it('unknown, no_effect, repeated start unknown again, no_effect: unresolved, debt + voucher, never a third start', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.resolves(NO_EFFECT);
    await payWith200(h);
    await confirmingReads(h);
    assert.equal(h.stubs.startPayment.callCount, 2);
    assert.equal(h.value(), 'payUnresolved');
    assert.ok(h.events.some((e) => e.type === 'debt' && e.cents === 200 && e.transactionId === 'STX_NEW'));
    await h.advance(3000);
    assert.equal(h.stubs.startPayment.callCount, 2);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 0, credited: 0, unclaimed: 200 });
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { reason: string }).reason, 'unresolved');
    assert.equal(h.stubs.abortTransaction.callCount, 0, 'an unresolved start is not aborted blind');
  });

  it('read-back lag: "not started" for two reads, then paid: the start is never repeated (no second charge)', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.onFirstCall().resolves(NO_EFFECT);
    h.stubs.readBack.onSecondCall().resolves(NO_EFFECT);
    h.stubs.readBack.onThirdCall().resolves(EFFECT);
    await payWith200(h);
    await h.advance(1000);
    await h.advance(2000);
    assert.equal(h.stubs.startPayment.callCount, 1);
    assert.equal(h.context.outcome, 'paid');
    assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
  });

  it('noEffectReads 0: the first "not started" read is believed (the old behaviour, opt-in only)', async () => {
    const h = run(checkoutMachine, { config: { noEffectReads: 0 } });
    h.stubs.startPayment.onFirstCall().rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.resolves(NO_EFFECT);
    await payWith200(h);
    assert.equal(h.stubs.startPayment.callCount, 2);
    assert.equal(h.context.outcome, 'paid');
  });

  for (const status of [409, 400] as const) {
    it(`the repeated start refused with ${status} (the first may have taken effect): read back, never "not paid"`, async () => {
      const h = run(checkoutMachine);
      h.stubs.startPayment.onFirstCall().rejects(apiError('timeout', 'unknown'));
      h.stubs.startPayment
        .onSecondCall()
        .rejects(apiError('http', 'not_applied', { httpStatus: status, code: 1001 }));
      h.stubs.readBack.resolves(NO_EFFECT);
      for (let i = 4; i < 8; i++) h.stubs.readBack.onCall(i).resolves(EFFECT);
      await payWith200(h);
      await confirmingReads(h);
      assert.equal(h.stubs.startPayment.callCount, 2);
      assert.equal(h.stubs.readBack.callCount, 5, 'the refusal was read back');
      assert.equal(h.context.outcome, 'paid', 'the first start took effect: paid, no money handed back');
      assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
    });
  }

  it('the repeated start refused and still read "not started": unresolved (debt, left for recovery), not failed', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.onFirstCall().rejects(apiError('timeout', 'unknown'));
    h.stubs.startPayment.onSecondCall().rejects(apiError('http', 'not_applied', { httpStatus: 409 }));
    h.stubs.readBack.resolves(NO_EFFECT);
    await payWith200(h);
    await confirmingReads(h);
    assert.equal(h.value(), 'payUnresolved');
    assert.ok(h.events.some((e) => e.type === 'debt' && e.cents === 200));
    assert.ok(!h.events.some((e) => e.type === 'transaction_finished' && e.outcome === 'failed'));
  });

  it('unknown then pending: reads back again after a pause, then effect', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.onFirstCall().resolves(PENDING);
    h.stubs.readBack.onSecondCall().resolves(EFFECT);
    await payWith200(h);
    assert.equal(h.value(), 'pay.readBackWait');
    await h.advance(1000);
    assert.equal(h.stubs.readBack.callCount, 2);
    assert.equal(h.context.outcome, 'paid');
  });

  it('unknown then read back says failed: not paid, money settled', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.resolves(FAILED);
    await payWith200(h);
    assert.equal(h.value(), 'payFailed');
    assert.equal(h.stubs.startPayment.callCount, 1);
  });

  it('read-back itself failing is retried, bounded, then unresolved', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.rejects(apiError('timeout', 'unknown'));
    h.stubs.readBack.rejects(apiError('network', 'not_applied'));
    await payWith200(h);
    await h.advance(1000);
    // Read-backs back off: 1x, then 2x the retry pause.
    await h.advance(1999);
    assert.equal(h.stubs.readBack.callCount, 2);
    await h.advance(1);
    assert.equal(h.stubs.readBack.callCount, 3);
    assert.equal(h.value(), 'payUnresolved');
    assert.equal(h.context.outcome, 'unresolved');
  });

  it('create refused and retryable: retried; unknown outcome of create also retried (a spare created transaction costs nothing)', async () => {
    const h = run(checkoutMachine);
    h.stubs.createTransaction.onFirstCall().rejects(apiError('network', 'not_applied'));
    h.stubs.createTransaction.onSecondCall().rejects(apiError('timeout', 'unknown'));
    await h.press('amount1', 'ok');
    await h.advance(1000);
    await h.advance(1000);
    assert.equal(h.stubs.createTransaction.callCount, 3);
    assert.equal(h.value(), 'session.choosePayment.choosing');
  });

  it('create failing for good: a clear API failure, nothing charged', async () => {
    const h = run(checkoutMachine, { firstEvent: { type: 'COIN', cents: 100 } });
    h.stubs.createTransaction.rejects(apiError('auth', 'not_applied'));
    await h.press('amount1', 'ok');
    assert.equal(h.value(), 'apiFailed');
    await h.advance(3000);
    assert.deepEqual(money(h.context), { inserted: 100, paid: 0, credited: 0, unclaimed: 100 });
    await h.advance(9000);
    await h.advance(3000);
    assert.equal(h.snapshot.output?.outcome, 'failed');
  });

  it('preTransaction failing: retried, then API failure; the card still gets the inserted money back', async () => {
    const h = run(checkoutMachine);
    h.stubs.preTransaction.rejects(apiError('http', 'not_applied', { httpStatus: 500 }));
    await h.send({ type: 'SCAN', data: '9276004429942845' });
    await h.coins(100);
    await h.press('amount1', 'ok');
    await h.advance(1000);
    await h.advance(1000);
    assert.equal(h.value(), 'apiFailed');
    await h.press('ok');
    assert.equal(h.context.credited, 100);
  });

  it('credit to the card failing falls back to an unclaimed voucher', async () => {
    const h = run(checkoutMachine);
    h.stubs.preTransaction.resolves({ missingSum: 100 });
    h.stubs.creditCard.rejects(apiError('http', 'not_applied', { httpStatus: 400 }));
    await h.send({ type: 'SCAN', data: '9276004429942845' });
    await h.press('amount1', 'ok', 'ok');
    await h.coins(200);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 100, credited: 0, unclaimed: 100 });
    assert.ok(h.events.some((e) => e.type === 'fault' && e.what === 'credit'));
  });

  it('recording unclaimed money keeps trying until the journal takes it', async () => {
    const h = run(checkoutMachine);
    h.stubs.recordUnclaimed.onFirstCall().rejects(new Error('disk full'));
    await payWith200(h);
    assert.equal(h.value(), 'settling.recordWait');
    await h.advance(1000);
    assert.equal(h.context.unclaimed, 50);
  });

  it('printer failing does not keep the customer: fault reported, session goes on', async () => {
    const h = run(checkoutMachine);
    h.stubs.print.rejects(new Error('paper out'));
    await payWith200(h);
    assert.equal(h.value(), 'settling.showVoucher');
    assert.equal(h.events.filter((e) => e.type === 'fault' && e.what === 'print').length, 2);
  });

  it('terminal time limit: the call is abandoned and the transaction read back', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.callsFake(() => new Promise(() => {}));
    h.stubs.readBack.resolves(EFFECT);
    await h.press('amount1', 'ok', 'amount2');
    assert.equal(h.value(), 'pay.starting');
    await h.advance(59_999);
    assert.equal(h.stubs.readBack.callCount, 0);
    await h.advance(1);
    assert.equal(h.stubs.readBack.callCount, 1);
    assert.equal(h.context.outcome, 'paid');
  });

  it('terminal deadline kept in context is honoured by TICK (as after a restored snapshot)', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.callsFake(() => new Promise(() => {}));
    h.stubs.readBack.resolves(EFFECT);
    await h.send({ type: 'TICK', now: 1_000 });
    await h.press('amount1', 'ok', 'amount2');
    assert.equal(h.context.payDeadline, 61_000);
    await h.send({ type: 'TICK', now: 60_999 });
    assert.equal(h.value(), 'pay.starting');
    await h.send({ type: 'TICK', now: 61_000 });
    assert.equal(h.stubs.readBack.callCount, 1);
  });

  it('cash payments have no terminal limit: a slow start/cash is waited for', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.callsFake(() => new Promise(() => {}));
    await payWith200(h);
    await h.advance(600_000);
    assert.equal(h.value(), 'pay.starting');
  });
});
