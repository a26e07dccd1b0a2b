/**
 * Memory of the kiosk program over many transactions: an in-process KioskApp (simulated devices, the
 * API stand-in in the same process) runs complete top-ups (scan, choose 5 EUR, insert 2+2+1 EUR,
 * "Vielen Dank!", back to idle); RSS and heap are printed after start, after 200, 1,000, 2,000, 4,000
 * (... 10,000) transactions, each after a forced GC. Flat growth between the marks = no leak.
 *
 *   node --expose-gc --import tsx bench/app-memory.ts [--transactions 4000] [--fleet]
 *
 * `--fleet`: the kiosk reports to a Mosquitto started by the bench (money events through the outbox,
 * heartbeats, state), as kiosks in the field do.
 *
 * A top-up takes about 40 ms here (five API calls, a dozen journal fsyncs), so the default of 4,000
 * stays under 3 minutes; `--transactions 10000` takes about 7.
 *
 * Two things that grow by design are emptied as the bench goes, so the figures show the kiosk itself:
 * the simulated printer keeps every receipt for the control port's `receipts` command, and the
 * stand-in's ledger keeps every transaction (it is reset every 20 top-ups); see bench/app-top-ups.ts.
 * To find what grows, bench/app-heap-growth.ts compares two heap snapshots.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startMosquitto } from '../src/harness/mosquitto.js';
import { startAppRig } from './app-rig.js';
import { runTopUps } from './app-top-ups.js';

const { values } = parseArgs({
  options: {
    transactions: { type: 'string', default: '4000' },
    // report to a Mosquitto started here, as kiosks in the field do: every top-up's money events go
    // through the outbox and the fleet client
    fleet: { type: 'boolean', default: false },
  },
});
const TOTAL = Number(values.transactions);
const MARKS = new Set([200, 1000, 2000, 4000, 6000, 8000, 10_000, TOTAL]);
const gc = (globalThis as { gc?: () => void }).gc;

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage();
}

const broker = values.fleet ? await startMosquitto({ persistence: false }) : undefined;
const rig = await startAppRig(
  broker ? { fleet: { url: broker.url, heartbeatS: 30, outboxDir: 'outbox' } } : {},
);
console.log(
  `kiosk memory, Node ${process.version}, ${process.platform}/${process.arch}, gc ${gc ? 'forced' : 'not exposed (run with --expose-gc)'}${broker ? ', reporting to a fleet (Mosquitto)' : ''}`,
);
const start = await settle();
console.log(
  `${'after start'.padEnd(22)} rss ${mb(start.rss).padStart(9)}  heapUsed ${mb(start.heapUsed).padStart(9)}  external ${mb(start.external)}`,
);
const t0 = performance.now();
let printed = 0;
let done = 0;
for (const mark of [...MARKS].filter((m) => m <= TOTAL).sort((x, y) => x - y)) {
  printed += await runTopUps(rig, mark - done, done);
  done = mark;
  const m = await settle();
  const s = rig.app.summary();
  console.log(
    `${`after ${done} top-ups`.padEnd(22)} rss ${mb(m.rss).padStart(9)}  heapUsed ${mb(m.heapUsed).padStart(9)}  external ${mb(m.external).padStart(8)}  (${((performance.now() - t0) / done).toFixed(1)} ms/top-up, open sessions ${s.journal.openSessions}, receipts ${printed})`,
  );
}
const journalSummary = rig.app.summary().journal;
// the fleet client is private to the app; the bench reaches in, as app-rig does for the devices
const fleet = (rig.app as unknown as { fleet?: { metrics(): unknown } }).fleet?.metrics();
await rig.close();
await broker?.stop();
if (broker) console.log(`fleet at the end: ${JSON.stringify(fleet)}`);
console.log(`cash box in the journal: ${journalSummary.cashBoxCents} ct (expected ${TOTAL * 500})`);
