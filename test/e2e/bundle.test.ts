/**
 * What a Pi runs is the bundle (`npm run build`, src/harness/build-bundle.mjs), not the TypeScript: this
 * builds it (esbuild, about a second) and runs a complete top-up with it, the API stand-in in its own
 * process as the real API would be.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildBundle } from '../../src/harness/build-bundle.mjs';
import { REPO_ROOT, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';

const SEED_CARD = '9276004429942845'; // 2,51 EUR

describe('e2e: the bundle (dist/kiosk.mjs as built for the Pi)', function () {
  this.timeout(60_000);
  // inside the repository, so that the external (native) packages resolve from node_modules
  const outdir = join(REPO_ROOT, `node_modules/.cache/kiosk-e2e-bundle-${process.pid}`);
  let entry: string;
  let kiosk: KioskProcess | undefined;

  before(async () => {
    entry = resolve(REPO_ROOT, await buildBundle(outdir));
  });
  after(async () => {
    await kiosk?.stop();
    rmSync(outdir, { recursive: true, force: true });
  });

  it('tops up a card and logs its start-up phases in order', async () => {
    kiosk = await startKiosk({ entry: { kind: 'bundle', file: entry }, externalApi: true });
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
    const phases = (JSON.parse(line) as { phases: Record<string, number> }).phases;
    assert.deepEqual(Object.keys(phases), ['load', 'config', 'journal', 'self-test', 'first screen']);
    const at = Object.values(phases);
    assert.deepEqual(
      at,
      [...at].sort((a, b) => a - b),
      'each phase ends after the one before',
    );
  });
});
