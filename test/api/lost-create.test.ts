/**
 * References: the kiosk's reference goes in `merchantRef`, and a create whose answer was lost is
 * found again by it (`GET /Smart/Transactions?q=merchantRef:...`) and reused, or its copies aborted:
 * no orphan transactions, against the stand-in.
 */
import assert from 'node:assert/strict';
import { findingLostCreates } from '../../src/api/lost-create.js';
import { ApiError } from '../../src/api/errors.js';
import type { CreateTransaction } from '../../src/api/schemas.js';
import { SEED_CARD, startRig, topUpBasket, type ApiRig } from '../support/api.js';

const withRef = (ref: string, body: CreateTransaction = topUpBasket(SEED_CARD, 500)): CreateTransaction => ({
  ...body,
  merchantRef: ref,
});

describe('lost create: found again by merchantRef, reused, never an orphan', () => {
  let rig: ApiRig;
  beforeEach(async () => {
    rig = await startRig({ timeoutMs: 500 });
  });
  afterEach(async () => rig.close());

  it('the search finds a transaction by merchantRef (the SDK getAll with q)', async () => {
    const a = await rig.client.create(withRef('b1-3:create:0'));
    await rig.client.create(withRef('b1-4:create:0'));
    const found = await rig.client.list({ q: 'merchantRef:"b1-3:create:0"', count: 10 });
    assert.deepEqual(
      found.map((t) => t.id),
      [a.id],
    );
    assert.equal(found[0]!.merchantRef, 'b1-3:create:0');
    assert.deepEqual(await rig.client.list({ q: 'merchantRef:"nothing"' }), []);
  });

  it('answer dropped after commit: the create returns the transaction the server made; one transaction in the books', async () => {
    const api = findingLostCreates(rig.client);
    rig.standIn.faults.add({
      method: 'POST',
      path: '/Smart/Transactions',
      fault: { type: 'drop_after_commit' },
    });
    const tx = await api.create(withRef('b2-1:create:0'));
    assert.equal(tx.status, 'created');
    assert.equal(tx.merchantRef, 'b2-1:create:0');
    const all = await rig.client.list({ q: 'merchantRef:"b2-1:create:0"' });
    assert.equal(all.length, 1, 'no second transaction was created');
    assert.equal(all[0]!.id, tx.id);
    // The reused transaction is a normal one: it can be paid.
    assert.equal((await rig.client.start(tx.id, 'cash')).status, 'ok');
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 251 + 500);
  });

  it('answer lost before the server committed: the error stands (outcome unknown), the retry creates exactly one', async () => {
    const api = findingLostCreates(rig.client);
    rig.standIn.faults.add({
      method: 'POST',
      path: '/Smart/Transactions',
      fault: { type: 'drop_before_commit' },
    });
    await assert.rejects(
      api.create(withRef('b3-1:create:0')),
      (e: unknown) => e instanceof ApiError && e.outcome === 'unknown',
    );
    const tx = await api.create(withRef('b3-1:create:0'));
    assert.equal((await rig.client.list({ q: 'merchantRef:"b3-1:create:0"' })).length, 1);
    assert.equal(tx.merchantRef, 'b3-1:create:0');
  });

  it('a late commit seen only on the retry: the retry searches first and reuses it, it does not create again', async () => {
    const api = findingLostCreates(rig.client);
    // Slower than the client's deadline: the first answer is lost, the commit comes after the search.
    rig.standIn.faults.add({
      method: 'POST',
      path: '/Smart/Transactions',
      fault: { type: 'latency', ms: 900 },
    });
    rig.standIn.faults.add({
      method: 'GET',
      path: '/Smart/Transactions',
      fault: { type: 'status', status: 503 },
    });
    await assert.rejects(
      api.create(withRef('b4-1:create:0')),
      (e: unknown) => e instanceof ApiError && e.kind === 'timeout' && e.outcome === 'unknown',
    );
    await waitFor(async () => (await rig.client.list({ q: 'merchantRef:"b4-1:create:0"' })).length === 1);
    const tx = await api.create(withRef('b4-1:create:0'));
    const all = await rig.client.list({ q: 'merchantRef:"b4-1:create:0"' });
    assert.equal(all.length, 1);
    assert.equal(all[0]!.id, tx.id);
  });

  it('two open copies with the same reference: the oldest is reused, the other aborted', async () => {
    const first = await rig.client.create(withRef('b5-1:create:0'));
    const second = await rig.client.create(withRef('b5-1:create:0'));
    const api = findingLostCreates(rig.client);
    rig.standIn.faults.add({
      method: 'POST',
      path: '/Smart/Transactions',
      fault: { type: 'status', status: 504 },
    });
    const tx = await api.create(withRef('b5-1:create:0'));
    assert.equal(tx.id, first.id);
    assert.equal((await rig.client.get(second.id)).status, 'cancelled');
    assert.equal((await rig.client.get(first.id)).status, 'created');
  });
});

async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met');
}
