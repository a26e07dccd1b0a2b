import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { EntryInput, JournalEntry } from '../../src/journal/entries.js';
import { Journal, type JournalAlert } from '../../src/journal/journal.js';
import { foldRecords, type LedgerState } from '../../src/journal/state.js';
import { segmentFiles, tempDirs, topUpSession, totalBytes } from './helpers.js';

const DAY = 86_400_000;
const T0 = 1_800_000_000_000;

/** The parts of the state that must survive any compaction (lastSeq moves with snapshots). */
function essentials(s: Readonly<LedgerState>) {
  return {
    sessions: s.sessions,
    lifetime: s.lifetime,
    sinceCollection: s.sinceCollection,
    cashBox: s.cashBox,
    unclaimedVouchers: s.unclaimedVouchers,
    lastCollection: s.lastCollection,
  };
}

describe('journal: segments, compaction, retention', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('rotation keeps open sessions and counters: state after reopen equals the fold of everything ever written', async function () {
    this.timeout(60_000); // 3,000 appends and two opens: ~4 s alone, more on a loaded machine
    const dir = dirs.make();
    const opts = { now: () => T0, segmentBytes: 4096, maxBytes: 16 * 1024, fsync: false };
    let j = await Journal.open(dir, opts);
    const written: JournalEntry[] = [];
    const add = async (e: EntryInput) => written.push(await j.append(e));
    // One session stays open from the very first segment through every rotation.
    for (const e of topUpSession('early', 1500, { close: false }).slice(0, 6)) await add(e);
    for (let i = 0; i < 300; i++) {
      for (const e of topUpSession(`s${i}`, 100 + i, { close: i % 50 !== 7 })) await add(e);
      if (i === 120) await add({ type: 'cash_collected', cents: 5000, by: 'op' });
      if (i === 150) await add({ type: 'unclaimed', sessionId: 's150', cents: 250, voucher: 'V-150' });
      if (i === 200) {
        await j.close(); // a restart in the middle
        j = await Journal.open(dir, opts);
      }
    }
    const liveState = j.state;
    await j.close();
    assert.ok(Number(/\d+/.exec(segmentFiles(dir).at(-1) ?? '')?.[0]) > 5, 'rotated several times');
    const reference = foldRecords(written);
    assert.deepEqual(essentials(liveState), essentials(reference));
    const reopened = await Journal.open(dir, opts);
    assert.deepEqual(essentials(reopened.state), essentials(reference));
    assert.equal(reopened.state.sessions.early?.insertedCents, 1500);
    assert.equal(reopened.state.sessions.early?.lastStep?.step, 'start/cash');
    assert.equal(reopened.state.lifetime.topUps.count, 300);
    // History is gone past the budget, but nothing the state needs.
    const stillOnDisk = [];
    for await (const r of reopened.entries()) stillOnDisk.push(r);
    assert.ok(!stillOnDisk.some((r) => r.type === 'session_started' && r.sessionId === 'early'));
    await reopened.close();
  });

  it('stays within maxBytes + one segment over 10,000 sessions, and the counters are exact', async function () {
    this.timeout(120_000);
    const dir = dirs.make();
    const maxBytes = 256 * 1024;
    const segmentBytes = 32 * 1024;
    const j = await Journal.open(dir, { now: () => T0, maxBytes, segmentBytes, fsync: false });
    for (const e of topUpSession('stuck', 2000, { close: false }).slice(0, 2)) await j.append(e);
    let peak = 0;
    for (let i = 0; i < 10_000; i++) {
      await Promise.all(topUpSession(`s${i}`, 200).map((e) => j.append(e)));
      if (i % 25 === 0) {
        peak = Math.max(peak, totalBytes(dir));
        assert.equal(j.bytes, totalBytes(dir), 'the journal knows its size');
      }
    }
    await j.close();
    const slack = 4096; // one batch (a session's entries) may cross the segment line
    assert.ok(peak <= maxBytes + segmentBytes + slack, `peak ${peak}`);
    assert.ok(peak > maxBytes / 2, `the budget was really exercised (peak ${peak})`);
    const reopened = await Journal.open(dir, { now: () => T0, maxBytes, segmentBytes });
    assert.deepEqual(reopened.state.lifetime.topUps, { count: 10_000, cents: 2_000_000 });
    assert.deepEqual(reopened.state.lifetime.cashIn, { count: 10_001, cents: 2_002_000 });
    assert.equal(reopened.state.sessions.stuck?.insertedCents, 2000);
    assert.equal(Object.keys(reopened.state.sessions).length, 1);
    await reopened.close();
  });

  it('drops finished sessions older than maxAgeDays, keeps the open ones and the counters', async () => {
    const dir = dirs.make();
    let now = T0;
    const opts = {
      now: () => now,
      maxAgeDays: 30,
      maxBytes: 1024 * 1024,
      segmentBytes: 64 * 1024,
      fsync: false,
    };
    const j = await Journal.open(dir, opts);
    for (const e of topUpSession('old-done', 1000)) await j.append(e);
    for (const e of topUpSession('old-open', 700, { close: false }).slice(0, 2)) await j.append(e);
    now = T0 + 10 * DAY;
    for (const e of topUpSession('mid', 300)) await j.append(e);
    now = T0 + 31 * DAY; // the first entries are past 30 days; the active segment is older than 15 days
    for (const e of topUpSession('new', 500)) await j.append(e);
    now = T0 + 45 * DAY; // the segment holding 'mid' (newest entry day 31) is not 30 days old yet
    await j.append({ type: 'cash_collected', cents: 0, by: 'op' });
    const ids = new Set<string>();
    for await (const r of j.entries()) if ('sessionId' in r) ids.add(r.sessionId);
    assert.ok(!ids.has('old-done'), 'finished and older than maxAge: gone');
    assert.ok(ids.has('new'));
    assert.equal(j.state.sessions['old-open']?.insertedCents, 700, 'open money never dropped');
    assert.equal(j.state.lifetime.topUps.count, 3);
    await j.close();
    now = T0 + 200 * DAY;
    const later = await Journal.open(dir, opts);
    const left: string[] = [];
    for await (const r of later.entries()) if (r.type !== 'snapshot') left.push(r.type);
    assert.deepEqual(left, [], 'a reboot after a long pause applies retention too');
    assert.equal(later.state.sessions['old-open']?.insertedCents, 700);
    await later.close();
  });

  it('never drops open money even when the open state alone exceeds maxBytes (alert instead)', async () => {
    const dir = dirs.make();
    const alerts: JournalAlert[] = [];
    const opts = {
      now: () => T0,
      maxBytes: 16 * 1024,
      segmentBytes: 4096,
      fsync: false,
      onAlert: (a: JournalAlert) => alerts.push(a),
    };
    const j = await Journal.open(dir, opts);
    for (let i = 0; i < 150; i++)
      await j.append({ type: 'coin_accepted', sessionId: `open-${i}`, cents: 100, source: 'coin' });
    await j.compact();
    await j.close();
    assert.ok(alerts.some((a) => a.kind === 'over_budget'));
    const reopened = await Journal.open(dir, opts);
    assert.equal(Object.keys(reopened.state.sessions).length, 150);
    assert.equal(reopened.state.cashBox.cents, 15_000);
    await reopened.close();
  });

  it('a crash during rotation leaves a usable journal (stray .tmp removed, both segments read)', async () => {
    const dir = dirs.make();
    const opts = { now: () => T0, fsync: false };
    const j = await Journal.open(dir, opts);
    for (const e of topUpSession('a', 100, { close: false })) await j.append(e);
    await j.compact(); // segment 2 exists with a snapshot; segment 1 stays as history
    await j.append({ type: 'coin_accepted', sessionId: 'a', cents: 50, source: 'coin' });
    await j.close();
    fs.writeFileSync(path.join(dir, 'journal-000003.log.tmp'), 'half a head');
    const reopened = await Journal.open(dir, opts);
    assert.ok(!fs.readdirSync(dir).some((n) => n.endsWith('.tmp')));
    assert.equal(reopened.state.sessions.a?.insertedCents, 150);
    assert.equal(reopened.openReport.alerts.length, 0);
    await reopened.close();
  });
});
