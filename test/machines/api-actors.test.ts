import assert from 'node:assert/strict';
import sinon from 'sinon';
import { createActor, toPromise, type AnyActorLogic } from 'xstate';
import type { SmartTransactionsApi } from '../../src/api/types.js';
import type { Transaction } from '../../src/api/schemas.js';
import { createApiActors, memoryStartLedger } from '../../src/flows/api-actors.js';
import { apiError, CARD } from './fakes.js';
import type { ApiError } from '../../src/api/errors.js';

/** Two confirming reads, 1 ms apart: the rule, without the field's pauses. */
const FAST = { reads: 2, pauseMs: 1 };

/** The actors of a process restarted after `jobId`'s start was sent for STX_1. */
function restarted(api: ReturnType<typeof fakeApi>, jobId: string) {
  const ledger = memoryStartLedger();
  ledger.entries.set(jobId, 'STX_1');
  return { ledger, actors: createApiActors(api, { ledger, noEffect: FAST }) };
}

/** The error an actor rejects with. */
async function failure(logic: AnyActorLogic, input: unknown): Promise<ApiError> {
  const actor = createActor(logic, { input });
  actor.start();
  return (await toPromise(actor).catch((e: unknown) => e)) as ApiError;
}

function tx(over: Partial<Transaction> = {}): Transaction {
  return {
    id: 'STX_1',
    status: 'created',
    basket_info: { sum: 0, currency: 'EUR' },
    idents: [
      {
        type: 'card',
        value: CARD,
        valid: true,
        merchantcard: {
          id: 'MCD_1',
          cash_balance: 1000,
          bonus_balance: 250,
          balance: 1250,
          lock_status: 'unlocked',
          stock_status: 'active',
          passcode: 0,
          cardgroup: { display_name: 'Stammkunde' },
        },
      },
    ],
    receipt: [{ type: 'space' }],
    ...over,
  } as Transaction;
}

function fakeApi() {
  return {
    create: sinon.stub().resolves(tx()),
    get: sinon.stub().resolves(tx()),
    update: sinon.stub().resolves(tx()),
    preTransaction: sinon.stub().resolves({ missing_sum: 300, bonus_products: [] }),
    start: sinon.stub().resolves(tx({ status: 'ok' })),
    cancel: sinon.stub().resolves(tx({ status: 'cancelled' })),
    abort: sinon.stub().resolves(tx({ status: 'cancelled' })),
    readBack: sinon.stub().resolves({ transaction: tx({ status: 'ok' }), took: 'effect' }),
    list: sinon.stub().resolves([]),
    merchantCards: sinon.stub().resolves([]),
    cancelTrx: sinon.stub().resolves(tx({ status: 'cancelled' })),
    endOfDay: sinon.stub().resolves({ status: 'ok', receipt: [] }),
    diagnosis: sinon.stub().resolves({ status: 'ok', receipt: [] }),
  } satisfies Record<keyof SmartTransactionsApi, sinon.SinonStub>;
}

async function call<T>(logic: AnyActorLogic, input: unknown): Promise<T> {
  const actor = createActor(logic, { input });
  actor.start();
  return (await toPromise(actor)) as T;
}

const line = (text: string) => ({ type: 'textline' as const, value: { text, decoration: [] } });
/** As seed 000 words it: a payment section with the balance after it. */
const BALANCE_RECEIPT = [
  { type: 'separator' as const, value: { caption: 'Kundenkarte' } },
  line('Zahlung über:'),
  line('7,96 EUR'),
  { type: 'space' as const },
  line('Aktuelles Guthaben'),
  line('2,51 EUR'),
];
/** As seed 004 words it: the sale section (balance before the load), then the load section. */
const TOPUP_RECEIPT = [
  { type: 'separator' as const, value: { caption: 'Kundenkarte' } },
  line('Aktuelles Guthaben'),
  line('0,00 EUR'),
  { type: 'separator' as const, value: { caption: 'Kundenkarte Aufladung' } },
  line('Aktuelles Guthaben:'),
  line('15,00 EUR'),
];

