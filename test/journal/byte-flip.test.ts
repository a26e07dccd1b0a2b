import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unsettledCents } from '../../src/journal/interruption.js';
import { Journal, type JournalAlert } from '../../src/journal/journal.js';
import { CARD, segmentFiles } from './helpers.js';

const NOW = 1_800_000_000_000;
const now = () => NOW;
// tmpfs where there is one, and no fdatasync (the repair's durability is not what is tested here):
// thousands of opens.
const ROOT = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

/**
 * A small journal: session a (a coin recorded as unclaimed, closed), session b (card scanned, 200 + 100 ct in
 * two batches, a create sent in one batch of two records), left open. Returns the file's bytes.
 */
async function smallJournal(dir: string): Promise<Buffer> {
  const j = await Journal.open(dir, { now });
  await j.append({ type: 'session_started', sessionId: 'a', mode: 'topup' });
  await j.append({ type: 'coin_accepted', sessionId: 'a', cents: 500, source: 'coin' });
  await j.append({ type: 'unclaimed', sessionId: 'a', cents: 500, voucher: 'V-1' });
  await j.append({ type: 'session_closed', sessionId: 'a', outcome: 'unclaimed' });
  await j.append({ type: 'session_started', sessionId: 'b', mode: 'topup', cardMasked: 'x', card: CARD });
  await j.append({ type: 'coin_accepted', sessionId: 'b', cents: 200, source: 'coin' });
  await j.append({ type: 'coin_accepted', sessionId: 'b', cents: 100, source: 'coin' });
  await Promise.all([
    j.append({
      type: 'tx_created',
      sessionId: 'b',
      localId: 'L-b',
      basket: { products: [{ id: 1, desc: 'Aufladung', ean: '1', quantity: 1, priceOne: 300, tax: 0 }] },
      amount: 300,
    }),
    j.append({ type: 'api_intent', sessionId: 'b', apiId: 'L-b', step: 'create', jobId: 'b:create' }),
  ]);
  await j.close();
  return fs.readFileSync(path.join(dir, segmentFiles(dir)[0] as string));
}

/** [start, end) of each line (frame) of the file, and the seq it carries (undefined: header, check). */
function framesOf(bytes: Buffer): Array<{ start: number; end: number; seq: number | undefined }> {
  const out: Array<{ start: number; end: number; seq: number | undefined }> = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start) + 1;
    const value = JSON.parse(bytes.subarray(start + 9, end - 1).toString('utf8')) as { seq?: number };
    out.push({ start, end, seq: value.seq });
    start = end;
  }
  return out;
}

describe('journal: a byte flipped at every offset of a small journal', function () {
  this.timeout(600_000);
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(ROOT, 'journal-flip-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('no valid record lost, the open session keeps its money and card-or-flag, an alert raised, next boot clean', async () => {
    const clean = await smallJournal(path.join(root, 'clean'));
    const frames = framesOf(clean);
    const name = segmentFiles(path.join(root, 'clean'))[0] as string;
    const last = frames[frames.length - 1];
    assert.ok(last && last.seq === undefined, 'the last frame is a money check');
    // A torn last write takes its whole batch (it was never acknowledged): the frames after the previous commit.
    const lastBatch =
      frames.findLastIndex((f, i) => i > 0 && i < frames.length - 1 && f.seq === undefined) + 1;
    let alerted = 0;
    let repairedLines = 0;
    for (let offset = 0; offset < clean.length; offset++) {
      // Every 7th offset also with a torn last write after the damage (corrupted and torn).
      for (const torn of offset % 7 === 0 ? [false, true] : [false]) {
        const dir = path.join(root, `o${offset}${torn ? 't' : ''}`);
        fs.mkdirSync(dir);
        const bytes = Buffer.from(clean);
        bytes[offset] = (bytes[offset] as number) ^ 0x01;
        const cutAt = torn ? bytes.length - 3 : bytes.length;
        fs.writeFileSync(path.join(dir, name), bytes.subarray(0, cutAt));
        const where = `offset ${offset}${torn ? ' (torn)' : ''}`;
        const hit = frames.findIndex((f) => f.start <= offset && offset < f.end);
        const alerts: JournalAlert[] = [];
        const j = await Journal.open(dir, { now, fsync: false, onAlert: (a) => alerts.push(a) });
        const seqs = new Set<number>();
        for await (const r of j.entries()) if (r.type !== 'snapshot') seqs.add(r.seq);
        frames.forEach((f, i) => {
          if (i === hit || f.seq === undefined || f.seq === 0) return;
          if (torn && i >= lastBatch) return;
          assert.ok(seqs.has(f.seq), `${where}: record seq ${f.seq} (line ${i}) lost`);
        });
        if (hit >= 0 && frames[hit]?.seq !== undefined && seqs.has(frames[hit].seq)) repairedLines += 1;
        const b = j.state.sessions.b;
        assert.ok(b, `${where}: the open session is kept`);
        assert.equal(b.insertedCents, 300, `${where}: its money`);
        assert.equal(unsettledCents(b), 300, `${where}: what recovery settles`);
        assert.ok(b.card === CARD || b.damaged === true, `${where}: card kept, or the session flagged`);
        assert.equal(j.state.sessions.a, undefined, `${where}: the closed session stays closed`);
        assert.equal(j.state.cashBox.cents, 800, `${where}: cash box`);
        // Damage in the final check, or from the last commit on when the last write was torn, is a torn
        // tail: nothing acknowledged is lost (the check before a torn batch carries no entry).
        const tornTail = hit === frames.length - 1 || (torn && hit >= lastBatch - 1);
        if (!tornTail) {
          assert.equal(alerts.length, 1, `${where}: one alert`);
          alerted += 1;
          const alert = alerts[0];
          assert.ok(alert?.kind === 'damaged', `${where}: alert kind`);
          if (b.damaged) assert.equal(alert.sessionCents.b, 300, `${where}: the money known is reported`);
        }
        await j.close();
        const again = await Journal.open(dir, { now, fsync: false });
        assert.equal(again.openReport.alerts.length, 0, `${where}: next boot clean`);
        assert.equal(again.state.sessions.b?.insertedCents, 300, `${where}: money after the next boot`);
        assert.equal(again.state.cashBox.cents, 800);
        await again.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.ok(alerted > clean.length * 0.9, `alerts at almost every offset (${alerted})`);
    assert.ok(repairedLines > 0, 'a flipped newline costs nothing');
  });
});
