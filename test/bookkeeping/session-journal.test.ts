/**
 * The session journal answers from the journal's folded state, not from copies of it in memory:
 * what it knows about a session's money is the same in the process that wrote it and in a new
 * bookkeeper opened over the same journal (a restart, or a power cut and the reboot). A real journal
 * on disk; the API is a stub.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { createActor, toPromise } from 'xstate';
import { ApiError } from '../../src/api/errors.js';
import { createApiActors } from '../../src/flows/api-actors.js';
import { recoverOpenSessions } from '../../src/bookkeeping/recovery.js';
import { parseJobRef } from '../../machines/job-ref.js';
import { SessionJournal } from '../../src/bookkeeping/session-journal.js';
import { Journal } from '../../src/journal/journal.js';
import type { JournalEntry } from '../../src/journal/entries.js';
import type { Transaction } from '../../src/api/schemas.js';
import { classifyStatus } from '../../src/api/transaction-status.js';
import type { SmartTransactionsApi } from '../../src/api/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { tempDirs } from '../journal/helpers.js';

const CARD = '9276004429942845';
const SID = 'S1';

function tx(status: string, id: string, sum: number): Transaction {
  return {
    id,
    status,
    basket_info: { sum, currency: 'EUR' },
    basket: { products: [{ id: 1, desc: 'Kaffee', ean: null, quantity: 1, priceOne: sum, tax: 19 }] },
    receipt: [],
  } as unknown as Transaction;
}

function basket(sum: number, ref: string) {
  return {
    basket: {
      products: [{ id: 1, desc: 'Kaffee', ean: null, quantity: 1, priceOne: sum, tax: 19 }],
      type: 'default',
    },
    basket_info: { sum, currency: 'EUR' },
    idents: [{ type: 'card' as const, value: CARD }],
    merchantRef: ref,
  };
}

/** A stub API: each create answers the next id; start answers `ok` unless a test says otherwise. */
function stubApi() {
  let next = 0;
  const sums = new Map<string, number>();
  const api = {
    create: sinon.stub().callsFake(async (body: { basket_info: { sum: number } }) => {
      const id = `STX_${++next}`;
      sums.set(id, body.basket_info.sum);
      return tx('created', id, body.basket_info.sum);
    }),
    get: sinon.stub().callsFake(async (id: string) => tx('ok', id, sums.get(id) ?? 0)),
    update: sinon.stub().callsFake(async (id: string) => tx('created', id, sums.get(id) ?? 0)),
    preTransaction: sinon.stub().resolves({ missing_sum: 150, bonus_products: [] }),
    start: sinon.stub().callsFake(async (id: string) => tx('ok', id, sums.get(id) ?? 0)),
    cancel: sinon.stub().callsFake(async (id: string) => tx('cancelled', id, sums.get(id) ?? 0)),
    abort: sinon.stub().callsFake(async (id: string) => tx('cancelled', id, sums.get(id) ?? 0)),
    readBack: sinon.stub().callsFake(async (id: string) => ({
      transaction: tx('ok', id, sums.get(id) ?? 0),
      took: classifyStatus('ok'),
    })),
  };
  return api;
}

