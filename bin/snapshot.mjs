#!/usr/bin/env node
// Builds the kiosk's V8 start-up snapshot: the heap after the script bundle's modules were evaluated
// (zod schemas, xstate machines, pino), which `node --snapshot-blob <blob> run ...` starts from instead
// of parsing and evaluating them again. bin/kiosk (the release's command, kiosk.service's ExecStart)
// starts from it when its stamp matches, and runs this in the background when it does not.
//
//   [KIOSK_SNAPSHOT_CONFIG=<kiosk.json>] node bin/snapshot.mjs [--dir DIR]
//   (npm run build:snapshot; DIR default: dist/; the configuration is checked once while building, so
//   that the schemas it needs are compiled in the snapshot)
//
// A snapshot holds V8's heap as this very node binary lays it out: it must be built on the machine
// and with the node that run it (a Pi builds its own), and V8 refuses one from another version, other
// V8 flags or another CPU (exit 14, or a crash for a damaged file). So beside `kiosk.blob` goes
// `kiosk.blob.stamp`, which bin/kiosk checks with no node of its own: line 1 names the script bundle
// (its build hash), the node binary (size, mtime, inode), line 2 the blob's `cksum`. Written
// blob first, stamp last, each to a temp file renamed into place: a power cut leaves no stamp that
// matches a half-written blob.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const APP = fileURLToPath(new URL('..', import.meta.url));
export const STAMP_FORMAT = 'kiosk-snapshot/1';

/** Line 1 of the stamp, as bin/kiosk builds it: `format <script's first line> <node's size> <mtime> <inode>`. */
export function stampKey(app = APP, node = process.execPath) {
  const script = readFileSync(join(app, 'dist/kiosk.script.cjs'), 'latin1');
  const st = statSync(node);
  return `${STAMP_FORMAT} ${script.slice(0, script.indexOf('\n'))} ${st.size} ${Math.floor(st.mtimeMs / 1000)} ${st.ino}`;
}

/** POSIX `cksum` of a file (CRC and length), the line bin/kiosk compares. */
function cksum(file) {
  const r = spawnSync('cksum', { stdio: [openSync(file, 'r'), 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cksum ${file}: ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

function writeDurably(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Builds `<dir>/kiosk.blob` and its stamp with this node; resolves to the blob's path. */
export function buildSnapshot(dir = join(APP, 'dist'), { app = APP, node = process.execPath } = {}) {
  mkdirSync(dir, { recursive: true });
  const blob = join(dir, 'kiosk.blob');
  const stamp = `${blob}.stamp`;
  const tmp = `${blob}.${process.pid}.tmp`;
  rmSync(stamp, { force: true });
  // what a build that was stopped (a restart, a power cut) left behind
  for (const name of readdirSync(dir))
    if (/^kiosk\.blob\..*\.tmp$/.test(name)) rmSync(join(dir, name), { force: true });
  try {
    const r = spawnSync(
      node,
      ['--snapshot-blob', tmp, '--build-snapshot', join(app, 'dist/kiosk.snapshot.cjs')],
      {
        cwd: app,
        encoding: 'utf8',
        env: {
          ...process.env,
          // its own warnings about built-ins it has not verified: the entry defers those (build-bundle.mjs)
          NODE_NO_WARNINGS: '1',
          // the configuration the entry checks once (warmUpForSnapshot, src/app/main.ts)
          ...(process.env.KIOSK_SNAPSHOT_CONFIG
            ? { KIOSK_SNAPSHOT_CONFIG: resolve(process.env.KIOSK_SNAPSHOT_CONFIG) }
            : {}),
        },
      },
    );
    if (r.status !== 0)
      throw new Error(`building the start-up snapshot failed (${r.status ?? r.signal}):\n${r.stderr}`);
    const fd = openSync(tmp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, blob);
  } finally {
    rmSync(tmp, { force: true });
  }
  writeDurably(stamp, `${stampKey(app, node)}\n${cksum(blob)}\n`);
  const dfd = openSync(dirname(blob), 'r');
  fsyncSync(dfd);
  closeSync(dfd);
  return blob;
}

if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1])) {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  try {
    console.error(`kiosk: start-up snapshot built: ${buildSnapshot(values.dir)}`);
  } catch (err) {
    console.error(`kiosk: ${err.message}`);
    process.exitCode = 1;
  }
}
