import assert from 'node:assert/strict';
import { z } from 'zod';
import { toCp858Printable } from '../../hal/printer/escpos-charset.js';
import { layoutReceipt, receiptText, wrap } from '../../hal/printer/receipt-layout.js';
import { ReceiptLineSchema } from '../../src/api/schemas.js';
import type { ReceiptLine } from '../../src/api/schemas.js';
import { loadSeedTransactions } from '../support/seeds.js';

const receiptOf = (seed: string): ReceiptLine[] =>
  z.array(ReceiptLineSchema).parse(loadSeedTransactions().get(seed)?.receipt);

describe('hal/receipt-layout', () => {
  it('lays out seed 000 for 32 columns exactly', () => {
    const rows = layoutReceipt({ lines: receiptOf('000') }, { width: 32 });
    assert.deepEqual(receiptText(rows), [
      '--------- Kundenkarte ----------',
      'Kartennummer:   9276004429942845',
      'TA Code:                29008410',
      '',
      'Zahlung über:',
      '7,96 EUR',
      '',
      'Umsatz erfasst:',
      '7,96 EUR',
      '',
      'Aktuelles Guthaben',
      '2,51 EUR',
    ]);
    const important = rows.filter((r) => r.bold);
    assert.deepEqual(
      important.map((r) => r.text),
      ['7,96 EUR', '7,96 EUR', '2,51 EUR'],
    );
    assert.ok(important.every((r) => r.doubleHeight));
  });

  it('lays out seed 004 (two separators, top-up) for 48 columns, trimming the API names', () => {
    const text = receiptText(layoutReceipt({ lines: receiptOf('004') }, { width: 48 }));
    assert.equal(text[0], '----------------- Kundenkarte ------------------');
    assert.equal(text[1], 'Kartennummer:                   9276004429942845');
    assert.ok(text.includes('------------ Kundenkarte Aufladung -------------'));
    assert.equal(text.at(-1), '15,00 EUR');
    for (const line of text) assert.ok([...line].length <= 48, line);
  });

  it('lays out every seed receipt within the width, at 32 and 48 columns', () => {
    for (const [seed, tx] of loadSeedTransactions()) {
      const lines = z.array(ReceiptLineSchema).parse(tx.receipt ?? []);
      for (const width of [32, 48]) {
        const text = receiptText(layoutReceipt({ lines, header: ['Kiosk'], footer: ['Danke'] }, { width }));
        assert.ok(text.length >= lines.length, `${seed}/${width}`);
        for (const line of text) assert.ok([...line].length <= width, `${seed}/${width}: ${line}`);
        assert.equal(text[0], `${' '.repeat(((width - 5) / 2) | 0)}Kiosk`);
      }
    }
  });

  it('plain rule for a separator without caption, null value included', () => {
    const lines: ReceiptLine[] = [
      { type: 'separator' },
      { type: 'separator', value: null },
      { type: 'separator', value: { caption: null } },
    ];
    assert.deepEqual(receiptText(layoutReceipt({ lines }, { width: 32, rule: '=' })), [
      '='.repeat(32),
      '='.repeat(32),
      '='.repeat(32),
    ]);
  });

  it('wraps a name-value pair that does not fit: value right-aligned on its own line', () => {
    const lines = z.array(ReceiptLineSchema).parse([
      {
        type: 'name-value',
        value: { name: 'Sehr langer Artikelname mit Zusatz', value: '12,34 EUR', decoration: [] },
      },
    ]);
    assert.deepEqual(receiptText(layoutReceipt({ lines }, { width: 32 })), [
      'Sehr langer Artikelname mit',
      'Zusatz',
      '                       12,34 EUR',
    ]);
  });

  it('applies align-center / align-right and the important style option', () => {
    const lines = z.array(ReceiptLineSchema).parse([
      { type: 'textline', value: { text: 'Mitte', decoration: ['align-center'] } },
      { type: 'textline', value: { text: 'Rechts', decoration: ['align-right', 'important', 'blink'] } },
    ]);
    const rows = layoutReceipt({ lines }, { width: 32, important: 'bold' });
    assert.deepEqual(receiptText(rows), ['             Mitte', '                          Rechts']);
    assert.deepEqual(
      rows.map((r) => [r.bold, r.doubleHeight]),
      [
        [false, false],
        [true, false],
      ],
    );
  });

  it('wraps long text lines at words and cuts words longer than the width', () => {
    assert.deepEqual(wrap('Vielen Dank für Ihren Einkauf bei uns', 16), [
      'Vielen Dank für',
      'Ihren Einkauf',
      'bei uns',
    ]);
    assert.deepEqual(wrap('ABCDEFGHIJ', 4), ['ABCD', 'EFGH', 'IJ']);
  });

  it('reduces text to what CP858 can print', () => {
    assert.equal(toCp858Printable('„Grüße“ – 5 € … ẞ'), '"Grüße" - 5 € ... SS');
    assert.equal(toCp858Printable('Łódź'), 'Lódz');
    assert.equal(toCp858Printable('日本'), '??');
  });
});
