/**
 * Journal figures: appends per second with fdatasync (one at a time, and concurrent producers
 * sharing group commits), bytes per session, open/replay time for 100k entries.
 *
 *   npx tsx bench/journal.ts [--dir <path on the storage to measure>] [--entries 100000]
 *
 * The default directory is the OS temp dir: on a kiosk, point --dir at the SD card.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ReceiptLine } from '../src/api/schemas.js';
import type { EntryInput } from '../src/journal/entries.js';
import { Journal } from '../src/journal/journal.js';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, entries: { type: 'string', default: '100000' } },
});
const root = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'journal-bench-'));
const REPLAY_ENTRIES = Number(values.entries);

function receiptLines(cents: number): ReceiptLine[] {
  const euro = `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')} EUR`;
  return [
    { type: 'separator', value: { caption: 'Kundenkarte' } },
    { type: 'name-value', value: { name: 'Karte', value: '9276********2845', decoration: [] } },
    { type: 'name-value', value: { name: 'Datum', value: '22.11.2026 10:15', decoration: [] } },
    { type: 'separator', value: { caption: 'Kundenkarte Aufladung' } },
    { type: 'name-value', value: { name: 'Aufladung', value: euro, decoration: ['important'] } },
    { type: 'name-value', value: { name: 'Neues Guthaben', value: '42,10 EUR', decoration: [] } },
    { type: 'textline', value: { text: 'TA-Code: 8F3K-22QX', decoration: ['align-center'] } },
    { type: 'space' },
  ];
}

/** A top-up of 20 EUR in four coins/notes, every step answered, receipt printed: a typical session. */
function topUp(id: string): EntryInput[] {
  const apiId = `STX_${id}`;
  return [
    {
      type: 'session_started',
      sessionId: id,
      mode: 'topup',
      cardMasked: '9276********2845',
      card: '9276000011112845',
    },
    ...[500, 500, 500, 500].map((cents) => ({
      type: 'coin_accepted' as const,
      sessionId: id,
      cents,
      source: 'note',
    })),
    {
      type: 'tx_created',
      sessionId: id,
      localId: `L-${id}`,
      basket: {
        products: [
          { id: 1, desc: 'Kartenaufladung', ean: '4260447149502', quantity: 1, priceOne: 2000, tax: 0 },
        ],
      },
      amount: 2000,
    },
    { type: 'api_intent', sessionId: id, apiId: `L-${id}`, step: 'create', jobId: `${id}-1` },
    { type: 'api_outcome', jobId: `${id}-1`, result: 'ok', status: 'created', apiId },
    { type: 'api_intent', sessionId: id, apiId, step: 'start/cash', jobId: `${id}-2`, cents: 2000 },
    { type: 'api_outcome', jobId: `${id}-2`, result: 'ok', status: 'ok' },
    { type: 'receipt', sessionId: id, jobId: `${id}-2`, lines: receiptLines(2000) },
    { type: 'printed', jobId: `${id}-2` },
    { type: 'session_closed', sessionId: id, outcome: 'completed' },
  ];
}

function fresh(name: string): string {
  return path.join(root, name);
}

async function appendsPerSecond(
  sync: boolean,
  producers: number,
  seconds: number,
): Promise<{ rate: number; syncs: number }> {
  const j = await Journal.open(fresh(`rate-${sync}-${producers}`), {
    fsync: sync,
    maxBytes: 256 * 1024 * 1024,
  });
  const syncs = { n: 0 };
  const real = fs.fdatasync;
  fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    syncs.n += 1;
    real(fd, cb);
  }) as typeof fs.fdatasync;
  let count = 0;
  const until = Date.now() + seconds * 1000;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      while (Date.now() < until) {
        await j.append({ type: 'coin_accepted', sessionId: `p${p}`, cents: 200, source: 'coin' });
        count += 1;
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  fs.fdatasync = real;
  await j.close();
  return { rate: count / secs, syncs: syncs.n };
}

async function bytesPerSession(): Promise<{ perSession: number; perEntry: number }> {
  const dir = fresh('size');
  const j = await Journal.open(dir, { fsync: false, maxBytes: 256 * 1024 * 1024 });
  const before = j.bytes;
  const sessions = 200;
  let entries = 0;
  for (let i = 0; i < sessions; i++) {
    for (const e of topUp(`s${i}`)) {
      await j.append(e);
      entries += 1;
    }
  }
  const used = j.bytes - before;
  await j.close();
  return { perSession: used / sessions, perEntry: used / entries };
}

async function replay(n: number) {
  const dir = fresh('replay');
  const j = await Journal.open(dir, {
    fsync: false,
    maxBytes: 1024 * 1024 * 1024,
    segmentBytes: 4 * 1024 * 1024,
  });
  const perSession = topUp('x').length;
  let written = 0;
  for (let i = 0; written < n; i++) {
    const batch = topUp(`s${i}`).slice(0, Math.min(perSession, n - written));
    await Promise.all(batch.map((e) => j.append(e)));
    written += batch.length;
  }
  const bytes = j.bytes;
  const segments = j.segmentCount;
  await j.close();
  let t = process.hrtime.bigint();
  const opened = await Journal.open(dir, {
    fsync: false,
    maxBytes: 1024 * 1024 * 1024,
    segmentBytes: 4 * 1024 * 1024,
  });
  const openMs = Number(process.hrtime.bigint() - t) / 1e6;
  t = process.hrtime.bigint();
  let count = 0;
  for await (const r of opened.entries()) if (r.type !== 'snapshot') count += 1;
  const iterateMs = Number(process.hrtime.bigint() - t) / 1e6;
  await opened.close();
  return { bytes, segments, openMs, iterateMs, count };
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log(`journal bench — Node ${process.version}, ${os.cpus().length} CPU(s), dir ${root}`);
const seq = await appendsPerSecond(true, 1, 2);
console.log(`appends/s, fdatasync, one at a time:      ${fmt(seq.rate)}   (${fmt(seq.syncs)} fdatasyncs)`);
const conc = await appendsPerSecond(true, 32, 2);
console.log(
  `appends/s, fdatasync, 32 producers:       ${fmt(conc.rate)}   (${fmt(conc.syncs)} fdatasyncs, ${fmt(conc.rate / Math.max(1, conc.syncs / 2), 1)} appends per sync)`,
);
const nosync = await appendsPerSecond(false, 1, 1);
console.log(`appends/s, no fsync (for comparison):     ${fmt(nosync.rate)}`);
const size = await bytesPerSession();
console.log(
  `bytes per top-up session (${topUp('x').length} entries): ${fmt(size.perSession)}   (${fmt(size.perEntry)} per entry)`,
);
const r = await replay(REPLAY_ENTRIES);
console.log(
  `replay of ${fmt(r.count)} entries (${fmt(r.bytes / 1024 / 1024, 1)} MiB, ${r.segments} segments): open ${fmt(r.openMs)} ms (${fmt((r.count / r.openMs) * 1000)} entries/s), entries() ${fmt(r.iterateMs)} ms`,
);
fs.rmSync(root, { recursive: true, force: true });
