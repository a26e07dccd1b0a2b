/** The reconciliation finds what it claims to find, and the PRNG repeats itself. */
import assert from 'node:assert/strict';
import { reconcile, type FleetEventView, type LedgerFileView } from '../../src/chaos/books.js';
import { Rng } from '../../src/util/prng.js';
import { ledgerOf, payout, reversal } from './ledger-fixture.js';
import type { EntryInput } from '../../src/journal/entries.js';
import { foldRecords, type JournalRecord } from '../../src/journal/state.js';

function journal(entries: EntryInput[]) {
  const records = entries.map((e, i) => ({ ...e, seq: i + 1, ts: i }) as JournalRecord);
  return { records, state: foldRecords(records) };
}
function ledger(sales: Array<{ tx: string; ref: string; collected: number }>): LedgerFileView {
  return {
    cards: {},
    transactions: Object.fromEntries(
      sales.map((s) => [s.tx, { id: s.tx, status: 'ok', transactionRef: s.ref, card: null }]),
    ),
    sales: sales.map((s) => ({
      txId: s.tx,
      method: 'cash',
      collected: s.collected,
      redeemed: 0,
      loaded: s.collected,
      cancelled: false,
    })),
  };
}
const coins = (sessionId: string, ...cents: number[]): EntryInput[] => [
  { type: 'session_started', sessionId, mode: 'topup' },
  ...cents.map((c) => ({ type: 'coin_accepted' as const, sessionId, cents: c, source: 'coin' })),
];
const closed = (sessionId: string): EntryInput => ({
  type: 'session_closed',
  sessionId,
  outcome: 'completed',
});

describe('chaos books: reconciliation', () => {
  it('balanced books: paid + credited + unclaimed = inserted, nothing found', () => {
    const r = reconcile({
      acceptor: { cents: 900, coins: 3, unconfirmedAtKill: 0 },
      journal: journal([
        ...coins('s1', 500),
        closed('s1'),
        ...coins('s2', 200, 200),
        { type: 'credited', sessionId: 's2', cents: 300, apiId: 'T2' },
        { type: 'unclaimed', sessionId: 's2', cents: 100, voucher: 'V1' },
        closed('s2'),
      ]),
      ledger: ledger([
        { tx: 'T1', ref: 's1:create:0', collected: 500 },
        { tx: 'T2', ref: 's2:credit:3', collected: 300 },
      ]),
    });
    assert.deepEqual(
      [r.lostCents, r.doubleCharges, r.overBookedCents, r.paidCash, r.creditedCash, r.unclaimed, r.findings],
      [0, 0, 0, 500, 300, 100, []],
    );
  });

  it('finds lost cents, a double charge, over-booking, an open session and a coin never journaled', () => {
    const r = reconcile({
      acceptor: { cents: 1250, coins: 5, unconfirmedAtKill: 0 },
      journal: journal([
        ...coins('lost', 300),
        closed('lost'),
        ...coins('twice', 500),
        closed('twice'),
        ...coins('over', 200),
        { type: 'credited', sessionId: 'over', cents: 200, apiId: 'D' },
        { type: 'unclaimed', sessionId: 'over', cents: 200, voucher: 'V2' },
        closed('over'),
        ...coins('open', 200),
      ]),
      ledger: ledger([
        { tx: 'A', ref: 'lost:create:0', collected: 100 },
        { tx: 'B', ref: 'twice:create:0', collected: 500 },
        { tx: 'C', ref: 'twice:create:1', collected: 500 },
        { tx: 'D', ref: 'over:credit:2', collected: 200 },
      ]),
    });
    assert.equal(r.lostCents, 200 + 50, 'the session shortfall plus the unjournaled coin');
    assert.equal(r.doubleCharges, 1);
    assert.equal(r.overBookedCents, 500 + 200);
    assert.equal(r.openSessions, 1);
    assert.deepEqual(
      r.findings.map((f) => /lost|paid 2 times|over-booked|still open|never journaled/.exec(f)?.[0]),
      ['lost', 'paid 2 times', 'over-booked', 'over-booked', 'still open', 'never journaled'],
    );
  });

  it('a coin in flight at a power cut is reported apart, not as lost; a voided voucher no longer counts', () => {
    const r = reconcile({
      acceptor: { cents: 600, coins: 2, unconfirmedAtKill: 100 },
      journal: journal([
        ...coins('s', 500),
        { type: 'unclaimed', sessionId: 's', cents: 500, voucher: 'V' },
        { type: 'unclaimed_settled', voucher: 'V', how: 'credited', by: 'recovery:payment-took-effect' },
        closed('s'),
      ]),
      ledger: ledger([{ tx: 'T', ref: 's:create:0', collected: 500 }]),
    });
    assert.deepEqual([r.lostCents, r.inFlightAtKill, r.voided, r.overBookedCents], [0, 100, 500, 0]);
  });
});

