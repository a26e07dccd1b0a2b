import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Journal, type JournalAlert } from '../../src/journal/journal.js';
import type { JournalRecord } from '../../src/journal/state.js';
import { CARD, segmentFiles, tempDirs, topUpSession } from './helpers.js';

const NOW = 1_800_000_000_000;
const now = () => NOW;

async function userEntries(j: Journal): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of j.entries()) if (r.type !== 'snapshot') out.push(r);
  return out;
}

/** A journal with one segment holding `n` single-append records; returns the file and each record's end offset. */
async function writeRecords(
  dir: string,
  n: number,
): Promise<{ file: string; ends: number[]; seqs: number[] }> {
  const j = await Journal.open(dir, { now });
  const file = path.join(dir, segmentFiles(dir)[0] as string);
  const ends: number[] = [fs.statSync(file).size];
  const seqs: number[] = [];
  const entries = topUpSession('s1', 2000, { close: false });
  for (let i = 0; i < n; i++) {
    const e = entries[i % entries.length];
    assert.ok(e);
    seqs.push((await j.append(e)).seq);
    ends.push(fs.statSync(file).size);
  }
  await j.close();
  return { file, ends, seqs };
}

describe('journal: torn writes and damage', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('a cut at EVERY byte offset of the last record: earlier records read, torn one ignored, appending works', async function () {
    this.timeout(60_000);
    const src = dirs.make();
    // 8 records: the last one is the receipt, the longest entry.
    const { file, ends, seqs } = await writeRecords(src, 8);
    const whole = fs.readFileSync(file);
    const start = ends[7] as number;
    const end = ends[8] as number;
    // The append is the record's frame and the batch's money check (the commit frame) after it.
    const recordEnd = whole.indexOf(0x0a, start) + 1;
    assert.ok(recordEnd - start > 150, 'the last record is a realistic size');
    for (let cut = start; cut < end; cut++) {
      const dir = dirs.make();
      fs.writeFileSync(path.join(dir, path.basename(file)), whole.subarray(0, cut));
      const alerts: JournalAlert[] = [];
      const j = await Journal.open(dir, { now, onAlert: (a) => alerts.push(a) });
      const got = await userEntries(j);
      // A record whose whole line reached the disk is kept even though its batch's check did not.
      const kept = cut >= recordEnd ? 8 : 7;
      assert.deepEqual(
        got.map((r) => r.seq),
        seqs.slice(0, kept),
        `cut at ${cut}`,
      );
      assert.equal(j.openReport.tornBytes, cut - (kept === 8 ? recordEnd : start), `torn bytes at ${cut}`);
      assert.deepEqual(alerts, [], `a torn tail is no alert (cut ${cut})`);
      assert.equal(j.state.sessions.s1?.receipt !== undefined, kept === 8);
      const next = await j.append({ type: 'printed', jobId: 's1:start' });
      assert.ok(next.seq > (seqs[kept - 1] as number));
      await j.close();
      const reread = await Journal.read(dir);
      assert.deepEqual(reread.damage, [], `clean after append (cut ${cut})`);
      assert.equal(reread.records.filter((r) => r.type !== 'snapshot').length, kept + 1);
      dirs.cleanup();
    }
  });

  for (const [name, garbage] of [
    ['zeros', Buffer.alloc(700)],
    ['random bytes with newlines', Buffer.from(Array.from({ length: 900 }, (_, i) => (i * 7919 + 13) % 256))],
    ['a line that looks like a frame', Buffer.from('0badc0de {"seq":99,"ts":1,"type":"coin_accepted"}\n')],
    ['a duplicate of a valid line with a flipped byte', Buffer.alloc(0)],
  ] as const) {
    it(`garbage after the last good record (${name}) is cut off, never read`, async () => {
      const dir = dirs.make();
      const { file, seqs, ends } = await writeRecords(dir, 5);
      let tail: Buffer = garbage;
      if (tail.length === 0) {
        const bytes = fs.readFileSync(file);
        tail = Buffer.from(bytes.subarray(ends[3], ends[4]));
        tail[20] = (tail[20] as number) ^ 0x01;
      }
      fs.appendFileSync(file, tail);
      const j = await Journal.open(dir, { now });
      assert.deepEqual(
        (await userEntries(j)).map((r) => r.seq),
        seqs,
      );
      assert.equal(j.openReport.tornBytes, tail.length);
      assert.equal(j.openReport.alerts.length, 0);
      await j.append({ type: 'printed', jobId: 'x' });
      await j.close();
      assert.equal(fs.readFileSync(file).subarray(ends[5]).includes(tail), false);
      assert.deepEqual((await Journal.read(dir)).damage, []);
    });
  }

  it('a batch torn with a hole (bad record, then valid records of the same unfinished batch) is dropped as torn', async () => {
    const dir = dirs.make();
    const { file, seqs } = await writeRecords(dir, 3);
    // Write a 3-record batch by hand as the journal would, then damage its first record.
    const j = await Journal.open(dir, { now, fsync: false });
    await Promise.all(
      topUpSession('s2', 500)
        .slice(0, 3)
        .map((e) => j.append(e)),
    );
    await j.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const firstOfBatch = lines.length - 5; // last 3 records + their check + '' after the final newline
    // The first record of the batch never reached the disk, the others did, the check (which
    // carries the commit mark) was cut: the batch's fsync cannot have returned.
    lines[firstOfBatch] = 'x'.repeat((lines[firstOfBatch] as string).length);
    const cutLast = lines.slice(0, -2).join('\n') + '\n' + (lines.at(-2) as string).slice(0, 40);
    fs.writeFileSync(file, cutLast);
    assert.ok(
      cutLast
        .split('\n')
        .slice(-2)[0]
        ?.match(/^[0-9a-f]{8}\+\{/),
      'a valid uncommitted record follows the hole',
    );
    const reopened = await Journal.open(dir, { now });
    assert.deepEqual(
      (await userEntries(reopened)).map((r) => r.seq),
      seqs,
    );
    assert.equal(reopened.openReport.alerts.length, 0);
    await reopened.close();
  });

  it('a corrupted coin record costs only that record: the rest kept, bytes quarantined, money kept by the check, alert', async () => {
    const dir = dirs.make();
    const { file, seqs, ends } = await writeRecords(dir, 6);
    const before = fs.readFileSync(file);
    const bytes = Buffer.from(before);
    const at = (ends[1] as number) + 30; // inside the coin record (2,000 ct)
    bytes[at] = (bytes[at] as number) ^ 0x04;
    fs.writeFileSync(file, bytes);

    const alerts: JournalAlert[] = [];
    const j = await Journal.open(dir, { now, onAlert: (a) => alerts.push(a) });
    assert.equal(alerts.length, 1);
    const alert = alerts[0];
    assert.ok(alert?.kind === 'damaged');
    assert.deepEqual(alert.sessions, ['s1']);
    assert.equal(alert.sessionCents.s1, 2000, 'the money the check proves is reported');
    assert.equal(alert.cashBoxCents, 2000);
    assert.equal(alert.mismatches.length, 1, 'the cross-check found the missing coin');
    const range = alert.files[0]?.ranges[0];
    assert.ok(range && range.start <= at && at < range.end);
    const quarantine = alert.files[0]?.quarantined[0] as string;
    assert.deepEqual(fs.readFileSync(path.join(dir, quarantine)), bytes.subarray(range.start, range.end));
    assert.deepEqual(
      (await userEntries(j)).map((r) => r.seq),
      seqs.filter((_, i) => i !== 1),
      'every valid record before and after is kept',
    );
    assert.equal(j.state.sessions.s1?.insertedCents, 2000);
    assert.equal(j.state.sessions.s1?.card, CARD, 'the card of the intact session_started is kept');
    assert.equal(j.state.sessions.s1?.damaged, true, 'flagged for the operator');
    assert.equal(j.state.cashBox.cents, 2000);
    const next = await j.append({ type: 'coin_accepted', sessionId: 's9', cents: 100, source: 'coin' });
    assert.ok(next.seq > Math.max(...seqs), 'seq never reused');
    await j.close();

    // Never a loop: the next boot is clean and keeps everything.
    const again = await Journal.open(dir, { now, onAlert: (a) => alerts.push(a) });
    assert.equal(alerts.length, 1);
    assert.equal(again.state.sessions.s9?.insertedCents, 100);
    assert.equal(again.state.sessions.s1?.insertedCents, 2000);
    assert.equal(again.state.cashBox.cents, 2100);
    await again.close();
    assert.deepEqual((await Journal.read(dir)).damage, []);
  });

  it("a corrupted voucher redemption: the check keeps the session's voucher money and the voucher used", async () => {
    const dir = dirs.make();
    const code = 'KV1.K1.KIOSK7.V42.300.0.ABCDEFGHIJKLMNOP';
    const j = await Journal.open(dir, { now });
    const file = path.join(dir, segmentFiles(dir)[0] as string);
    // The voucher was issued by an earlier session (open list), then scanned into s2.
    await j.append({ type: 'session_started', sessionId: 's1', mode: 'topup' });
    await j.append({ type: 'unclaimed', sessionId: 's1', cents: 300, voucher: code });
    await j.append({ type: 'session_closed', sessionId: 's1', outcome: 'unclaimed' });
    await j.append({ type: 'session_started', sessionId: 's2', mode: 'checkout' });
    const start = fs.statSync(file).size;
    await j.append({ type: 'voucher_redeemed', sessionId: 's2', ref: 'KIOSK7.V42', cents: 300 });
    await j.append({ type: 'coin_accepted', sessionId: 's2', cents: 50, source: 'coin' });
    assert.equal(j.state.unclaimedVouchers.length, 0, 'redeemed: no longer open');
    await j.close();

    const bytes = fs.readFileSync(file);
    const at = start + 30; // inside the voucher_redeemed record
    bytes[at] = (bytes[at] as number) ^ 0x04;
    fs.writeFileSync(file, bytes);

    const alerts: JournalAlert[] = [];
    const reopened = await Journal.open(dir, { now, onAlert: (a) => alerts.push(a) });
    const alert = alerts[0];
    assert.ok(alert?.kind === 'damaged');
    assert.deepEqual(alert.mismatches[0]?.vouchers, ['KIOSK7.V42'], 'the check names the used voucher');
    const s2 = reopened.state.sessions.s2;
    assert.equal(s2?.redeemedCents, 300, 'the voucher money the session holds is kept');
    assert.equal(s2?.insertedCents, 50);
    assert.equal(s2?.damaged, true);
    assert.ok(reopened.state.redeemedVouchers.includes('KIOSK7.V42'), 'a second scan is refused');
    assert.deepEqual(reopened.state.unclaimedVouchers, [], 'not open again for a payout');
    await reopened.close();
  });

  for (const [name, damage] of [
    ['magic', (b: Buffer) => b.write('kiosk-jXurnal', b.indexOf('kiosk-journal'))],
    ['checksum', (b: Buffer) => b.write('f', 0)],
    ['the whole header gone', (b: Buffer) => b.fill(0x20, 0, b.indexOf('\n'))],
  ] as const) {
    it(`header damage (${name}) costs only the header: records and state kept, alert`, async () => {
      const dir = dirs.make();
      const { file, seqs } = await writeRecords(dir, 4);
      const bytes = fs.readFileSync(file);
      damage(bytes);
      fs.writeFileSync(file, bytes);
      const alerts: JournalAlert[] = [];
      const j = await Journal.open(dir, { now, onAlert: (a) => alerts.push(a) });
      assert.equal(alerts.length, 1);
      assert.ok(alerts[0]?.kind === 'damaged');
      assert.equal(alerts[0].files[0]?.ranges[0]?.kind, 'bad_header');
      assert.deepEqual(
        (await userEntries(j)).map((r) => r.seq),
        seqs,
      );
      assert.equal(j.state.sessions.s1?.insertedCents, 2000);
      const next = await j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' });
      assert.ok(next.seq >= 4);
      await j.close();
      const again = await Journal.open(dir, { now });
      assert.equal(again.openReport.alerts.length, 0);
      assert.equal(again.state.cashBox.cents, 2100);
      await again.close();
    });
  }

  it('a segment of an unknown format version is moved aside whole with an alert', async () => {
    const dir = dirs.make();
    const { file } = await writeRecords(dir, 4);
    const bytes = fs.readFileSync(file);
    bytes.write('"version":2', bytes.indexOf('"version":1'));
    fs.writeFileSync(file, bytes);
    const alerts: JournalAlert[] = [];
    const j = await Journal.open(dir, { now, onAlert: (a) => alerts.push(a) });
    // The header's checksum no longer matches either: it is read as a damaged header.
    assert.equal(alerts.length, 1);
    assert.ok(alerts[0]?.kind === 'damaged' || alerts[0]?.kind === 'corrupt_segment');
    await j.close();
  });

  it('a damaged history segment: only the damaged bytes are lost, the state (from the newest snapshot) is kept', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir, { now, segmentBytes: 4096, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 20; i++)
      for (const e of topUpSession(`s${i}`, 100, { close: i !== 3 })) await j.append(e);
    await j.close();
    const files = segmentFiles(dir);
    assert.ok(files.length >= 3);
    const oldest = path.join(dir, files[0] as string);
    const bytes = fs.readFileSync(oldest);
    bytes[200] = (bytes[200] as number) ^ 0x01;
    fs.writeFileSync(oldest, bytes);
    const recordsBefore = (await Journal.read(dir)).records.length;

    const reopened = await Journal.open(dir, { now });
    const alert = reopened.openReport.alerts[0];
    assert.ok(alert?.kind === 'damaged');
    assert.equal(alert.files[0]?.file, files[0]);
    assert.equal(alert.mismatches.length, 0);
    assert.deepEqual(Object.keys(reopened.state.sessions), ['s3']);
    assert.equal(reopened.state.sessions.s3?.damaged, undefined, 'history damage touches no open session');
    assert.equal(reopened.state.lifetime.topUps.count, 20);
    assert.equal((await Journal.read(dir)).records.length, recordsBefore, 'no valid record lost');
    await reopened.close();
  });

  it('keeps at most keepCorruptFiles moved-aside files', async () => {
    const dir = dirs.make();
    for (let round = 0; round < 4; round++) {
      const j = await Journal.open(dir, { now: () => NOW + round * 1000, keepCorruptFiles: 2 });
      await j.append({ type: 'coin_accepted', sessionId: 's', cents: 100, source: 'coin' });
      await j.close();
      for (const f of segmentFiles(dir)) fs.writeFileSync(path.join(dir, f), 'not a journal\n');
    }
    await (await Journal.open(dir, { now: () => NOW + 9000, keepCorruptFiles: 2 })).close();
    assert.equal(fs.readdirSync(dir).filter((n) => n.includes('.corrupt-')).length, 2);
  });
});
