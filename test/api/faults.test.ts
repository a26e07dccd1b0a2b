/** Every fault the stand-in injects reaches the caller as the typed error it should be. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ApiError } from '../../src/api/errors.js';
import { SmartTransactionsClient } from '../../src/api/client.js';
import { SEED_CARD, seedBasket, startRig, topUpBasket, type ApiRig } from '../support/api.js';

const isApiError = (pred: (e: ApiError) => boolean) => (e: unknown) => e instanceof ApiError && pred(e);

describe('API client: faults become typed errors that say whether the call took effect', () => {
  let rig: ApiRig;
  beforeEach(async () => {
    rig = await startRig({ timeoutMs: 400 });
  });
  afterEach(async () => rig.close());

  it('dropped answer after commit on start: outcome unknown; read-back tells the truth; a retry never charges twice', async () => {
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 1000));
    rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'drop_after_commit' } });
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError((e) => e.kind === 'network' && e.outcome === 'unknown' && !e.retryable),
    );
    const back = await rig.client.readBack(tx.id);
    assert.equal(back.took, 'effect');
    assert.equal(back.transaction.status, 'ok');
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError((e) => e.httpStatus === 409),
    );
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 251 + 1000, 'loaded exactly once');
    assert.equal(rig.standIn.ledger.sales().length, 1);
  });

  it('dropped connection before commit: read-back shows no effect, so the start may be repeated once', async () => {
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 500));
    rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'drop_before_commit' } });
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError((e) => e.outcome === 'unknown'),
    );
    assert.equal((await rig.client.readBack(tx.id)).took, 'no_effect');
    assert.equal((await rig.client.start(tx.id, 'cash')).status, 'ok');
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 751);
  });

  it('timeout: kind timeout, unknown for a start, the late commit visible by read-back', async () => {
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 200));
    rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'latency', ms: 700 } });
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError((e) => e.kind === 'timeout' && e.outcome === 'unknown'),
    );
    // The stand-in commits when its 700 ms are up, after the client gave up: read until it shows
    // (a deadline, not a guessed sleep, so a loaded machine does not fail it).
    let took = (await rig.client.readBack(tx.id)).took;
    for (const deadline = Date.now() + 5000; took !== 'effect' && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      took = (await rig.client.readBack(tx.id)).took;
    }
    assert.equal(took, 'effect');
  });

  it('timeout on a read: not applied and retryable', async () => {
    const tx = await rig.client.create(seedBasket());
    rig.standIn.faults.add({ method: 'GET', fault: { type: 'latency', ms: 700 } });
    await assert.rejects(
      rig.client.get(tx.id),
      isApiError((e) => e.kind === 'timeout' && e.outcome === 'not_applied' && e.retryable),
    );
  });

  it('HTTP 5xx with the documented body: kind http, code and German text kept, outcome unknown for a start', async () => {
    const tx = await rig.client.create(seedBasket());
    rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'status', status: 503 } });
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError(
        (e) =>
          e.kind === 'http' &&
          e.httpStatus === 503 &&
          e.code === 1009 &&
          e.userMessage === 'Ein Fehler ist aufgetreten.' &&
          e.outcome === 'unknown',
      ),
    );
    assert.equal((await rig.client.readBack(tx.id)).took, 'no_effect');
  });

  it('a 2xx body that is not JSON: bad_response, outcome unknown, the change did happen', async () => {
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 300));
    rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'not_json' } });
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError((e) => e.kind === 'bad_response' && e.outcome === 'unknown' && /not JSON/.test(e.message)),
    );
    assert.equal((await rig.client.readBack(tx.id)).took, 'effect');
  });

  it('expired token (401, and 403 with code 2003): authenticates once more and retries', async () => {
    rig.standIn.faults.add({
      method: 'POST',
      path: '/Smart/Transactions',
      fault: { type: 'expire_token', as: '401' },
    });
    const a = await rig.client.create(seedBasket());
    assert.equal(a.status, 'created');
    rig.standIn.faults.add({ method: 'GET', fault: { type: 'expire_token', as: '403' } });
    assert.equal((await rig.client.get(a.id)).id, a.id);
    rig.standIn.expireAllTokens();
    assert.equal((await rig.client.get(a.id)).id, a.id);
  });

  it('a token refused twice: kind auth, not applied, no endless loop', async () => {
    rig.standIn.faults.add({ method: 'GET', fault: { type: 'expire_token', as: '401' }, times: 5 });
    const tx = await rig.client.create(seedBasket());
    await assert.rejects(
      rig.client.get(tx.id),
      isApiError((e) => e.kind === 'auth' && e.outcome === 'not_applied'),
    );
    assert.equal(rig.standIn.faults.pending, 1, 'exactly two attempts were made');
  });

  it('connection refused: network, not applied, retryable', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const client = new SmartTransactionsClient({
      baseUrl: `http://127.0.0.1:${port}/api/v2`,
      tokens: { token: async () => 't', invalidate: () => {} },
    });
    await assert.rejects(
      client.start('STX_1', 'cash'),
      isApiError((e) => e.kind === 'network' && e.outcome === 'not_applied' && e.retryable),
    );
  });

  it('the stand-in dying mid-session: a start on a dead connection is not assumed to have failed', async () => {
    const tx = await rig.client.create(seedBasket());
    await rig.standIn.close();
    await assert.rejects(
      rig.client.start(tx.id, 'cash'),
      isApiError((e) => e.kind === 'network' && (e.outcome === 'unknown' || e.outcome === 'not_applied')),
    );
  });

  it('the caller\u2019s AbortSignal cancels a call: kind aborted', async () => {
    const tx = await rig.client.create(seedBasket());
    rig.standIn.faults.add({ path: '/start/cashless', fault: { type: 'latency', ms: 300 } });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    await assert.rejects(
      rig.client.start(tx.id, 'cashless', { signal: ctl.signal, timeoutMs: 5000 }),
      isApiError((e) => e.kind === 'aborted' && e.outcome === 'unknown'),
    );
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(
      rig.client.get(tx.id, { signal: pre.signal }),
      isApiError((e) => e.kind === 'aborted' && e.outcome === 'not_applied'),
    );
  });

  it('a declined terminal payment: http 400 code 1009, transaction failed, nothing charged', async () => {
    const tx = await rig.client.create(seedBasket(SEED_CARD));
    await rig.client.preTransaction(tx.id);
    rig.standIn.faults.add({ path: '/start/cashless', fault: { type: 'decline' } });
    await assert.rejects(
      rig.client.start(tx.id, 'cashless'),
      isApiError((e) => e.code === 1009 && e.outcome === 'not_applied'),
    );
    assert.equal((await rig.client.readBack(tx.id)).took, 'failed');
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 251);
  });
});
