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
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  REPO_ROOT,
  startKiosk,
  type KioskProcess,
  type StartKioskOptions,
} from '../src/harness/kiosk-process.js';
import { percentile } from './app-rig.js';
import { buildBundle } from '../src/harness/build-bundle.mjs';

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
await buildBundle(BUNDLE_DIR);
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
