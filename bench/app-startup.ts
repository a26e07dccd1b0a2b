/**
 * Start-up time of the kiosk program: from spawning the process to (a) the control port answering
 * `ping` and (b) the idle screen ("Karte aufladen") on the simulated display, beside a bare
 * `node -e 0` on the same machine (ratio). The ways to start it: tsx on the sources (what
 * `npm start` does), `bin/kiosk.mjs` (tsx registered by the bin script), and the bundle of
 * `npm run build` (src/harness/build-bundle.mjs), once with the API stand-in in the kiosk's process (the
 * simulator) and once with it in its own process (a Pi talks to the real API elsewhere). Also counts the
 * modules that go through the ESM loader, prints the phases the kiosk logs (`start-up timing`: load,
 * config, journal, self-test, first screen) and the idle RSS of the kiosk process.
 *
 *   npx tsx bench/app-startup.ts [--runs 7]
 *
 * The bundle is written to node_modules/.cache/kiosk-bench/ (not dist/: bin/kiosk.mjs would pick it up).
 *
 * The bundle is also started from its V8 start-up snapshot (`bin/kiosk` with `KIOSK_SNAPSHOT_DIR`, the
 * snapshot built by `bin/snapshot.mjs` first), with the API elsewhere.
 *
 * Then, for the bundle with the API elsewhere, the whole process as the operating system counts it
 * (what a Pi pays after a power cut, Node's own start-up and exit included): bench/whole-process.ts (wait4) around
 * `KIOSK_EXIT_AT_IDLE=1 node <bundle>/kiosk.mjs run --config <cfg> --no-tui`, started in turn with
 * `node -e 0`, the CPU (user + sys) and wall ratios taken pair by pair, beside the launcher
 * (`bin/kiosk.mjs`: script bundle and V8 code cache) and the start-up snapshot (a shared machine's speed
 * drifts; a pair's ratio does not), and the peak RSS. Last, what the bundle's start-up path holds,
 * from esbuild's metafile (src/harness/bundle-graph.ts): the chunks parsed before `main` runs and the
 * largest sources in them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  REPO_ROOT,
  baseConfig,
  freePort,
  mergeConfig,
  startApiProcess,
  startKiosk,
  type KioskProcess,
  type StartKioskOptions,
} from '../src/harness/kiosk-process.js';
import { percentile } from './app-rig.js';
import { timed, unitEnvironment } from './whole-process.js';
import { layOutRelease } from '../src/harness/build-bundle.mjs';
import { startupGraph } from '../src/harness/bundle-graph.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Number(values.runs);
const BUNDLE_DIR = join(REPO_ROOT, 'node_modules/.cache/kiosk-bench');

/** Logs every module the ESM loader loads to stderr (hooks run off-thread; fs.writeSync is safe there). */
const COUNT_HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { writeSync } from 'node:fs';
export async function load(url, context, next) {
  if (!url.startsWith('node:')) writeSync(2, 'MODLOAD ' + url + '\\\\n');
  return next(url, context);
}\`));
`)}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

async function bareNode(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
  return performance.now() - t0;
}

interface Variant {
  name: string;
  entry: StartKioskOptions['entry'];
  /** The stand-in in its own process, as the real API is for a Pi: the kiosk process is the kiosk alone. */
  externalApi?: boolean;
  env?: Record<string, string>;
}

/** RSS of a process from /proc (Linux), in MB. */
function rssMb(pid: number | undefined): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function kioskOnce(v: Variant, env: Record<string, string> = {}, measureRss = false) {
  const kiosk: KioskProcess = await startKiosk({
    entry: v.entry,
    env: { ...v.env, ...env },
    waitReady: false,
    ...(v.externalApi ? { externalApi: true } : {}),
  });
  // from the spawn (an external stand-in is started before it, and not counted)
  const t0 = kiosk.spawnedAt;
  let ping: number;
  let idle: number;
  let rss: number | undefined;
  try {
    for (;;) {
      if (kiosk.hasExited) throw new Error(`kiosk exited: ${kiosk.stderr}`);
      try {
        const r = await kiosk.request<{ pong?: boolean }>({ cmd: 'ping' });
        if (r.pong) break;
      } catch {
        await sleep(2);
      }
    }
    ping = performance.now() - t0;
    for (;;) {
      const lines = await kiosk.display();
      if (lines[0] === 'Karte aufladen') break;
      await sleep(2);
    }
    idle = performance.now() - t0;
    if (measureRss) {
      await sleep(3000); // idle for a while: timers ran, lazy work done
      rss = rssMb(kiosk.pid);
    }
  } finally {
    await kiosk.stop();
  }
  const timingLine = kiosk.stdout.split('\n').find((l) => l.includes('"start-up timing"'));
  const phases = timingLine
    ? ((JSON.parse(timingLine) as { phases?: Record<string, number> }).phases ?? {})
    : {};
  return { ping, idle, rss, phases, stderr: kiosk.stderr };
}

