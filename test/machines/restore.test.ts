/**
 * xstate's restore traps, with the real API actors over a fake API: a restored snapshot restarts
 * its invoked actors (the start must not be sent twice) and has no pending `after` timers (the
 * terminal deadline lives in context and is enforced by TICK).
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { createActor, fromPromise } from 'xstate';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import type { Transaction } from '../../src/api/schemas.js';
import type { PrintInput, PrintOutput } from '../../machines/ports.js';
import { createApiActors, memoryStartLedger } from '../../src/flows/api-actors.js';
import { flush, TEST_CONFIG } from './fakes.js';

function tx(status: Transaction['status']): Transaction {
  return { id: 'STX_1', status, basket_info: { sum: 150, currency: 'EUR' }, receipt: [] } as Transaction;
}

function setup() {
  const api = {
    create: sinon.stub().resolves(tx('created')),
    get: sinon.stub().resolves(tx('created')),
    update: sinon.stub().resolves(tx('created')),
    preTransaction: sinon.stub().resolves({ missing_sum: 0, bonus_products: [] }),
    start: sinon.stub().returns(new Promise(() => {})),
    cancel: sinon.stub().resolves(tx('cancelled')),
    abort: sinon.stub().resolves(tx('cancelled')),
    readBack: sinon.stub().resolves({ transaction: tx('ok'), took: 'effect' }),
  };
  const ledger = memoryStartLedger(); // the journal's durable ledger in the app
  const machine = checkoutMachine.provide({
    actors: {
      ...createApiActors(api, { ledger }),
      recordUnclaimed: fromPromise(async () => ({ voucherCode: 'V' })),
      print: fromPromise<PrintOutput | undefined, PrintInput>(async () => undefined),
    },
  });
  return { api, ledger, machine };
}

describe('restoring a persisted snapshot', () => {
  it('the restarted start actor reads back instead of starting the payment again', async () => {
    const { api, machine } = setup();
    const first = createActor(machine, { input: { sessionId: 'S', config: TEST_CONFIG } });
    first.start();
    first.send({ type: 'BUTTON', name: 'amount1' });
    first.send({ type: 'BUTTON', name: 'ok' });
    await flush();
    first.send({ type: 'BUTTON', name: 'amount2' }); // terminal
    await flush();
    assert.equal(api.start.callCount, 1);
    const persisted = first.getPersistedSnapshot();
    first.stop(); // power cut

    const second = createActor(machine, { snapshot: persisted, input: { sessionId: 'S' } });
    second.start();
    await flush(10);
    assert.equal(api.start.callCount, 1, 'never a blind second start');
    assert.equal(api.readBack.callCount, 1);
    assert.equal(second.getSnapshot().context.outcome, 'paid');
    second.stop();
  });

  it('the terminal deadline survives a restore: a TICK past it reads back', async () => {
    const { api, machine } = setup();
    api.readBack.onFirstCall().resolves({ transaction: tx('processing'), took: 'no_effect' }); // the restarted actor
    api.readBack.onSecondCall().resolves({ transaction: tx('ok'), took: 'effect' });
    api.start.returns(new Promise(() => {}));
    const first = createActor(machine, { input: { sessionId: 'S', config: TEST_CONFIG } });
    first.start();
    first.send({ type: 'TICK', now: 10_000 });
    first.send({ type: 'BUTTON', name: 'amount1' });
    first.send({ type: 'BUTTON', name: 'ok' });
    await flush();
    first.send({ type: 'BUTTON', name: 'amount2' });
    await flush();
    const persisted = first.getPersistedSnapshot();
    first.stop();

    const second = createActor(machine, { snapshot: persisted, input: { sessionId: 'S' } });
    second.start();
    await flush(10);
    assert.equal(second.getSnapshot().context.payDeadline, 70_000);
    second.send({ type: 'TICK', now: 70_000 });
    await flush(10);
    assert.equal(second.getSnapshot().context.outcome, 'paid');
    second.stop();
  });
});
