/**
 * The one definition of a sale's value and its parts (src/util/sale-value.ts), shared by the kiosk's
 * sales odometer and the fleet's `evt/transaction`: the value laid on the payments, cash last, so
 * what went back (change, a unit not served) comes off the cash first and the parts add up to the cent.
 */
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/prng.js';
import {
  partsDiffering,
  partsTotal,
  saleParts,
  salePartsOfFigures,
  type SalePaid,
} from '../../src/util/sale-value.js';

const paid = (p: Partial<SalePaid>): SalePaid => ({ cardBalance: 0, voucher: 0, terminal: 0, cash: 0, ...p });

describe('util/sale-value: a sale’s value and its parts', () => {
  it('a cash sale with change: the cash part is the cash kept, not the cash inserted', () => {
    assert.deepEqual(saleParts(650, paid({ cash: 1000 })), {
      cardBalance: 0,
      voucher: 0,
      terminal: 0,
      cash: 650,
    });
  });

  it('a vending sale paid at the terminal, one unit not served: valued at the goods delivered', () => {
    // 500 ct charged for two units, the 200 ct one failed (its price went back as a voucher).
    assert.deepEqual(saleParts(300, paid({ terminal: 500 })), {
      cardBalance: 0,
      voucher: 0,
      terminal: 300,
      cash: 0,
    });
  });

  it('mixed: card balance (bonus included) first, then voucher, terminal, cash last', () => {
    assert.deepEqual(saleParts(906, paid({ cardBalance: 506, voucher: 100, cash: 500 })), {
      cardBalance: 506,
      voucher: 100,
      terminal: 0,
      cash: 300,
    });
    assert.deepEqual(saleParts(300, paid({ voucher: 500 })), {
      cardBalance: 0,
      voucher: 300,
      terminal: 0,
      cash: 0,
    });
  });

  it('a reversed sale none of whose goods came out is worth nothing, in every part', () => {
    assert.deepEqual(saleParts(0, paid({ terminal: 500 })), {
      cardBalance: 0,
      voucher: 0,
      terminal: 0,
      cash: 0,
    });
  });

  it('tells no parts when the payments do not cover the value, or a figure is no integer of cents', () => {
    assert.equal(saleParts(500, paid({ cash: 400 })), undefined);
    assert.equal(saleParts(100.5, paid({ cash: 400 })), undefined);
    assert.equal(saleParts(100, paid({ cash: -1, terminal: 200 })), undefined);
  });

  it('from the receipt figures: the value is the goods before the bonus, the card part pays it', () => {
    const figures = { total: 600, discount: 50, card: 650, terminal: 0, cashIn: 0, voucherIn: 0 };
    assert.deepEqual(salePartsOfFigures(figures), { cardBalance: 650, voucher: 0, terminal: 0, cash: 0 });
  });

  it('the parts add up to the value exactly whenever they are told (random payments)', () => {
    const rng = new Rng(1616);
    for (let i = 0; i < 2000; i++) {
      const p = paid({
        cardBalance: rng.int(0, 800),
        voucher: rng.int(0, 300),
        terminal: rng.int(0, 900),
        cash: rng.int(0, 1200),
      });
      const value = rng.int(0, 3300);
      const parts = saleParts(value, p);
      const covered = p.cardBalance + p.voucher + p.terminal + p.cash >= value;
      assert.equal(parts !== undefined, covered);
      if (parts) assert.equal(partsTotal(parts), value);
    }
  });

  it('names the parts that differ', () => {
    const a = { cardBalance: 1, voucher: 2, terminal: 3, cash: 4 };
    assert.deepEqual(partsDiffering(a, { ...a }), []);
    assert.deepEqual(partsDiffering(a, { ...a, cash: 5, cardBalance: 0 }), ['cardBalance', 'cash']);
  });
});
