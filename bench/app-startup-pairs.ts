/**
 * Before/after of the kiosk's whole-process start-up, measured in turn on a shared machine: each
 * variant is a Node binary, an entry file (a bundle's `kiosk.mjs` or a launcher such as
 * `bin/kiosk.mjs` beside its `dist/`) and environment; every round runs each variant once to the idle
 * screen (`KIOSK_EXIT_AT_IDLE=1`) and that binary's `node -e 0`, each timed by the kernel (wait4), in a
 * rotating order. Printed per variant: the median CPU (user + sys) and wall ratio to the `node -e 0`
 * of its own binary and environment in the same round (`NODE_EXTRA_CA_CERTS=` as a variant's
 * environment changes what both cost), the peak RSS; and each variant's CPU and wall over the first
 * variant's, pair by pair (a drifting machine moves both runs of a round alike; the ratio of a
 * pair does not drift).
 *
 *   npx tsx bench/app-startup-pairs.ts [--runs 12] \
 *     --variant 'before=node:/tmp/b/dist/kiosk.mjs' --variant 'after=node:/tmp/a/dist/kiosk.mjs' \
 *     --variant 'after, node 22=/tmp/node22/bin/node:/tmp/a/bin/kiosk.mjs:NODE_COMPILE_CACHE=/tmp/cc'
 *
 * An entry ending in `.blob` is a start-up snapshot (`npm run build:snapshot`): `node --snapshot-blob <it>`;
 * one without a `.js`/`.mjs`/`.cjs` extension is a command run as it is (a release's `bin/kiosk`, with
 * e.g. `KIOSK_SNAPSHOT_DIR=<dir>` as its environment).
 * `node` as the binary is the Node running this script; flags after it (`node --no-opt:<blob>`) are
 * given to the kiosk's node (a blob must have been built with the same V8 flags), not to `node -e 0`.
 * Simulated devices, the API stand-in as its own process (a Pi talks to the real API elsewhere), one
 * journal per variant; one unmeasured warm-up start per variant first (file cache, journal created,
 * caches written).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startApiProcess } from '../src/harness/kiosk-process.js';
import { percentile } from './app-rig.js';
import { parseVariant, timed, variantArgv, writeBenchConfig, type StartVariant } from './whole-process.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '12' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const RUNS = Number(values.runs);

type Variant = StartVariant;
const variants = values.variant.map(parseVariant);
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
      const { path: configPath } = await writeBenchConfig(dir, String(i), api.baseUrl);
      return {
        argv: variantArgv(v, configPath),
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
  const bare = new Map<string, { cpu: number; wall: number; round: number }>();
  const bareKey = (v: Variant) => `${v.node}\0${JSON.stringify(v.env)}`;
  for (let round = 0; round < RUNS; round++) {
    // rotate who goes first: a machine that slows down within a round does not favour one variant
    const order = variants.map((_, i) => (i + round) % variants.length);
    const got: Array<{ cpu: number; wall: number; peakMb: number }> = [];
    // one `node -e 0` per binary and environment (NODE_EXTRA_CA_CERTS, for one, changes what it costs)
    for (const v of variants)
      if (!bare.has(bareKey(v)) || bare.get(bareKey(v))!.round !== round)
        bare.set(bareKey(v), { ...(await timed([v.node, '-e', '0'], v.env)), round });
    for (const i of order) got[i] = await timed(runs[i]!.argv, runs[i]!.env);
    variants.forEach((v, i) => {
      const b = bare.get(bareKey(v))!;
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
