/**
 * Start-up time of the kiosk program: from spawning the process to (a) the control port answering
 * `ping` and (b) the idle screen ("Karte aufladen") on the simulated display, beside a bare
 * `node -e 0` on the same machine (ratio). Three ways to start it: tsx on the sources (what
 * `npm start` does), `bin/kiosk.mjs` (tsx registered by the bin script), and an esbuild bundle
 * (code splitting, so the real drivers, the fleet client and the terminal face stay lazy).
 * Also counts the modules that go through the ESM loader in each case.
 *
 *   npx tsx bench/app-startup.ts [--runs 7]
 *
 * The bundle is written to node_modules/.cache/kiosk-bench/ (not dist/: bin/kiosk.mjs would pick it up).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
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

async function kioskOnce(entry: StartKioskOptions['entry'], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const kiosk: KioskProcess = await startKiosk({ entry, env, waitReady: false });
  let ping: number;
  let idle: number;
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
  } finally {
    await kiosk.stop();
  }
  return { ping, idle, stderr: kiosk.stderr };
}

function buildBundle(): boolean {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  try {
    execFileSync(
      join(REPO_ROOT, 'node_modules/.bin/esbuild'),
      [
        'src/app/main.ts',
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--splitting',
        `--outdir=${BUNDLE_DIR}`,
        '--packages=external',
        '--log-level=warning',
      ],
      { cwd: REPO_ROOT, stdio: 'inherit' },
    );
    return existsSync(join(BUNDLE_DIR, 'main.js'));
  } catch (err) {
    console.log(`esbuild failed, no bundle figures: ${(err as Error).message}`);
    return false;
  }
}

console.log(
  `kiosk start-up, Node ${process.version}, ${process.platform}/${process.arch}, ${RUNS} runs each`,
);
const bare: number[] = [];
for (let i = 0; i < RUNS; i++) bare.push(await bareNode());
const bareMs = median(bare);
console.log(`${'node -e 0'.padEnd(26)} median ${bareMs.toFixed(0).padStart(5)} ms`);

const variants: Array<{ name: string; entry: StartKioskOptions['entry'] }> = [
  { name: 'tsx src/app/main.ts', entry: { kind: 'tsx' } },
  { name: 'bin/kiosk.mjs (tsx)', entry: { kind: 'bin' } },
];
if (buildBundle())
  variants.push({ name: 'esbuild bundle', entry: { kind: 'bundle', file: join(BUNDLE_DIR, 'main.js') } });

for (const v of variants) {
  await kioskOnce(v.entry); // warm the OS file cache (and tsx's transform cache)
  const ping: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await kioskOnce(v.entry);
    ping.push(r.ping);
    idle.push(r.idle);
  }
  const counted = await kioskOnce(v.entry, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${COUNT_HOOK}`.trim(),
  });
  const urls = counted.stderr.split('\n').filter((l) => l.startsWith('MODLOAD '));
  const own = urls.filter((l) => !l.includes('/node_modules/') || l.includes('/.cache/kiosk-bench/')).length;
  const idleMs = median(idle);
  console.log(
    `${v.name.padEnd(26)} ping ${median(ping).toFixed(0).padStart(5)} ms  idle screen ${idleMs.toFixed(0).padStart(5)} ms  (${(idleMs / bareMs).toFixed(1)}x node -e 0; p100 ${Math.max(...idle).toFixed(0)} ms)  ESM modules ${urls.length} (own ${own}, node_modules ${urls.length - own})`,
  );
}
