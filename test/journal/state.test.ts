import assert from 'node:assert/strict';
import type { EntryInput, JournalEntry } from '../../src/journal/entries.js';
import { EntryInputSchema } from '../../src/journal/entries.js';
import { interruptionOf, unsettledCents } from '../../src/journal/interruption.js';
import { lastReceipt, receiptOf, unprintedReceipts } from '../../src/journal/receipts.js';
import {
  emptyState,
  foldRecords,
  LedgerStateSchema,
  mayHaveRun,
  RECENT_RECEIPTS,
  sessionOfTransaction,
  type LedgerState,
} from '../../src/journal/state.js';
import { CARD, topUpSession } from './helpers.js';

function stamp(inputs: EntryInput[], firstSeq = 0): JournalEntry[] {
  return inputs.map(
    (e, i) => ({ ...EntryInputSchema.parse(e), seq: firstSeq + i, ts: 1000 + i }) as JournalEntry,
  );
}

function checkout(sessionId: string, amount: number, paidWith: 'start/loyalty' | 'start/cash'): EntryInput[] {
  const apiId = `STX_${sessionId}`;
  const entries: EntryInput[] = [
    { type: 'session_started', sessionId, mode: 'checkout', cardMasked: '9276********2845', card: CARD },
    {
      type: 'tx_created',
      sessionId,
      localId: `L-${sessionId}`,
      basket: { products: [{ id: 1, desc: 'Kaffee', quantity: 2, priceOne: amount / 2, tax: 19 }] },
      amount,
    },
    { type: 'api_intent', sessionId, apiId: `L-${sessionId}`, step: 'create', jobId: `${sessionId}:1` },
    { type: 'api_outcome', jobId: `${sessionId}:1`, result: 'ok', status: 'created', apiId },
    { type: 'api_intent', sessionId, apiId, step: 'preTransaction', jobId: `${sessionId}:2` },
    { type: 'api_outcome', jobId: `${sessionId}:2`, result: 'ok', status: 'processing' },
  ];
  if (paidWith === 'start/cash')
    entries.push({ type: 'coin_accepted', sessionId, cents: amount, source: 'note' });
  entries.push(
    { type: 'api_intent', sessionId, apiId, step: paidWith, jobId: `${sessionId}:3` },
    { type: 'api_outcome', jobId: `${sessionId}:3`, result: 'ok', status: 'ok' },
    { type: 'receipt', sessionId, jobId: `${sessionId}:3`, lines: [{ type: 'space' }] },
    { type: 'printed', jobId: `${sessionId}:3` },
    { type: 'session_closed', sessionId, outcome: 'completed' },
  );
  return entries;
}

