/** The vending counter in the real kiosk program: a power cut in the middle of a release. */
import type { KioskProcess } from '../../src/harness/kiosk-process.js';

/**
 * Kills the program once the release's intent is durable (its log line), while the slot is held
 * (`slot hold`): after the restart that release's outcome is unknown. The state alone would say only
 * that the machine asked for the release; under load the cut could land before the intent, a
 * different case.
 */
export async function cutMidRelease(k: KioskProcess): Promise<void> {
  await k.waitFor(
    () => Promise.resolve(k.logs()),
    (logs) => logs.some((l) => l.msg === 'release intent journaled: firing'),
    20_000,
  );
  await k.kill();
}

/**
 * One coffee (A1, 1,80) paid with a 2 euro coin while slot A1 is held, and the program killed once
 * that release's intent is durable: after the restart the release is unknown, waiting to be settled.
 */
export async function buyOneAndCut(k: KioskProcess): Promise<void> {
  await k.request({ cmd: 'slot', slot: 'A1', action: 'hold' });
  await k.press('amount1');
  await k.waitForScreen(/Summe 1,80 EUR/);
  await k.press('ok');
  await k.waitForScreen(/Noch 1,80 EUR/);
  await k.coin(200);
  await cutMidRelease(k);
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
