import assert from 'node:assert/strict';
import type { ReceiptLine } from '../../src/api/schemas.js';
import { maskReceiptCards, saleLines, voucherLines } from '../../src/bookkeeping/receipt-jobs.js';
import { layoutReceipt } from '../../hal/printer/receipt-layout.js';

const text = (lines: ReceiptLine[]) =>
  lines.map((l) =>
    l.type === 'name-value'
      ? `${l.value.name}=${l.value.value}`
      : l.type === 'textline'
        ? l.value.text
        : l.type === 'separator'
          ? `--${l.value?.caption ?? ''}--`
          : '',
  );

describe('receipt jobs: what the kiosk adds to the API\u2019s lines', () => {
  it('a sale lists items, total, VAT per rate and how it was paid (the seed basket)', () => {
    const basket = [
      { desc: 'Sandwich Romano', quantity: 1, priceOne: 349, tax: 7 },
      { desc: 'Fruit salad', quantity: 1, priceOne: 249, tax: 7 },
      { desc: 'Water', quantity: 2, priceOne: 99, tax: 19 },
    ];
    const t = text(saleLines(basket, 'cash', 'de'));
    assert.deepEqual(t, [
      '--Beleg--',
      'Sandwich Romano=3,49 EUR',
      'Fruit salad=2,49 EUR',
      '2 x Water=1,98 EUR',
      '----',
      'Summe=7,96 EUR',
      'MwSt 7 % auf 5,98 EUR=0,39 EUR',
      'MwSt 19 % auf 1,98 EUR=0,32 EUR',
      'Bezahlt mit=Bar',
      '',
    ]);
    assert.equal(text(saleLines(basket, 'loyalty', 'en')).at(-2), 'Paid by=Loyalty card');
  });

  it('the card number on paper is masked; other name-values stay', () => {
    const lines: ReceiptLine[] = [
      { type: 'name-value', value: { name: 'Kartennummer: ', value: '9276004429942845', decoration: [] } },
      { type: 'name-value', value: { name: 'TA Code:', value: '29008410', decoration: [] } },
    ];
    assert.deepEqual(text(maskReceiptCards(lines)), ['Kartennummer: =9276********2845', 'TA Code:=29008410']);
  });

  it('a voucher carries the code and the amount, and fits 32 columns', () => {
    const lines = voucherLines('ABCDE-FGH23', 250, 'STX_ABCDEFGHIJKLMNOP', 'de');
    const t = text(lines);
    assert.ok(t.includes('ABCDE-FGH23'));
    assert.ok(t.includes('2,50 EUR'));
    const laid = layoutReceipt({ lines }, { width: 32 });
    assert.ok(laid.every((l) => l.text.length <= 32));
  });
});
