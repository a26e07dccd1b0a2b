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
  return `${dir}/kiosk.mjs`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
  const entry = await buildBundle(values.outdir);
  console.log(`built ${entry}`);
}
