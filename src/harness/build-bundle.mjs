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
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { builtinModules, createRequire } from 'node:module';
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

/** A release's launchers (bin/): the shell entry, the code-cache launcher and the snapshot builder. */
export const RELEASE_BIN = ['kiosk', 'kiosk.mjs', 'code-cache.mjs', 'snapshot.mjs'];

/**
 * A release laid out under `root` as the Pi has it: the bundle in `dist/`, the launchers in `bin/`
 * (`bin/kiosk` executable); resolves to the bundle's entry. For the tests and benches that run it.
 */
export async function layOutRelease(root, opts = {}) {
  const entry = await buildBundle(join(root, 'dist'), opts);
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const file of RELEASE_BIN) copyFileSync(join(REPO_ROOT, 'bin', file), join(root, 'bin', file));
  chmodSync(join(root, 'bin', 'kiosk'), 0o755);
  return entry;
}

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
  const script = await buildScript(`${dir}/kiosk.script.cjs`);
  writeFileSync(`${dir}/kiosk.snapshot.cjs`, snapshotEntry(script));
  return `${dir}/kiosk.mjs`;
}

/**
 * The fleet client's package, mqtt, with its dependencies (readable-stream, ws, socks, ...), as a
 * CommonJS file of its own beside the script, `kiosk.mqtt.cjs`: 0.8 MB, a third of the script. It is
 * loaded only when the fleet client starts (after the idle screen, on a kiosk with a fleet). Inside
 * the script its source would sit in the heap twice over on a start from the snapshot (the source
 * string in the heap and in Node's copy of the blob) on every kiosk, with a fleet or without. mqtt
 * shares nothing with the kiosk's own modules, so one copy of it in its own file changes nothing
 * else; the ES module bundle keeps it in its lazy chunks.
 */
const MQTT_SCRIPT = 'kiosk.mqtt.cjs';

/** Resolves the script bundle's `mqtt` to `./kiosk.mqtt.cjs`, required at run time beside it. */
const mqttFromVendorScript = {
  name: 'mqtt-from-vendor-script',
  setup(b) {
    b.onResolve({ filter: /^mqtt$/ }, () => ({ path: `./${MQTT_SCRIPT}`, external: true }));
  },
};

async function buildVendorScript(outfile) {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    stdin: { contents: "module.exports = require('mqtt');", resolveDir: REPO_ROOT, loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    outfile,
    logLevel: 'warning',
    legalComments: 'none',
  });
  writeFileSync(outfile, asciiOnly(result.outputFiles[0].text));
}

/** \uXXXX means the same character in a comment, a regular expression and a string literal alike. */
function asciiOnly(text) {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
  await buildVendorScript(join(dirname(outfile), MQTT_SCRIPT));
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
    plugins: [mqttFromVendorScript],
    logLevel: 'warning',
    legalComments: 'none',
  });
  const body = asciiOnly(result.outputFiles[0].text);
  const hash = createHash('sha256').update(body).digest('hex');
  writeFileSync(outfile, `// kiosk script ${hash}\n${body}`);
  return body;
}

/**
 * Node's built-ins that its snapshot builder (Node 20) lists as supported: loaded for real while the
 * snapshot is built. The others (http, perf_hooks, child_process, tty, ...) would be captured half set
 * up, or fail to load there at all (`node:http` throws in Node 20's builder): the snapshot's `require`
 * hands out a stand-in for them whose functions and values load the real module on first use, which
 * is after the kiosk started from the snapshot. `worker_threads` is loaded for real: pino reads
 * `isMainThread` at load, a constant.
 */
const SNAPSHOT_BUILTINS = [
  ...['assert', 'assert/strict', 'buffer', 'console', 'constants', 'crypto', 'diagnostics_channel'],
  ...['dns', 'events', 'fs', 'fs/promises', 'net', 'os', 'path', 'path/posix', 'path/win32', 'process'],
  ...['punycode', 'querystring', 'stream', 'stream/promises', 'string_decoder', 'sys', 'timers'],
  ...['timers/promises', 'url', 'util', 'util/types', 'v8', 'zlib', 'worker_threads'],
];

/** What a built-in module holds, by name: 'f' for a function, 'v' for anything else. */
function shapesOfDeferredBuiltins() {
  const require = createRequire(import.meta.url);
  const shapes = {};
  for (const id of builtinModules) {
    if (id.startsWith('_') || SNAPSHOT_BUILTINS.includes(id) || id === 'wasi') continue;
    const mod = require(`node:${id}`);
    shapes[id] = Object.fromEntries(
      Object.getOwnPropertyNames(mod).map((k) => [k, typeof mod[k] === 'function' ? 'f' : 'v']),
    );
  }
  return shapes;
}

/**
 * What modules may take at load while the snapshot is built, and why it does not matter that every
 * start from the snapshot sees the build's value.
 */
