/**
 * The balance after an operation comes from the answer's receipt, checked against the seeds
 * verbatim: seed 004 (top-up: `idents[].merchantcard.balance` 0, read before the load; the
 * "Kundenkarte Aufladung" section says 15,00 EUR) and seed 000 (payment by card: 2,51 EUR).
 * The seed's JSON is parsed unchanged (no repair): the test fails if the document does not parse.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { balanceFromReceipt, parseReceiptMoney } from '../../src/api/receipt-balance.js';
import { TransactionSchema } from '../../src/api/schemas.js';
import { balanceAfter, paymentResult } from '../../src/flows/api-actors.js';
import { SEEDS_DIR } from '../support/seeds.js';

/** The transaction document of a seed, from its `{` to the matching `}`, parsed as it stands. */
function seedJson(prefix: string): Record<string, unknown> {
  const file = readdirSync(SEEDS_DIR).find((f) => f.startsWith(prefix));
  assert.ok(file, `seed ${prefix} in ${SEEDS_DIR}`);
  const text = readFileSync(join(SEEDS_DIR, file), 'utf8');
  // The document, not a `{id}` in a request path of the prose around it.
  const start = text.search(/\{\s*"object"\s*:\s*"smart\.transactions"/);
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0)
      return JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>;
  }
  throw new Error(`no JSON document in ${file}`);
}

describe('balance after an operation, from the receipt', () => {
  it("seed 004 verbatim (top-up): 15,00 EUR from the load section, not the ident's 0", () => {
    const raw = seedJson('004_');
    const tx = TransactionSchema.parse(raw);
    const ident = (raw.idents as { merchantcard: { balance: number } }[])[0]!;
    assert.equal(ident.merchantcard.balance, 0, 'the seed still reads the card before the load');
    assert.equal(balanceFromReceipt(tx.receipt, 'topup'), 1500);
    assert.equal(balanceAfter(tx), 1500);
    const result = paymentResult(tx);
    assert.deepEqual([result.status, result.took, result.balance], ['ok', 'effect', 1500]);
  });

  it('seed 000 verbatim (card payment): 2,51 EUR', () => {
    const tx = TransactionSchema.parse(seedJson('000_'));
    assert.equal(balanceAfter(tx), 251);
    assert.equal(balanceFromReceipt(tx.receipt, 'payment'), 251);
  });

  it('a top-up receipt without a load section gives no balance (its sale section is from before)', () => {
    const tx = TransactionSchema.parse(seedJson('004_'));
    const saleOnly = (tx.receipt ?? []).slice(0, 9);
    assert.equal(balanceFromReceipt(saleOnly, 'topup'), null);
  });

  it('no receipt, an unreadable amount, or odd lines: no balance, no crash', () => {
    assert.equal(balanceFromReceipt(undefined, 'payment'), null);
    assert.equal(balanceFromReceipt([], 'payment'), null);
    assert.equal(
      balanceFromReceipt(
        [
          { type: 'textline', value: { text: 'Aktuelles Guthaben' } },
          { type: 'textline', value: { text: 'viel' } },
          { type: 'mystery' },
          { type: 'textline', value: null },
          { type: 'separator' },
        ],
        'payment',
      ),
      null,
    );
  });

  it('name-value form, overdrawn and thousands', () => {
    assert.equal(
      balanceFromReceipt(
        [{ type: 'name-value', value: { name: 'Aktuelles Guthaben:', value: '-1,50 EUR' } }],
        'payment',
      ),
      -150,
    );
    assert.equal(parseReceiptMoney('1.234,56 EUR'), 123456);
    assert.equal(parseReceiptMoney('7,96 EUR'), 796);
    assert.equal(parseReceiptMoney('7.96 EUR'), null);
    assert.equal(parseReceiptMoney(''), null);
  });
});