describe('chaos books: card terminal, goods, fleet, damaged records', () => {
  const tx = (id: string, ref: string, method: string, collected: number, units = 0) => ({
    id,
    ref,
    method,
    collected,
    units,
  });
  const started = (sessionId: string): EntryInput => ({
    type: 'session_started',
    sessionId,
    mode: 'checkout',
  });

  it('a cashless session without coins is in the books; a second terminal charge is a double charge', () => {
    const r = reconcile({
      journal: journal([started('t1'), closed('t1'), started('t2'), closed('t2')]),
      ledger: ledgerOf([
        tx('A', 't1:create:0', 'cashless', 349),
        tx('B', 't2:create:0', 'cashless', 180),
        tx('C', 't2:create:1', 'cashless', 180),
      ]),
    });
    assert.equal(r.terminalSessions, 2);
    assert.equal(r.terminalCents, 709);
    assert.equal(r.paidCash, 0, 'terminal money is not cash');
    assert.equal(r.doubleCharges, 1);
    assert.deepEqual(r.findings, ['session t2 paid 2 times (2 at the card terminal)']);
  });

  it('goods: a unit released without payment and a paid unit neither released nor refunded are found; change and returns balance', () => {
    const r = reconcile({
      goods: true,
      journal: journal([
        // Paid 2 units with 500 ct: one delivered, one failed (180 back), 320 change + 180 = 500 paid out.
        ...coins('ok', 500),
        { type: 'release_intent', sessionId: 'ok', jobId: 'ok:r:1', slot: 'A1', productId: 1, cents: 100 },
        { type: 'release_outcome', jobId: 'ok:r:1', result: 'delivered' },
        { type: 'release_intent', sessionId: 'ok', jobId: 'ok:r:2', slot: 'A1', productId: 1, cents: 100 },
        { type: 'release_outcome', jobId: 'ok:r:2', result: 'failed', reason: 'no_confirmation' },
        ...payout('ok', 'ok:p:1', 400),
        closed('ok'),
        // Nothing paid, one released.
        started('free'),
        { type: 'release_intent', sessionId: 'free', jobId: 'free:r:1', slot: 'A2', productId: 2, cents: 99 },
        { type: 'release_outcome', jobId: 'free:r:1', result: 'delivered' },
        closed('free'),
        // Paid at the terminal, never released, nothing given back.
        started('none'),
        closed('none'),
      ]),
      ledger: ledgerOf([
        tx('P', 'ok:create:0', 'cash', 200, 2),
        tx('Q', 'none:create:0', 'cashless', 100, 1),
      ]),
    });
    assert.deepEqual(r.goods, {
      unitsPaid: 3,
      delivered: 2,
      failed: 1,
      inDoubt: 0,
      releasedWithoutPayment: 1,
      paidWithoutGoods: 1,
    });
    assert.deepEqual([r.lostCents, r.overBookedCents, r.changed, r.returned], [0, 0, 400, 100]);
  });

  it("the hopper's own count against the journal's payouts: coins out but booked unknown are over-booked, booked but never out are lost", () => {
    // A payout cut by a power cut and settled 'unknown' with 0 ct while 3 coins came out.
    const cutPayout = (sessionId: string, paidCents: number): EntryInput[] => [
      ...coins(sessionId, 100),
      {
        type: 'payout_intent',
        sessionId,
        jobId: `${sessionId}:p:1`,
        coins: 5,
        coinCents: 10,
        before: { event: 1, remaining: 0, paid: 0, unpaid: 0 },
      },
      { type: 'payout_outcome', jobId: `${sessionId}:p:1`, result: 'short', paidCents },
      { type: 'unclaimed', sessionId, cents: 100 - paidCents, voucher: `V-${sessionId}` },
      closed(sessionId),
    ];
    const books = (paidCents: number, hopperPaidCents?: number) =>
      reconcile({
        goods: true,
        journal: journal(cutPayout('s', paidCents)),
        ledger: ledgerOf([]),
        ...(hopperPaidCents === undefined ? {} : { hopperPaidCents }),
      });
    const right = books(30, 30);
    assert.deepEqual([right.findings, right.changed], [[], 30]);
    const under = books(0, 30);
    assert.equal(under.overBookedCents, 30);
    assert.match(under.findings.join('\n'), /hopper paid 30 ct, the journal's payouts say 0 ct/);
    const over = books(30, 0);
    assert.equal(over.lostCents, 30);
    assert.equal(books(0).findings.length, 0, 'without the hopper count nothing can be seen');
  });

  it('a terminal payment reversed because its goods were not served: no money owed, no goods missing', () => {
    const l = ledgerOf([tx('R', 'rv:create:0', 'cashless', 180, 1)]);
    l.sales[0]!.cancelled = true;
    const r = reconcile({
      goods: true,
      journal: journal([
        started('rv'),
        { type: 'release_intent', sessionId: 'rv', jobId: 'rv:r:1', slot: 'A1', productId: 1, cents: 180 },
        { type: 'release_outcome', jobId: 'rv:r:1', result: 'failed', reason: 'no_confirmation' },
        ...reversal('rv', 'rv:t:1', 180),
        closed('rv'),
      ]),
      ledger: l,
    });
    assert.deepEqual([r.lostCents, r.overBookedCents, r.reversed, r.findings], [0, 0, 180, []]);
    assert.deepEqual([r.goods?.unitsPaid, r.goods?.failed, r.goods?.paidWithoutGoods], [1, 1, 0]);
  });

  it('a record the harness damaged is given back to the books; the fleet book finds a missing and a doubled event', () => {
    const j = journal([...coins('s', 200, 500), closed('s')]);
    const lostCoin = j.records[2]!;
    const r = reconcile({
      acceptor: { cents: 700, coins: 2, unconfirmedAtKill: 0 },
      journal: { records: j.records.filter((x) => x !== lostCoin), state: j.state },
      damaged: [lostCoin],
      ledger: ledger([{ tx: 'T', ref: 's:credit:0', collected: 700 }]),
      fleet: {
        events: [
          { eventId: 'e1', type: 'cash', action: 'inserted', amountCents: 200 },
          { eventId: 'e1', type: 'cash', action: 'inserted', amountCents: 200 },
          { eventId: 'e2', type: 'cash', action: 'inserted', amountCents: 200 },
        ],
        mustArrive: [200, 500],
      },
    });
    assert.equal(r.restoredRecords, 1);
    assert.equal(r.lostCents, 0);
    assert.deepEqual(r.fleet, { distinct: 2, redelivered: 1, missing: 1, extra: 1 });
  });

  it("the fleet book: a sale recovery found paid (its receipt's `paid`) must reach the fleet", () => {
    const j = journal([
      {
        type: 'receipt',
        sessionId: 's',
        jobId: 's:recovery-receipt:1',
        lines: [],
        paid: { transactionId: 'STX_R', method: 'cash', itemCount: 1 },
      },
      closed('s'),
    ]);
    const book = (events: FleetEventView[]) =>
      reconcile({
        acceptor: { cents: 0, coins: 0, unconfirmedAtKill: 0 },
        journal: j,
        ledger: ledger([]),
        fleet: { events, mustArrive: [] },
      });
    const lost = book([]);
    assert.equal(lost.fleet?.missing, 1);
    assert.match(lost.findings.join('\n'), /STX_R recovery found paid never reached the fleet/);
    const told = book([
      { eventId: 'p', type: 'transaction', outcome: 'completed', amountCents: 180, transactionId: 'STX_R' },
    ]);
    assert.deepEqual([told.fleet?.missing, told.findings], [0, []]);
  });
});

describe('chaos PRNG', () => {
  it('repeats its choices for the same seed and differs for another', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => rng.int(0, 1000));
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });
});

