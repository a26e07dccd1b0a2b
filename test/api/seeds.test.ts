import assert from 'node:assert/strict';
import { TransactionSchema, cardOf, type ReceiptLine } from '../../src/api/schemas.js';
import { parseGermanMoney } from '../../src/api/money.js';
import { loadSeeds, repairJson } from '../support/seeds.js';

const texts = (receipt: ReceiptLine[] | undefined): string[] =>
  (receipt ?? []).map((l) =>
    l.type === 'textline'
      ? l.value.text
      : l.type === 'name-value'
        ? l.value.name.trim()
        : l.type === 'separator'
          ? `--${l.value?.caption ?? ''}--`
          : '',
  );

describe('seeds: the merchant\u2019s real API answers parse with the client\u2019s schemas', () => {
  const seeds = loadSeeds();
  const parsed = new Map(seeds.map((s) => [s.file.slice(0, 3), TransactionSchema.parse(s.json)]));

  it('finds all five seeds and every one is a paid transaction', () => {
    assert.equal(seeds.length, 5);
    for (const [name, tx] of parsed) assert.equal(tx.status, 'ok', name);
  });

  it('repairs the documentation shorthand of seed 002 (comment lines, a missing comma)', () => {
    assert.equal(repairJson('[{"a":1}\n{"b":2}, // ...\n]'), '[{"a":1},\n{"b":2} \n]');
    const tx = parsed.get('002')!;
    assert.equal(tx.basket?.products.length, 3);
    assert.equal(tx.basket?.products[0]?.articleNumber, 30037, 'articleNumber may be a number');
    assert.equal(tx.basket?.products[0]?.ean, null, 'ean may be null');
  });

  it('seed 000 (paid fully by card): payment_method loyalty, missing_sum 0, balance 2,51 EUR', () => {
    const tx = parsed.get('000')!;
    assert.equal(tx.payment_method, 'loyalty');
    assert.equal(tx.basket_info?.missing_sum, 0);
    const card = cardOf(tx)!.merchantcard!;
    assert.equal(card.balance, 251);
    assert.equal(card.lock_status, 'unlocked');
    const t = texts(tx.receipt);
    assert.deepEqual(t.slice(0, 3), ['--Kundenkarte--', 'Kartennummer:', 'TA Code:']);
    assert.ok(t.includes('Zahlung über:'));
    assert.equal(t[t.length - 1], '2,51 EUR');
  });

  it('seed 001 (part card, rest cash): start/cash, receipt shows turnover and new balance', () => {
    const tx = parsed.get('001')!;
    assert.equal(tx.payment_method, 'cash');
    assert.equal(tx.basket_info?.sum, 796);
    assert.equal(tx.basket_info?.missing_sum, 0);
    const t = texts(tx.receipt);
    assert.deepEqual(t.slice(-5), ['Umsatz erfasst:', '7,96 EUR', '', 'Aktuelles Guthaben', '10,00 EUR']);
  });

  it('seed 003 (cash without preTransaction): tolerant of elided basket and absent missing_sum', () => {
    const tx = parsed.get('003')!;
    assert.equal(tx.basket, undefined);
    assert.equal(tx.basket_info?.missing_sum, undefined);
    assert.equal(cardOf(tx)?.merchantcard?.cardgroup?.display_name, 'Punkte');
  });

  it('seed 004 (top-up): two sections and the loaded amount equals the top-up product', () => {
    const tx = parsed.get('004')!;
    const product = tx.basket!.products[0]!;
    assert.equal(product.ean, '4260447149502');
    assert.equal(product.priceOne, 1500);
    const t = texts(tx.receipt);
    assert.ok(t.includes('--Kundenkarte Aufladung--'));
    const loaded = t[t.indexOf('wurde aufgeladen:') + 1]!;
    assert.equal(parseGermanMoney(loaded), product.priceOne);
    assert.equal(parseGermanMoney(t[t.length - 1]!), 1500);
  });

  it('a seed with odd values where the kiosk does not act still parses; without an id it does not', () => {
    const odd = structuredClone(seeds[0]!.json) as {
      basket_info: { missing_sum: unknown };
      idents: Array<{ merchantcard: { lock_status: unknown; balance: unknown } }>;
      receipt: unknown[];
    };
    odd.basket_info.missing_sum = -5;
    odd.idents[0]!.merchantcard.lock_status = 'maybe';
    odd.idents[0]!.merchantcard.balance = 999; // not cash + bonus: an overdraft limit, or read at another time
    odd.receipt.push({ type: 'barcode', value: null });
    const r = TransactionSchema.safeParse(odd);
    assert.equal(r.success, true);
    assert.equal(r.data!.basket_info?.missing_sum, undefined);
    assert.equal(cardOf(r.data!)!.merchantcard!.lock_status, 'maybe');
    assert.equal(cardOf(r.data!)!.merchantcard!.balance, 999);
    const noId = structuredClone(seeds[0]!.json) as { id?: unknown };
    delete noId.id;
    const bad = TransactionSchema.safeParse(noId);
    assert.equal(bad.success, false);
    assert.ok(bad.error!.issues.some((i) => i.path.join('.') === 'id'));
  });

  it('an answer before start without a receipt (a create, a PUT) parses with an empty receipt', () => {
    const created = structuredClone(seeds[4]!.json) as Record<string, unknown>;
    delete created.receipt;
    created.status = 'created';
    const r = TransactionSchema.safeParse(created);
    assert.equal(r.success, true, JSON.stringify(r.error?.issues));
    assert.deepEqual(r.data!.receipt, []);
    assert.equal(cardOf(r.data!)!.merchantcard!.balance, 0);
  });

  it('keeps unknown fields (loose objects) for forward compatibility', () => {
    const tx = parsed.get('000')! as Record<string, unknown>;
    assert.deepEqual(tx.application_context, {
      locks: { customer: false },
      return_urls: null,
      iframe_opts: null,
    });
  });
});
