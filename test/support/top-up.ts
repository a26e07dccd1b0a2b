/**
 * One complete top-up on a kiosk that was started with the API stand-in (the seed card, 5 EUR in coins
 * 2+2+1, the receipt), checked at each step, for the tests that run the kiosk as built for the Pi (the
 * bundle, the launcher, the start-up snapshot). Returns the `start-up timing` line the kiosk logged.
 */
import assert from 'node:assert/strict';
import type { KioskProcess } from '../../src/harness/kiosk-process.js';

const SEED_CARD = '9276004429942845'; // 2,51 EUR

export interface StartupTimingLine {
  phases: Record<string, number>;
  from?: string;
}

export async function topUpSeedCard(kiosk: KioskProcess): Promise<StartupTimingLine> {
  await kiosk.waitForIdle();
  assert.deepEqual((await kiosk.display()).slice(0, 2), ['Karte aufladen', 'Karte scannen']);
  await kiosk.scan(SEED_CARD);
  await kiosk.waitForScreen(/Betrag wählen/);
  await kiosk.press('amount1');
  await kiosk.waitForScreen(/Noch 5,00 EUR/);
  await kiosk.coin(200);
  await kiosk.coin(200);
  await kiosk.coin(100);
  const thanks = await kiosk.waitForScreen(/Vielen Dank!/);
  assert.equal(thanks[1], 'Guthaben 7,51 EUR');
  assert.equal((await kiosk.ledger()).cards[SEED_CARD]?.cash_balance, 751);
  assert.match((await kiosk.receipts())[0]!.join('\n'), /wurde aufgeladen:\n5,00 EUR/);

  const line = kiosk.stdout.split('\n').find((l) => l.includes('"start-up timing"'));
  assert.ok(line, `no start-up timing logged:\n${kiosk.stdout.slice(0, 2000)}`);
  const timing = JSON.parse(line) as StartupTimingLine;
  assert.deepEqual(Object.keys(timing.phases), ['load', 'config', 'journal', 'self-test', 'first screen']);
  const at = Object.values(timing.phases);
  assert.deepEqual(
    at,
    [...at].sort((a, b) => a - b),
    'each phase ends after the one before',
  );
  return timing;
}