console.log(
  `kiosk start-up, Node ${process.version}, ${process.platform}/${process.arch}, ${RUNS} runs each`,
);
const bare: number[] = [];
for (let i = 0; i < RUNS; i++) bare.push(await bareNode());
const bareMs = median(bare);
console.log(`${'node -e 0'.padEnd(26)} median ${bareMs.toFixed(0).padStart(5)} ms`);

const variants: Variant[] = [
  { name: 'tsx src/app/main.ts', entry: { kind: 'tsx' } },
  { name: 'bin/kiosk.mjs (tsx)', entry: { kind: 'bin' } },
];
// a release as a Pi has it: dist/ from `npm run build`, the bin/ scripts beside it, and the start-up
// snapshot that bin/kiosk builds on its first start (here built up front, `npm run build:snapshot`)
const bundle = join(BUNDLE_DIR, 'dist/kiosk.mjs');
const launcher = join(BUNDLE_DIR, 'bin/kiosk.mjs');
const command = join(BUNDLE_DIR, 'bin/kiosk');
const snapshots = join(BUNDLE_DIR, 'snapshot');
rmSync(BUNDLE_DIR, { recursive: true, force: true });
await layOutRelease(BUNDLE_DIR, { metafile: true });
execFileSync(process.execPath, [join(BUNDLE_DIR, 'bin/snapshot.mjs'), '--dir', snapshots], {
  stdio: 'inherit',
});
// kiosk.service's environment (its malloc setting) for the release's starts
const unit = unitEnvironment();
const fromSnapshot = { ...unit, KIOSK_SNAPSHOT_DIR: snapshots };
variants.push(
  { name: 'bundle (npm run build)', entry: { kind: 'bundle', file: bundle } },
  { name: 'bundle, API elsewhere (Pi)', entry: { kind: 'bundle', file: bundle }, externalApi: true },
  {
    name: 'snapshot, API elsewhere',
    entry: { kind: 'command', file: command },
    externalApi: true,
    env: fromSnapshot,
  },
);

