/**
 * The status decides in the books too: what the session journal writes for an answered `start`,
 * and what recovery does with a read-back, for the statuses that are not plainly `ok`. A real
 * journal on disk; the API is a stub whose answers are the statuses under test.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { SessionJournal } from '../../src/bookkeeping/session-journal.js';
import { recoverOpenSessions } from '../../src/bookkeeping/recovery.js';
import { Journal } from '../../src/journal/journal.js';
import { ApiError } from '../../src/api/errors.js';
import type { Transaction } from '../../src/api/schemas.js';
import { classifyStatus } from '../../src/api/transaction-status.js';
import type { SmartTransactionsApi } from '../../src/api/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { tempDirs } from '../journal/helpers.js';

const CARD = '9276004429942845';
const SID = 'S1';

function tx(status: string, id = 'STX_1'): Transaction {
  return {
    id,
    status,
    basket_info: { sum: 150, currency: 'EUR' },
    basket: {
      products: [{ id: 1, desc: 'Kaffee', ean: null, quantity: 1, priceOne: 150, tax: 19 }],
    },
    receipt: [{ type: 'textline', value: { text: status, decoration: [] } }],
  } as unknown as Transaction;
}

function stubApi() {
  const api = {
    create: sinon.stub().callsFake(async () => tx('created')),
    get: sinon.stub().callsFake(async (id: string) => tx('ok', id)),
    update: sinon.stub().callsFake(async () => tx('created')),
    preTransaction: sinon.stub().resolves({ missing_sum: 150, bonus_products: [] }),
    start: sinon.stub().callsFake(async () => tx('ok')),
    cancel: sinon.stub().callsFake(async () => tx('cancelled')),
    abort: sinon.stub().callsFake(async () => tx('cancelled')),
    readBack: sinon.stub(),
  };
  /** What the server says on a GET: the test sets it. */
  let status = 'ok';
  api.readBack.callsFake(async (id: string) => ({
    transaction: tx(status, id),
    took: classifyStatus(status),
  }));
  return {
    api,
    serverSays(s: string) {
      status = s;
    },
  };
}

const BASKET = {
  basket: {
    products: [{ id: 1, desc: 'Kaffee', ean: null, quantity: 1, priceOne: 150, tax: 19 }],
    type: 'default',
  },
  basket_info: { sum: 150, currency: 'EUR' },
  transactionRef: `${SID}:create:1`,
};

