/**
 * The vending counter's money trail on a real journal (issue 15): stock from counts and releases,
 * releases and payouts cut off by a restart, units a paid session never got to, the operator's
 * settlement, and old snapshots without the vending state.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VendJournal } from '../../src/bookkeeping/vend-journal.js';
import { Journal } from '../../src/journal/journal.js';
import { emptyState, LedgerStateSchema } from '../../src/journal/state.js';
import { silentLogger } from '../../src/util/logger.js';
import { MAX_SETTLE_CENTS, SettleRefused } from '../../src/bookkeeping/vend-journal.js';
import {
  flipFirst,
  paidAtTerminal,
  paidAtTerminalBefore,
  saleOfTwo,
  segmentFiles,
  tempDirs,
} from './helpers.js';

const SLOTS = [
  { id: 'A1', product: 1, capacity: 10, initialStock: 3, lowAt: 1 },
  { id: 'A2', product: 2, capacity: 10, initialStock: 0, lowAt: 1 },
];
const COUNTERS = { event: 4, remaining: 0, paid: 2, unpaid: 0 };

/** The first of two A1 units fired (the power goes before its outcome), the second planned after it. */
async function releaseFirstOfTwo(vend: VendJournal, sessionId: string, tx: string, cents: number) {
  await vend.releaseIntent({
    sessionId,
    jobId: `${sessionId}:release-0:2`,
    slot: 'A1',
    productId: 1,
    cents,
    transactionId: tx,
    later: [{ slot: 'A1', productId: 1, cents }],
  });
}

