#!/usr/bin/env node
/**
 * Builds what a Pi runs: `dist/kiosk.mjs` (or `--outdir <dir>`), one esbuild bundle with code
 * splitting. The pure-JS packages (zod, xstate, pino, mqtt) are bundled in: resolving and loading the
 * ~100 files of their ESM/CJS trees one by one was most of the start-up after TypeScript. Native
 * addons and what loads them stay external, resolved from node_modules at run time, and, like the
 * fleet client and the real drivers, are imported only when the config names them (their chunks stay
 * lazy). Plain JavaScript so that it runs without tsx (the e2e test calls it too).
 *
 *   node src/harness/build-bundle.mjs [--outdir dist]
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Packages with native addons (or that load them): never bundled. */
export const EXTERNAL_PACKAGES = [
  'serialport',
  '@serialport/*',
  'i2c-bus',
  'onoff',
  'epoll',
  'node-thermal-printer',
  'better-sqlite3',
  'pg',
  'playwright-core',
];

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds the bundle into `outdir`; resolves to the entry file's path. With `metafile`, esbuild's
 * metafile (every output chunk, its inputs and imports) is written beside it as `metafile.json`, for
 * the start-up bench and the test of what the start-up loads (src/harness/bundle-graph.ts).
 */
export async function buildBundle(outdir = 'dist', { metafile = false } = {}) {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { kiosk: 'src/app/main.ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outdir,
    outExtension: { '.js': '.mjs' },
    external: EXTERNAL_PACKAGES,
    // CommonJS packages in an ESM bundle (pino, mqtt's dependencies) call require() for Node built-ins
    banner: {
      js: "import { createRequire as __kioskRequire } from 'node:module'; const require = __kioskRequire(import.meta.url);",
    },
    logLevel: 'warning',
    legalComments: 'none',
    metafile,
  });
  const dir = outdir.replace(/\/$/, '');
  if (result.metafile) writeFileSync(`${dir}/metafile.json`, JSON.stringify(result.metafile));
  await buildScript(`${dir}/kiosk.script.cjs`);
  return `${dir}/kiosk.mjs`;
}

/**
 * The same program as one CommonJS script, `kiosk.script.cjs`, for bin/code-cache.mjs: vm.Script
 * takes a V8 code cache on Node 20, ES modules do not. What the split bundle loads lazily stays lazy
 * here too: esbuild wraps a module reached only by `import()` in an init function that runs on the
 * first `import()`, and native packages are `require`d there (no `import()` in a vm.Script: it
 * would need Node's experimental loader hook). The body is wrapped in a function expression (the
 * script's value, strict as the ES modules are; the launcher calls it with `exports, require, module,
 * __filename, __dirname`),
 * made ASCII-only (esbuild leaves comments and regular expression literals as written; one `€`
 * makes V8 keep the whole 2 MB source as a two-byte string), and its first line is a hash of the
 * rest, which names the build in the cache's header.
 */
async function buildScript(outfile) {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: ['src/app/main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    supported: { 'dynamic-import': false },
    write: false,
    outfile,
    external: EXTERNAL_PACKAGES,
    define: { 'import.meta.url': '__kioskMetaUrl' },
    banner: {
      js: "(function (exports, require, module, __filename, __dirname) { 'use strict'; var __kioskMetaUrl = require('node:url').pathToFileURL(__filename).href;",
    },
    footer: { js: '})' },
    logLevel: 'warning',
    legalComments: 'none',
  });
  // \uXXXX means the same character in a comment, a regular expression and a string literal alike
  const body = result.outputFiles[0].text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const hash = createHash('sha256').update(body).digest('hex');
  writeFileSync(outfile, `// kiosk script ${hash}\n${body}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
  const entry = await buildBundle(values.outdir);
  console.log(`built ${entry}`);
}