describe('journal state: the fold', () => {
  it('a completed top-up leaves no open session and counts cash in and a top-up', () => {
    const s = foldRecords(stamp(topUpSession('t1', 2000)));
    assert.deepEqual(s.sessions, {});
    assert.deepEqual(s.jobs, {});
    assert.deepEqual(s.lifetime.cashIn, { count: 1, cents: 2000 });
    assert.deepEqual(s.lifetime.topUps, { count: 1, cents: 2000 });
    assert.deepEqual(s.lifetime.sales, { count: 0, cents: 0 });
    assert.equal(s.cashBox.cents, 2000);
    assert.equal(receiptOf(s, 't1')?.printed, true);
    assert.equal(s.anomalies, 0);
  });

  it('checkouts paid by card balance and by cash count as sales; only cash goes to the cash box', () => {
    const s = foldRecords(
      stamp([...checkout('c1', 796, 'start/loyalty'), ...checkout('c2', 1250, 'start/cash')]),
    );
    assert.deepEqual(s.lifetime.sales, { count: 2, cents: 796 + 1250 });
    assert.deepEqual(s.lifetime.cashIn, { count: 1, cents: 1250 });
    assert.equal(s.cashBox.cents, 1250);
    assert.deepEqual(s.sessions, {});
  });

  it('crash after a coin: the money and the card are there, nothing sent to the API', () => {
    const s = foldRecords(stamp(topUpSession('t1', 2000).slice(0, 2)));
    const open = s.sessions.t1;
    assert.ok(open);
    assert.equal(open.insertedCents, 2000);
    assert.equal(open.card, CARD);
    assert.deepEqual(interruptionOf(open), { at: 'before_api' });
    assert.equal(unsettledCents(open), 2000);
  });

  it('crash after create answered: the API id is known, nothing charged yet', () => {
    const s = foldRecords(stamp(topUpSession('t1', 2000).slice(0, 5)));
    const open = s.sessions.t1;
    assert.ok(open);
    assert.equal(open.apiId, 'STX_t1');
    assert.equal(open.tx?.apiId, 'STX_t1');
    assert.deepEqual(interruptionOf(open), { at: 'before_payment', step: 'create', apiId: 'STX_t1' });
    assert.equal(unsettledCents(open), 2000);
  });

  it('crash after create was sent without an answer: in doubt, keyed by the local id', () => {
    const s = foldRecords(stamp(topUpSession('t1', 2000).slice(0, 4)));
    const open = s.sessions.t1;
    assert.ok(open);
    assert.deepEqual(interruptionOf(open), {
      at: 'step_in_doubt',
      step: 'create',
      jobId: 't1:create',
      apiId: 'L-t1',
    });
  });

  it('crash while crediting the change of a paid sale: the credit is in doubt, not "finished"', () => {
    const paid = checkout('c1', 800, 'start/cash').filter((e) => e.type !== 'session_closed');
    const s = foldRecords(
      stamp([
        ...paid,
        { type: 'coin_accepted', sessionId: 'c1', cents: 200, source: 'coin' },
        {
          type: 'api_intent',
          sessionId: 'c1',
          apiId: 'STX_credit',
          step: 'credit',
          jobId: 'c1:credit:9',
          cents: 200,
        },
      ]),
    );
    const open = s.sessions.c1;
    assert.ok(open?.paid);
    assert.deepEqual(interruptionOf(open), {
      at: 'step_in_doubt',
      step: 'credit',
      jobId: 'c1:credit:9',
      apiId: 'STX_credit',
    });
  });

  it('crash after the start intent with no outcome: in doubt, not counted as a top-up', () => {
    const s = foldRecords(stamp(topUpSession('t1', 2000).slice(0, 6)));
    const open = s.sessions.t1;
    assert.ok(open);
    assert.equal(open.lastStep?.step, 'start/cash');
    assert.equal(open.lastStep?.outcome, undefined);
    assert.deepEqual(interruptionOf(open), {
      at: 'step_in_doubt',
      step: 'start/cash',
      jobId: 't1:start',
      apiId: 'STX_t1',
    });
    assert.deepEqual(s.lifetime.topUps, { count: 0, cents: 0 });
  });

  it('an unknown outcome resolved later by a read-back counts the top-up once', () => {
    const entries = topUpSession('t1', 2000).slice(0, 6);
    entries.push(
      { type: 'api_outcome', jobId: 't1:start', result: 'unknown' },
      { type: 'api_outcome', jobId: 't1:start', result: 'ok', status: 'ok' },
      { type: 'api_outcome', jobId: 't1:start', result: 'ok', status: 'ok' },
    );
    const mid = foldRecords(stamp(entries.slice(0, 7)));
    assert.equal(interruptionOf(mid.sessions.t1 as never).at, 'step_in_doubt');
    const s = foldRecords(stamp(entries));
    assert.deepEqual(s.lifetime.topUps, { count: 1, cents: 2000 });
    assert.deepEqual(interruptionOf(s.sessions.t1 as never), { at: 'paid_without_receipt', apiId: 'STX_t1' });
    assert.equal(unsettledCents(s.sessions.t1 as never), 0);
  });

  it('crash while printing: receipt kept unprinted for a reprint', () => {
    const s = foldRecords(stamp(topUpSession('t1', 2000).slice(0, 8)));
    assert.deepEqual(interruptionOf(s.sessions.t1 as never), {
      at: 'receipt_not_printed',
      jobId: 't1:start',
    });
    assert.deepEqual(
      unprintedReceipts(s).map((r) => r.jobId),
      ['t1:start'],
    );
    assert.equal(lastReceipt(s)?.sessionId, 't1');
  });

  it('a session settled by recovery: credited and unclaimed money leave the session and are counted', () => {
    const s = foldRecords(
      stamp([
        {
          type: 'session_started',
          sessionId: 'a',
          mode: 'topup',
          card: CARD,
          cardMasked: '9276********2845',
        },
        { type: 'coin_accepted', sessionId: 'a', cents: 500, source: 'coin' },
        { type: 'coin_accepted', sessionId: 'b', cents: 200, source: 'coin' }, // no session_started: still counted
        { type: 'api_intent', sessionId: 'a', apiId: 'STX_a', step: 'credit', jobId: 'a:credit', cents: 500 },
        { type: 'api_outcome', jobId: 'a:credit', result: 'ok' },
        { type: 'credited', sessionId: 'a', cents: 500, apiId: 'STX_a' },
        { type: 'session_closed', sessionId: 'a', outcome: 'credited' },
        { type: 'unclaimed', sessionId: 'b', cents: 200, voucher: 'V-0001' },
      ]),
    );
    assert.deepEqual(Object.keys(s.sessions), ['b']);
    assert.equal(unsettledCents(s.sessions.b as never), 0);
    assert.deepEqual(s.lifetime.credits, { count: 1, cents: 500 });
    assert.deepEqual(s.lifetime.topUps, { count: 0, cents: 0 }, 'a credit is not a customer top-up');
    assert.deepEqual(
      s.unclaimedVouchers.map((v) => [v.voucher, v.cents]),
      [['V-0001', 200]],
    );
    const settled = foldRecords(
      stamp([{ type: 'unclaimed_settled', voucher: 'V-0001', how: 'cash_refund', by: 'op' }], 100),
      s,
    );
    assert.deepEqual(settled.unclaimedVouchers, []);
    assert.equal(s.unclaimedVouchers.length, 1, 'the fold never mutates its input');
  });

  it('cash collection resets the cash box and the since-collection counters, not the lifetime ones', () => {
    const before = foldRecords(stamp([...topUpSession('t1', 2000), ...topUpSession('t2', 500)]));
    const s = foldRecords(stamp([{ type: 'cash_collected', cents: 2450, by: 'op-7' }], 100), before);
    assert.deepEqual(s.lastCollection, { ts: 1000, cents: 2450, expectedCents: 2500, by: 'op-7' });
    assert.deepEqual(s.cashBox, { cents: 0, count: 0, sinceTs: null });
    assert.deepEqual(s.sinceCollection.cashIn, { count: 0, cents: 0 });
    assert.deepEqual(s.sinceCollection.collections, { count: 1, cents: 2450 });
    assert.deepEqual(s.lifetime.cashIn, { count: 2, cents: 2500 });
  });

  it('a cancel after payment counts a cancellation and leaves the session unpaid', () => {
    const entries = topUpSession('t1', 2000, { close: false });
    entries.push(
      { type: 'api_intent', sessionId: 't1', apiId: 'STX_t1', step: 'cancel', jobId: 't1:cancel' },
      { type: 'api_outcome', jobId: 't1:cancel', result: 'ok', status: 'cancelled' },
    );
    const s = foldRecords(stamp(entries));
    assert.deepEqual(s.lifetime.cancellations, { count: 1, cents: 2000 });
    assert.equal(s.sessions.t1?.paid, false);
    assert.equal(unsettledCents(s.sessions.t1 as never), 2000);
  });

  it('keeps the last RECENT_RECEIPTS receipts for a reprint', () => {
    const entries: EntryInput[] = [];
    for (let i = 0; i < RECENT_RECEIPTS + 5; i++) entries.push(...topUpSession(`t${i}`, 100));
    const s = foldRecords(stamp(entries));
    assert.equal(s.recentReceipts.length, RECENT_RECEIPTS);
    assert.equal(receiptOf(s, 't0'), undefined);
    assert.equal(receiptOf(s, `t${RECENT_RECEIPTS + 4}`)?.printed, true);
  });

  it('records that refer to nothing count as anomalies instead of throwing', () => {
    const s = foldRecords(
      stamp([
        { type: 'api_outcome', jobId: 'nope', result: 'ok' },
        { type: 'printed', jobId: 'nope' },
        { type: 'session_closed', sessionId: 'nope', outcome: 'completed' },
      ]),
    );
    assert.equal(s.anomalies, 3);
  });

  it('a snapshot replaces the state', () => {
    const base: LedgerState = foldRecords(stamp(topUpSession('t1', 2000, { close: false })));
    const s = foldRecords([
      ...stamp(topUpSession('x', 1)),
      { type: 'snapshot', seq: 50, ts: 5, state: base },
      ...stamp([{ type: 'coin_accepted', sessionId: 't1', cents: 50, source: 'coin' }], 51),
    ]);
    assert.equal(s.sessions.t1?.insertedCents, 2050);
    assert.equal(s.sessions.x, undefined);
    assert.equal(s.lastSeq, 51);
    assert.deepEqual(emptyState().lastSeq, -1);
  });
});

