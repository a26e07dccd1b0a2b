/**
 * The journal's sales-value odometer (`lifetime.salesValue`, health's `counters.*.salesValue`): every
 * sale counted once at its receipt figures, at the basket value delivered, split into the parts the
 * fleet's events carry (src/util/sale-value.ts). The old `sales` odometer valued a sale at its first
 * payment step and had no parts: a cash sale with change counted the cash inserted's step amount, a
 * vending unit not served stayed in it.
 */
import assert from 'node:assert/strict';
import { lifetimeCounters } from '../../src/app/fleet-bridge.js';
import type { EntryInput, JournalEntry, SaleFigures } from '../../src/journal/entries.js';
import { EntryInputSchema } from '../../src/journal/entries.js';
import { foldRecords, LedgerStateSchema } from '../../src/journal/state.js';
import { HealthBodySchema } from '../../src/fleet/envelope.js';

function stamp(inputs: EntryInput[]): JournalEntry[] {
  return inputs.map((e, i) => ({ ...EntryInputSchema.parse(e), seq: i, ts: 1000 + i }) as JournalEntry);
}

const FIGURES: SaleFigures = {
  receiptNo: 'k-1-00001',
  kind: 'sale',
  total: 0,
  discount: 0,
  card: 0,
  terminal: 0,
  cashIn: 0,
  voucherIn: 0,
  change: 0,
  credited: 0,
  voucherOut: 0,
  returned: 0,
  reversed: 0,
  inReview: 0,
  vat: [],
};

function sale(sessionId: string, figures: Partial<SaleFigures>, coins: number[] = []): EntryInput[] {
  return [
    { type: 'session_started', sessionId, mode: 'checkout' },
    ...coins.map((cents): EntryInput => ({ type: 'coin_accepted', sessionId, cents, source: 'coin' })),
    {
      type: 'receipt',
      sessionId,
      jobId: `${sessionId}:receipt`,
      lines: [{ type: 'space' }],
      sale: { ...FIGURES, ...figures },
    },
    { type: 'session_closed', sessionId, outcome: 'completed' },
  ];
}

describe('journal state: the sales-value odometer', () => {
  const records = (): EntryInput[] => [
    // 6,50 EUR in cash from a 10 EUR note: 3,50 EUR change from the hopper.
    ...sale('cash', { total: 650, cashIn: 1000, change: 350 }, [1000]),
    // Vending: 5,00 EUR at the terminal for two units, the 2,00 EUR one failed, its price a voucher.
    ...sale('vend', { total: 300, terminal: 500, voucherOut: 200, returned: 200 }),
    // Card balance with its bonus: 6,50 EUR of goods, 0,50 EUR of it the bonus.
    ...sale('card', { total: 600, discount: 50, card: 650 }),
    // Vending, none of the goods came out: the terminal payment reversed. Worth nothing, in every part.
    ...sale('rev', { total: 0, terminal: 500, returned: 500, reversed: 500 }),
    // A top-up is not a sale.
    ...sale('top', { kind: 'topup', total: 2000, cashIn: 2000 }, [2000]),
  ];

  it('values each sale at its basket as delivered, split by what paid it; top-ups left out', () => {
    const st = foldRecords(stamp(records()));
    const expected = {
      count: 4,
      cents: 650 + 300 + 650,
      parts: { cardBalance: 650, voucher: 0, terminal: 300, cash: 650 },
    };
    assert.deepEqual(st.lifetime.salesValue, expected);
    assert.deepEqual(st.sinceCollection.salesValue, expected);
    // The health tells it as it is folded, and the contract's schema takes it.
    const counters = lifetimeCounters(st);
    assert.deepEqual(counters.sinceInstall.salesValue, expected);
    assert.equal(HealthBodySchema.shape.counters.safeParse(counters).success, true);
  });

  it('counts a sale once when its receipt is journaled twice before it closes', () => {
    const twice = sale('cash', { total: 650, cashIn: 1000, change: 350 }, [1000]);
    twice.splice(3, 0, { ...(twice[2] as EntryInput), jobId: 'cash:receipt-again' } as EntryInput);
    const st = foldRecords(stamp(twice));
    assert.deepEqual(st.lifetime.salesValue.parts.cash, 650);
    assert.equal(st.lifetime.salesValue.count, 1);
  });

  it('a collection starts the since-collection odometer again; a snapshot of before reads as none', () => {
    const st = foldRecords(stamp([...records(), { type: 'cash_collected', cents: 3000, by: 'tech' }]));
    assert.equal(st.sinceCollection.salesValue.count, 0);
    assert.equal(st.lifetime.salesValue.count, 4);
    const old = structuredClone(st) as unknown as { lifetime: Record<string, unknown> };
    delete old.lifetime.salesValue;
    assert.deepEqual(LedgerStateSchema.parse(old).lifetime.salesValue, {
      count: 0,
      cents: 0,
      parts: { cardBalance: 0, voucher: 0, terminal: 0, cash: 0 },
    });
  });
});
