/**
 * The coin validator's event counter goes with each coin into the journal (`coin_accepted.ev`), and
 * the journal's state keeps the last one through reopening and compaction: the ccTalk driver resumes
 * after it at the next start, so a credit is never counted twice nor lost (hal/coin-acceptor/cctalk-validator.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SessionJournal } from '../../src/bookkeeping/session-journal.js';
import { Journal } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/util/logger.js';
import { flipFirst, segmentFiles, tempDirs, topUpSession } from './helpers.js';

describe('journal: the coin validator event counter', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('keeps the last ev of a coin across reopening and compaction; a coin without one leaves it', async function () {
    this.timeout(30_000);
    const dir = dirs.make();
    const opts = { now: () => 1_800_000_000_000, segmentBytes: 2048, maxBytes: 8192, fsync: false };
    let j = await Journal.open(dir, opts);
    assert.equal(j.state.acceptorEvent, undefined, 'a new journal: no resume point');
    await j.append({ type: 'session_started', sessionId: 'S1', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 100, source: 'coin', ev: 254 });
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 50, source: 'coin', ev: 255 });
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 20, source: 'note' });
    assert.equal(j.state.acceptorEvent, 255);
    await j.close();
    j = await Journal.open(dir, opts);
    assert.equal(j.state.acceptorEvent, 255, 'read back from the records');
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 200, source: 'coin', ev: 1 });
    // Enough sessions to roll segments and compact the one holding the coins into a snapshot.
    for (let i = 0; i < 60; i++) for (const e of topUpSession(`t${i}`, 100)) await j.append(e);
    await j.close();
    const text = segmentFiles(dir)
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('');
    assert.ok(!text.includes('"ev":1'), 'the coin record itself was compacted away');
    j = await Journal.open(dir, opts);
    assert.equal(j.state.acceptorEvent, 1, 'kept by the snapshot after the wrap');
    assert.equal(j.state.sessions.S1?.insertedCents, 370);
    await j.close();
  });

  it("a counter journaled without a coin (the validator's reset, a first baseline) is the resume point, until the next coin's", async () => {
    const dir = dirs.make();
    let j = await Journal.open(dir, { fsync: false });
    await j.append({ type: 'acceptor_counter', ev: 37 });
    assert.equal(j.state.acceptorEvent, 37, 'the baseline of a new journal');
    await j.append({ type: 'session_started', sessionId: 'S1', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 100, source: 'coin', ev: 38 });
    await j.append({ type: 'acceptor_counter', ev: 0 });
    assert.equal(j.state.acceptorEvent, 0, 'reset: the next credit is 1 again');
    await j.close();
    j = await Journal.open(dir, { fsync: false });
    assert.equal(j.state.acceptorEvent, 0, 'read back from the records');
    assert.equal(j.state.sessions.S1?.insertedCents, 100, 'no money in a counter record');
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 50, source: 'coin', ev: 1 });
    assert.equal(j.state.acceptorEvent, 1);
    await assert.rejects(j.append({ type: 'acceptor_counter', ev: 256 }));
    await j.close();
  });

  it("results lost past the validator's buffer: recorded for the operator, no money in it, the resume point after them", async () => {
    const dir = dirs.make();
    let j = await Journal.open(dir, { fsync: false });
    await j.append({ type: 'session_started', sessionId: 'S1', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 100, source: 'coin', ev: 3 });
    await j.append({ type: 'acceptor_lost', results: 2, ev: 5, servedSession: 'S1' });
    assert.equal(j.state.acceptorEvent, 5, 'a restart resumes after the lost ones: not recorded twice');
    await j.close();
    j = await Journal.open(dir, { fsync: false });
    assert.equal(j.state.acceptorEvent, 5);
    assert.equal(j.state.sessions.S1?.insertedCents, 100, 'no session counts a lost result');
    assert.equal(j.state.cashBox.cents, 100);
    await assert.rejects(j.append({ type: 'acceptor_lost', results: 0, ev: 5 }));
    await j.close();
  });

  it('a loss record says whose results they are where known; one written before that field still reads', async () => {
    const dir = dirs.make();
    let j = await Journal.open(dir, { fsync: false });
    // A kiosk of before: only the session served when the loss was read.
    await j.append({ type: 'acceptor_lost', results: 2, ev: 5, servedSession: 'S1' });
    const sj = new SessionJournal(j, 'topup', silentLogger);
    await sj.acceptorLost({ results: 3, ev: 9, servedSession: 'S3', readSession: 'S2', lostIn: 'unknown' });
    await sj.acceptorLost({ results: 1, ev: 11, servedSession: null, readSession: null, lostIn: 'unknown' });
    await sj.acceptorLost({ results: 1, ev: 13, servedSession: 'S4', readSession: 'S4', lostIn: 'S4' });
    await j.close();
    j = await Journal.open(dir, { fsync: false });
    assert.equal(j.state.acceptorEvent, 13);
    await j.close();
    const lost = (await Journal.read(dir)).records.flatMap((r) => {
      if (r.type !== 'acceptor_lost') return [];
      const { seq: _seq, ts: _ts, ...rest } = r;
      return [rest];
    });
    assert.deepEqual(lost, [
      { type: 'acceptor_lost', results: 2, ev: 5, servedSession: 'S1' },
      { type: 'acceptor_lost', results: 3, ev: 9, servedSession: 'S3', readSession: 'S2', lostIn: 'unknown' },
      { type: 'acceptor_lost', results: 1, ev: 11, readSession: null, lostIn: 'unknown' },
      { type: 'acceptor_lost', results: 1, ev: 13, servedSession: 'S4', readSession: 'S4', lostIn: 'S4' },
    ]);
  });

  it("a damaged coin record keeps its counter: the money check's ev is the resume point, so the coin is not read again (chaos seed 44006 run 4)", async () => {
    const dir = dirs.make();
    let j = await Journal.open(dir, { fsync: false });
    await j.append({ type: 'acceptor_counter', ev: 7 });
    await j.append({ type: 'session_started', sessionId: 'S1', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 100, source: 'coin', ev: 8 });
    await j.append({ type: 'session_started', sessionId: 'S2', mode: 'topup' });
    await j.close();
    flipFirst(dir, 'coin_accepted');
    j = await Journal.open(dir, { fsync: false });
    assert.equal(j.state.cashBox.cents, 100, 'the money check keeps the coin');
    // On the old journal the resume point fell back to 7: a validator that kept power still holds
    // event 8 in its buffer, and the driver credited those 100 ct a second time.
    assert.equal(j.state.acceptorEvent, 8, 'resumes after the damaged coin');
    await j.close();
    j = await Journal.open(dir, { fsync: false });
    assert.equal(j.state.acceptorEvent, 8, 'and so at the next open too');
    await j.close();
  });

  it('refuses an ev that is not a counter byte', async () => {
    const j = await Journal.open(dirs.make(), { fsync: false });
    await j.append({ type: 'session_started', sessionId: 'S1', mode: 'topup' });
    await assert.rejects(
      j.append({ type: 'coin_accepted', sessionId: 'S1', cents: 100, source: 'coin', ev: 256 }),
    );
    await j.close();
  });
});