describe('journal state: what the session journal reads from the fold', () => {
  it('keeps the API ids of the credits journaled for an open session, each once, and drops them at close', () => {
    const entries: EntryInput[] = [
      { type: 'session_started', sessionId: 'a', mode: 'topup', card: CARD },
      { type: 'coin_accepted', sessionId: 'a', cents: 500, source: 'coin' },
      { type: 'credited', sessionId: 'a', cents: 300, apiId: 'STX_1' },
      { type: 'credited', sessionId: 'a', cents: 200, apiId: 'STX_1' },
      { type: 'credited', sessionId: 'a', cents: 100, apiId: 'STX_2' },
    ];
    const s = foldRecords(stamp(entries));
    assert.deepEqual(s.sessions.a?.creditedIds, ['STX_1', 'STX_2']);
    assert.equal(s.sessions.a?.creditedCents, 600);
    const closed = foldRecords(
      stamp([{ type: 'session_closed', sessionId: 'a', outcome: 'credited' }], 10),
      s,
    );
    assert.equal(closed.sessions.a, undefined);
  });

  it('counts the cash of every successful start/cash as paid: a late answer of an older job too, once', () => {
    const sessionId = 'p';
    const apiId = 'STX_p';
    const intent = (jobId: string, step: 'start/cash' | 'update' | 'cancel', cents?: number): EntryInput => ({
      type: 'api_intent',
      sessionId,
      apiId,
      step,
      jobId,
      ...(cents !== undefined ? { cents } : {}),
    });
    const s = foldRecords(
      stamp([
        { type: 'session_started', sessionId, mode: 'checkout' },
        { type: 'coin_accepted', sessionId, cents: 500, source: 'coin' },
        {
          type: 'tx_created',
          sessionId,
          localId: 'p:create:1',
          basket: { products: [{ id: 1, desc: 'Tee', quantity: 1, priceOne: 120, tax: 19 }] },
          amount: 120,
        },
        intent('p:start:1', 'start/cash', 100),
        intent('p:start:2', 'start/cash'), // no cents: the transaction's amount
        intent('p:update:3', 'update'), // the last step now
        { type: 'api_outcome', jobId: 'p:start:1', result: 'unknown' },
        { type: 'api_outcome', jobId: 'p:start:1', result: 'ok', status: 'ok' },
        { type: 'api_outcome', jobId: 'p:start:1', result: 'ok', status: 'ok' }, // a repeat counts nothing
        { type: 'api_outcome', jobId: 'p:start:2', result: 'failed', status: 'failed' },
        { type: 'api_outcome', jobId: 'p:update:3', result: 'ok' },
      ]),
    );
    const open = s.sessions[sessionId];
    assert.equal(open?.paidCashCents, 100);
    assert.deepEqual(open?.starts, {
      'p:start:1': { step: 'start/cash', apiId, cents: 100, outcome: 'ok', status: 'ok' },
      'p:start:2': { step: 'start/cash', apiId, cents: 120, outcome: 'failed', status: 'failed' },
    });
    // The whole state is what a compaction snapshot stores: the steps survive it.
    assert.deepEqual(LedgerStateSchema.parse(JSON.parse(JSON.stringify(s))).sessions[sessionId], open);
    const late = foldRecords(
      stamp([{ type: 'api_outcome', jobId: 'p:start:2', result: 'ok', status: 'ok' }], 20),
      s,
    );
    assert.equal(late.sessions[sessionId]?.paidCashCents, 220, 'a failed answer followed by ok: paid');
    const cancelled = foldRecords(
      stamp(
        [
          intent('p:cancel:4', 'cancel'),
          { type: 'api_outcome', jobId: 'p:cancel:4', result: 'ok', status: 'cancelled' },
        ],
        30,
      ),
      late,
    );
    assert.equal(cancelled.sessions[sessionId]?.paidCashCents, 0, 'a cancel gives the cash back');
  });

  it('knows every transaction an open session named, and whose it is', () => {
    const s = foldRecords(
      stamp([
        ...checkout('c1', 800, 'start/cash').filter((e) => e.type !== 'session_closed'),
        { type: 'api_intent', sessionId: 'c1', apiId: 'c1:credit:9', step: 'create', jobId: 'c1:credit:9' },
        { type: 'api_outcome', jobId: 'c1:credit:9', result: 'ok', apiId: 'STX_credit' },
        { type: 'api_intent', sessionId: 'c2', apiId: 'STX_other', step: 'cancel', jobId: 'c2:cancel:1' },
      ]),
    );
    assert.deepEqual(s.sessions.c1?.txIds, ['STX_c1', 'STX_credit'], 'not the local id of a create');
    assert.equal(sessionOfTransaction(s, 'STX_c1'), 'c1');
    assert.equal(sessionOfTransaction(s, 'STX_credit'), 'c1');
    assert.equal(sessionOfTransaction(s, 'STX_other'), 'c2');
    assert.equal(sessionOfTransaction(s, 'c1:credit:9'), undefined);
    const closed = foldRecords(
      stamp([{ type: 'session_closed', sessionId: 'c1', outcome: 'completed' }], 50),
      s,
    );
    assert.equal(sessionOfTransaction(closed, 'STX_c1'), undefined);
  });

  it('keeps every payment and credit step of a session; one may have run unless it failed without an answer', () => {
    const sessionId = 'r';
    const start = (jobId: string, step: 'start/loyalty' | 'credit'): EntryInput => ({
      type: 'api_intent',
      sessionId,
      apiId: 'STX_r',
      step,
      jobId,
    });
    const s = foldRecords(
      stamp([
        start('r:a', 'start/loyalty'),
        { type: 'api_outcome', jobId: 'r:a', result: 'not_applied' }, // never reached the server
        start('r:b', 'start/loyalty'),
        { type: 'api_outcome', jobId: 'r:b', result: 'failed' }, // an HTTP refusal
        start('r:c', 'start/loyalty'),
        { type: 'api_outcome', jobId: 'r:c', result: 'not_applied', status: 'created' }, // answered: not started
        start('r:d', 'credit'),
        { type: 'api_outcome', jobId: 'r:d', result: 'unknown' },
        start('r:e', 'start/loyalty'), // no outcome yet
      ]),
    );
    const starts = s.sessions[sessionId]?.starts ?? {};
    assert.deepEqual(Object.keys(starts), ['r:a', 'r:b', 'r:c', 'r:d', 'r:e']);
    assert.deepEqual(
      Object.entries(starts).map(([jobId, st]) => [jobId, mayHaveRun(st)]),
      [
        ['r:a', false],
        ['r:b', false],
        ['r:c', true],
        ['r:d', true],
        ['r:e', true],
      ],
    );
    assert.equal(starts['r:d']?.step, 'credit');
  });

  it('keeps by transaction the cash a start/cash collects, as the last answer that said it', () => {
    const s = foldRecords(
      stamp([
        ...checkout('c1', 800, 'start/cash').slice(0, 4),
        { type: 'api_intent', sessionId: 'c1', apiId: 'STX_c1', step: 'update', jobId: 'c1:u' },
        { type: 'api_outcome', jobId: 'c1:u', result: 'ok', apiId: 'STX_c1', dueCents: 700 },
        { type: 'api_intent', sessionId: 'c1', apiId: 'STX_x', step: 'create', jobId: 'c1:c' },
        { type: 'api_outcome', jobId: 'c1:c', result: 'ok', apiId: 'STX_x', dueCents: 0 },
        { type: 'api_intent', sessionId: 'c1', apiId: 'STX_c1', step: 'preTransaction', jobId: 'c1:p' },
        { type: 'api_outcome', jobId: 'c1:p', result: 'ok', apiId: 'STX_c1', dueCents: 650 },
      ]),
    );
    assert.deepEqual(s.sessions.c1?.cashDue, { STX_c1: 650, STX_x: 0 });
    assert.deepEqual(LedgerStateSchema.parse(JSON.parse(JSON.stringify(s))).sessions.c1?.cashDue, {
      STX_c1: 650,
      STX_x: 0,
    });
  });
});