describe('vend journal (stock, releases and payouts in the journal)', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  async function open(dir = dirs.make()) {
    const journal = await Journal.open(dir, { logger: silentLogger });
    return { dir, journal, vend: new VendJournal(journal, SLOTS, silentLogger) };
  }

  /**
   * A sale of two 249 ct units paid at the terminal, the power gone during the first release, and the
   * record of type `flip` damaged: the journal reopened.
   */
  async function paidCutInFirstRelease(sessionId: string, flip: string) {
    const first = await open();
    const tx = `STX-${sessionId}`;
    await saleOfTwo(first.journal, sessionId, tx, 249);
    await paidAtTerminal(first.journal, sessionId, tx);
    // This unit, then one more; the power goes before the first one's outcome.
    await releaseFirstOfTwo(first.vend, sessionId, tx, 249);
    await first.journal.close();
    flipFirst(first.dir, flip);
    return open(first.dir);
  }

  it('stock: initial stock until a count is journaled, minus what was delivered; a failure blocks the slot', async () => {
    const { journal, vend } = await open();
    assert.deepEqual(vend.available(), { A1: 3, A2: 0 });
    const release = { sessionId: 's1', slot: 'A1', productId: 1, cents: 180, transactionId: 'STX1' };
    await vend.releaseIntent({ ...release, jobId: 's1:release-0:1' });
    await vend.releaseOutcome('s1:release-0:1', 'delivered');
    assert.equal(vend.stockOf('A1'), 2);
    await vend.releaseIntent({ ...release, jobId: 's1:release-1:1' });
    await vend.releaseOutcome('s1:release-1:1', 'failed', 'no_confirmation', true);
    assert.equal(vend.stockOf('A1'), 2, 'a unit not delivered is still in the slot as far as the books go');
    assert.equal(vend.blockedWhy('A1'), 'no_confirmation');
    assert.deepEqual(vend.available(), { A1: 0, A2: 0 }, 'a blocked slot sells nothing');
    await vend.setStock('A1', 10, 'service');
    assert.deepEqual(vend.available(), { A1: 10, A2: 0 }, 'a count lifts the block');
    await assert.rejects(vend.setStock('A1', 11, 'service'), /0\.\.10/);
    assert.equal(journal.state.vend.delivered.count, 1);
    assert.equal(journal.state.vend.notDelivered.cents, 180);
    await journal.close();
  });

  it('a release cut off by a restart is unknown: slot blocked, stock taken, settled by the operator with a voucher', async () => {
    const first = await open();
    await first.vend.releaseIntent({
      sessionId: 's2',
      jobId: 's2:release-0:1',
      slot: 'A1',
      productId: 1,
      cents: 180,
      transactionId: null,
    });
    await first.journal.close();

    const { journal, vend } = await open(first.dir);
    assert.deepEqual(await vend.afterRestart(), { unknown: 1, notTried: 0 });
    assert.equal(vend.blockedWhy('A1'), 'release power_cut');
    assert.equal(vend.stockOf('A1'), 2, 'a unit that may be gone is not sold again');
    assert.deepEqual(
      vend.releasesInDoubt().map((r) => [r.jobId, r.outcome]),
      [['s2:release-0:1', 'unknown']],
    );
    assert.deepEqual(await vend.afterRestart(), { unknown: 0, notTried: 0 }, 'never marked twice');
    const voucher = await vend.settleRelease('s2:release-0:1', 'refunded', 'technician');
    assert.match(voucher ?? '', /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
    assert.equal(vend.releasesInDoubt().length, 0);
    assert.equal(journal.state.unclaimedVouchers.at(-1)?.cents, 180);
    await assert.rejects(
      vend.settleRelease('s2:release-0:1', 'delivered', 'technician'),
      /already settled \(refunded\)/,
    );
    await journal.close();
  });

  it('a paid session cut off before all its units were released: the rest is recorded not delivered and owed back', async () => {
    const first = await open();
    const j = first.journal;
    await j.append({ type: 'session_started', sessionId: 's3', mode: 'checkout' });
    await j.append({ type: 'coin_accepted', sessionId: 's3', cents: 500, source: 'coin' });
    await j.append({
      type: 'tx_created',
      sessionId: 's3',
      localId: 's3:create:1',
      apiId: 'STX3',
      basket: {
        products: [
          { id: 1, quantity: 2, priceOne: 180 },
          { id: 9, quantity: 1, priceOne: 100 },
        ],
      },
      amount: 460,
    });
    await j.append({
      type: 'api_intent',
      sessionId: 's3',
      apiId: 'STX3',
      step: 'start/cash',
      jobId: 's3:start:1',
      cents: 460,
    });
    await j.append({ type: 'api_outcome', jobId: 's3:start:1', result: 'ok', status: 'ok' });
    await first.vend.releaseIntent({
      sessionId: 's3',
      jobId: 's3:release-0:2',
      slot: 'A1',
      productId: 1,
      cents: 180,
      transactionId: 'STX3',
    });
    await first.vend.releaseOutcome('s3:release-0:2', 'delivered');
    await j.close();

    const { journal, vend } = await open(first.dir);
    assert.deepEqual(
      await vend.afterRestart(),
      { unknown: 0, notTried: 1 },
      'product 9 has no slot: handed over',
    );
    const s = journal.state.sessions.s3!;
    assert.equal(s.returnedCents, 180);
    assert.equal(vend.blockedWhy('A1'), null, 'a unit never tried does not block the slot');
    await journal.close();
  });

  it('the basket record damaged, the first release cut: the units planned after it are still owed back (chaos seed 5252)', async () => {
    const first = await open();
    const j = first.journal;
    await saleOfTwo(j, 's5', 'STX5', 180);
    await j.append({
      type: 'api_intent',
      sessionId: 's5',
      apiId: 'STX5',
      step: 'start/loyalty',
      jobId: 's5:start:1',
    });
    await j.append({ type: 'api_outcome', jobId: 's5:start:1', result: 'ok', status: 'ok' });
    // The machine's plan: this unit, then one more A1. The power goes before the outcome.
    await releaseFirstOfTwo(first.vend, 's5', 'STX5', 180);
    await j.close();
    flipFirst(first.dir, 'tx_created');

    const { journal, vend } = await open(first.dir);
    assert.equal(journal.state.sessions.s5?.tx, undefined, 'the basket is gone with its record');
    assert.deepEqual(await vend.afterRestart(), { unknown: 1, notTried: 1 });
    const s = journal.state.sessions.s5!;
    assert.equal(s.returnedCents, 180, 'the second unit, never tried, goes back to the customer');
    assert.equal(await vend.notServed('s5'), 0, 'recovery asking again records nothing twice');
    assert.equal(journal.state.sessions.s5!.returnedCents, 180);
    assert.equal(s.damaged, true);
    await journal.close();
  });

  it('a paid sale whose start intent record is damaged still reads paid: its untried unit goes back (chaos seed 35683)', async () => {
    const { journal, vend } = await paidCutInFirstRelease('s7', 'api_intent');
    const s = journal.state.sessions.s7!;
    assert.equal(s.paid, true, 'the outcome says the terminal took the money');
    assert.equal(s.lastStep?.step, 'start/cashless');
    assert.equal(s.lastStep?.outcome, 'ok', 'nothing in doubt to read back');
    assert.equal(journal.state.lifetime.sales.cents, 498);
    assert.deepEqual(await vend.afterRestart(), { unknown: 1, notTried: 1 });
    assert.equal(journal.state.sessions.s7!.returnedCents, 249, 'the second unit, never tried, goes back');
    await journal.close();
  });

  it('a paid sale whose session_started record is damaged (its mode unknown): its untried unit still goes back (chaos seed 45001 run 1)', async () => {
    const { journal, vend } = await paidCutInFirstRelease('s8', 'session_started');
    const s = journal.state.sessions.s8!;
    assert.equal(s.mode, undefined, 'the mode is gone with its record');
    assert.equal(s.paid, true);
    assert.deepEqual(await vend.afterRestart(), { unknown: 1, notTried: 1 });
    assert.equal(journal.state.sessions.s8!.returnedCents, 249, 'the second unit, never tried, goes back');
    await journal.close();
  });

  it('a paid cashless sale whose basket record is damaged before any release: what it paid is journaled for the operator, who settles it (chaos seed 31418 --first 3)', async () => {
    const first = await open();
    const j = first.journal;
    await saleOfTwo(j, 's10', 'STX10', 339);
    await paidAtTerminal(j, 's10', 'STX10');
    // The power goes before the first release intent.
    await j.close();
    flipFirst(first.dir, 'tx_created');

    const second = await open(first.dir);
    const s = second.journal.state.sessions.s10!;
    assert.equal(s.tx, undefined, 'the basket is gone with its record');
    assert.equal(s.paid, true);
    assert.deepEqual(await second.vend.afterRestart(), { unknown: 0, notTried: 0 });
    const jobId = 's10:recovery-goods:boot';
    assert.deepEqual(
      second.vend.unsettled().map((r) => [r.jobId, r.sessionId, r.cents, r.sale]),
      [[jobId, 's10', 678, true]],
      "the payment's outcome says what the sale cost",
    );
    await second.vend.notServed('s10');
    const records = async () => (await Journal.read(first.dir)).records;
    assert.equal((await records()).filter((r) => r.type === 'goods_unsettled').length, 1, 'journaled once');
    await second.journal.close();

    const { journal, vend } = await open(first.dir);
    assert.equal(vend.unsettled()[0]?.jobId, jobId, 'durable across a restart');
    await assert.rejects(vend.settleRelease(jobId, 'refunded', 'technician'), /still open/);
    await journal.append({ type: 'session_closed', sessionId: 's10', outcome: 'aborted' });
    assert.ok(await vend.settleRelease(jobId, 'refunded', 'technician'));
    assert.equal(journal.state.unclaimedVouchers.at(-1)?.cents, 678, 'a voucher for what it paid');
    assert.deepEqual(vend.unsettled(), []);
    assert.equal(journal.state.vend.settled[jobId]?.how, 'refunded');
    await journal.close();
  });

  /**
   * The 31418 sale (678 ct at the terminal, `tx_created` damaged before any release) with its payment
   * journaled by firmware from before the outcome repeated the amount; reopened, recovered, closed.
   */
  async function unsettledOfBefore(sessionId: string, terminalCents?: number) {
    const first = await open();
    const j = first.journal;
    const tx = `STX-${sessionId}`;
    await saleOfTwo(j, sessionId, tx, 339);
    await paidAtTerminalBefore(j, sessionId, tx);
    if (terminalCents !== undefined)
      await j.append({ type: 'terminal_payment', sessionId, apiId: tx, cents: terminalCents });
    await j.close();
    flipFirst(first.dir, 'tx_created');
    const second = await open(first.dir);
    assert.equal(second.journal.state.sessions[sessionId]?.paid, true);
    await second.vend.afterRestart();
    await second.journal.append({ type: 'session_closed', sessionId, outcome: 'aborted' });
    return { ...second, jobId: `${sessionId}:recovery-goods:boot` };
  }

  it("a paid sale of damaged records whose payment outcome names no amount (older firmware): the record says the amount is unknown, never 0 ct; a refund needs the operator's amount", async () => {
    const { dir, journal, vend, jobId } = await unsettledOfBefore('s20');
    const record = (await Journal.read(dir)).records.find((r) => r.type === 'goods_unsettled');
    assert.equal(
      record?.type === 'goods_unsettled' && record.amountUnknown,
      true,
      'said unknown in the record',
    );
    const [r] = vend.unsettled();
    assert.deepEqual([r?.jobId, r?.sale, r?.amountUnknown], [jobId, true, true]);

    // On the old code: a voucher of 0 ct (none issued, settled refunded: the customer got nothing back).
    await assert.rejects(
      vend.settleRelease(jobId, 'refunded', 'fleet'),
      (e: unknown) => e instanceof SettleRefused && e.why === 'amount' && /amount is unknown/.test(e.message),
    );
    for (const bad of [0, -100, 12.5, MAX_SETTLE_CENTS + 1, Number.NaN])
      await assert.rejects(
        vend.settleRelease(jobId, 'refunded', 'fleet', bad),
        /amount .* refused/,
        String(bad),
      );
    await assert.rejects(vend.settleRelease(jobId, 'delivered', 'fleet', 678), /delivered takes no amount/);
    assert.equal(journal.state.unclaimedVouchers.length, 0, 'nothing issued by the refusals');
    assert.equal(vend.unsettled().length, 1, 'still to settle');

    const code = await vend.settleRelease(jobId, 'refunded', 'fleet', 678);
    assert.ok(code, 'a voucher');
    assert.equal(journal.state.unclaimedVouchers.at(-1)?.cents, 678, "a voucher for the operator's amount");
    assert.equal(journal.state.vend.settled[jobId]?.cents, 678);
    assert.equal(journal.state.vend.notDelivered.cents, 678);
    const settled = (await Journal.read(dir)).records.find((x) => x.type === 'release_settled');
    assert.equal(settled?.type === 'release_settled' && settled.cents, 678, 'the amount given is journaled');
    await journal.close();
  });

  it('... delivered needs no amount; a known amount takes none', async () => {
    const unknown = await unsettledOfBefore('s21');
    assert.equal(await unknown.vend.settleRelease(unknown.jobId, 'delivered', 'fleet'), null);
    assert.equal(unknown.journal.state.vend.settled[unknown.jobId]?.how, 'delivered');
    assert.deepEqual(unknown.journal.state.unclaimedVouchers, []);
    await unknown.journal.close();

    // The card terminal's payment record survived: it names what the sale cost.
    const known = await unsettledOfBefore('s22', 678);
    const [r] = known.vend.unsettled();
    assert.deepEqual(
      [r?.cents, r?.amountUnknown],
      [678, undefined],
      "the terminal's record names the amount",
    );
    await assert.rejects(known.vend.settleRelease(known.jobId, 'refunded', 'fleet', 500), /amount is known/);
    assert.ok(await known.vend.settleRelease(known.jobId, 'refunded', 'fleet'));
    assert.equal(known.journal.state.unclaimedVouchers.at(-1)?.cents, 678);
    await known.journal.close();
  });

  it('a goods_unsettled record of 0 ct written before the amountUnknown field reads as amount unknown', async () => {
    const { journal, vend } = await open();
    await journal.append({
      type: 'goods_unsettled',
      sessionId: 's23',
      jobId: 's23:recovery-goods:boot',
      cents: 0,
    });
    assert.equal(vend.unsettled()[0]?.amountUnknown, true);
    await assert.rejects(vend.settleRelease('s23:recovery-goods:boot', 'refunded', 't'), /amount is unknown/);
    await journal.close();
  });

  it('a damaged release intent: the cross-check keeps the release counted, so a unit that may be gone is not paid back', async () => {
    const first = await open();
    const j = first.journal;
    await saleOfTwo(j, 's6', 'STX6', 180);
    await j.append({
      type: 'api_intent',
      sessionId: 's6',
      apiId: 'STX6',
      step: 'start/loyalty',
      jobId: 's6:start:1',
    });
    await j.append({ type: 'api_outcome', jobId: 's6:start:1', result: 'ok', status: 'ok' });
    const file = path.join(first.dir, segmentFiles(first.dir)[0] as string);
    const at = fs.statSync(file).size + 30;
    // The first unit was fired (the power went before its outcome); the second never tried.
    await first.vend.releaseIntent({
      sessionId: 's6',
      jobId: 's6:release-0:2',
      slot: 'A1',
      productId: 1,
      cents: 180,
      transactionId: 'STX6',
      later: [{ slot: 'A1', productId: 1, cents: 180 }],
    });
    await j.append({ type: 'coin_accepted', sessionId: 's6', cents: 10, source: 'coin' });
    await j.close();
    const bytes = fs.readFileSync(file);
    bytes[at] = (bytes[at] as number) ^ 0x04;
    fs.writeFileSync(file, bytes);

    const { journal, vend } = await open(first.dir);
    assert.equal(journal.state.sessions.s6?.releaseIntents, 1, 'the check counts the release the damage hid');
    assert.deepEqual(await vend.afterRestart(), { unknown: 0, notTried: 1 }, 'only the second unit');
    assert.equal(journal.state.sessions.s6?.returnedCents, 180, 'the fired unit is not paid back on a guess');
    await journal.close();
  });

  it('release outcomes whose intent records are damaged are folded as their intents would have been (chaos seed 41002)', async () => {
    const first = await open();
    const j = first.journal;
    await saleOfTwo(j, 's9', 'STX9', 180);
    const unit = { sessionId: 's9', slot: 'A1', productId: 1, cents: 180, transactionId: 'STX9' };
    // Refused before firing (intent and outcome in one group commit), failed, delivered, unknown.
    await first.vend.releaseRefused(
      {
        sessionId: 's9',
        jobId: 's9:release-0:1',
        slot: 'A2',
        productId: 2,
        cents: 150,
        transactionId: 'STX9',
      },
      'sold_out',
    );
    await first.vend.releaseIntent({ ...unit, jobId: 's9:release-1:1' });
    await first.vend.releaseOutcome('s9:release-1:1', 'failed', 'no_confirmation', true);
    await first.vend.releaseIntent({ ...unit, jobId: 's9:release-2:1' });
    await first.vend.releaseOutcome('s9:release-2:1', 'delivered');
    await first.vend.releaseIntent({ ...unit, jobId: 's9:release-3:1' });
    await first.vend.releaseOutcome('s9:release-3:1', 'unknown', 'driver_error');
    // Written before outcomes named their release: an anomaly, nothing counted.
    await j.append({ type: 'release_outcome', jobId: 'old:release-0:1', result: 'failed' });
    await j.close();
    flipFirst(first.dir, 'release_intent', 4);

    const { journal, vend } = await open(first.dir);
    const s = journal.state.sessions.s9!;
    assert.equal(s.returnedCents, 150 + 180, 'the refused and the failed unit are owed back');
    assert.deepEqual(
      s.undelivered?.map((u) => [u.slot, u.cents, u.outcome]),
      [
        ['A2', 150, 'failed'],
        ['A1', 180, 'failed'],
        ['A1', 180, 'unknown'],
      ],
    );
    assert.equal(s.releaseIntents, 4, 'counted by the money cross-check, not a second time by the outcomes');
    assert.deepEqual(journal.state.vend.delivered, { count: 1, cents: 180 });
    assert.deepEqual(journal.state.vend.notDelivered, { count: 2, cents: 330 });
    assert.equal(vend.stockOf('A1'), 1, 'the delivered and the unknown unit are out of the slot');
    assert.equal(vend.blockedWhy('A1'), 'release driver_error');
    assert.deepEqual(
      vend.unsettled().map((r) => [r.jobId, r.sessionId, r.slot, r.cents]),
      [['s9:release-3:1', 's9', 'A1', 180]],
      'the unknown release waits for the operator',
    );
    assert.deepEqual(await vend.afterRestart(), { unknown: 0, notTried: 0 });
    await journal.append({ type: 'session_closed', sessionId: 's9', outcome: 'completed' });
    const voucher = await vend.settleRelease('s9:release-3:1', 'refunded', 'technician');
    assert.ok(voucher);
    assert.equal(journal.state.unclaimedVouchers.at(-1)?.cents, 180);
    await journal.close();
  });

  it('change: the hopper counters are journaled with the intent; the paid cents count against the session', async () => {
    const { journal, vend } = await open();
    await journal.append({ type: 'session_started', sessionId: 's4', mode: 'checkout' });
    await journal.append({ type: 'coin_accepted', sessionId: 's4', cents: 200, source: 'coin' });
    await vend.payoutIntent('s4', 's4:change:3', 5, 10, COUNTERS);
    assert.equal(vend.payoutsInDoubt().length, 1, 'an intent alone is in doubt');
    await vend.payoutOutcome('s4', 'unknown', 0);
    assert.equal(journal.state.anomalies, 1, 'an outcome for a job never journaled is an anomaly');
    await vend.payoutOutcome('s4:change:3', 'unknown', 20);
    assert.equal(journal.state.sessions.s4!.changedCents, 20);
    assert.equal(vend.payoutsInDoubt()[0]?.outcome, 'unknown');
    // Settled later from the counters: only the difference counts.
    await vend.payoutOutcome('s4:change:3', 'short', 30, { fault: 'empty' });
    assert.equal(journal.state.sessions.s4!.changedCents, 30);
    assert.equal(vend.payoutsInDoubt().length, 0);
    assert.equal(journal.state.vend.change.cents, 30);
    await journal.close();
  });

  it('change whose intent record is damaged still counts (once, when settled later); a damaged outcome leaves its payout in doubt (chaos seed 31418)', async () => {
    const first = await open();
    const j = first.journal;
    await first.vend.hopperFilled(100, 10, 'technician');
    await j.append({ type: 'session_started', sessionId: 's7', mode: 'checkout' });
    await j.append({ type: 'session_started', sessionId: 's8', mode: 'checkout' });
    await first.vend.payoutIntent('s7', 's7:change:1', 5, 10, COUNTERS);
    await first.vend.payoutOutcome('s7:change:1', 'unknown', 20);
    await first.vend.payoutOutcome('s7:change:1', 'short', 30, { fault: 'empty' });
    await first.vend.payoutIntent('s8', 's8:change:1', 4, 10, COUNTERS);
    await first.vend.payoutOutcome('s8:change:1', 'complete', 40);
    assert.equal(first.vend.hopperCoins(), 93);
    await j.close();
    const file = path.join(first.dir, segmentFiles(first.dir)[0] as string);
    const bytes = fs.readFileSync(file);
    const intent = bytes.indexOf('"payout_intent"') + 3; // s7's
    const outcome = bytes.lastIndexOf('"payout_outcome"') + 3; // s8's
    for (const at of [intent, outcome]) bytes[at] = (bytes[at] as number) ^ 0x04;
    fs.writeFileSync(file, bytes);

    const { journal, vend } = await open(first.dir);
    assert.equal(journal.openReport.alerts[0]?.kind, 'damaged');
    const s7 = journal.state.sessions.s7!;
    assert.equal(s7.changedCents, 30, 'the most the hopper said it paid, not 20 + 30');
    assert.deepEqual(
      vend.payoutsInDoubt().map((p) => [p.jobId, p.outcome]),
      [['s8:change:1', undefined]],
      "s8's payout is settled from the hopper's counters, never guessed",
    );
    assert.equal(journal.state.sessions.s8!.changedCents, undefined, 'nothing counted for s8 before that');
    assert.deepEqual(journal.state.vend.change, { count: 1, cents: 30 });
    assert.equal(vend.hopperCoins(), 97, 'the 3 coins of s7 left the hopper');
    await journal.close();
  });

  it("the hopper's books: unknown until a fill, then fills, payouts and take-outs; never more out than they hold", async () => {
    const { journal, vend } = await open();
    assert.equal(vend.hopperCoins(), null, 'what was put in before the journal is not known');
    await vend.hopperFilled(100, 10, 'technician');
    assert.equal(vend.hopperCoins(), 100);
    await journal.append({ type: 'session_started', sessionId: 's5', mode: 'checkout' });
    await vend.payoutIntent('s5', 's5:change:1', 3, 10, COUNTERS);
    await vend.payoutOutcome('s5:change:1', 'unknown', 20);
    assert.equal(vend.hopperCoins(), 98, 'the least paid so far');
    await vend.payoutOutcome('s5:change:1', 'complete', 30);
    assert.equal(vend.hopperCoins(), 97, 'only the difference when settled later');
    await assert.rejects(vend.hopperFilled(-98, 10, 'technician'), /hold 97 coins, not 98/);
    await assert.rejects(vend.hopperFilled(0, 10, 'technician'), /not 0/);
    await vend.hopperFilled(-97, 10, 'technician');
    assert.equal(vend.hopperCoins(), 0);
    assert.deepEqual(journal.state.vend.hopper.filled, { count: 1, cents: 1000 });
    assert.deepEqual(journal.state.vend.hopper.emptied, { count: 1, cents: 970 });
    await journal.close();
  });

  it('a snapshot written before the vending state reads with an empty one', () => {
    const old = emptyState() as Partial<ReturnType<typeof emptyState>>;
    delete old.vend;
    const parsed = LedgerStateSchema.parse(old);
    assert.deepEqual(parsed.vend.slots, {});
    assert.equal(parsed.vend.delivered.count, 0);
    const before = emptyState();
    delete (before.vend as Partial<typeof before.vend>).hopper;
    delete (before.vend as Partial<typeof before.vend>).settled;
    const older = LedgerStateSchema.parse(before);
    assert.equal(older.vend.hopper.coins, null, 'a vending state before the hopper books');
    assert.deepEqual(older.vend.settled, {});
  });
});
