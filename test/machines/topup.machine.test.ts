import assert from 'node:assert/strict';
import { topupMachine } from '../../machines/topup.machine.js';
import { TOPUP_EAN } from '../../src/api/schemas.js';
import { CARD, apiError, card, money, run } from './fakes.js';

describe('top-up machine', () => {
  it('loads a preset amount: acceptor on only while money is wanted, update + start/cash, receipt', async () => {
    const h = run(topupMachine);
    assert.equal(h.value(), 'session.scanCard');
    assert.equal(h.acceptorOn(), false);
    await h.send({ type: 'SCAN', data: `${CARD}\r\n` });
    assert.equal(h.value(), 'session.chooseAmount');
    assert.equal(h.context.card?.groupName, 'Stammkunde');
    await h.press('amount2');
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptorOn(), true);
    await h.coins(500);
    assert.equal(h.acceptorOn(), true);
    await h.coins(500);
    assert.equal(h.acceptorOn(), false, 'inhibited as soon as the amount is reached');
    const put = h.stubs.updateTransaction.firstCall.args[0] as {
      id: string;
      basket: { ean: string; priceOne: number }[];
    };
    assert.equal(put.id, 'STX_LOOKUP');
    assert.deepEqual(
      put.basket.map((l) => [l.ean, l.priceOne]),
      [[TOPUP_EAN, 1000]],
    );
    assert.deepEqual(h.stubs.startPayment.firstCall.args[0], {
      id: 'STX_LOOKUP',
      method: 'cash',
      jobId: 'S1:start:STX_LOOKUP:1',
    });
    assert.equal(h.stubs.print.callCount, 1);
    assert.equal(h.value(), 'farewell');
    await h.advance(3000);
    assert.equal(h.snapshot.status, 'done');
    assert.deepEqual(h.snapshot.output, {
      outcome: 'paid',
      inserted: 1000,
      redeemed: 0,
      paid: 1000,
      credited: 0,
      unclaimed: 0,
      transactionId: 'STX_LOOKUP',
      voucherCode: null,
    });
    assert.equal(h.stubs.createTransaction.callCount, 0);
  });

  it('loads everything inserted when the last coin overshoots the amount (no change)', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount1');
    await h.coins(200, 500);
    const put = h.stubs.updateTransaction.firstCall.args[0] as { basket: { priceOne: number }[] };
    assert.equal(put.basket[0]?.priceOne, 700);
    assert.equal(h.context.paid, 700);
  });

  it('open amount: insert money, then OK loads what is in', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CARD });
    await h.coins(200);
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptorOn(), true);
    await h.coins(100);
    await h.press('ok');
    assert.equal(h.context.paid, 300);
    assert.equal(h.acceptorOn(), false);
  });

  it('inhibits the acceptor at the kiosk maximum', async () => {
    const h = run(topupMachine, { config: { maxTopup: 1000 } });
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('ok');
    await h.coins(500, 500);
    assert.equal(h.acceptorOn(), false);
    assert.equal(h.context.paid, 1000);
  });

  it('money inserted before the card counts (woken by a coin)', async () => {
    const h = run(topupMachine, { firstEvent: { type: 'COIN', cents: 200 } });
    assert.equal(h.context.inserted, 200);
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('ok');
    assert.equal(h.value(), 'session.collecting.waiting');
    await h.press('ok');
    assert.equal(h.context.paid, 200);
  });

  it('cancel with money inserted loads it onto the scanned card', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount3');
    await h.coins(200, 100);
    await h.press('cancel');
    assert.equal(h.acceptorOn(), false);
    assert.deepEqual(h.stubs.creditCard.firstCall.args[0], {
      cardNumber: CARD,
      cents: 300,
      jobId: 'S1:credit:1',
      relatedTransactionId: null,
    });
    assert.equal(h.stubs.abortTransaction.callCount, 1, 'the lookup transaction is abandoned');
    assert.deepEqual(money(h.context), { inserted: 300, paid: 0, credited: 300, unclaimed: 0 });
    assert.ok(h.events.some((e) => e.type === 'credited' && e.cardMasked === '9276********2845'));
    await h.advance(3000);
    assert.equal(h.snapshot.output?.outcome, 'cancelled');
  });

  it('a coin that lands after the inhibit is credited to the card after the top-up', async () => {
    const h = run(topupMachine);
    let release: () => void = () => {};
    h.stubs.startPayment.callsFake(
      () =>
        new Promise((resolve) => {
          release = () =>
            resolve({ id: 'STX_LOOKUP', status: 'ok', took: 'effect', receipt: [], balance: 1500 });
        }),
    );
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount1');
    await h.coins(500);
    assert.equal(h.value(), 'pay.starting');
    await h.coins(100);
    release();
    await h.flushAll();
    assert.deepEqual(money(h.context), { inserted: 600, paid: 500, credited: 100, unclaimed: 0 });
  });

  describe('card problems end in a clear message, then back to idle', () => {
    const cases = [
      ['unknown card (lookup says unknown)', { kind: 'unknown', transactionId: null }, 'unknown'],
      [
        'not valid here',
        { kind: 'found', card: card({ valid: false }), transactionId: 'STX_L' },
        'not_valid',
      ],
      ['locked', { kind: 'found', card: card({ lockStatus: 'locked' }), transactionId: 'STX_L' }, 'locked'],
      [
        'inactive',
        { kind: 'found', card: card({ stockStatus: 'inactive' }), transactionId: 'STX_L' },
        'inactive',
      ],
      [
        'passcode before charge',
        { kind: 'found', card: card({ passcode: 3 }), transactionId: 'STX_L' },
        'passcode',
      ],
    ] as const;
    for (const [name, answer, problem] of cases) {
      it(name, async () => {
        const h = run(topupMachine);
        h.stubs.lookupCard.resolves(answer as never);
        await h.send({ type: 'SCAN', data: CARD });
        assert.equal(h.value(), 'cardRefused');
        assert.equal(h.context.problem, problem);
        assert.equal(h.context.card, null);
        await h.advance(3000);
        assert.equal(h.stubs.abortTransaction.callCount, answer.transactionId ? 1 : 0);
        await h.advance(3000);
        assert.equal(h.snapshot.status, 'done');
        assert.equal(h.snapshot.output?.outcome, 'card_refused');
      });
    }

    it('code 1016 on the look-up is a backend fault: retried, then "Dienst gestört"; money in goes to a voucher', async () => {
      const h = run(topupMachine, { firstEvent: { type: 'COIN', cents: 200 } });
      h.stubs.lookupCard.rejects(apiError('http', 'not_applied', { httpStatus: 400, code: 1016 }));
      await h.send({ type: 'SCAN', data: CARD });
      assert.equal(h.value(), 'lookingUp.wait', 'a backend fault is worth another try');
      await h.advance(1000);
      await h.advance(1000);
      assert.equal(h.stubs.lookupCard.callCount, 3);
      assert.equal(h.value(), 'apiFailed');
      assert.equal(h.context.problem, null, 'never "Karte unbekannt" for a backend fault');
      await h.press('ok');
      assert.equal(h.stubs.creditCard.callCount, 0);
      assert.deepEqual(h.stubs.recordUnclaimed.firstCall.args[0], {
        cents: 200,
        reason: 'cancelled',
        transactionId: null,
        jobId: 'S1:unclaimed:0',
      });
      assert.equal(h.value(), 'settling.showVoucher');
      assert.deepEqual(money(h.context), { inserted: 200, paid: 0, credited: 0, unclaimed: 200 });
    });

    it('code 1001 (invalid params) on the look-up is not retried', async () => {
      const h = run(topupMachine);
      h.stubs.lookupCard.rejects(apiError('http', 'not_applied', { httpStatus: 400, code: 1001 }));
      await h.send({ type: 'SCAN', data: CARD });
      assert.equal(h.value(), 'apiFailed');
      assert.equal(h.stubs.lookupCard.callCount, 1);
    });

    it('a card that needs a passcode before discharge is fine for a top-up', async () => {
      const h = run(topupMachine);
      h.stubs.lookupCard.resolves({ kind: 'found', card: card({ passcode: 2 }), transactionId: 'STX_L' });
      await h.send({ type: 'SCAN', data: CARD });
      assert.equal(h.value(), 'session.chooseAmount');
    });
  });

  it('an unreadable scan says so and waits for a card', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: 'garbage' });
    assert.equal(h.value(), 'session.scanCard');
    assert.equal(h.context.notice, 'unreadable');
    assert.equal(h.stubs.lookupCard.callCount, 0);
  });

  it('lookup: retries a refused call, then gives up to a clear API failure', async () => {
    const h = run(topupMachine);
    h.stubs.lookupCard.rejects(apiError('network', 'not_applied'));
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'lookingUp.wait');
    await h.advance(1000);
    await h.advance(1000);
    assert.equal(h.stubs.lookupCard.callCount, 3);
    assert.equal(h.value(), 'apiFailed');
    await h.advance(3000);
    await h.advance(3000);
    assert.equal(h.snapshot.output?.outcome, 'failed');
  });
});
