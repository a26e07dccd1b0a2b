/**
 * The stand-in's reversals (`cancel`, `cancelTrx`) share one undo: a terminal top-up whose loaded
 * money was spent since cannot be reversed by either (the card would go below zero).
 */
import assert from 'node:assert/strict';
import { TOPUP_EAN } from '../../src/api/schemas.js';
import { Ledger, SimApiError } from '../../src/sim/ledger.js';

const CARD = '9276000000000018';

describe('stand-in ledger: reversing a terminal payment', () => {
  function paidTopUpThenSpent(ledger: Ledger) {
    const topUp = ledger.create({
      basket: {
        products: [{ id: 1, desc: 'Aufladung', quantity: 1, priceOne: 500, tax: 0, ean: TOPUP_EAN }],
      },
      basket_info: { sum: 500, currency: 'EUR' },
      idents: [{ type: 'card', value: CARD }],
    });
    ledger.preTransaction(topUp.id);
    const paid = ledger.start(topUp.id, 'cashless');
    assert.equal(paid.status, 'ok');
    assert.equal(ledger.card(CARD)?.cash_balance, 500, 'loaded by the terminal payment');
    const sale = ledger.create({
      basket: { products: [{ id: 1, desc: 'Kaffee', quantity: 1, priceOne: 400, tax: 19 }] },
      basket_info: { sum: 400, currency: 'EUR' },
      idents: [{ type: 'card', value: CARD }],
    });
    assert.equal(ledger.preTransaction(sale.id).missing_sum, 0);
    ledger.start(sale.id, 'loyalty');
    assert.equal(ledger.card(CARD)?.cash_balance, 100);
    return paid;
  }

  it('cancelTrx of a top-up whose money was spent is refused, the card and the payment unchanged', () => {
    const ledger = new Ledger();
    const paid = paidTopUpThenSpent(ledger);
    assert.throws(
      () => ledger.cancelTrx(String(paid.receipt_number)),
      (e: unknown) => e instanceof SimApiError && e.status === 400 && /already spent/.test(e.message),
    );
    assert.equal(ledger.card(CARD)?.cash_balance, 100, 'never below what is on the card');
    assert.equal(ledger.transaction(paid.id)?.status, 'ok');
  });

  it('cancel refuses it the same way', () => {
    const ledger = new Ledger();
    const paid = paidTopUpThenSpent(ledger);
    assert.throws(() => ledger.cancel(paid.id), /already spent/);
    assert.equal(ledger.card(CARD)?.cash_balance, 100);
  });
});
