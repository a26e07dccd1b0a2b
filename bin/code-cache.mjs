// Runs the kiosk's one-file script bundle (dist/kiosk.script.cjs, built by src/harness/build-bundle.mjs)
// with a V8 code cache: the functions V8 compiled up to the idle screen, kept on disk so that the next
// start deserialises them instead of parsing and compiling again. Node 20 has no such cache for ES
// modules (module.enableCompileCache is 22.1+); vm.Script takes one.
//
// The cache must never keep a kiosk from starting (a power cut while writing it, an SD card that
// flipped a byte, a release or Node upgrade): it is written once, to a temp file that is fsync'd and
// renamed; on read it is used only when its header names this script and this runtime and its
// payload's checksum matches; anything else, and a cache V8 itself rejects, is ignored and written anew.
// V8 checks its version and flags but of the source only the length, and in release builds not the
// payload's checksum: both are checked here.
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const FORMAT = 'kiosk-v8-cache/1';
/** The event src/app/main.ts emits on `process` when the idle screen is up. */
const FIRST_SCREEN = 'kiosk:first-screen';

// sha1: a check against damage, not against an attacker (who could write the bundle as well); about
// twice as fast as sha256 on a Pi Zero 2 W, which has no ARMv8 crypto extensions.
const digest = (data) => createHash('sha1').update(data).digest('hex');

/** What a cache must have been made for: this script (its build hash, first line) and this runtime. */
export function cacheKey(source) {
  const firstLine = source.slice(0, source.indexOf('\n'));
  return JSON.stringify({
    script: firstLine,
    node: process.version,
    v8: process.versions.v8,
    arch: process.arch,
    execArgv: process.execArgv,
  });
}

/** The cached data in `file` when it was made for `key` and is intact; undefined otherwise. */
export function readCache(file, key) {
  let buf;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0 || nl > 64 * 1024) return undefined;
  let header;
  try {
    header = JSON.parse(buf.subarray(0, nl).toString('utf8'));
  } catch {
    return undefined;
  }
  const data = buf.subarray(nl + 1);
  if (header?.format !== FORMAT || header.key !== key) return undefined;
  if (header.bytes !== data.length || header.sha1 !== digest(data)) return undefined;
  return data;
}

/**
 * Writes `data` for `key` to `file` whole or not at all (temp file, fsync, rename). Synchronous: it
 * runs once per release and runtime, at the idle screen, and must be done before a process that
 * exits right after (KIOSK_EXIT_AT_IDLE, a restart) is gone.
 */
export function writeCache(file, key, data) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const header = JSON.stringify({ format: FORMAT, key, bytes: data.length, sha1: digest(data) });
  try {
    const fd = openSync(tmp, 'w', 0o640);
    try {
      writeSync(fd, `${header}\n`);
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Compiles and runs `file` (a CommonJS body wrapped in a function expression) with the cache in
 * `cacheDir` (NODE_COMPILE_CACHE, else beside the script). Without a usable cache, one is written
 * after the idle screen, so it holds what the start-up compiled, not only the top level.
 */
export function runScript(file, cacheDir = process.env.NODE_COMPILE_CACHE || dirname(file)) {
  // ASCII only (the build escapes the rest): V8 keeps it as a one-byte string, half the memory
  const source = readFileSync(file, 'latin1');
  const key = cacheKey(source);
  const cacheFile = join(cacheDir, 'kiosk-script.v8cache');
  const cachedData = readCache(cacheFile, key);
  const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  if (!used)
    process.once(FIRST_SCREEN, () => {
      try {
        writeCache(cacheFile, key, script.createCachedData());
      } catch (err) {
        // a read-only or full disk: the kiosk runs on, compiling at each start as before
        console.error(`kiosk: code cache not written to ${cacheFile}: ${err.message}`);
      }
    });
  const body = script.runInThisContext();
  const module = { exports: {} };
  body.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { cacheFile, used };
}