describe('status in the books: the session journal', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  async function world() {
    const journal = await Journal.open(dirs.make(), { logger: silentLogger });
    const leftOpen: string[] = [];
    const sj = new SessionJournal(journal, 'checkout', silentLogger, (id) => leftOpen.push(id));
    const stub = stubApi();
    const api = sj.wrapApi(stub.api as unknown as SmartTransactionsApi);
    await sj.beginSession(SID);
    await sj.coin(SID, 200, 'coin');
    await api.create({ ...BASKET, idents: [{ type: 'card', value: CARD }] });
    return { journal, sj, api, stub, leftOpen };
  }

  async function outcomes(journal: Journal) {
    const out: { result: string; status?: string }[] = [];
    for await (const r of journal.entries())
      if (r.type === 'api_outcome' && r.status !== 'created')
        out.push({ result: r.result, ...(r.status ? { status: r.status } : {}) });
    return out;
  }

  it('start/cash answered 200 failed: journaled as failed with its status, nothing paid, books close', async () => {
    const w = await world();
    w.stub.api.start.callsFake(async () => tx('failed'));
    await w.api.start('STX_1', 'cash');
    assert.deepEqual(await outcomes(w.journal), [{ result: 'failed', status: 'failed' }]);
    assert.equal(w.journal.state.sessions[SID]?.paid, false);
    assert.equal(w.journal.state.lifetime.sales.count, 0);
    assert.equal(w.sj.leftover(SID), 200, 'the cash is still the customer’s');
    await w.sj.closeSession(SID, 'failed');
    assert.equal(w.journal.state.sessions[SID], undefined);
    assert.equal(w.journal.state.unclaimedVouchers.at(-1)?.cents, 200);
    await w.journal.close();
  });

  it('start answered pending, read back ok: in doubt, then paid exactly once', async () => {
    const w = await world();
    w.stub.api.start.callsFake(async () => tx('pending'));
    await w.api.start('STX_1', 'cash');
    assert.equal(w.journal.state.sessions[SID]?.lastStep?.outcome, 'unknown');
    assert.equal(w.journal.state.sessions[SID]?.paid, false);
    w.stub.serverSays('ok');
    await w.api.readBack('STX_1');
    await w.api.readBack('STX_1');
    assert.deepEqual(await outcomes(w.journal), [
      { result: 'unknown', status: 'pending' },
      { result: 'ok', status: 'ok' },
    ]);
    assert.equal(w.journal.state.sessions[SID]?.paid, true);
    assert.equal(w.journal.state.lifetime.sales.count, 1);
    assert.equal(w.sj.leftover(SID), 50);
    await w.journal.close();
  });

  it('start answered approved, read back approved, cancelled: never paid, the cancel journaled', async () => {
    const w = await world();
    w.stub.api.start.callsFake(async () => tx('approved'));
    await w.api.start('STX_1', 'cash');
    w.stub.serverSays('approved');
    await w.api.readBack('STX_1');
    assert.equal(w.journal.state.sessions[SID]?.lastStep?.outcome, 'unknown');
    await w.api.cancel('STX_1');
    assert.equal(w.journal.state.sessions[SID]?.lastStep?.step, 'cancel');
    assert.equal(w.journal.state.sessions[SID]?.paid, false);
    await w.sj.closeSession(SID, 'failed');
    assert.equal(w.journal.state.sessions[SID], undefined);
    assert.equal(w.journal.state.lifetime.sales.count, 0);
    await w.journal.close();
  });

  it('a status we do not know: in doubt; closing leaves the session open for recovery', async () => {
    const w = await world();
    w.stub.api.start.callsFake(async () => tx('refund_requested'));
    await w.api.start('STX_1', 'cash');
    assert.deepEqual(await outcomes(w.journal), [{ result: 'unknown', status: 'refund_requested' }]);
    await w.sj.closeSession(SID, 'unresolved');
    assert.deepEqual(w.leftOpen, [SID]);
    assert.notEqual(w.journal.state.sessions[SID], undefined);
    await w.journal.close();
  });
});