const SNAPSHOT_ALLOWED = [
  [/^\S+ at .*\(node:internal\//, "Node's own code while it builds (its warning printer reads FORCE_COLOR)"],
  [
    /^Date\.now\(\) at node_modules\/pino\/lib\/time\.js/,
    "pino's isoTimeNano epoch; the kiosk logs with isoTime, read at each line",
  ],
  [
    /^(os\.hostname\(\)|process\.pid) at node_modules\/pino\/pino\.js/,
    "pino's default `base`; createLogger (src/app/log.ts) gives its own",
  ],
  [
    /^process\.env\.NODE_V8_COVERAGE at node_modules\/thread-stream\//,
    'pino transports (worker threads), which the kiosk does not use',
  ],
];

/**
 * `kiosk.snapshot.cjs`: the entry of a V8 start-up snapshot (bin/snapshot.mjs builds it with
 * `node --snapshot-blob <blob> --build-snapshot kiosk.snapshot.cjs` on the machine that runs it). It
 * evaluates the script bundle's modules, i.e. everything the kiosk builds at module load (zod schemas,
 * xstate machines, pino), and sets `runFromSnapshot` of src/app/main.ts as the snapshot's main
 * function. While it is built, reading the environment, the clock or a random source at module load
 * fails the build: a snapshot would keep that value for every start.
 */
export function snapshotEntry(body) {
  return `'use strict';
// kiosk start-up snapshot entry, generated by src/harness/build-bundle.mjs from kiosk.script.cjs
const v8 = require('node:v8');
const fs = require('node:fs');
const path = require('node:path');
const DEFERRED = ${JSON.stringify(shapesOfDeferredBuiltins())};
const FILE = path.join(__dirname, 'kiosk.script.cjs');
let realRequire = require;
const standIns = new Map();
function standIn(id) {
  let real;
  const load = () => {
    if (v8.startupSnapshot.isBuildingSnapshot())
      throw new Error('node:' + id + ' used at module load: it cannot be in a start-up snapshot');
    return (real ??= realRequire('node:' + id));
  };
  const mod = {};
  for (const [key, kind] of Object.entries(DEFERRED[id])) {
    if (kind === 'f') {
      const fn = function (...args) {
        const f = load()[key];
        return new.target ? Reflect.construct(f, args, new.target) : f.apply(this, args);
      };
      Object.defineProperty(fn, 'name', { value: key });
      Object.defineProperty(mod, key, { enumerable: true, value: fn });
    } else Object.defineProperty(mod, key, { enumerable: true, get: () => load()[key] });
  }
  return mod;
}
function kioskRequire(id) {
  const bare = id.startsWith('node:') ? id.slice(5) : id;
  if (DEFERRED[bare] && v8.startupSnapshot.isBuildingSnapshot()) {
    if (!standIns.has(bare)) standIns.set(bare, standIn(bare));
    return standIns.get(bare);
  }
  return realRequire(id);
}
const taken = [];
function where() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 4;
  const stack = String(new Error().stack ?? '').split('\\n');
  Error.stackTraceLimit = limit;
  return stack[3]?.trim() ?? '?';
}
function tripwires() {
  const crypto = require('node:crypto');
  const os = require('node:os');
  const env = process.env;
  const undo = [];
  const wrap = (obj, key, what) => {
    const orig = obj[key];
    obj[key] = function (...args) {
      taken.push(what + ' ' + where());
      return orig.apply(this, args);
    };
    undo.push(() => (obj[key] = orig));
  };
  wrap(Date, 'now', 'Date.now()');
  wrap(Math, 'random', 'Math.random()');
  wrap(crypto, 'randomUUID', 'crypto.randomUUID()');
  wrap(crypto, 'randomBytes', 'crypto.randomBytes()');
  wrap(globalThis.crypto, 'getRandomValues', 'crypto.getRandomValues()');
  wrap(os, 'hostname', 'os.hostname()');
  const pid = Object.getOwnPropertyDescriptor(process, 'pid');
  Object.defineProperty(process, 'pid', {
    configurable: true,
    enumerable: true,
    get() {
      taken.push('process.pid ' + where());
      return pid.value;
    },
  });
  undo.push(() => Object.defineProperty(process, 'pid', pid));
  process.env = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') taken.push('process.env.' + key + ' ' + where());
      return Reflect.get(target, key);
    },
  });
  undo.push(() => (process.env = env));
  return () => undo.forEach((f) => f());
}
const body = ${body.trimEnd()};
const mod = { exports: {} };
// the kiosk's configuration (bin/kiosk passes its --config): its schemas built and compiled in the snapshot
const config = process.env.KIOSK_SNAPSHOT_CONFIG;
const untrip = tripwires();
try {
  body.call(mod.exports, mod.exports, kioskRequire, mod, FILE, __dirname);
  mod.exports.warmUpForSnapshot(config);
} finally {
  untrip();
}
const ALLOWED = [${SNAPSHOT_ALLOWED.map(([re]) => re).join(', ')}];
const kept = taken.filter((t) => !ALLOWED.some((re) => re.test(t)));
if (kept.length) throw new Error('state taken at module load would be kept in the snapshot:\\n  ' + kept.join('\\n  '));
v8.startupSnapshot.setDeserializeMainFunction(() => {
  realRequire = require('node:module').createRequire(FILE);
  // bin/kiosk wrote this before starting from the snapshot: it started, so the snapshot is good
  const trying = process.env.KIOSK_SNAPSHOT_TRYING;
  if (trying) fs.rmSync(trying, { force: true });
  mod.exports.runFromSnapshot();
});
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
  const entry = await buildBundle(values.outdir);
  console.log(`built ${entry}`);
}
