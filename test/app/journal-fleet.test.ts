/**
 * The fleet's events told from the journal (src/app/journal-fleet.ts) on a real journal and a real
 * fleet reporter whose outbox is on disk (no broker: the events wait there, as after a power cut):
 * the records written before the reporter is up are told once it is, none twice across restarts,
 * the records of a stopped kiosk (a CLI payout) at the next start, and the outbox keeps how far the
 * journal is told through its own compaction and reopen.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import sinon from 'sinon';
import { JournalFleet, journalEventsOf, paidEventId } from '../../src/app/journal-fleet.js';
import { VoucherIssuer } from '../../src/bookkeeping/voucher-code.js';
import { payOutVoucher } from '../../src/bookkeeping/voucher-book.js';
import { replayLog } from '../../src/fleet/outbox-log.js';
import { FleetReporter } from '../../src/fleet/reporter.js';
import { Outbox } from '../../src/fleet/outbox.js';
import { Journal } from '../../src/journal/journal.js';
import { foldRecords } from '../../src/journal/state.js';
import { freePort } from '../../src/harness/kiosk-process.js';
import { silentLogger } from '../../src/util/logger.js';
import { FakeKiosk, birthFacts, healthFacts } from '../fleet/support/fake-kiosk.js';
import { tempDirs } from '../journal/helpers.js';

const ID = 'k-jf-01';
const SALE = {
  receiptNo: 'k-jf-01-00001',
  kind: 'sale' as const,
  total: 180,
  discount: 0,
  card: 0,
  terminal: 0,
  cashIn: 400,
  voucherIn: 0,
  change: 0,
  credited: 0,
  voucherOut: 220,
  returned: 180,
  vat: [{ rate: 19, gross: 180, net: 151, vat: 29 }],
};

describe('app/journal-fleet: events told from the journal, durable before the reporter is up', function () {
  this.timeout(20_000);
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());
  let url: string;
  before(async () => {
    url = `mqtt://127.0.0.1:${await freePort()}`; // nothing listens: the events stay in the outbox
  });

  const issuer = new VoucherIssuer(
    { signing: { kid: 'K1', secret: randomBytes(32) }, accepted: new Map() },
    ID,
    30,
  );

  async function run(dir: string, before: (j: Journal) => Promise<void> = async () => undefined) {
    const journal = await Journal.open(path.join(dir, 'journal'), { fsync: false });
    const feed = new JournalFleet(journal, ID, silentLogger);
    journal.onDurable((e) => feed.durable(e));
    await before(journal); // boot recovery, before the reporter
    const fleet = new FleetReporter({
      kioskId: ID,
      url,
      dataDir: path.join(dir, 'fleet'),
      port: new FakeKiosk(),
      birth: birthFacts,
      health: healthFacts,
      validateConfig: () => ({ ok: true }),
      reconnectMinMs: 60_000,
      fsync: false,
    });
    await fleet.start();
    await feed.attach(fleet);
    return {
      journal,
      async stop() {
        await feed.keepPosition();
        await fleet.stop({ drainMs: 0 });
        await journal.close();
      },
    };
  }

  const outbox = (dir: string): Array<Record<string, unknown>> =>
    [...replayLog(readFileSync(path.join(dir, 'fleet', 'outbox', 'outbox.log'))).live.values()].map((r) => ({
      ...(JSON.parse(r.body) as Record<string, unknown>),
      topic: r.topic.split('/').at(-1),
      src: r.src,
    }));
  /** The voucher events only (an unclaimed record tells its evt/cash too). */
  const vouchers = (dir: string) => outbox(dir).filter((e) => e.topic === 'voucher');

  it('the cash events come from the journal: a coin and a credit journaled but never added to the outbox before a cut are told once at the next start', async () => {
    const dir = dirs.make();
    await (await run(dir)).stop(); // a position in the outbox
    // The flow journals a coin, then the credit of a top-up; the power goes before the outbox add
    // (no reporter hears of them: the process ends after the journal write).
    const cut = await Journal.open(path.join(dir, 'journal'), { fsync: false });
    await cut.append({
      type: 'session_started',
      sessionId: 'c1',
      mode: 'topup',
      card: '9276000000002845',
      cardMasked: '9276********2845',
    });
    const coin = await cut.append({ type: 'coin_accepted', sessionId: 'c1', cents: 200, source: 'coin' });
    await cut.append({ type: 'credited', sessionId: 'c1', cents: 200, apiId: 'STX_C1' });
    await cut.close();
    const r2 = await run(dir);
    // Live, after the start: told from its record at once, with its seq.
    const live = await r2.journal.append({
      type: 'coin_accepted',
      sessionId: 'c2',
      cents: 50,
      source: 'coin',
    });
    await r2.stop();
    await (await run(dir)).stop(); // and not again at a further start
    const box = outbox(dir);
    assert.deepEqual(
      box.map((e) => [e.topic, e.action, e.amountCents, e.src]),
      [
        ['cash', 'inserted', 200, coin.seq],
        ['cash', 'credited', 200, coin.seq + 1],
        ['cash', 'inserted', 50, live.seq],
      ],
    );
    assert.deepEqual([box[1]!.transactionId, box[1]!.card], ['STX_C1', '9276********2845']);
    // A repeat (an outbox write that failed) carries the same eventId: the dashboard counts it once.
    const again = journalEventsOf([{ ...coin, seq: coin.seq }], ID);
    assert.equal(again[0]!.input.eventId, box[0]!.eventId);
  });

  it("told once: what recovery journaled before the reporter, a stopped kiosk's CLI payout at the next start", async () => {
    const dir = dirs.make();
    const code = issuer.issue(220);
    const ref = `${ID}.${code.split('.')[3]}`;
    // Run 1 (a kiosk with this outbox for the first time): only this run's records are told.
    const r1 = await run(dir, async (j) => {
      await j.append({ type: 'session_started', sessionId: 's1', mode: 'checkout' });
      await j.append({ type: 'coin_accepted', sessionId: 's1', cents: 400, source: 'coin' });
      await j.append({ type: 'unclaimed', sessionId: 's1', cents: 220, voucher: code });
      await j.append({
        type: 'receipt',
        sessionId: 's1',
        jobId: 's1:recovery-receipt:x1',
        lines: [],
        sale: SALE,
        paid: { transactionId: 'STX_1', method: 'cash', itemCount: 1 },
      });
      await j.append({ type: 'session_closed', sessionId: 's1', outcome: 'completed' });
    });
    let box = outbox(dir);
    assert.deepEqual(
      box.map((e) => [e.topic, e.action ?? e.outcome, e.amountCents]),
      [
        ['cash', 'inserted', 400],
        ['cash', 'unclaimed', 220],
        ['voucher', 'issued', 220],
        ['transaction', 'completed', 180],
      ],
    );
    assert.equal(box[3]!.eventId, paidEventId(ID, 'STX_1'), 'the same id as the flow would have sent');
    assert.equal(box[3]!.paymentMethod, 'cash');
    await r1.stop();

    // Stopped: staff pay the voucher out with the CLI (its own journal writer).
    const cli = await Journal.open(path.join(dir, 'journal'), { fsync: false });
    await payOutVoucher(cli, ref, 'Anna');
    await cli.close();

    // Run 2: the payout is told, nothing of run 1 again.
    const r2 = await run(dir);
    box = outbox(dir);
    assert.deepEqual(
      box.map((e) => [e.topic, e.action ?? e.outcome]),
      [
        ['cash', 'inserted'],
        ['cash', 'unclaimed'],
        ['voucher', 'issued'],
        ['transaction', 'completed'],
        ['voucher', 'paid_out'],
      ],
    );
    assert.deepEqual([box[4]!.voucher, box[4]!.by, box[4]!.amountCents], [ref, 'Anna', 220]);
    // Live: told at once, with its record's seq.
    await r2.journal.append({ type: 'cash_collected', cents: 400, by: 'Anna' });
    const live = await r2.journal.append({
      type: 'unclaimed',
      sessionId: 's2',
      cents: 50,
      voucher: issuer.issue(50),
    });
    await r2.stop();
    box = outbox(dir);
    assert.deepEqual(
      box.slice(5).map((e) => [e.action, e.src]),
      [
        ['unclaimed', live.seq],
        ['issued', live.seq],
      ],
    );
    // Run 3: nothing new.
    await (await run(dir)).stop();
    assert.equal(outbox(dir).length, 7);
    const ids = outbox(dir).map((e) => e.eventId);
    assert.equal(new Set(ids).size, 7);
  });

  it('an outbox that never told a record tells this run only (no history re-sent); one that names a seq the journal never reached too', async () => {
    const dir = dirs.make();
    const j = await Journal.open(path.join(dir, 'journal'), { fsync: false });
    await j.append({ type: 'unclaimed', sessionId: 'old', cents: 100, voucher: issuer.issue(100) });
    for (let i = 0; i < 5; i++) await j.append({ type: 'cash_collected', cents: 0, by: 'x' });
    await j.close();
    const r = await run(dir, async (jj) => {
      await jj.append({ type: 'unclaimed', sessionId: 'new', cents: 70, voucher: issuer.issue(70) });
    });
    await r.stop();
    assert.deepEqual(
      vouchers(dir).map((e) => e.amountCents),
      [70],
    );
    // A new journal (the old one replaced): its seqs start again below what the outbox was told.
    rmSync(path.join(dir, 'journal'), { recursive: true });
    await (
      await run(dir, async (jj) => {
        await jj.append({ type: 'unclaimed', sessionId: 'fresh', cents: 30, voucher: issuer.issue(30) });
      })
    ).stop();
    assert.deepEqual(
      vouchers(dir).map((e) => e.amountCents),
      [70, 30],
    );
  });

  it('the untold records unreadable at the start: nothing noted that run, the next start tells them (a repeat keeps its id)', async () => {
    const dir = dirs.make();
    await (await run(dir)).stop(); // a position in the outbox
    const r1 = await run(dir, async (j) => {
      await j.append({ type: 'unclaimed', sessionId: 'r', cents: 40, voucher: issuer.issue(40) });
      sinon
        .stub(j, 'entries')
        .onFirstCall()
        .callsFake(async function* () {
          yield* [];
          throw new Error('EIO');
        })
        .callThrough();
    });
    await r1.journal.append({ type: 'unclaimed', sessionId: 'l', cents: 60, voucher: issuer.issue(60) });
    await r1.stop();
    assert.deepEqual(
      vouchers(dir).map((e) => [e.amountCents, e.src]),
      [[60, undefined]],
      'the live one told without its seq',
    );
    await (await run(dir)).stop();
    const told = vouchers(dir);
    assert.deepEqual(
      told.map((e) => e.amountCents),
      [60, 40, 60],
    );
    assert.equal(told[0]!.eventId, told[2]!.eventId, 'told twice under one id: counted once');
  });

  it('the outbox keeps how far the journal is told through a compaction and a reopen; noted only once the adds are on disk', async () => {
    const dir = dirs.make();
    const box = await Outbox.open({ dir, compactBytes: 200, fsync: false });
    assert.equal(box.sourceSeq, undefined);
    const r = box.enqueue('kiosk/v1/x/evt/voucher', true, 1, () => '{"a":1}', 41);
    assert.equal(box.sourceSeq, undefined, 'not before the add is written');
    assert.equal(await r.stored, true);
    assert.equal(box.sourceSeq, 41);
    assert.equal(await box.noteSource(57), true);
    for (let i = 0; i < 20; i++)
      box.ack(box.enqueue('kiosk/v1/x/health', false, 1, () => 'x'.repeat(50)).seq);
    box.ack(r.seq);
    await box.flush();
    await box.close();
    assert.ok(
      statSync(path.join(dir, 'outbox.log')).size < 200,
      'compacted: the add record naming 41 is gone from the log',
    );
    const again = await Outbox.open({ dir, fsync: false });
    assert.equal(again.size, 0, 'everything acknowledged and compacted away');
    assert.equal(again.sourceSeq, 57);
    await again.close();
  });

  it('an add told from the journal that failed to reach the disk: the position is never raised past it in that run', async () => {
    const dir = dirs.make();
    const box = await Outbox.open({ dir, fsync: false });
    assert.equal(await box.enqueue('kiosk/v1/x/evt/voucher', true, 1, () => '{}', 5).stored, true);
    const fh = (box as unknown as { fh: FileHandle }).fh;
    const write = sinon.stub(fh, 'write').rejects(new Error('EIO'));
    assert.equal(await box.enqueue('kiosk/v1/x/evt/voucher', true, 1, () => '{}', 10).stored, false);
    write.restore();
    assert.equal(await box.enqueue('kiosk/v1/x/evt/voucher', true, 1, () => '{}', 11).stored, true);
    assert.equal(box.sourceSeq, 5, 'not 11: the event of 10 is in memory only');
    assert.equal(await box.noteSource(20), false);
    await box.close();
    const again = await Outbox.open({ dir, fsync: false });
    assert.equal(again.sourceSeq, 5, 'the add of 11 went without src: the next start reads from 5 on');
    assert.equal(again.size, 2, 'the events of 5 and 11 (the one of 10 was never on disk)');
    await again.close();
  });

  it("a recovered sale's event carries its bonus discount (discountCents), a sale without one none", () => {
    const receipt = (seq: number, tx: string, discount: number) => ({
      seq,
      ts: 0,
      type: 'receipt' as const,
      sessionId: `s${seq}`,
      jobId: `s${seq}:recovery-receipt:x`,
      lines: [],
      sale: { ...SALE, total: 500, discount, card: 778, cashIn: 0, voucherOut: 0, returned: 0 },
      paid: { transactionId: tx, method: 'card', itemCount: 3 },
    });
    const events = journalEventsOf([receipt(1, 'STX_B', 278), receipt(2, 'STX_P', 0)] as never, ID);
    assert.deepEqual(
      events
        .map((e) => e.input as { transactionId?: string; amountCents: number; discountCents?: number })
        .map((e) => [e.transactionId, e.amountCents, e.discountCents]),
      [
        ['STX_B', 778, 278],
        ['STX_P', 500, undefined],
      ],
    );
    assert.ok(
      !('discountCents' in events[1]!.input),
      'absent, not 0: a dashboard of before stays able to read it',
    );
  });

  it("a recovered sale's event carries the parts the journal's sales-value odometer counts", () => {
    // SALE: 4,00 EUR in coins for a vending sale of which 1,80 EUR was delivered (the rest a voucher).
    const receipt = {
      seq: 1,
      ts: 0,
      type: 'receipt' as const,
      sessionId: 's1',
      jobId: 's1:recovery-receipt:x',
      lines: [],
      sale: SALE,
      paid: { transactionId: 'STX_V', method: 'cash', itemCount: 1 },
    };
    const [event] = journalEventsOf([receipt] as never, ID);
    const input = event!.input as { amountCents: number; parts?: object };
    assert.equal(input.amountCents, 180);
    assert.deepEqual(input.parts, { cardBalance: 0, voucher: 0, terminal: 0, cash: 180 });
    assert.deepEqual(foldRecords([receipt] as never).lifetime.salesValue.parts, input.parts);
  });

  it('Journal.entries(afterSeq) yields only the later records and skips the older segments', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir, { fsync: false });
    const seqs: number[] = [];
    for (let i = 0; i < 30; i++) {
      seqs.push((await j.append({ type: 'cash_collected', cents: i, by: 'x' })).seq);
      if (i % 10 === 9) await j.compact();
    }
    assert.ok(j.segmentCount > 2);
    const after = seqs[25]!;
    const got: number[] = [];
    for await (const e of j.entries(after)) got.push(e.seq);
    assert.deepEqual(
      got.filter((s) => seqs.includes(s)),
      seqs.slice(26),
    );
    assert.ok(got.every((s) => s > after));
    await j.close();
  });
});
