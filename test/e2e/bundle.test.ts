/**
 * What a Pi runs is the bundle (`npm run build`, src/harness/build-bundle.mjs), not the TypeScript: this
 * builds it (esbuild, about a second) and runs a complete top-up with it, the API stand-in in its own
 * process as the real API would be.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { layOutRelease } from '../../src/harness/build-bundle.mjs';
import { startupGraph } from '../../src/harness/bundle-graph.js';
import { REPO_ROOT, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { topUpSeedCard } from '../support/top-up.js';

/**
 * Prints, when the process exits, the Node built-ins it compiled (`process.moduleLoadList`) and the
 * CommonJS files it required: what the start-up really loaded, beside what the metafile says.
 */
const LOADED_HOOK = `data:text/javascript,${encodeURIComponent(`
import { writeSync } from 'node:fs';
import Module from 'node:module';
process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  writeSync(2, 'LOADED ' + JSON.stringify({ builtins, cjs: Object.keys(Module._cache) }) + '\\n');
});
`)}`;

/** Packages that only a real device, the fleet or the in-process stand-in need. */
const NOT_AT_START = [
  'node-thermal-printer',
  'serialport',
  '@serialport/binding-mock',
  'i2c-bus',
  'onoff',
  'better-sqlite3',
  'pg',
  'mqtt',
];

describe('e2e: the bundle (dist/kiosk.mjs as built for the Pi)', function () {
  this.timeout(60_000);
  // inside the repository, so that the external (native) packages resolve from node_modules
  const outdir = join(REPO_ROOT, `node_modules/.cache/kiosk-e2e-bundle-${process.pid}`);
  let entry: string;
  let kiosk: KioskProcess | undefined;

  // what bin/kiosk.mjs runs of a release: the script bundle with its V8 code cache (bin/code-cache.mjs)
  const launcher = join(outdir, 'bin/kiosk.mjs');

  before(async () => {
    entry = resolve(REPO_ROOT, await layOutRelease(outdir, { metafile: true }));
  });
  after(async () => {
    await kiosk?.stop();
    rmSync(outdir, { recursive: true, force: true });
  });

  it('its start-up path (static imports from the entry) holds no real driver, printer encoder, fleet client or stand-in', () => {
    const graph = startupGraph(join(outdir, 'dist/metafile.json'));
    const sources = [...graph.bytesBySource.keys()];
    // it sees the start-up at all: the program and what the idle screen needs
    assert.ok(sources.includes('src/app/main.ts') && sources.includes('xstate'), sources.join(' '));
    for (const pkg of NOT_AT_START) {
      assert.ok(!graph.externals.includes(pkg), `${pkg} is imported at start-up`);
      assert.ok(!sources.includes(pkg), `${pkg} is bundled into the start-up chunks`);
    }
    for (const lazy of [
      'hal/printer/escpos-receipt.ts',
      'hal/printer/escpos-printer.ts',
      'src/sim/api-server.ts',
      'src/fleet/reporter.ts',
      'src/app/tui.ts',
      'src/app/fleet-bridge.ts',
    ])
      assert.ok(!sources.includes(lazy), `${lazy} is in the start-up chunks`);
  });

  for (const [how, file] of [
    ['the ES module bundle', () => entry],
    ['the launcher', () => launcher],
  ] as const)
    it(`reaches the idle screen with the API elsewhere without loading undici, TLS or node-thermal-printer: ${how}`, async () => {
      await idleWithoutExtras(file());
    });

  async function idleWithoutExtras(file: string): Promise<void> {
    const run = await startKiosk({
      entry: { kind: 'bundle', file },
      externalApi: true,
      waitReady: false,
      env: {
        KIOSK_EXIT_AT_IDLE: '1',
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${LOADED_HOOK}`.trim(),
      },
    });
    try {
      assert.equal((await run.exited).code, 0, run.stderr);
      assert.match(run.stdout, /"start-up timing"/);
      const line = run.stderr.split('\n').find((l) => l.startsWith('LOADED '));
      assert.ok(line, `no module list:\n${run.stderr}`);
      const loaded = JSON.parse(line.slice('LOADED '.length)) as { builtins: string[]; cjs: string[] };
      // the self-test's token call went over node:http
      assert.ok(loaded.builtins.includes('http'), loaded.builtins.join(' '));
      assert.deepEqual(
        loaded.builtins.filter((m) => m.includes('undici') || /(^|_)tls/.test(m)),
        [],
      );
      assert.deepEqual(
        loaded.cjs.filter((f) => /node_modules\/(node-thermal-printer|iconv-lite|pngjs)\//.test(f)),
        [],
      );
    } finally {
      await run.stop();
    }
  }

  for (const [how, file] of [
    ['the ES module bundle', () => entry],
    ['the launcher (script bundle, code cache written at the idle screen)', () => launcher],
  ] as const)
    it(`tops up a card and logs its start-up phases in order: ${how}`, async () => {
      await topUp(file());
    });

  async function topUp(file: string): Promise<void> {
    kiosk = await startKiosk({ entry: { kind: 'bundle', file }, externalApi: true });
    const timing = await topUpSeedCard(kiosk);
    assert.equal(timing.from, undefined, 'not from a snapshot');
    await kiosk.stop();
  }
});
