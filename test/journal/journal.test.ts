import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { Journal, JournalError } from '../../src/journal/journal.js';
import type { JournalRecord } from '../../src/journal/state.js';
import { recordingLogger } from '../../src/util/logger.js';
import { CARD, segmentFiles, tempDirs, topUpSession } from './helpers.js';

async function collect(journal: Journal): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of journal.entries()) out.push(r);
  return out;
}

const entriesOnly = (records: JournalRecord[]) => records.filter((r) => r.type !== 'snapshot');

describe('journal: append and replay', () => {
  const dirs = tempDirs();
  afterEach(() => {
    sinon.restore();
    dirs.cleanup();
  });

  it('resolves appends with seq and ts and replays them after reopening', async () => {
    const dir = dirs.make();
    const now = () => 1_700_000_000_000;
    const j = await Journal.open(dir, { now });
    const a = await j.append({ type: 'session_started', sessionId: 's1', mode: 'topup' });
    const b = await j.append({ type: 'coin_accepted', sessionId: 's1', cents: 200, source: 'coin' });
    assert.ok(b.seq > a.seq);
    assert.equal(a.ts, 1_700_000_000_000);
    await j.close();

    const again = await Journal.open(dir, { now });
    const replayed = entriesOnly(await collect(again));
    assert.deepEqual(replayed, [a, b]);
    assert.equal(again.state.sessions.s1?.insertedCents, 200);
    await again.close();
  });

  it('keeps seq strictly increasing across restarts', async () => {
    const dir = dirs.make();
    const seqs: number[] = [];
    for (let boot = 0; boot < 4; boot++) {
      const j = await Journal.open(dir);
      for (let i = 0; i < 3; i++)
        seqs.push((await j.append({ type: 'cash_collected', cents: 0, by: 'op' })).seq);
      await j.close();
    }
    for (let i = 1; i < seqs.length; i++)
      assert.ok((seqs[i] as number) > (seqs[i - 1] as number), `seq ${i}`);
    const all = (await Journal.read(dir)).records.map((r) => r.seq);
    assert.deepEqual(
      [...all].sort((x, y) => x - y),
      all,
    );
  });

  it('rejects an entry that breaks its schema without writing or breaking anything', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir);
    await assert.rejects(
      j.append({ type: 'coin_accepted', sessionId: 's', cents: 1.5, source: 'coin' }),
      (e: unknown) => e instanceof JournalError && e.kind === 'invalid_entry',
    );
    await j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' });
    assert.equal(entriesOnly(await collect(j)).length, 1);
    await j.close();
    await assert.rejects(
      j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' }),
      (e: unknown) => e instanceof JournalError && e.kind === 'closed',
    );
  });

  it('group commit: 200 concurrent appends share one write and one fdatasync', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir);
    const syncs = sinon.spy(fs, 'fdatasync');
    const writes = sinon.spy(fs, 'write');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        j.append({ type: 'coin_accepted', sessionId: 's', cents: 10 + i, source: 'coin' }),
      ),
    );
    assert.equal(syncs.callCount, 1);
    assert.equal(writes.callCount, 1);
    assert.deepEqual(
      results.map((r) => r.seq),
      results.map((_, i) => (results[0]?.seq ?? 0) + i),
    );
    assert.equal(j.state.sessions.s?.coins, 200);
    await j.close();
  });

  it('group commit: appends arriving while a sync is in flight form the next batch', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir);
    const syncs = sinon.spy(fs, 'fdatasync');
    const first = j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' });
    await Promise.resolve(); // let the first batch start
    await new Promise((r) => setImmediate(r));
    const later = Array.from({ length: 50 }, () =>
      j.append({ type: 'coin_accepted', sessionId: 's', cents: 5, source: 'coin' }),
    );
    await Promise.all([first, ...later]);
    assert.ok(syncs.callCount <= 3, `fsyncs: ${syncs.callCount}`);
    assert.ok(syncs.callCount >= 1);
    assert.equal(j.state.sessions.s?.insertedCents, 100 + 50 * 5);
    await j.close();
  });

  it('does not resolve an append before its fdatasync completed', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir);
    const order: string[] = [];
    const real = fs.fdatasync;
    sinon.stub(fs, 'fdatasync').callsFake(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      real(fd, (err) => {
        order.push('synced');
        cb(err);
      });
    }) as typeof fs.fdatasync);
    await j
      .append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' })
      .then(() => order.push('resolved'));
    assert.deepEqual(order, ['synced', 'resolved']);
    await j.close();
  });

  it('after a failed fdatasync, rejects that batch (kind io) while syncs fail, and writes again in a fresh segment once they work', async () => {
    const dir = dirs.make();
    const alerts: string[] = [];
    const j = await Journal.open(dir, { onAlert: (a) => alerts.push(a.kind) });
    sinon.stub(fs, 'fdatasync').callsFake(((_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      cb(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    }) as typeof fs.fdatasync);
    const isIo = (e: unknown) => e instanceof JournalError && e.kind === 'io';
    await assert.rejects(
      j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' }),
      isIo,
    );
    assert.equal(j.writable, false);
    // Still failing: the next append tries a fresh segment, which cannot be synced either.
    await assert.rejects(
      j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' }),
      isIo,
    );
    assert.equal(j.state.sessions.s, undefined, 'state only holds durable entries');
    sinon.restore();
    const before = j.segmentCount;
    await j.append({ type: 'coin_accepted', sessionId: 's', cents: 200, source: 'coin' });
    assert.equal(j.writable, true);
    assert.equal(j.segmentCount, before + 1, 'never again in the file whose sync failed');
    assert.deepEqual(alerts, ['unwritable', 'writable']);
    await j.close();
    const back = await Journal.open(dir);
    assert.equal(back.state.sessions.s?.insertedCents, 200, 'only the durable coin, once');
    await back.close();
  });

  it('a write refused for space releases the reserve and goes through in a fresh segment', async () => {
    const dir = dirs.make();
    const alerts: string[] = [];
    const j = await Journal.open(dir, { reserveBytes: 8192, onAlert: (a) => alerts.push(a.kind) });
    assert.equal(fs.statSync(path.join(dir, 'space-reserve.bin')).size, 8192);
    assert.equal(j.reserveHeld, true);
    const realWrite = fs.write;
    let failed = false;
    sinon.stub(fs, 'write').callsFake(((...args: unknown[]) => {
      const cb = args[args.length - 1] as (err: NodeJS.ErrnoException | null, n?: number) => void;
      if (!failed) {
        failed = true;
        cb(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
        return;
      }
      (realWrite as (...a: unknown[]) => void)(...args);
    }) as typeof fs.write);
    await j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' });
    sinon.restore();
    assert.ok(failed);
    assert.equal(j.writable, true);
    assert.equal(j.reserveHeld, false);
    assert.deepEqual(alerts, ['unwritable', 'reserve_released', 'writable']);
    assert.equal(fs.existsSync(path.join(dir, 'space-reserve.bin')), false);
    assert.equal(await j.restoreReserve(), true);
    assert.equal(j.reserveHeld, true);
    await j.close();
    const back = await Journal.open(dir);
    assert.equal(back.state.sessions.s?.insertedCents, 100);
    await back.close();
  });

  it('never logs the full card number', async () => {
    const dir = dirs.make();
    const logger = recordingLogger();
    const j = await Journal.open(dir, { logger, segmentBytes: 4096, maxBytes: 64 * 1024 });
    for (let i = 0; i < 30; i++)
      for (const e of topUpSession(`s${i}`, 500, { close: i % 2 === 0 })) await j.append(e);
    await j.close();
    await (await Journal.open(dir, { logger })).close();
    assert.ok(logger.records.length > 0);
    assert.ok(!JSON.stringify(logger.records).includes(CARD));
    // ...but it is in the journal, for crediting after a crash (files readable by the owner only).
    const files = segmentFiles(dir);
    const text = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    assert.ok(text.includes(CARD));
    for (const f of files) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o077, 0);
  });
});
