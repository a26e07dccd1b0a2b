import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { CARD, card, money, run } from './fakes.js';

const COFFEE_EAN = '4006381333931';

describe('checkout machine', () => {
  it('without a card: collects the whole sum and start/cash directly (no preTransaction)', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1', 'amount2'); // 150 + 250
    assert.equal(h.context.basket.length, 2);
    await h.press('ok');
    assert.equal(h.value(), 'session.choosePayment.choosing');
    assert.equal(h.context.due, 400);
    const created = h.stubs.createTransaction.firstCall.args[0] as { cardNumber: string | null };
    assert.equal(created.cardNumber, null);
    await h.press('amount1');
    assert.equal(h.acceptorOn(), true);
    await h.coins(200, 200);
    assert.equal(h.acceptorOn(), false);
    assert.equal(h.stubs.preTransaction.callCount, 0);
    assert.equal((h.stubs.startPayment.firstCall.args[0] as { method: string }).method, 'cash');
    assert.deepEqual(money(h.context), { inserted: 400, paid: 400, credited: 0, unclaimed: 0 });
    assert.deepEqual(
      h.events.map((e) => e.type),
      [
        'transaction_created',
        'coin_accepted',
        'coin_accepted',
        'transaction_started',
        'transaction_finished',
      ],
    );
  });

  it('overpayment without a card becomes an unclaimed voucher, printed', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1', 'ok');
    await h.coins(200);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { reason: string }).reason, 'overpaid');
    assert.equal(h.stubs.print.callCount, 2, 'receipt and voucher');
    assert.equal(h.value(), 'settling.showVoucher');
    await h.press('ok');
    assert.equal(h.value(), 'farewell');
  });

  it('card pays part, coins the rest, a coin too many onto the card: ONE receipt with every part', async () => {
    const h = run(checkoutMachine);
    h.stubs.preTransaction.resolves({ missingSum: 150 });
    await h.press('amount1', 'amount2');
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('ok', 'amount1');
    await h.coins(200);
    await h.flushAll();
    assert.equal(h.value(), 'farewell');
    assert.equal(h.stubs.print.callCount, 1, 'no second receipt for the credited change');
    const printed = h.stubs.print.firstCall.args[0] as { kind: string; sale: Record<string, unknown> };
    assert.equal(printed.kind, 'receipt');
    assert.deepEqual(
      {
        kind: printed.sale.kind,
        parts: printed.sale.parts,
        cashIn: printed.sale.cashIn,
        credited: printed.sale.credited,
        voucher: printed.sale.voucher,
        card: printed.sale.cardMasked,
      },
      {
        kind: 'sale',
        parts: { card: 250, cash: 150, terminal: 0 },
        cashIn: 200,
        credited: 50,
        voucher: null,
        card: '...2845',
      },
    );
  });

  it('card balance covers all: PUT the lookup transaction, preTransaction, confirm, start/loyalty', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1');
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'session.basket.browsing');
    assert.equal(h.context.txId, 'STX_LOOKUP');
    await h.press('ok');
    assert.equal(h.stubs.updateTransaction.callCount, 1);
    assert.equal(h.stubs.createTransaction.callCount, 0);
    assert.equal(h.value(), 'session.confirmLoyalty');
    await h.press('ok');
    assert.equal((h.stubs.startPayment.firstCall.args[0] as { method: string }).method, 'loyalty');
    assert.equal(h.context.balanceAfter, 2250);
    assert.equal(h.snapshot.value, 'farewell');
  });

  it('card covers part: the rest in coins, start/cash, overpayment credited to the card', async () => {
    const h = run(checkoutMachine);
    h.stubs.preTransaction.resolves({ missingSum: 300 });
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount2', 'amount2', 'ok');
    assert.equal(h.value(), 'session.choosePayment.choosing');
    await h.coins(200);
    assert.equal(h.value(), 'session.collecting.waiting');
    await h.coins(200);
    assert.equal((h.stubs.startPayment.firstCall.args[0] as { method: string }).method, 'cash');
    assert.deepEqual(money(h.context), { inserted: 400, paid: 300, credited: 100, unclaimed: 0 });
  });

  it('pays by terminal with start/cashless and its own time limit passed to the call', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1', 'ok', 'amount2');
    assert.deepEqual(h.stubs.startPayment.firstCall.args[0], {
      id: 'STX_NEW',
      method: 'cashless',
      jobId: 'S1:start:STX_NEW:1',
      timeoutMs: 60_000,
    });
    assert.deepEqual(money(h.context), { inserted: 0, paid: 0, credited: 0, unclaimed: 0 });
    assert.equal(h.context.outcome, 'paid');
  });

  it('terminal not offered once coins are in: the rest is collected in cash', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2');
    await h.coins(100);
    await h.press('ok');
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.context.due, 250);
  });

  it('coins inserted while choosing cover the sum: pays at once', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1');
    await h.coins(200);
    await h.press('ok');
    assert.equal(h.context.outcome, 'paid');
    assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
  });

  it('scanning: a catalogue EAN adds the product, another EAN and junk say so', async () => {
    const h = run(checkoutMachine);
    await h.send({ type: 'SCAN', data: COFFEE_EAN }, { type: 'SCAN', data: COFFEE_EAN });
    assert.deepEqual(
      h.context.basket.map((l) => [l.desc, l.quantity]),
      [['Kaffee', 2]],
    );
    await h.send({ type: 'SCAN', data: '4006381333924' }); // valid check digit, not in catalogue
    assert.equal(h.context.notice, 'unknown_product');
    await h.send({ type: 'SCAN', data: '4006381333932' }); // bad check digit
    assert.equal(h.context.notice, 'unreadable');
    await h.send({ type: 'SCAN', data: CARD }, { type: 'SCAN', data: CARD });
    assert.equal(h.context.notice, 'card_already');
    assert.equal(h.stubs.lookupCard.callCount, 1);
  });

  it('browsing with up/down and OK adds the product under the cursor', async () => {
    const h = run(checkoutMachine);
    await h.press('down');
    assert.equal(h.value(), 'session.basket.choosing');
    await h.press('down', 'down', 'up');
    assert.equal(h.context.cursor, 1);
    await h.press('ok');
    assert.equal(h.context.basket[0]?.desc, 'Wasser');
    await h.press('up', 'cancel');
    assert.equal(h.value(), 'session.basket.browsing');
    assert.equal(h.context.basket.length, 1);
  });

  it('a card needing a passcode for a sale is refused (not supported at this kiosk)', async () => {
    const h = run(checkoutMachine);
    h.stubs.lookupCard.resolves({ kind: 'found', card: card({ passcode: 4 }), transactionId: 'STX_L' });
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'cardRefused');
    assert.equal(h.context.problem, 'passcode');
  });

  it('cancel in the basket with nothing paid ends without touching the API', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1', 'cancel');
    assert.equal(h.value(), 'farewell');
    await h.advance(3000);
    assert.equal(h.snapshot.output?.outcome, 'cancelled');
    assert.equal(h.stubs.createTransaction.callCount + h.stubs.abortTransaction.callCount, 0);
  });

  it('cancel while collecting: acceptor off, transaction aborted, money to a voucher', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2', 'ok', 'ok');
    await h.coins(100);
    await h.press('cancel');
    assert.equal(h.acceptorOn(), false);
    assert.equal(h.stubs.abortTransaction.callCount, 1);
    assert.deepEqual(money(h.context), { inserted: 100, paid: 0, credited: 0, unclaimed: 100 });
    assert.ok(h.events.some((e) => e.type === 'transaction_finished' && e.outcome === 'aborted'));
  });

  it('acceptor going offline while collecting cancels the session and settles the money', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2', 'ok', 'ok');
    await h.coins(100);
    await h.send({ type: 'DEVICE', device: 'acceptor', health: 'offline' });
    assert.equal(h.context.outcome, 'device_fault');
    assert.equal(h.context.unclaimed, 100);
  });

  it('no terminal configured: straight to collecting', async () => {
    const h = run(checkoutMachine, { config: { terminal: false } });
    await h.press('amount1', 'ok');
    assert.equal(h.value(), 'session.collecting.waiting');
  });
});

