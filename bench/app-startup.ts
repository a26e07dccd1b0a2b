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
 * Then, for the bundle with the API elsewhere, the whole process as the operating system counts it
 * (what a Pi pays after a power cut, Node's own start-up and exit included): bench/whole-process.ts (wait4) around
 * `KIOSK_EXIT_AT_IDLE=1 node <bundle>/kiosk.mjs run --config <cfg> --no-tui`, started in turn with
 * `node -e 0`, the CPU (user + sys) and wall ratios taken pair by pair (a shared machine's speed
 * drifts; a pair's ratio does not), and the peak RSS. Last, what the bundle's start-up path holds,
 * from esbuild's metafile (src/harness/bundle-graph.ts): the chunks parsed before `main` runs and the
 * largest sources in them.
 */
import { spawn } from 'node:child_process';
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
import { timed } from './whole-process.js';
import { buildBundle } from '../src/harness/build-bundle.mjs';
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
    env,
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
const bundle = join(BUNDLE_DIR, 'kiosk.mjs');
rmSync(BUNDLE_DIR, { recursive: true, force: true });
await buildBundle(BUNDLE_DIR, { metafile: true });
variants.push(
  { name: 'bundle (npm run build)', entry: { kind: 'bundle', file: bundle } },
  { name: 'bundle, API elsewhere (Pi)', entry: { kind: 'bundle', file: bundle }, externalApi: true },
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
    const kiosk = [process.execPath, bundle, 'run', '--config', configPath, '--no-tui'];
    const exitAtIdle = { KIOSK_EXIT_AT_IDLE: '1' };
    await timed(kiosk, exitAtIdle); // warm-up (file cache, journal created)
    const cpuRatio: number[] = [];
    const wallRatio: number[] = [];
    const peak: number[] = [];
    const barePeak: number[] = [];
    for (let i = 0; i < Math.max(RUNS, 10); i++) {
      const a = await timed(kiosk, exitAtIdle);
      const b = await timed([process.execPath, '-e', '0']);
      cpuRatio.push(a.cpu / b.cpu);
      wallRatio.push(a.wall / b.wall);
      peak.push(a.peakMb);
      barePeak.push(b.peakMb);
    }
    console.log(
      `whole process, bundle with the API elsewhere, start to the idle screen and exit (KIOSK_EXIT_AT_IDLE=1, wait4, ${cpuRatio.length} pairs with node -e 0): CPU ${median(cpuRatio).toFixed(2)}x, wall ${median(wallRatio).toFixed(2)}x node -e 0 (median of the pairs' ratios); peak RSS ${median(peak).toFixed(1)} MB (node -e 0: ${median(barePeak).toFixed(1)} MB)`,
    );
  } finally {
    api.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const graph = startupGraph(join(BUNDLE_DIR, 'metafile.json'));
const largest = [...graph.bytesBySource]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 10)
  .map(([source, bytes]) => `${source} ${(bytes / 1024).toFixed(0)}`)
  .join(', ');
console.log(
  `bundle start-up path: ${graph.chunks.length} chunks, ${(graph.bytes / 1024).toFixed(0)} KB; largest sources (KB): ${largest}; imported from node_modules at start-up: ${graph.externals.filter((e) => !e.startsWith('node:')).join(', ') || 'none'}`,
);
