import assert from 'node:assert/strict';
import {
  basketTotal,
  formatCents,
  parseGermanMoney,
  sumsPerVatRate,
  MoneyError,
} from '../../src/api/money.js';

describe('money: integer cents, German format', () => {
  it('formats like the receipts', () => {
    assert.equal(formatCents(796), '7,96 EUR');
    assert.equal(formatCents(0), '0,00 EUR');
    assert.equal(formatCents(5), '0,05 EUR');
    assert.equal(formatCents(-251), '-2,51 EUR');
    assert.equal(formatCents(123456, 'EUR', { thousands: true }), '1.234,56 EUR');
    assert.equal(formatCents(1500, ''), '15,00');
  });

  it('refuses non-integer amounts instead of rounding them', () => {
    assert.throws(() => formatCents(7.96), MoneyError);
    assert.throws(() => basketTotal([{ quantity: 1, priceOne: 0.1 }]), MoneyError);
    assert.throws(() => basketTotal([{ quantity: -1, priceOne: 100 }]), /quantity/);
  });

  it('parses receipt amounts back', () => {
    assert.equal(parseGermanMoney('7,96 EUR'), 796);
    assert.equal(parseGermanMoney('1.234,56 EUR'), 123456);
    assert.equal(parseGermanMoney('-0,05'), -5);
    assert.equal(parseGermanMoney('Umsatz erfasst:'), undefined);
  });

  it('sums the seed basket and splits it per VAT rate', () => {
    const lines = [
      { quantity: 1, priceOne: 349, tax: 7 },
      { quantity: 1, priceOne: 249, tax: 7 },
      { quantity: 2, priceOne: 99, tax: 19 },
    ];
    assert.equal(basketTotal(lines), 796);
    const sums = sumsPerVatRate(lines);
    assert.deepEqual(sums, [
      { rate: 7, gross: 598, vat: 39, net: 559 },
      { rate: 19, gross: 198, vat: 32, net: 166 },
    ]);
    assert.equal(
      sums.reduce((s, v) => s + v.gross, 0),
      796,
    );
  });
});