describe('checkout machine: coins during settling', () => {
  it('a coin landing while the left-over is being credited is settled in a second round, not counted twice', async () => {
    const h = run(checkoutMachine);
    h.stubs.preTransaction.resolves({ missingSum: 100 });
    let release: () => void = () => {};
    h.stubs.creditCard.onFirstCall().callsFake(
      () =>
        new Promise((resolve) => {
          release = () => resolve({ transactionId: 'STX_C1', receipt: [], balance: 1 });
        }),
    );
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount1', 'ok', 'ok');
    await h.coins(200); // 100 paid, 100 left over
    assert.equal(h.value(), 'settling.crediting.call');
    await h.coins(50);
    release();
    await h.flushAll();
    const amounts = h.stubs.creditCard.getCalls().map((c) => (c.args[0] as { cents: number }).cents);
    assert.deepEqual(amounts, [100, 50]);
    assert.deepEqual(money(h.context), { inserted: 250, paid: 100, credited: 150, unclaimed: 0 });
  });

  it('the voucher shows the amount it is for', async () => {
    const h = run(checkoutMachine);
    await h.press('amount1', 'ok');
    await h.coins(200);
    const voucher = h.stubs.print.firstCall.args[0] as { kind: string; cents: number };
    assert.equal(voucher.kind, 'voucher');
    assert.equal(voucher.cents, 50);
  });
});
