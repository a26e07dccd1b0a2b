/**
 * The kiosk's memory once it is idle, as the kernel counts it: each variant is started to the idle
 * screen ("Karte aufladen", polled over the control port), left alone for `--settle` seconds (and
 * again until `--late`), then its /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/smaps_rollup are
 * read: RSS split into anonymous and file-backed pages, PSS (each page divided among the processes
 * that map it) and USS (the pages no other process maps). Every round starts each
 * variant once, in a rotating order, beside an idle bare Node (`node -e` with a timer) read the same
 * way; medians are printed, and each variant's RSS/USS minus the first variant's, pair by pair.
 *
 *   npx tsx bench/app-idle-memory.ts [--runs 5] [--settle 3] [--late 20] [--fleet] \
 *     --variant 'before=node:<dir>/bin/kiosk:KIOSK_SNAPSHOT_DIR=<dir>/snapshot' \
 *     --variant 'after=node:<dir2>/bin/kiosk:KIOSK_SNAPSHOT_DIR=<dir2>/snapshot:MALLOC_ARENA_MAX=2'
 *
 * The spec is that of bench/app-startup-pairs.ts: `name=node[ flags]:entry[:K=V...]`, an entry ending
 * in `.blob` given to `node --snapshot-blob`, one without a js extension run as a command (a release's
 * `bin/kiosk`). Without `--variant` it lays out the working tree's release under
 * node_modules/.cache/kiosk-bench-idle/ (bundle, bin/, the snapshot built with the kiosk's config as
 * bin/kiosk builds it on a Pi) and measures its `bin/kiosk` from the snapshot and `bin/kiosk.mjs`, both
 * with kiosk.service's environment (its malloc setting; `unitEnvironment` of bench/whole-process.ts).
 *
 * `--fleet`: every kiosk reports to a Mosquitto started by the bench (as kiosks in the field do; the
 * fleet client, mqtt, is loaded after the idle screen, so it is in the figures read after it).
 *
 * PSS and USS depend on the neighbours: here other Node processes (the stand-in, this bench, other
 * work) map the same pages of the `node` binary, so PSS counts a fraction of them and USS none, and USS
 * is about the anonymous memory. On a kiosk the kiosk is the only Node process: those pages are its
 * own, and its PSS and USS are close to its RSS. RSS (and its anonymous part) do not depend on them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { layOutRelease } from '../src/harness/build-bundle.mjs';
import { ControlClient } from '../src/harness/control-client.js';
import { REPO_ROOT, startApiProcess } from '../src/harness/kiosk-process.js';
import { startMosquitto } from '../src/harness/mosquitto.js';
import { percentile } from './app-rig.js';
import { parseVariant, unitEnvironment, variantArgv, writeBenchConfig } from './whole-process.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    settle: { type: 'string', default: '3' },
    late: { type: 'string', default: '0' },
    variant: { type: 'string', multiple: true, default: [] },
    // a kiosk in the field reports to its fleet: its configs name a Mosquitto started here
    fleet: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const SETTLE_MS = Number(values.settle) * 1000;
const LATE_MS = Number(values.late) * 1000;

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the kernel counts for a process, in MB. */
interface Memory {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
  pss: number;
  uss: number;
}

function readMemory(pid: number): Memory {
  const kb = (text: string, key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`${key} not in /proc/${pid}`);
    return Number(m[1]) / 1024;
  };
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    rss: kb(status, 'VmRSS'),
    hwm: kb(status, 'VmHWM'),
    anon: kb(status, 'RssAnon'),
    file: kb(status, 'RssFile') + kb(status, 'RssShmem'),
    pss: kb(rollup, 'Pss'),
    uss: kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty'),
  };
}

