/**
 * Finds what the heap keeps per transaction: an in-process kiosk (bench/app-rig.ts) runs --warmup
 * top-ups, writes a heap snapshot, runs --transactions more, writes another, and a child process
 * (bench/heap-snapshot-diff.ts) prints what grew and who holds the new objects. A flat kiosk shows only
 * the engine's compiled code growing (it settles) and a few dozen objects.
 *
 *   node --expose-gc --import tsx bench/app-heap-growth.ts [--warmup 200] [--transactions 1000] [--fleet]
 *
 * Snapshots go to a temporary directory (about 40 MB each) and are deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { startMosquitto } from '../src/harness/mosquitto.js';
import { startAppRig } from './app-rig.js';
import { runTopUps } from './app-top-ups.js';

const { values } = parseArgs({
  options: {
    warmup: { type: 'string', default: '200' },
    transactions: { type: 'string', default: '1000' },
    // report to a Mosquitto started here (bench/app-memory.ts --fleet)
    fleet: { type: 'boolean', default: false },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc --import tsx bench/app-heap-growth.ts');
  process.exit(64);
}
const dir = mkdtempSync(join(tmpdir(), 'kiosk-heap-'));
async function snapshot(name: string): Promise<string> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  return v8.writeHeapSnapshot(join(dir, `${name}.heapsnapshot`));
}

const broker = values.fleet ? await startMosquitto({ persistence: false }) : undefined;
const rig = await startAppRig(
  broker ? { fleet: { url: broker.url, heartbeatS: 30, outboxDir: 'outbox' } } : {},
);
try {
  const warmup = Number(values.warmup);
  const n = Number(values.transactions);
  await runTopUps(rig, warmup);
  const a = await snapshot('a');
  await runTopUps(rig, n, warmup);
  const b = await snapshot('b');
  console.log(`heap growth between top-up ${warmup} and ${warmup + n}, Node ${process.version}`);
  execFileSync(
    process.execPath,
    [
      '--max-old-space-size=4000',
      '--import',
      'tsx',
      join(import.meta.dirname, 'heap-snapshot-diff.ts'),
      a,
      b,
    ],
    { stdio: 'inherit' },
  );
} finally {
  await rig.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
}