describe('status in the books: recovery reads back', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  /** A session whose start/cash answer was lost (the kiosk lost power while waiting). */
  async function interrupted() {
    const journal = await Journal.open(dirs.make(), { logger: silentLogger });
    const sj = new SessionJournal(journal, 'checkout', silentLogger);
    const stub = stubApi();
    const api = sj.wrapApi(stub.api as unknown as SmartTransactionsApi);
    await sj.beginSession(SID);
    await sj.coin(SID, 200, 'coin');
    await api.create({ ...BASKET });
    stub.api.start.callsFake(async () => {
      throw new ApiError({ kind: 'timeout', outcome: 'unknown', operation: 'start/cash', message: 'lost' });
    });
    await api.start('STX_1', 'cash').catch(() => undefined);
    stub.api.start.reset();
    stub.api.start.callsFake(async () => tx('ok'));
    return { journal, stub };
  }

  const recover = (w: Awaited<ReturnType<typeof interrupted>>) =>
    recoverOpenSessions({
      journal: w.journal,
      api: w.stub.api as unknown as SmartTransactionsApi,
      logger: silentLogger,
    });

  it('approved: the authorisation is cancelled, the money recorded as unclaimed, nothing paid', async () => {
    const w = await interrupted();
    w.stub.serverSays('approved');
    w.stub.api.cancel.callsFake(async () => {
      w.stub.serverSays('cancelled');
      return tx('cancelled');
    });
    const report = await recover(w);
    assert.equal(w.stub.api.cancel.callCount, 1);
    assert.equal(w.stub.api.start.callCount, 0);
    assert.deepEqual([report.resolved, report.unresolved, report.unclaimed], [1, 0, 200]);
    assert.equal(w.journal.state.lifetime.sales.count, 0);
    assert.equal(w.journal.state.sessions[SID], undefined);
    await w.journal.close();
  });

  it('approved and the cancel does not take: left open, no money moved', async () => {
    const w = await interrupted();
    w.stub.serverSays('approved');
    const report = await recover(w);
    assert.deepEqual([report.resolved, report.unresolved, report.unclaimed], [0, 1, 0]);
    assert.notEqual(w.journal.state.sessions[SID], undefined);
    // The next round reads the payment back again (and cancels again), never settling on a guess.
    const again = await recover(w);
    assert.deepEqual([again.resolved, again.unresolved, again.unclaimed], [0, 1, 0]);
    assert.equal(w.stub.api.readBack.callCount, 4);
    assert.equal(w.stub.api.cancel.callCount, 2);
    // Once it is void, the money is settled.
    w.stub.api.cancel.callsFake(async () => {
      w.stub.serverSays('cancelled');
      return tx('cancelled');
    });
    const last = await recover(w);
    assert.deepEqual([last.resolved, last.unclaimed], [1, 200]);
    assert.equal(w.journal.state.lifetime.sales.count, 0);
    await w.journal.close();
  });

  for (const status of ['pending', 'refund_requested']) {
    it(`${status}: left open (never settled on a guess), never paid`, async () => {
      const w = await interrupted();
      w.stub.serverSays(status);
      const report = await recover(w);
      assert.deepEqual([report.resolved, report.unresolved, report.unclaimed], [0, 1, 0]);
      assert.equal(w.journal.state.sessions[SID]?.paid, false);
      assert.equal(w.stub.api.start.callCount, 0);
      await w.journal.close();
    });
  }

  it('read back "created": never started again; aborted to find out, accepted: the money recorded as unclaimed', async () => {
    const w = await interrupted();
    w.stub.serverSays('created');
    const report = await recover(w);
    assert.equal(w.stub.api.start.callCount, 0, 'one read is not believed enough to repeat a start');
    assert.ok(w.stub.api.abort.called, 'aborted to find out');
    assert.deepEqual([report.resolved, report.unclaimed], [1, 200]);
    assert.equal(w.journal.state.lifetime.sales.count, 0);
    await w.journal.close();
  });

  it('read back "created", the abort refused (it took effect), read back ok: paid once, never started again', async () => {
    const w = await interrupted();
    w.stub.serverSays('created');
    w.stub.api.abort.callsFake(async () => {
      w.stub.serverSays('ok');
      throw new ApiError({
        kind: 'http',
        outcome: 'not_applied',
        httpStatus: 409,
        operation: 'abort',
        message: 'abort: ProductStatusException',
      });
    });
    const report = await recover(w);
    assert.equal(w.stub.api.start.callCount, 0);
    assert.deepEqual([report.resolved, report.unclaimed], [1, 50]);
    assert.equal(w.journal.state.lifetime.sales.count, 1);
    await w.journal.close();
  });

  it('read back "created", the abort refused and the read still "created": left open, nothing settled', async () => {
    const w = await interrupted();
    w.stub.serverSays('created');
    w.stub.api.abort.rejects(
      new ApiError({
        kind: 'http',
        outcome: 'not_applied',
        httpStatus: 409,
        operation: 'abort',
        message: '409',
      }),
    );
    const report = await recover(w);
    assert.deepEqual([report.resolved, report.unresolved, report.unclaimed], [0, 1, 0]);
    assert.equal(w.stub.api.start.callCount, 0);
    assert.notEqual(w.journal.state.sessions[SID], undefined, 'the session stays open, its start in doubt');
    await w.journal.close();
  });

  it('ok: paid once, the change recorded', async () => {
    const w = await interrupted();
    w.stub.serverSays('ok');
    const report = await recover(w);
    assert.deepEqual([report.resolved, report.unclaimed], [1, 50]);
    assert.equal(w.journal.state.lifetime.sales.count, 1);
    await w.journal.close();
  });
});