for (const v of variants) {
  await kioskOnce(v); // warm the OS file cache (and tsx's transform cache)
  const ping: number[] = [];
  const idle: number[] = [];
  const phaseRuns: Array<Record<string, number>> = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await kioskOnce(v);
    ping.push(r.ping);
    idle.push(r.idle);
    phaseRuns.push(r.phases);
  }
  const counted = await kioskOnce(
    v,
    { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${COUNT_HOOK}`.trim() },
    true,
  );
  const urls = counted.stderr.split('\n').filter((l) => l.startsWith('MODLOAD '));
  const own = urls.filter((l) => !l.includes('/node_modules/') || l.includes('/.cache/kiosk-bench/')).length;
  const idleMs = median(idle);
  const phases = Object.keys(phaseRuns[0] ?? {})
    .map((k) => `${k} ${median(phaseRuns.map((p) => p[k] ?? NaN)).toFixed(0)}`)
    .join(', ');
  console.log(
    `${v.name.padEnd(28)} ping ${median(ping).toFixed(0).padStart(5)} ms  idle screen ${idleMs.toFixed(0).padStart(5)} ms  (${(idleMs / bareMs).toFixed(2)}x node -e 0; p100 ${Math.max(...idle).toFixed(0)} ms)  ESM modules ${urls.length} (own ${own}, node_modules ${urls.length - own})`,
  );
  console.log(
    `${''.padEnd(28)} phases (ms since process start, median): ${phases || 'not logged'}; idle RSS ${counted.rss?.toFixed(1) ?? '?'} MB (with the module-count hook)`,
  );
}

{
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-whole-'));
  const api = await startApiProcess(join(dir, 'api-ledger.json'));
  try {
    const config = mergeConfig(baseConfig(), {
      api: { baseUrl: api.baseUrl, standIn: undefined },
      sim: { controlPort: await freePort(), tui: false },
    });
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const args = ['run', '--config', configPath, '--no-tui'];
    // as bin/kiosk builds it on a Pi: with the kiosk's configuration checked once while building
    execFileSync(process.execPath, [join(BUNDLE_DIR, 'bin/snapshot.mjs'), '--dir', snapshots], {
      env: { ...process.env, KIOSK_SNAPSHOT_CONFIG: configPath },
      stdio: 'inherit',
    });
    // the launcher of the release before (script bundle + V8 code cache), the first figure the others
    // are divided by; the start-up snapshot as kiosk.service starts it (bin/kiosk: its stamp and cksum
    // checks, then node --snapshot-blob), and node --snapshot-blob alone; the ES module bundle
    const whole = [
      { name: 'bin/kiosk.mjs (script + code cache)', argv: [process.execPath, launcher, ...args], env: unit },
      { name: 'bin/kiosk (start-up snapshot)', argv: [command, ...args], env: fromSnapshot },
      {
        name: 'node --snapshot-blob alone',
        argv: [process.execPath, '--snapshot-blob', join(snapshots, 'kiosk.blob'), ...args],
        env: unit,
      },
      { name: 'ES module bundle', argv: [process.execPath, bundle, ...args], env: unit },
    ];
    const exitAtIdle = { KIOSK_EXIT_AT_IDLE: '1' };
    for (const w of whole) await timed(w.argv, { ...exitAtIdle, ...w.env }); // warm-up (file cache, journal, code cache)
    const figures = whole.map(() => ({
      cpu: [] as number[],
      wall: [] as number[],
      peak: [] as number[],
      vsFirst: [] as number[],
      wallVsFirst: [] as number[],
    }));
    const barePeak: number[] = [];
    for (let i = 0; i < Math.max(RUNS, 10); i++) {
      const b = await timed([process.execPath, '-e', '0']);
      barePeak.push(b.peakMb);
      // rotate who goes first: a machine that slows down within a round favours none
      const got: Array<Awaited<ReturnType<typeof timed>>> = [];
      for (let k = 0; k < whole.length; k++) {
        const j = (k + i) % whole.length;
        got[j] = await timed(whole[j]!.argv, { ...exitAtIdle, ...whole[j]!.env });
      }
      got.forEach((a, j) => {
        figures[j]!.cpu.push(a.cpu / b.cpu);
        figures[j]!.wall.push(a.wall / b.wall);
        figures[j]!.peak.push(a.peakMb);
        figures[j]!.vsFirst.push(a.cpu / got[0]!.cpu);
        figures[j]!.wallVsFirst.push(a.wall / got[0]!.wall);
      });
    }
    console.log(
      `whole process, API elsewhere, start to the idle screen and exit (KIOSK_EXIT_AT_IDLE=1, wait4, ${barePeak.length} rounds, each beside a node -e 0; median of the pairs' ratios; node -e 0 peak RSS ${median(barePeak).toFixed(1)} MB):`,
    );
    whole.forEach((w, j) => {
      const f = figures[j]!;
      console.log(
        `  ${w.name.padEnd(36)} CPU ${median(f.cpu).toFixed(2)}x, wall ${median(f.wall).toFixed(2)}x node -e 0; peak RSS ${median(f.peak).toFixed(1)} MB; / ${whole[0]!.name}: CPU ${median(f.vsFirst).toFixed(3)}, wall ${median(f.wallVsFirst).toFixed(3)}`,
      );
    });
  } finally {
    api.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const graph = startupGraph(join(BUNDLE_DIR, 'dist/metafile.json'));
const largest = [...graph.bytesBySource]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 10)
  .map(([source, bytes]) => `${source} ${(bytes / 1024).toFixed(0)}`)
  .join(', ');
console.log(
  `bundle start-up path: ${graph.chunks.length} chunks, ${(graph.bytes / 1024).toFixed(0)} KB; largest sources (KB): ${largest}; imported from node_modules at start-up: ${graph.externals.filter((e) => !e.startsWith('node:')).join(', ') || 'none'}`,
);