describe("chaos books: the ccTalk validator's own faults", () => {
  const overflowRun = (lostRecords: EntryInput[]) =>
    reconcile({
      // 6 coins of 100 ct taken during a broken line: the validator's buffer kept the last 5.
      acceptor: { cents: 600, coins: 6, unconfirmedAtKill: 0, overflowCents: 100, overflowCoins: 1 },
      journal: journal([
        ...coins('s1', 100, 100, 100, 100),
        ...lostRecords,
        { type: 'coin_accepted', sessionId: 's1', cents: 100, source: 'coin' },
        closed('s1'),
      ]),
      ledger: ledger([{ tx: 'T1', ref: 's1:create:0', collected: 500 }]),
    });

  it('credits lost past the buffer and recorded in the journal are for the operator, not lost', () => {
    const r = overflowRun([{ type: 'acceptor_lost', results: 1, ev: 1, servedSession: 's1' }]);
    assert.deepEqual([r.lostCents, r.forOperator, r.inFlightAtKill, r.findings], [0, 100, 0, []]);
  });

  it('the same loss without the journal saying so is lost money', () => {
    const r = overflowRun([]);
    assert.equal(r.lostCents, 100);
    assert.equal(r.forOperator, 0);
    assert.match(r.findings.join('\n'), /100 ct in 1 credits lost from the validator's buffer/);
  });

  it("a coin whose answer a kill cut off, beside credits the buffer lost: the acceptor's figure keeps those credits", () => {
    // The journal has 100 ct more than the acceptor's answers say (an answer cut off, the coin taken):
    // the acceptor took the journal's coins and the 100 ct its buffer lost for the operator.
    const r = reconcile({
      acceptor: {
        cents: 500,
        coins: 5,
        unconfirmedAtKill: 0,
        uncertainAtKill: 100,
        overflowCents: 100,
        overflowCoins: 1,
      },
      journal: journal([
        ...coins('s1', 100, 100, 100, 100, 100),
        { type: 'acceptor_lost', results: 1, ev: 6 },
        closed('s1'),
      ]),
      ledger: ledger([{ tx: 'T1', ref: 's1:create:0', collected: 500 }]),
    });
    assert.deepEqual(
      [r.acceptorCents, r.forOperator, r.lostCents, r.overBookedCents, r.findings],
      [600, 100, 0, 0, []],
    );
  });

  it('a loss recorded for fewer results than credits went missing is lost money', () => {
    const r = reconcile({
      acceptor: { cents: 700, coins: 7, unconfirmedAtKill: 0, overflowCents: 200, overflowCoins: 2 },
      journal: journal([
        ...coins('s1', 100, 100, 100, 100, 100),
        { type: 'acceptor_lost', results: 1, ev: 2 },
        closed('s1'),
      ]),
      ledger: ledger([{ tx: 'T1', ref: 's1:create:0', collected: 500 }]),
    });
    assert.equal(r.lostCents, 200);
  });

  it('a coin journaled twice (the validator took it once) is over-booked: the customer got it, the owner pays', () => {
    // Chaos seed 44006 run 4: a damaged coin record took the resume point back, the coin came again.
    const r = reconcile({
      acceptor: { cents: 200, coins: 2, unconfirmedAtKill: 0 },
      journal: journal([...coins('s1', 100, 100, 100), closed('s1')]),
      ledger: ledger([{ tx: 'T1', ref: 's1:create:0', collected: 300 }]),
    });
    assert.equal(r.overBookedCents, 100);
    assert.equal(r.lostCents, 0);
    assert.match(r.findings.join('\n'), /journal has 100 ct more coins than the acceptor took/);
  });

  it('a coin the validator accepted and reported must be credited: one the session does not account is lost', () => {
    // The harness books only coins the validator took: those it returned (no power, inhibited) are
    // in the customer's hand and in no book, so they cannot show as lost.
    const r = reconcile({
      acceptor: { cents: 300, coins: 2, unconfirmedAtKill: 0 },
      journal: journal([...coins('s1', 100, 200), closed('s1')]),
      ledger: ledger([{ tx: 'T1', ref: 's1:create:0', collected: 100 }]),
    });
    assert.equal(r.lostCents, 200);
    assert.match(r.findings.join('\n'), /session s1: 200 ct lost/);
  });
});