describe('session journal: answers from the journal', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  async function world() {
    const dir = dirs.make();
    const journal = await Journal.open(dir, { logger: silentLogger });
    const stub = stubApi();
    const sj = new SessionJournal(journal, 'checkout', silentLogger);
    return { dir, journal, sj, stub, api: sj.wrapApi(stub as unknown as SmartTransactionsApi) };
  }

  /** A session with `coins` inserted and its sale transaction of `sum` created. */
  async function sale(coins: number, sum: number) {
    const w = await world();
    await w.sj.beginSession(SID);
    await w.sj.coin(SID, coins, 'coin');
    return { ...w, sale: await w.api.create(basket(sum, `${SID}:create:1`)) };
  }

  async function records(journal: Journal): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for await (const r of journal.entries()) if (r.type !== 'snapshot') out.push(r);
    return out;
  }

  it('a credit journaled with its outcome is booked once, also when the flow reports it to a new bookkeeper', async () => {
    const w = await world();
    await w.sj.beginSession(SID);
    await w.sj.coin(SID, 300, 'coin');
    const credit = await w.api.create(basket(300, `${SID}:credit:1`));
    await w.sj.startLedger().markSent(`${SID}:credit:1`, credit.id);
    await w.api.start(credit.id, 'cash', { jobId: `${SID}:credit:1` });
    assert.equal(w.journal.state.sessions[SID]?.creditedCents, 300, 'journaled with the outcome');
    await w.sj.credited(300, credit.id);
    // The same journal, a bookkeeper that has seen none of it (a restart of the app).
    const again = new SessionJournal(w.journal, 'checkout', silentLogger);
    await again.credited(300, credit.id);
    const credits = (await records(w.journal)).filter((r) => r.type === 'credited');
    assert.deepEqual(
      credits.map((r) => r.type === 'credited' && [r.apiId, r.cents]),
      [[credit.id, 300]],
    );
    assert.equal(w.journal.state.sessions[SID]?.creditedCents, 300);
    assert.equal(again.leftover(SID), 0);
    await w.journal.close();
  });

  it('a credit the flow reports that the journal does not have yet is booked', async () => {
    const w = await sale(200, 200);
    await w.sj.credited(200, w.sale.id);
    await w.sj.credited(200, w.sale.id);
    assert.equal(w.journal.state.sessions[SID]?.creditedCents, 200);
    assert.equal(w.sj.leftover(SID), 0);
    await w.journal.close();
  });

  it('cash a start took is paid for a new bookkeeper too: closing settles only what is left', async () => {
    const w = await sale(200, 150);
    await w.api.start(w.sale.id, 'cash');
    assert.equal(w.sj.leftover(SID), 50);
    // The same journal, a bookkeeper that has seen none of it (a restart of the app).
    const again = new SessionJournal(w.journal, 'checkout', silentLogger);
    assert.equal(again.leftover(SID), 50, 'the 150 ct paid are not the customer’s any more');
    await again.closeSession(SID, 'paid');
    assert.deepEqual(
      w.journal.state.unclaimedVouchers.map((v) => [v.sessionId, v.cents]),
      [[SID, 50]],
    );
    await w.journal.close();
  });

  it('the answer of a start that comes after a later step was journaled still counts as paid', async () => {
    const w = await sale(200, 150);
    let answer!: () => void;
    w.stub.start.callsFake(
      (id: string) => new Promise<Transaction>((resolve) => (answer = () => resolve(tx('ok', id, 150)))),
    );
    const started = w.api.start(w.sale.id, 'cash');
    await waitFor(() => w.stub.start.callCount === 1);
    await w.api.update(w.sale.id, basket(150, `${SID}:update:2`));
    assert.equal(w.journal.state.sessions[SID]?.lastStep?.step, 'update');
    answer();
    await started;
    assert.equal(w.sj.leftover(SID), 50);
    await w.journal.close();
  });

  it('a call on any transaction of an open session is journaled under that session, also by a new bookkeeper', async () => {
    const w = await sale(300, 150);
    // The session's second transaction (its credit's) is the last one its steps named.
    const credit = await w.api.create(basket(150, `${SID}:credit:2`));
    assert.equal(w.journal.state.sessions[SID]?.apiId, credit.id);
    const again = new SessionJournal(w.journal, 'checkout', silentLogger);
    const api = again.wrapApi(w.stub as unknown as SmartTransactionsApi);
    await again.beginSession('S2');
    await api.cancel(w.sale.id);
    assert.deepEqual(
      (await records(w.journal)).flatMap((r) =>
        r.type === 'api_intent' && r.step === 'cancel' ? [r.sessionId] : [],
      ),
      [SID],
    );
    assert.equal(w.journal.state.sessions.S2?.lastStep, undefined);
    await w.journal.close();
  });

  it('a start job is known as sent from its journaled intent, also by a new bookkeeper after a later step', async () => {
    const w = await sale(200, 150);
    const jobId = `${SID}:start:${w.sale.id}:1`;
    w.stub.start.callsFake(async (id: string) => tx('pending', id, 150));
    // As the start actor does it (src/flows/api-actors.ts startOnce).
    await w.sj.startLedger().markSent(jobId, w.sale.id);
    await w.api.start(w.sale.id, 'cash', { jobId });
    assert.equal(w.journal.state.sessions[SID]?.lastStep?.jobId, jobId, 'journaled under the flow’s job');
    await w.api.cancel(w.sale.id);
    const again = new SessionJournal(w.journal, 'checkout', silentLogger);
    assert.equal(await again.startLedger().sentFor(jobId), w.sale.id);
    assert.equal(await again.startLedger().sentFor(`${SID}:start:${w.sale.id}:2`), undefined);
    await w.journal.close();
  });

  it('the start actor sends a job once: run again with it, it reads the transaction back', async () => {
    const w = await sale(200, 150);
    const actors = createApiActors(w.api, { ledger: w.sj.startLedger(), noEffect: { reads: 1, pauseMs: 1 } });
    const input = { id: w.sale.id, method: 'cash' as const, jobId: `${SID}:start:${w.sale.id}:1` };
    const run = () => toPromise(createActor(actors.startPayment, { input }).start());
    assert.equal((await run()).took, 'effect');
    assert.equal((await run()).took, 'effect');
    assert.equal(w.stub.start.callCount, 1);
    assert.equal(w.stub.readBack.callCount, 1);
    assert.equal(w.sj.leftover(SID), 50, 'paid once');
    await w.journal.close();
  });

  it('a second start is read back when refused unless the first one certainly never ran', async () => {
    const refused = new ApiError({
      kind: 'http',
      outcome: 'not_applied',
      httpStatus: 409,
      operation: 'start/cash',
      message: 'not startable',
    });
    const lost = new ApiError({
      kind: 'timeout',
      outcome: 'unknown',
      operation: 'start/cash',
      message: 'lost',
    });
    const neverSent = new ApiError({
      kind: 'network',
      outcome: 'not_applied',
      operation: 'start/cash',
      message: 'refused',
    });
    const secondAfter = async (first: ApiError) => {
      const w = await sale(200, 150);
      w.stub.start.onFirstCall().rejects(first);
      w.stub.start.onSecondCall().rejects(refused);
      w.stub.readBack.callsFake(async (id: string) => ({
        transaction: tx('created', id, 150),
        took: classifyStatus('created'),
      }));
      await assert.rejects(w.api.start(w.sale.id, 'cash'));
      const err = (await w.api.start(w.sale.id, 'cash').catch((e: unknown) => e)) as ApiError;
      const last = w.journal.state.sessions[SID]?.lastStep?.outcome;
      await w.journal.close();
      return [err.outcome, last];
    };
    assert.deepEqual(await secondAfter(lost), ['unknown', 'unknown'], 'the first may have charged');
    assert.deepEqual(await secondAfter(neverSent), ['not_applied', 'failed'], 'a first start after all');
  });

  it('recovery given the journaling client: each of its own steps is journaled once, by recovery', async () => {
    const w = await world();
    await w.sj.beginSession(SID);
    await w.sj.cardScanned(SID, CARD);
    await w.sj.coin(SID, 200, 'coin');
    const report = await recoverOpenSessions({ journal: w.journal, api: w.api, logger: silentLogger });
    assert.equal(report.credited, 200);
    const steps = (await records(w.journal)).flatMap((r) =>
      r.type === 'api_intent' ? [[r.step, parseJobRef(r.jobId)?.step]] : [],
    );
    assert.deepEqual(steps, [
      ['create', 'recovery-create'],
      ['credit', 'recovery-credit'],
    ]);
    assert.equal(w.stub.start.callCount, 1);
    assert.equal(w.journal.state.sessions[SID], undefined, 'settled and closed');
    assert.equal(w.journal.state.lifetime.credits.cents, 200);
    await w.journal.close();
  });

  it('a cash start collects what the last answer set (update, then preTransaction), also for a new bookkeeper', async () => {
    const w = await sale(300, 200);
    await w.api.update(w.sale.id, basket(250, `${SID}:update:2`));
    w.stub.preTransaction.resolves({ missing_sum: 150, bonus_products: [] });
    await w.api.preTransaction(w.sale.id);
    const again = new SessionJournal(w.journal, 'checkout', silentLogger);
    await again.wrapApi(w.stub as unknown as SmartTransactionsApi).start(w.sale.id, 'cash');
    const intents = (await records(w.journal)).flatMap((r) =>
      r.type === 'api_intent' && r.step === 'start/cash' ? [r.cents] : [],
    );
    assert.deepEqual(intents, [150], 'the missing sum, not the basket');
    assert.equal(again.leftover(SID), 150);
    assert.deepEqual(w.journal.state.sessions[SID]?.cashDue, { [w.sale.id]: 150 });
    await w.journal.close();
  });
});

/** Resolves once `done()` holds (checked on each turn of the event loop). */
async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}