describe('API actors over SmartTransactionsApi', () => {
  it('lookupCard opens a transaction without basket (sum 0) with the card ident and reads the merchant card', async () => {
    const api = fakeApi();
    const actors = createApiActors(api, { deviceId: 'SDV_1' });
    const out = await call<{
      kind: string;
      card: { groupName: string; balance: number };
      transactionId: string;
    }>(actors.lookupCard, { cardNumber: CARD, basket: [], flow: 'topup', jobId: 'S:lookup:0' });
    assert.equal(out.kind, 'found');
    assert.equal(out.card.groupName, 'Stammkunde');
    assert.equal(out.card.balance, 1250);
    assert.equal(out.transactionId, 'STX_1');
    const body = api.create.firstCall.args[0];
    assert.deepEqual(body.idents, [{ type: 'card', value: CARD }]);
    assert.equal(body.basket_info.sum, 0);
    assert.deepEqual(body.basket.products, [], 'no invented product: an empty basket, as documented');
    assert.equal(api.merchantCards.callCount, 0, 'the answer carried the card: nothing more to ask');
    assert.deepEqual(body.device_source, { id: 'SDV_1' });
    assert.equal(body.merchantRef, 'S:lookup:0', "the kiosk's reference is the merchant's order reference");
    assert.equal(body.transactionRef, undefined, 'transactionRef is bank-statement text: not ours');
  });

  it('lookupCard: code 1016 is a backend fault, passed through as the error (never "card unknown")', async () => {
    const api = fakeApi();
    api.create.rejects(apiError('http', 'not_applied', { httpStatus: 400, code: 1016 }));
    await assert.rejects(
      call(createApiActors(api).lookupCard, { cardNumber: CARD, basket: [], flow: 'checkout', jobId: 'j' }),
      (e: { code?: number }) => e.code === 1016,
    );
  });

  it('lookupCard: an answer without the merchant card asks the loyalty cards by number', async () => {
    const api = fakeApi();
    api.create.resolves(tx({ idents: [] }));
    const mc = tx().idents![0]!.merchantcard!;
    api.merchantCards.resolves([
      { ...mc, card: { cardnumber: '9276000000000000' } },
      { ...mc, card: { cardnumber: CARD }, balance: 700 },
    ]);
    const out = await call<{ kind: string; card: { valid: boolean; balance: number } }>(
      createApiActors(api).lookupCard,
      { cardNumber: CARD, basket: [], flow: 'topup', jobId: 'j' },
    );
    assert.equal(api.merchantCards.firstCall.args[0].q, `card.cardnumber:"${CARD}"`);
    assert.equal(out.kind, 'found');
    assert.equal(out.card.valid, true);
    assert.equal(out.card.balance, 700, 'the card whose number matches, not the first answer');
  });

  it('lookupCard: no ident and no merchant card by that number is unknown, with the look-up transaction', async () => {
    const api = fakeApi();
    api.create.resolves(tx({ idents: [{ type: 'card', value: CARD, valid: true, merchantcard: null }] }));
    const out = await call(createApiActors(api).lookupCard, {
      cardNumber: CARD,
      basket: [],
      flow: 'topup',
      jobId: 'j',
    });
    assert.deepEqual(out, { kind: 'unknown', transactionId: 'STX_1' });
  });

  it('lookupCard: an ident with valid:false and no merchant card is a card not accepted here', async () => {
    const api = fakeApi();
    api.create.resolves(tx({ idents: [{ type: 'card', value: CARD, valid: false, merchantcard: null }] }));
    const out = await call<{ kind: string; card: { valid: boolean } }>(createApiActors(api).lookupCard, {
      cardNumber: CARD,
      basket: [],
      flow: 'topup',
      jobId: 'j',
    });
    assert.equal(out.kind, 'found');
    assert.equal(out.card.valid, false);
    assert.equal(api.merchantCards.callCount, 0);
  });

  it('lookupCard: a failing merchant-card search is an error, not an unknown card', async () => {
    const api = fakeApi();
    api.create.resolves(tx({ idents: [] }));
    api.merchantCards.rejects(apiError('http', 'not_applied', { httpStatus: 500, code: 1016 }));
    await assert.rejects(
      call(createApiActors(api).lookupCard, { cardNumber: CARD, basket: [], flow: 'topup', jobId: 'j' }),
      (e: { httpStatus?: number }) => e.httpStatus === 500,
    );
  });

  it('lookupCard: other errors pass through for the machine to classify', async () => {
    const api = fakeApi();
    api.create.rejects(apiError('network', 'not_applied'));
    await assert.rejects(
      call(createApiActors(api).lookupCard, { cardNumber: CARD, basket: [], flow: 'checkout', jobId: 'j' }),
      (e: { kind: string }) => e.kind === 'network',
    );
  });

  it('lookupCard: valid:false and locked cards are reported as found with their state', async () => {
    const api = fakeApi();
    const t = tx();
    const ident = t.idents![0]!;
    api.create.resolves({ ...t, idents: [{ ...ident, valid: false }] });
    const out = await call<{ card: { valid: boolean } }>(createApiActors(api).lookupCard, {
      cardNumber: CARD,
      basket: [],
      flow: 'checkout',
      jobId: 'j',
    });
    assert.equal(out.card.valid, false);
  });

  it('createTransaction / updateTransaction send the basket with a matching sum', async () => {
    const api = fakeApi();
    const actors = createApiActors(api);
    const basket = [{ id: 11, desc: 'Kaffee', ean: null, quantity: 2, priceOne: 150, tax: 19 }];
    await call(actors.createTransaction, { basket, cardNumber: null, jobId: 'j' });
    assert.equal(api.create.firstCall.args[0].basket_info.sum, 300);
    assert.equal(api.create.firstCall.args[0].idents, undefined);
    await call(actors.updateTransaction, { id: 'STX_9', basket, cardNumber: CARD, jobId: 'j' });
    assert.equal(api.update.firstCall.args[0], 'STX_9');
  });

  it('preTransaction maps missing_sum, bounded by the basket the kiosk sent', async () => {
    const api = fakeApi();
    const actors = createApiActors(api);
    const basket = [{ id: 11, desc: 'Kaffee', ean: null, quantity: 2, priceOne: 150, tax: 19 }];
    await call(actors.createTransaction, { basket, cardNumber: CARD, jobId: 'S:create:0' });
    const out = await call<{ missingSum: number }>(actors.preTransaction, { id: 'STX_1' });
    assert.equal(out.missingSum, 300, 'the whole basket (300) may be missing');
    assert.equal(api.get.callCount, 0, 'the basket was known, no read needed');
  });

  it('preTransaction: missing_sum above the basket is bad_response, outcome unknown (no coin is asked for it)', async () => {
    const api = fakeApi();
    api.preTransaction.resolves({ missing_sum: 99999, bonus_products: [] });
    api.get.resolves(tx({ basket_info: { sum: 180, currency: 'EUR' } }));
    await assert.rejects(
      call(createApiActors(api).preTransaction, { id: 'STX_1' }),
      (e: { kind: string; outcome: string; message: string }) =>
        e.kind === 'bad_response' && e.outcome === 'unknown' && /above the basket sum 180/.test(e.message),
    );
  });

  it('startPayment passes the terminal time limit and returns status, receipt and the receipt balance', async () => {
    const api = fakeApi();
    api.start.resolves(tx({ status: 'ok', receipt: BALANCE_RECEIPT }));
    const out = await call<{ balance: number; receipt: unknown[]; status: string; took: string }>(
      createApiActors(api).startPayment,
      {
        id: 'STX_1',
        method: 'cashless',
        jobId: 'S:start:STX_1:1',
        timeoutMs: 60_000,
      },
    );
    assert.equal(api.start.firstCall.args[1], 'cashless');
    assert.equal(api.start.firstCall.args[2].timeoutMs, 60_000);
    // The receipt's "Aktuelles Guthaben", not idents[].merchantcard.balance (1250, read before).
    assert.equal(out.balance, 251);
    assert.equal(out.receipt.length, BALANCE_RECEIPT.length);
    assert.deepEqual([out.status, out.took], ['ok', 'effect']);
  });

  it("startPayment: a receipt without a balance gives no balance, never the ident's stale one", async () => {
    const api = fakeApi();
    const out = await call<{ balance: number | null }>(createApiActors(api).startPayment, {
      id: 'STX_1',
      method: 'cash',
      jobId: 'j',
    });
    assert.equal(out.balance, null);
  });

  for (const [status, took] of [
    ['ok', 'effect'],
    ['received', 'effect'],
    ['shipped', 'effect'],
    ['collection', 'effect'],
    ['collected', 'effect'],
    ['created', 'no_effect'],
    ['processing', 'no_effect'],
    ['pending', 'pending'],
    ['approved', 'approved'],
    ['failed', 'failed'],
    ['cancelled', 'cancelled'],
    ['refunded_somehow', 'unknown'],
  ] as const) {
    it(`startPayment answered 200 with status ${status}: took ${took}, for the machine to judge`, async () => {
      const api = fakeApi();
      api.start.resolves(tx({ status: status as Transaction['status'] }));
      const out = await call<{ status: string; took: string }>(createApiActors(api).startPayment, {
        id: 'STX_1',
        method: 'cash',
        jobId: 'j',
      });
      assert.deepEqual([out.status, out.took], [status, took]);
    });
  }

  it('startPayment restarted with the same job id reads back instead of starting again', async () => {
    const api = fakeApi();
    const ledger = memoryStartLedger();
    const actors = createApiActors(api, { ledger });
    const input = { id: 'STX_1', method: 'cash', jobId: 'S:start:STX_1:1' };
    await call(actors.startPayment, input);
    await call(actors.startPayment, input);
    assert.equal(api.start.callCount, 1);
    assert.equal(api.readBack.callCount, 1);
  });

  it('startPayment restarted, read back no_effect (confirmed by two more reads): the single repeat is sent', async () => {
    const api = fakeApi();
    api.readBack.resolves({ transaction: tx({ status: 'created' }), took: 'no_effect' });
    const { ledger, actors } = restarted(api, 'S:start:STX_1:1');
    await call(actors.startPayment, {
      id: 'STX_1',
      method: 'cash',
      jobId: 'S:start:STX_1:1',
    });
    assert.equal(api.readBack.callCount, 3);
    assert.equal(api.start.callCount, 1);
    assert.equal(ledger.entries.get('S:start:STX_1:1:again'), 'STX_1', 'the repeat is journaled as this job');
  });

  it('startPayment restarted, read back lags ("created", then ok): never started again', async () => {
    const api = fakeApi();
    api.readBack.onFirstCall().resolves({ transaction: tx({ status: 'created' }), took: 'no_effect' });
    api.readBack.onSecondCall().resolves({ transaction: tx({ status: 'ok' }), took: 'effect' });
    const out = await call<{ took: string }>(restarted(api, 'j').actors.startPayment, {
      id: 'STX_1',
      method: 'cash',
      jobId: 'j',
    });
    assert.equal(out.took, 'effect');
    assert.equal(api.start.callCount, 0);
  });

  it('startPayment restarted, the repeat refused with 409: read back; still "created" -> outcome unknown, not "not paid"', async () => {
    const api = fakeApi();
    api.readBack.resolves({ transaction: tx({ status: 'created' }), took: 'no_effect' });
    api.start.rejects(apiError('http', 'not_applied', { httpStatus: 409, code: 1001 }));
    const err = await failure(restarted(api, 'j').actors.startPayment, {
      id: 'STX_1',
      method: 'cash',
      jobId: 'j',
    });
    assert.equal(err.outcome, 'unknown');
    assert.equal(err.httpStatus, 409);
    assert.equal(api.readBack.callCount, 4, 'three reads before the repeat, one after its refusal');
  });

  it('startPayment restarted, read back pending: the pending status goes to the machine, no start', async () => {
    const api = fakeApi();
    api.readBack.resolves({ transaction: tx({ status: 'pending' }), took: 'pending' });
    const ledger = memoryStartLedger();
    ledger.entries.set('j', 'STX_1');
    const out = await call<{ took: string }>(createApiActors(api, { ledger }).startPayment, {
      id: 'STX_1',
      method: 'cash',
      jobId: 'j',
    });
    assert.equal(out.took, 'pending');
    assert.equal(api.start.callCount, 0);
  });

  it('readBack maps took and the result', async () => {
    const out = await call<{ took: string; result: { id: string } }>(createApiActors(fakeApi()).readBack, {
      id: 'STX_1',
    });
    assert.equal(out.took, 'effect');
    assert.equal(out.result.id, 'STX_1');
  });

  it('abort and cancel call their endpoints; cancel reports the status it got', async () => {
    const api = fakeApi();
    const actors = createApiActors(api);
    await call(actors.abortTransaction, { id: 'STX_1' });
    const cancelled = await call(actors.cancelTransaction, { id: 'STX_2' });
    assert.equal(api.abort.firstCall.args[0], 'STX_1');
    assert.equal(api.cancel.firstCall.args[0], 'STX_2');
    assert.deepEqual(cancelled, { status: 'cancelled', took: 'cancelled' });
  });

  it('creditCard: top-up transaction with the top-up product, start/cash', async () => {
    const api = fakeApi();
    const out = await call<{ transactionId: string; balance: number }>(createApiActors(api).creditCard, {
      cardNumber: CARD,
      cents: 350,
      jobId: 'S:credit:1',
      relatedTransactionId: null,
    });
    const body = api.create.firstCall.args[0];
    assert.equal(body.basket.products[0].ean, '4260447149502');
    assert.equal(body.basket.products[0].priceOne, 350);
    assert.equal(body.basket_info.sum, 350);
    assert.equal(api.start.firstCall.args[1], 'cash');
    assert.equal(out.transactionId, 'STX_1');
  });

  it('creditCard: unknown start outcome is read back; effect counts, no second start', async () => {
    const api = fakeApi();
    api.start.rejects(apiError('timeout', 'unknown'));
    await call(createApiActors(api).creditCard, {
      cardNumber: CARD,
      cents: 100,
      jobId: 'c',
      relatedTransactionId: null,
    });
    assert.equal(api.start.callCount, 1);
    assert.equal(api.readBack.callCount, 1);
  });

  const CREDIT = { cardNumber: CARD, cents: 100, jobId: 'S:credit:1', relatedTransactionId: null };
  const CREATED = { transaction: tx({ status: 'created' }), took: 'no_effect' };
  const PAID = { transaction: tx({ status: 'ok' }), took: 'effect' };
  /** A credit whose first start timed out: reads "created" except where `paidAt` says; the repeat may be refused. */
  function creditInDoubt(opts: { paidAt?: number; repeat?: ApiError } = {}) {
    const api = fakeApi();
    api.start.onFirstCall().rejects(apiError('timeout', 'unknown'));
    if (opts.repeat) api.start.onSecondCall().rejects(opts.repeat);
    api.readBack.resolves(CREATED);
    if (opts.paidAt !== undefined) api.readBack.onCall(opts.paidAt).resolves(PAID);
    return api;
  }

  it('creditCard: unknown, then no_effect confirmed by two more reads: started exactly once more, as the credit', async () => {
    const api = creditInDoubt();
    const ledger = memoryStartLedger();
    await call(createApiActors(api, { ledger, noEffect: FAST }).creditCard, CREDIT);
    assert.equal(api.readBack.callCount, 3);
    assert.equal(api.start.callCount, 2);
    assert.equal(ledger.entries.get('S:credit:1:again'), 'STX_1');
  });

  it("creditCard: the repeat's own outcome lost too, the actor invoked again: never a third start (outcome unknown)", async () => {
    const api = creditInDoubt({ repeat: apiError('timeout', 'unknown') });
    const ledger = memoryStartLedger();
    const actors = createApiActors(api, { ledger, noEffect: FAST });
    const first = await failure(actors.creditCard, CREDIT);
    assert.equal(first.outcome, 'unknown');
    assert.equal(api.start.callCount, 2, 'the first start and its one repeat');
    const second = await failure(actors.creditCard, CREDIT);
    assert.equal(second.outcome, 'unknown', 'left for recovery, never "not credited"');
    assert.equal(api.start.callCount, 2, 'no third start on reads that may lag');
  });

  it('creditCard: unknown, read back lags ("created" once, then ok): credited once, never started again', async () => {
    const api = creditInDoubt({ paidAt: 1 });
    const out = await call<{ transactionId: string }>(
      createApiActors(api, { noEffect: FAST }).creditCard,
      CREDIT,
    );
    assert.equal(out.transactionId, 'STX_1');
    assert.equal(api.start.callCount, 1);
  });

  it('creditCard: the repeat refused with 409 and read back "ok": credited (the first start took effect)', async () => {
    const api = creditInDoubt({ paidAt: 3, repeat: apiError('http', 'not_applied', { httpStatus: 409 }) });
    const out = await call<{ transactionId: string }>(
      createApiActors(api, { noEffect: FAST }).creditCard,
      CREDIT,
    );
    assert.equal(out.transactionId, 'STX_1');
    assert.equal(api.start.callCount, 2);
  });

  it('creditCard: the repeat refused with 400 and still "created": outcome unknown (a voucher, left for recovery)', async () => {
    const api = creditInDoubt({ repeat: apiError('http', 'not_applied', { httpStatus: 400 }) });
    const err = await failure(createApiActors(api, { noEffect: FAST }).creditCard, CREDIT);
    assert.equal(err.outcome, 'unknown');
  });

  for (const [status, outcome] of [
    ['failed', 'not_applied'],
    ['cancelled', 'not_applied'],
    ['pending', 'unknown'],
    ['approved', 'unknown'],
    ['mystery', 'unknown'],
  ] as const) {
    it(`creditCard answered 200 with status ${status}: not credited (${outcome})`, async () => {
      const api = fakeApi();
      api.start.resolves(tx({ status: status as Transaction['status'] }));
      await assert.rejects(
        call(createApiActors(api).creditCard, {
          cardNumber: CARD,
          cents: 100,
          jobId: 'c',
          relatedTransactionId: null,
        }),
        (e: { kind: string; outcome: string; status: string }) =>
          e.kind === 'declined' && e.outcome === outcome && e.status === status,
      );
    });
  }

  it('creditCard: the balance is the load section\'s "Aktuelles Guthaben"', async () => {
    const api = fakeApi();
    api.start.resolves(tx({ status: 'ok', receipt: TOPUP_RECEIPT }));
    const out = await call<{ balance: number | null }>(createApiActors(api).creditCard, {
      cardNumber: CARD,
      cents: 1500,
      jobId: 'c',
      relatedTransactionId: null,
    });
    assert.equal(out.balance, 1500);
  });

  it('passes the AbortSignal so a stopped actor cancels its call', async () => {
    const api = fakeApi();
    api.start.callsFake((_id: string, _m: string, o: { signal: AbortSignal }) => {
      return new Promise((_r, reject) =>
        o.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    });
    const actor = createActor(createApiActors(api).startPayment, {
      input: { id: 'STX_1', method: 'cashless', jobId: 'j' },
    });
    actor.start();
    await new Promise((r) => setImmediate(r));
    const signal = api.start.firstCall.args[2].signal as AbortSignal;
    actor.stop();
    assert.equal(signal.aborted, true);
  });
});
