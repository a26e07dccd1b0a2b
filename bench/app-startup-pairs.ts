/**
 * Before/after of the kiosk's whole-process start-up, measured in turn on a shared machine: each
 * variant is a Node binary, an entry file (a bundle's `kiosk.mjs` or a launcher such as
 * `bin/kiosk.mjs` beside its `dist/`) and environment; every round runs each variant once to the idle
 * screen (`KIOSK_EXIT_AT_IDLE=1`) and that binary's `node -e 0`, each timed by the kernel (wait4), in a
 * rotating order. Printed per variant: the median CPU (user + sys) and wall ratio to its own
 * binary's `node -e 0` of the same round, the peak RSS; and each variant's CPU and wall over the
 * first variant's, pair by pair (a drifting machine moves both runs of a round alike; the ratio of a
 * pair does not drift).
 *
 *   npx tsx bench/app-startup-pairs.ts [--runs 12] \
 *     --variant 'before=node:/tmp/b/dist/kiosk.mjs' --variant 'after=node:/tmp/a/dist/kiosk.mjs' \
 *     --variant 'after, node 22=/tmp/node22/bin/node:/tmp/a/bin/kiosk.mjs:NODE_COMPILE_CACHE=/tmp/cc'
 *
 * An entry ending in `.blob` is a start-up snapshot (`npm run build:snapshot`): `node --snapshot-blob <it>`;
 * one without a `.js`/`.mjs`/`.cjs` extension is a command run as it is (a release's `bin/kiosk`, with
 * e.g. `KIOSK_SNAPSHOT_DIR=<dir>` as its environment).
 * `node` as the binary is the Node running this script. Simulated devices, the API stand-in as its
 * own process (a Pi talks to the real API elsewhere), one journal per variant; one unmeasured warm-up
 * start per variant first (file cache, journal created, caches written).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { baseConfig, freePort, mergeConfig, startApiProcess } from '../src/harness/kiosk-process.js';
import { percentile } from './app-rig.js';
import { timed } from './whole-process.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '12' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const RUNS = Number(values.runs);

interface Variant {
  name: string;
  node: string;
  entry: string;
  env: Record<string, string>;
}

const variants: Variant[] = values.variant.map((spec) => {
  const eq = spec.indexOf('=');
  const [node, entry, ...envs] = spec.slice(eq + 1).split(':');
  if (eq < 1 || !node || !entry) throw new Error(`--variant 'name=node:entry[:K=V...]', got ${spec}`);
  return {
    name: spec.slice(0, eq),
    node: node === 'node' ? process.execPath : node,
    entry,
    env: Object.fromEntries(envs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
});
if (variants.length === 0) throw new Error('no --variant given');

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-pairs-'));
const api = await startApiProcess(join(dir, 'api-ledger.json'));
try {
  const runs = await Promise.all(
    variants.map(async (v, i) => {
      const config = mergeConfig(baseConfig(), {
        api: { baseUrl: api.baseUrl, standIn: undefined },
        sim: { controlPort: await freePort(), tui: false },
        journal: { dir: join(dir, `journal-${i}`) },
      });
      mkdirSync(join(dir, `journal-${i}`), { recursive: true });
      const configPath = join(dir, `config-${i}.json`);
      writeFileSync(configPath, JSON.stringify(config));
      // a start-up snapshot (`npm run build:snapshot`) is given to node, not run as a script
      // a release's bin/kiosk (a shell script, no extension) is run as it is, with the node in PATH
      const command = !/\.(c|m)?js$|\.blob$/.test(v.entry);
      const entry = v.entry.endsWith('.blob')
        ? [v.node, '--snapshot-blob', v.entry]
        : command
          ? []
          : [v.node, v.entry];
      return {
        argv: [...entry, ...(command ? [v.entry] : []), 'run', '--config', configPath, '--no-tui'],
        env: { KIOSK_EXIT_AT_IDLE: '1', ...v.env },
      };
    }),
  );
  for (const r of runs) await timed(r.argv, r.env); // warm-up
  const results = variants.map(() => ({
    cpu: [] as number[],
    wall: [] as number[],
    cpuX: [] as number[],
    wallX: [] as number[],
    peak: [] as number[],
    abs: [] as number[],
    bare: [] as number[],
  }));
  const bare = new Map<string, { cpu: number; wall: number }>();
  for (let round = 0; round < RUNS; round++) {
    // rotate who goes first: a machine that slows down within a round does not favour one variant
    const order = variants.map((_, i) => (i + round) % variants.length);
    const got: Array<{ cpu: number; wall: number; peakMb: number }> = [];
    for (const node of new Set(variants.map((v) => v.node)))
      bare.set(node, await timed([node, '-e', '0'], variants.find((v) => v.node === node)!.env));
    for (const i of order) got[i] = await timed(runs[i]!.argv, runs[i]!.env);
    variants.forEach((v, i) => {
      const b = bare.get(v.node)!;
      results[i]!.cpuX.push(got[i]!.cpu / b.cpu);
      results[i]!.wallX.push(got[i]!.wall / b.wall);
      results[i]!.cpu.push(got[i]!.cpu / got[0]!.cpu);
      results[i]!.wall.push(got[i]!.wall / got[0]!.wall);
      results[i]!.peak.push(got[i]!.peakMb);
      results[i]!.abs.push(got[i]!.cpu);
      results[i]!.bare.push(b.cpu);
    });
  }
  console.log(
    `${RUNS} rounds, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  variants.forEach((v, i) => {
    const r = results[i]!;
    console.log(
      `${v.name.padEnd(24)} CPU ${median(r.abs).toFixed(3)} s (node -e 0 ${median(r.bare).toFixed(3)} s) ${median(r.cpuX).toFixed(2)}x  wall ${median(r.wallX).toFixed(2)}x node -e 0;  peak RSS ${median(r.peak).toFixed(1)} MB;  / ${variants[0]!.name}: CPU ${median(r.cpu).toFixed(3)}, wall ${median(r.wall).toFixed(3)}`,
    );
  });
} finally {
  api.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
