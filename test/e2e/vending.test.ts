/**
 * The vending counter end to end (issue 15): a real kiosk process with simulated slots and hopper,
 * driven over the control port. The goods come out only after the payment, change comes from the
 * hopper, a jammed slot gives the money back and is blocked, a sold-out product is refused before any
 * money is taken.
 */
import assert from 'node:assert/strict';
import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import type { VendSummary } from '../../src/contracts/kiosk-summary.js';

describe('e2e: vending counter (slots and hopper)', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess | undefined;

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  async function start(): Promise<KioskProcess> {
    kiosk = await startKiosk({
      config: {
        kiosk: { mode: 'checkout' },
        catalogue: simulatorCatalogue(),
        timeouts: { resultMs: 1500 },
        hardware: {
          slots: {
            driver: 'simulated',
            slots: [
              { id: 'A1', product: 1, initialStock: 2, lowAt: 0 },
              { id: 'A2', product: 2, initialStock: 0 },
            ],
          },
          hopper: { driver: 'simulated', coinCents: 10, coins: 30 },
        },
      },
    });
    await kiosk.waitForIdle();
    return kiosk;
  }

  const vend = async (k: KioskProcess) => (await k.state()).vend as VendSummary;
  const slot = async (k: KioskProcess, id: string) => (await vend(k)).slots.find((s) => s.id === id)!;

  it('paid with coins: the slot releases after the payment, the 20 ct change come from the hopper', async () => {
    const k = await start();
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    assert.equal((await slot(k, 'A1')).stock, 2, 'nothing released before the payment');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForScreen(/Vielen Dank!/);
    const settled = await k.waitForSettled();
    assert.equal(settled.journal.unclaimedVouchers, 0, 'no voucher: the hopper paid the change');
    const v = await vend(k);
    assert.deepEqual(
      v.slots.find((s) => s.id === 'A1'),
      { id: 'A1', product: 1, stock: 1, blocked: null },
    );
    assert.equal(v.hopper?.coins, 28, 'two 10 ct coins paid out');
    const ledger = await k.ledger();
    assert.equal(ledger.sales.length, 1);
    assert.equal(ledger.sales[0]!.collected, 180);
    const receipt = (await k.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(receipt, /Wechselgeld \(M.nzen\)\s+0,20 EUR/);
    assert.doesNotMatch(receipt, /Nicht ausgegeben/);
  });

  it('a jammed slot: nothing delivered, the whole 2,00 EUR back from the hopper, the slot blocked and refused', async () => {
    const k = await start();
    await k.request({ cmd: 'slot', slot: 'A1', action: 'jam' });
    await k.press('amount1');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForSettled();
    const v = await vend(k);
    assert.equal(v.slots.find((s) => s.id === 'A1')!.blocked, 'no_confirmation');
    assert.equal(v.slots.find((s) => s.id === 'A1')!.stock, 2, 'a unit not delivered is still counted');
    assert.equal(v.hopper?.coins, 10, 'the price (18 coins) and the change (2 coins) paid back');
    assert.equal((await k.state()).journal.unclaimedVouchers, 0);
    const receipt = (await k.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(receipt, /Nicht ausgegeben:\nA1 Kaffee \(zur/, 'the receipt lists the unit not handed out');
    assert.match(receipt, /Wechselgeld \(M.nzen\)\s+2,00 EUR/);
    // The next customer cannot buy from the blocked slot: refused before any money.
    await k.press('amount1');
    await k.waitForScreen(/Ausverkauft/);
  });

  it('sold out: the product is refused before any money is taken', async () => {
    const k = await start();
    await k.press('amount2');
    await k.waitForScreen(/Ausverkauft/);
    const state = await k.state();
    assert.equal(state.acceptor, 'inhibited');
    assert.equal(state.inserted ?? 0, 0);
  });
});
