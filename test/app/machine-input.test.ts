/**
 * The kiosk machine's start input (src/app/machine-input.ts): products carry the slot they are sold
 * from, stock and coins come from the books and the acceptor, change only from a hopper that is ok.
 */
import assert from 'node:assert/strict';
import { kioskMachineInput } from '../../src/app/machine-input.js';
import { KioskConfigSchema } from '../../src/config/config-schema.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';

const config = KioskConfigSchema.parse({
  kiosk: { id: 'k-1', mode: 'checkout' },
  api: { baseUrl: 'standin', clientId: 'x' },
  hardware: simulatedHardware(),
  catalogue: [
    { id: 1, desc: 'Kaffee', priceOne: 180, tax: 7 },
    { id: 2, desc: 'Tee', priceOne: 150, tax: 7 },
  ],
});
const vend = {
  slotFor: (product: number) => (product === 1 ? ({ id: 'A1' } as never) : undefined),
  available: () => ({ A1: 3 }),
};

describe('kiosk machine input', () => {
  it('the slot a product is sold from, the books’ stock, the acceptor’s coins, change from an ok hopper', () => {
    const input = kioskMachineInput(config, vend, {
      acceptor: { coinValues: [10, 20, 50] } as never,
      hopper: { coinCents: 10, status: 'ok' } as never,
    });
    assert.equal(input.mode, 'checkout');
    assert.deepEqual(
      input.session.catalogue.map((p) => [p.id, 'slot' in p ? p.slot : null]),
      [
        [1, 'A1'],
        [2, null],
      ],
    );
    assert.deepEqual(input.session.slotStock, { A1: 3 });
    assert.deepEqual(input.session.coinValues, [10, 20, 50]);
    assert.equal(input.session.changeCoin, 10);
    assert.equal(input.session.givesChange, true);
  });

  it('no hopper, or one that is not ok: no change', () => {
    const acceptor = { coinValues: [] } as never;
    const none = kioskMachineInput(config, vend, { acceptor, hopper: undefined });
    assert.equal(none.session.changeCoin, null);
    assert.equal(none.session.givesChange, false);
    const jammed = kioskMachineInput(config, vend, {
      acceptor,
      hopper: { coinCents: 10, status: 'jammed' } as never,
    });
    assert.equal(jammed.session.givesChange, false);
  });
});
