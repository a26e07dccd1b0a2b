/**
 * The complete top-up the memory benches repeat: scan, choose 5 EUR, insert 2+2+1 EUR, "Vielen Dank!",
 * back to idle. Empties what grows by design in the test doubles (the simulated printer's receipt list,
 * the stand-in's ledger every 20 top-ups), so a bench sees the kiosk itself. Returns receipts printed.
 */
import type { AppRig } from './app-rig.js';

export async function runTopUps(rig: AppRig, count: number, done = 0): Promise<number> {
  const receipts = rig.sim.printer.receipts as unknown[];
  let printed = 0;
  for (let n = done + 1; n <= done + count; n++) {
    rig.sim.reader.scan('9276004429942845');
    await rig.until(/Betrag wählen/);
    rig.sim.buttons.press('amount1');
    await rig.until(/Noch 5,00 EUR/);
    rig.sim.acceptor.insert(200);
    rig.sim.acceptor.insert(200);
    rig.sim.acceptor.insert(100);
    await rig.until(/Vielen Dank!/);
    rig.sim.buttons.press('ok');
    await rig.until(/Karte aufladen/);
    printed += receipts.length;
    receipts.length = 0;
    if (n % 20 === 0) await rig.resetLedger();
  }
  return printed;
}
