/** The vending counter in the real kiosk program: a power cut in the middle of a release. */
import { simulatorCatalogue, type KioskProcess } from '../../src/harness/kiosk-process.js';

/**
 * A vending counter reporting to the broker at `url` (slot A1: three coffees at 1,80; a hopper of
 * thirty 10 ct coins), for `startKiosk`'s `config`.
 */
export function vendFleetConfig(id: string, url: string): Record<string, unknown> {
  return {
    kiosk: { id, mode: 'checkout' },
    catalogue: simulatorCatalogue(),
    timeouts: { resultMs: 1500 },
    fleet: { url, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
    hardware: {
      slots: { driver: 'simulated', slots: [{ id: 'A1', product: 1, initialStock: 3, lowAt: 0 }] },
      hopper: { driver: 'simulated', coinCents: 10, coins: 30 },
    },
  };
}

/**
 * Kills the program once the release's intent is durable (its log line), while the slot is held
 * (`slot hold`): after the restart that release's outcome is unknown. The state alone would say only
 * that the machine asked for the release; under load the cut could land before the intent, a
 * different case.
 */
export async function cutMidRelease(k: KioskProcess, firedBefore = 0): Promise<void> {
  await k.waitFor(
    () => Promise.resolve(firings(k)),
    (n) => n > firedBefore,
    20_000,
  );
  await k.kill();
}

/** Releases the program fired so far (their intents durable): a second cut waits for a new one. */
const firings = (k: KioskProcess) =>
  k.logs().filter((l) => l.msg === 'release intent journaled: firing').length;

/**
 * One coffee (A1, 1,80) paid with a 2 euro coin while slot A1 is held, and the program killed once
 * that release's intent is durable: after the restart the release is unknown, waiting to be settled.
 */
export async function buyOneAndCut(k: KioskProcess): Promise<void> {
  const before = firings(k);
  await k.request({ cmd: 'slot', slot: 'A1', action: 'hold' });
  await k.press('amount1');
  await k.waitForScreen(/Summe 1,80 EUR/);
  await k.press('ok');
  await k.waitForScreen(/Noch 1,80 EUR/);
  await k.coin(200);
  await cutMidRelease(k, before);
}

/** A checkout kiosk (config/simulator.json's catalogue, no slots, no hopper) reporting to `url`. */
export function checkoutFleetConfig(id: string, url: string): Record<string, unknown> {
  const { hardware: _vend, ...rest } = vendFleetConfig(id, url);
  return rest;
}

/** What a customer holding the receipts would scan: the data of the last voucher QR printed. */
export function lastVoucherCode(receipts: string[][]): string {
  const codes = receipts.flat().flatMap((l) => /^\[qr: (KV1\.\S+)\]$/.exec(l.trim())?.[1] ?? []);
  if (codes.length === 0) throw new Error('no voucher QR on the receipts');
  return codes.at(-1)!;
}

/**
 * A coffee (1,80, checkout of config/simulator.json's catalogue, no hopper) paid with 3,00: the coins
 * drop in past the per-coin inhibit (money all the same), 1,20 becomes a voucher. Resolves with the
 * screen that shows it (`Gutschein-Code:`, its short id, `Wert 1,20 EUR`).
 */
export async function overpayForVoucher(k: KioskProcess): Promise<string[]> {
  await k.press('amount1');
  await k.press('ok');
  await k.waitForScreen(/Noch 1,80 EUR/);
  await k.lateCoin(200);
  await k.lateCoin(100);
  return k.waitForScreen(/Gutschein-Code:/);
}

/**
 * Two coffees (A1, 3,60) paid with two 2 euro coins while slot A1 is held, the program killed once
 * the first release's intent is durable: after the restart that unit is unknown, the second was never
 * tried, and the flow never told the fleet of the sale.
 */
export async function buyTwoAndCut(k: KioskProcess): Promise<void> {
  await k.request({ cmd: 'slot', slot: 'A1', action: 'hold' });
  await k.press('amount1');
  await k.press('amount1');
  await k.waitForScreen(/Summe 3,60 EUR/);
  await k.press('ok');
  await k.waitForScreen(/Noch 3,60 EUR/);
  await k.coin(200);
  await k.coin(200);
  await cutMidRelease(k);
}