/** Starts argv, waits for the idle screen, reads its memory after the settle (and late) time, stops it. */
async function idleOnce(argv: string[], env: Record<string, string>, controlPort: number | undefined) {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const control = controlPort === undefined ? undefined : new ControlClient(() => controlPort);
  try {
    const deadline = Date.now() + 30_000;
    for (; control;) {
      if (child.exitCode !== null) throw new Error(`${argv.join(' ')} exited ${child.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`no idle screen in time: ${output}`);
      try {
        const r = await control.request<{ lines: string[] }>({ cmd: 'display' }, 2000);
        if (r.lines[0] === 'Karte aufladen') break;
      } catch {
        // not listening yet
      }
      await sleep(20);
    }
    // nothing asks the kiosk anything while it idles: the connection is closed
    control?.close();
    await sleep(SETTLE_MS);
    const settled = readMemory(child.pid!);
    if (!LATE_MS) return { settled, late: undefined };
    await sleep(Math.max(0, LATE_MS - SETTLE_MS));
    return { settled, late: readMemory(child.pid!) };
  } finally {
    control?.close();
    child.kill('SIGTERM');
    await exited;
  }
}

let variants = values.variant.map(parseVariant);
const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-idle-'));
const api = await startApiProcess(join(dir, 'api-ledger.json'));
const broker = values.fleet ? await startMosquitto({ persistence: false }) : undefined;
try {
  const configs = await Promise.all(
    Array.from({ length: Math.max(variants.length, 2) }, (_, i) =>
      writeBenchConfig(dir, String(i), api.baseUrl, broker?.url),
    ),
  );
  if (variants.length === 0) {
    // the working tree's release, as a Pi runs it under kiosk.service
    const release = join(REPO_ROOT, 'node_modules/.cache/kiosk-bench-idle');
    rmSync(release, { recursive: true, force: true });
    await layOutRelease(release);
    execFileSync(process.execPath, [join(release, 'bin/snapshot.mjs'), '--dir', join(release, 'snapshot')], {
      env: { ...process.env, KIOSK_SNAPSHOT_CONFIG: configs[0]!.path },
      stdio: 'inherit',
    });
    const unit = unitEnvironment();
    variants = [
      parseVariant(`bin/kiosk (snapshot)=node:${release}/bin/kiosk:KIOSK_SNAPSHOT_DIR=${release}/snapshot`),
      parseVariant(`bin/kiosk.mjs (code cache)=node:${release}/bin/kiosk.mjs`),
    ].map((v) => ({ ...v, env: { ...unit, ...v.env } }));
  }
  const runs = variants.map((v, i) => ({
    argv: variantArgv(v, configs[i]!.path),
    // a command (bin/kiosk) finds its node in PATH: the variant's
    env: { PATH: `${dirname(v.node)}:${process.env.PATH ?? ''}`, ...v.env },
    port: configs[i]!.controlPort,
  }));
  const bareArgv = [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)'];
  // warm-up: file cache, journals created, code caches written
  for (const r of runs) await idleOnce(r.argv, r.env, r.port);
  type Sample = Awaited<ReturnType<typeof idleOnce>>;
  const got: Sample[][] = variants.map(() => []);
  const bare: Memory[] = [];
  for (let round = 0; round < RUNS; round++) {
    const order = variants.map((_, i) => (i + round) % variants.length);
    for (const i of order) got[i]!.push(await idleOnce(runs[i]!.argv, runs[i]!.env, runs[i]!.port));
    // the bare node, with no control port: read after the same settle time
    bare.push((await idleOnce(bareArgv, {}, undefined)).settled);
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `idle memory, Node ${process.version}, ${RUNS} rounds, read ${SETTLE_MS / 1000} s after the idle screen${LATE_MS ? ` and at ${LATE_MS / 1000} s` : ''}; load average ${load}; MB, medians`,
  );
  const line = (name: string, ms: Memory[], ref?: Memory[]) => {
    const f = (k: keyof Memory) => median(ms.map((m) => m[k])).toFixed(1);
    const d = (k: keyof Memory) =>
      ref
        ? median(ms.map((m, j) => m[k] - ref[j]![k]))
            .toFixed(1)
            .padStart(5)
        : '';
    console.log(
      `  ${name.padEnd(34)} RSS ${f('rss').padStart(5)} (anon ${f('anon').padStart(5)}, file ${f('file').padStart(5)})  PSS ${f('pss').padStart(5)}  USS ${f('uss').padStart(5)}  peak ${f('hwm').padStart(5)}${ref ? `   vs first: RSS ${d('rss')} USS ${d('uss')}` : ''}`,
    );
  };
  line('node -e (idle timer)', bare);
  variants.forEach((v, i) => {
    const first = got[0]!.map((s) => s.settled);
    line(
      `${v.name} @${SETTLE_MS / 1000}s`,
      got[i]!.map((s) => s.settled),
      i ? first : undefined,
    );
    if (LATE_MS)
      line(
        `${v.name} @${LATE_MS / 1000}s`,
        got[i]!.map((s) => s.late!),
        i ? got[0]!.map((s) => s.late!) : undefined,
      );
  });
} finally {
  await broker?.stop();
  api.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
