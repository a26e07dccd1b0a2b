import assert from 'node:assert/strict';
import type { ReceiptLine } from '../../src/api/schemas.js';
import {
  bonusDiscounts,
  customerReceiptLines,
  maskReceiptCards,
  saleFigures,
  saleLines,
  voucherLines,
} from '../../src/bookkeeping/receipt-jobs.js';
import type { ReceiptSale } from '../../machines/ports.js';
import { layoutReceipt } from '../../hal/printer/receipt-layout.js';
import { parseReceipt } from '../support/books-agreement.js';

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

describe('customer receipt (one per paid sale, §33 UStDV)', () => {
  const text = (lines: ReceiptLine[]) =>
    lines
      .map((l) =>
        l.type === 'name-value'
          ? `${l.value.name} | ${l.value.value}`
          : l.type === 'textline'
            ? l.value.text
            : l.type === 'separator'
              ? `-- ${l.value?.caption ?? ''}`
              : '',
      )
      .join('\n');
  const sale = (over: Partial<ReceiptSale> = {}): ReceiptSale => ({
    kind: 'sale',
    basket: [
      { id: 1, desc: 'Kaffee', ean: null, quantity: 2, priceOne: 150, tax: 19 },
      { id: 2, desc: 'Brezel', ean: null, quantity: 1, priceOne: 229, tax: 7 },
    ],
    bonusProducts: [],
    parts: { card: 251, cash: 278, terminal: 0 },
    cardBalance: { cash: 251, bonus: 0 },
    cashIn: 300,
    credited: 22,
    voucher: null,
    cardMasked: '...2845',
    balanceAfter: 22,
    ...over,
  });
  const opts = {
    lang: 'de' as const,
    receiptNo: 'K1-00042',
    when: '01.12.2026 14:05',
    merchant: { name: 'Bäckerei Muster', address: ['Hauptstr. 1', '01067 Dresden'] },
  };
  const API: ReceiptLine[] = [
    { type: 'name-value', value: { name: 'TA Code: ', value: '29187330', decoration: [] } },
  ];

  it('seller, date, number, items, total, VAT per rate, every payment part and the change on one receipt', () => {
    const out = text(customerReceiptLines(sale(), API, opts));
    for (const want of [
      'Bäckerei Muster',
      '01067 Dresden',
      'Datum | 01.12.2026 14:05',
      'Beleg-Nr. | K1-00042',
      '2 x Kaffee | 3,00 EUR',
      'Brezel | 2,29 EUR',
      'Summe | 5,29 EUR',
      'MwSt 7 % auf 2,29 EUR | 0,15 EUR',
      'MwSt 19 % auf 3,00 EUR | 0,48 EUR',
      'Kundenkarte ...2845 | 2,51 EUR',
      'Bar gegeben | 3,00 EUR',
      'Rest auf Karte | 0,22 EUR',
      'TA Code:  | 29187330',
    ])
      assert.ok(out.includes(want), `missing "${want}" in\n${out}`);
    assert.equal(out.match(/Summe/g)?.length, 1, 'one total: one receipt');
  });

  it('bonus used is a discount: VAT after it; prepaid card cash is not', () => {
    // 5,29 basket, the card has 1,00 cash + 0,50 bonus: 1,50 from the card, 0,50 of it a discount.
    const s = sale({ parts: { card: 150, cash: 379, terminal: 0 }, cardBalance: { cash: 100, bonus: 50 } });
    const discounts = bonusDiscounts(s);
    assert.equal(
      discounts.reduce((a, d) => a + d.priceOne, 0),
      -50,
      'the discounts add up to the bonus used',
    );
    const out = text(customerReceiptLines(s, [], opts));
    assert.match(out, /Summe \| 4,79 EUR/);
    // The bonus split by gross per rate: 7 %: floor(50 * 229 / 529) = 21, 19 % the rest 29; VAT on
    // 2,29 - 0,21 = 2,08 and 3,00 - 0,29 = 2,71.
    assert.match(out, /Bonus 7 % \| -0,21 EUR/);
    assert.match(out, /MwSt 19 % auf 2,71 EUR \| 0,43 EUR/);
    assert.match(out, /MwSt 7 % auf 2,08 EUR \| 0,14 EUR/);
    assert.equal(bonusDiscounts(sale()).length, 0, 'card cash only: no discount');
  });

  it('the figures the journal keeps for the export are what the paper says, VAT after the bonus', () => {
    const s = sale({ parts: { card: 150, cash: 379, terminal: 0 }, cardBalance: { cash: 100, bonus: 50 } });
    const f = saleFigures(s, opts.receiptNo);
    assert.deepEqual(
      [f.total, f.discount, f.vat.map((v) => [v.rate, v.gross, v.net, v.vat])],
      [
        479,
        50,
        [
          [7, 208, 194, 14],
          [19, 271, 228, 43],
        ],
      ],
    );
    // Laid out on 32 columns as the printer prints it, and read back as an auditor reads the paper.
    const rows = layoutReceipt({ lines: customerReceiptLines(s, API, opts) }, { width: 32 }).map(
      (r) => r.text,
    );
    const paper = parseReceipt(rows);
    assert.ok(paper, rows.join('\n'));
    const { receiptNo: _n, ...figures } = f;
    assert.deepEqual(paper, {
      ...figures,
      receiptNo: opts.receiptNo,
      vat: f.vat.map(({ rate, gross, vat }) => ({ rate, gross, vat })),
    });
    // The parser reads what is printed: a receipt one cent off reads one cent off.
    const off = parseReceipt(rows.map((r) => r.replace(/^(Summe\s+)4,79 EUR$/, '$14,80 EUR')));
    assert.equal(off?.total, 480);
    const topup = saleFigures(
      sale({
        kind: 'topup',
        basket: [{ id: 1, desc: 'Kartenaufladung', ean: null, quantity: 1, priceOne: 500, tax: 0 }],
        parts: { card: 0, cash: 500, terminal: 0 },
        cardBalance: { cash: 100, bonus: 50 },
      }),
      'K1-00043',
    );
    assert.deepEqual(
      [topup.total, topup.discount, topup.vat],
      [500, 0, []],
      'a prepayment: no VAT, no bonus',
    );
  });

  /** Laid out on 32 columns as printed, and read back as an auditor reads the paper. */
  const paperOf = (s: ReceiptSale, o = opts) =>
    parseReceipt(layoutReceipt({ lines: customerReceiptLines(s, API, o) }, { width: 32 }).map((r) => r.text));
  const kaffee = { desc: 'Kaffee', slot: 'A1', cents: 150, tax: 19, productId: 1 };

  it('a vending unit given back is a negative line, and not in the total nor in its VAT', () => {
    // 2 x Kaffee and a Brezel for 5,29 in cash (6,00 in); one Kaffee jams: 0,71 change and its 1,50 back.
    const s = sale({
      parts: { card: 0, cash: 529, terminal: 0 },
      cardBalance: null,
      cashIn: 600,
      credited: 0,
      changed: 221,
      undelivered: [{ ...kaffee, outcome: 'failed' }],
    });
    const f = saleFigures(s, opts.receiptNo);
    // Before, the total was 5,29 with VAT 19 % on 3,00: the customer paid for one Kaffee only.
    assert.equal(f.total, 379);
    assert.equal(f.returned, 150);
    assert.deepEqual(f.vat, [
      { rate: 7, gross: 229, vat: 15, net: 214 },
      { rate: 19, gross: 150, vat: 24, net: 126 },
    ]);
    assert.equal(f.cashIn - f.change, f.total + f.discount, 'what stayed in the kiosk is the total');
    const out = text(customerReceiptLines(s, API, opts));
    assert.match(out, /2 x Kaffee \| 3,00 EUR\nBrezel \| 2,29 EUR\nNicht ausgegeben A1 Kaffee \| -1,50 EUR/);
    assert.match(out, /Summe \| 3,79 EUR/);
    assert.doesNotMatch(out, /zurück|ungeklärt/);
    const en = text(customerReceiptLines(s, API, { ...opts, lang: 'en' }));
    assert.match(en, /Not handed out A1 Kaffee \| -1,50 EUR/);
    assert.match(en, /VAT 19 % of 1,50 EUR \| 0,24 EUR/);
    const { receiptNo: _n, ...figures } = f;
    assert.deepEqual(paperOf(s), {
      ...figures,
      receiptNo: opts.receiptNo,
      vat: f.vat.map(({ rate, gross, vat }) => ({ rate, gross, vat })),
    });
  });

  it('a terminal payment reversed because no goods came out says so, and the figures still add up', () => {
    // 2 x Kaffee for 3,00 at the terminal; both jam; the payment is reversed (or its reversal in doubt).
    for (const outcome of ['ok', 'unknown'] as const) {
      const s = sale({
        basket: [{ id: 1, desc: 'Kaffee', ean: null, quantity: 2, priceOne: 150, tax: 19 }],
        bonusProducts: [],
        parts: { card: 0, cash: 0, terminal: 300 },
        cardBalance: null,
        cashIn: 0,
        credited: 0,
        undelivered: [
          { ...kaffee, outcome: 'failed' },
          { ...kaffee, outcome: 'failed' },
        ],
        reversal: { outcome, cents: 300 },
      });
      const f = saleFigures(s, opts.receiptNo);
      assert.deepEqual(
        [f.total, f.returned, f.reversed, f.inReview],
        [0, 300, outcome === 'ok' ? 300 : 0, outcome === 'ok' ? 0 : 300],
        outcome,
      );
      const given = f.card + f.terminal - f.change - f.credited - f.voucherOut - f.reversed - f.inReview;
      assert.equal(given, f.total + f.discount, `${outcome}: the parts add up`);
      const out = text(customerReceiptLines(s, API, opts));
      const en = text(customerReceiptLines(s, API, { ...opts, lang: 'en' }));
      if (outcome === 'ok') {
        assert.match(out, /Zahlung storniert \| 3,00 EUR/);
        assert.match(en, /Payment reversed \| 3,00 EUR/);
      } else {
        assert.match(
          out,
          /Erstattung wird geprüft \| 3,00 EUR\nStorno ungeklärt: Betreiber prüft, Beleg aufheben/,
        );
        assert.match(en, /Refund under review \| 3,00 EUR/);
      }
      const { receiptNo: _n, ...figures } = f;
      assert.deepEqual(paperOf(s), {
        ...figures,
        receiptNo: opts.receiptNo,
        vat: f.vat.map(({ rate, gross, vat }) => ({ rate, gross, vat })),
      });
    }
  });

  it('the bonus is split over the delivered goods only; a rate all given back has no VAT line', () => {
    // 1,00 card cash + 0,50 bonus on 5,29; one of the two Kaffee jams. Over the goods delivered
    // (2,29 at 7 %, 1,50 at 19 %): 7 % floor(50 * 229 / 379) = 30, 19 % the rest 20 (before: 21 / 29).
    const s = sale({
      parts: { card: 150, cash: 379, terminal: 0 },
      cardBalance: { cash: 100, bonus: 50 },
      cashIn: 400,
      credited: 0,
      changed: 171,
      undelivered: [{ ...kaffee, outcome: 'failed' }],
    });
    assert.deepEqual(
      bonusDiscounts(s).map((d) => [d.tax, d.priceOne]),
      [
        [7, -30],
        [19, -20],
      ],
    );
    const f = saleFigures(s, opts.receiptNo);
    assert.deepEqual(
      [f.total, f.discount, f.vat.map((v) => [v.rate, v.gross, v.vat])],
      [
        329,
        50,
        [
          [7, 199, 13],
          [19, 130, 21],
        ],
      ],
    );
    assert.equal(f.card + f.cashIn - f.change, f.total + f.discount);
    assert.deepEqual(paperOf(s)?.vat, [
      { rate: 7, gross: 199, vat: 13 },
      { rate: 19, gross: 130, vat: 21 },
    ]);

    // Both Kaffee back: nothing sold at 19 %, so no 19 % bonus and no 19 % VAT line at all.
    const both = sale({
      ...s,
      changed: 321,
      undelivered: [
        { ...kaffee, outcome: 'failed' },
        { ...kaffee, outcome: 'failed' },
      ],
    });
    const g = saleFigures(both, opts.receiptNo);
    assert.deepEqual(
      [g.total, g.discount, g.returned, g.vat.map((v) => [v.rate, v.gross, v.vat])],
      [179, 50, 300, [[7, 179, 12]]],
    );
    assert.doesNotMatch(text(customerReceiptLines(both, API, opts)), /19 %/);
  });

  it('a unit in doubt is not given back: it stays in the total, the receipt says the operator checks', () => {
    const s = sale({ undelivered: [{ ...kaffee, outcome: 'unknown' }] });
    const f = saleFigures(s, opts.receiptNo);
    assert.deepEqual([f.total, f.returned], [529, 0]);
    const out = text(customerReceiptLines(s, API, opts));
    assert.match(out, /Ausgabe ungeklärt:\nA1 Kaffee \| 1,50 EUR\nUngeklärt: Betreiber prüft/);
    assert.doesNotMatch(out, /Nicht ausgegeben/);
    assert.equal(paperOf(s)?.total, 529);
  });

  it('a clean top-up receipt: what was loaded, how paid, the new balance, then the API lines', () => {
    const s = sale({
      kind: 'topup',
      basket: [{ id: 1, desc: 'Kartenaufladung', ean: null, quantity: 1, priceOne: 500, tax: 0 }],
      parts: { card: 0, cash: 500, terminal: 0 },
      cashIn: 500,
      credited: 0,
      balanceAfter: 751,
    });
    const lines = customerReceiptLines(s, API, opts);
    const out = text(lines);
    assert.match(out, /^-- Kartenaufladung/);
    assert.match(out, /Aufgeladen \| 5,00 EUR/);
    assert.match(out, /Neues Guthaben \| 7,51 EUR/);
    assert.ok(out.indexOf('Aufgeladen') < out.indexOf('TA Code'), 'the kiosk’s own part first');
  });
});
