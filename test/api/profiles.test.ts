/**
 * The stand-in's profiles (src/sim/profiles.ts): each plays one plausible behaviour where the
 * public docs are silent. These tests pin what the stand-in itself does under each, over HTTP.
 */
import assert from 'node:assert/strict';
import { ApiError } from '../../src/api/errors.js';
import { PROFILE_NAMES, behaviourOf } from '../../src/sim/profiles.js';
import type { ProfileSelection } from '../../src/sim/profiles.js';
import { DEMO_CLIENT } from '../../src/sim/api-server.js';
import { SEED_CARD, seedBasket, startRig, topUpBasket, type ApiRig } from '../support/api.js';

const BONUS_CARD = '9276000000000042'; // 5,00 cash + 7,50 bonus

const refusedWith = (status: number) => (e: unknown) => e instanceof ApiError && e.httpStatus === status;

describe('API stand-in profiles: where the docs are silent, each plausible behaviour', () => {
  let rig: ApiRig;
  afterEach(async () => rig?.close());
  const start = async (profile?: ProfileSelection) => {
    rig = await startRig({ terminalDelayMs: 1, ...(profile ? { profile } : {}) });
    return rig;
  };
  const sim = async (path: string, init?: { method: string; body: unknown }) => {
    const res = await fetch(`${rig.standIn.url}${path}`, {
      method: init?.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      ...(init ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('every named profile resolves to valid switches; an unknown name is refused', () => {
    for (const name of PROFILE_NAMES) assert.ok(behaviourOf(name));
    assert.throws(() => behaviourOf('no-such' as ProfileSelection), /unknown stand-in profile/);
  });

  it('decline-http: a declined terminal payment is HTTP 400 PaymentDeclinedException; read back failed', async () => {
    await start('decline-http');
    const tx = await rig.client.create(seedBasket());
    rig.standIn.faults.add({ path: '/start/cashless', fault: { type: 'decline' } });
    await assert.rejects(rig.client.start(tx.id, 'cashless'), refusedWith(400));
    assert.equal((await rig.client.readBack(tx.id)).took, 'failed');
    assert.equal(rig.standIn.ledger.sales().length, 0);
  });

  it('decline-200-failed: the same decline answers 200 with status failed', async () => {
    await start('decline-200-failed');
    const tx = await rig.client.create(seedBasket());
    rig.standIn.faults.add({ path: '/start/cashless', fault: { type: 'decline' } });
    const answer = await rig.client.start(tx.id, 'cashless');
    assert.equal(answer.status, 'failed');
    assert.equal(rig.standIn.ledger.sales().length, 0);
  });

  it('second-start-refused: a start on a paid transaction is 409, charged once', async () => {
    await start('second-start-refused');
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 500));
    await rig.client.start(tx.id, 'cash');
    await assert.rejects(rig.client.start(tx.id, 'cash'), refusedWith(409));
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 251 + 500);
    assert.equal(rig.standIn.ledger.sales().length, 1);
  });

  it('second-start-charges: a start on a paid transaction is executed again (a second charge)', async () => {
    await start('second-start-charges');
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 500));
    await rig.client.start(tx.id, 'cash');
    assert.equal((await rig.client.start(tx.id, 'cash')).status, 'ok');
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 251 + 1000, 'loaded twice');
    assert.equal(rig.standIn.ledger.sales().filter((s) => s.txId === tx.id).length, 2);
  });

  it('read-lag: after a start, two reads still show the old status; writes see the truth', async () => {
    await start('read-lag');
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 500));
    await rig.client.start(tx.id, 'cash');
    assert.equal((await rig.client.get(tx.id)).status, 'created');
    assert.equal((await rig.client.get(tx.id)).status, 'created');
    assert.equal((await rig.client.get(tx.id)).status, 'ok');
    const other = await rig.client.create(topUpBasket(SEED_CARD, 100));
    await rig.client.start(other.id, 'cash');
    await assert.rejects(rig.client.abort(other.id), refusedWith(409), 'abort sees the paid transaction');
  });

  it('pretransaction-minimal: only {missing_sum, bonus_products}, bonus lines from the bonus balance only', async () => {
    await start('pretransaction-minimal');
    const tx = await rig.client.create(seedBasket(BONUS_CARD)); // 7,96: 5,00 cash + 2,96 bonus
    const res = await fetch(`${rig.standIn.baseUrl}/Smart/Transactions/${tx.id}/preTransaction`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await rig.tokens.token()}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await res.json()) as { missing_sum: number; bonus_products: { priceOne: number }[] };
    assert.deepEqual(Object.keys(body).sort(), ['bonus_products', 'missing_sum']);
    assert.equal(body.missing_sum, 0);
    assert.equal(
      body.bonus_products.reduce((s, p) => s + p.priceOne, 0),
      -296,
      'the bonus part only',
    );
  });

  it('default: preTransaction answers the whole transaction, bonus lines for all the card pays', async () => {
    await start();
    const tx = await rig.client.create(seedBasket(BONUS_CARD));
    const pre = await rig.client.preTransaction(tx.id);
    assert.equal((pre as { id?: string }).id, tx.id);
    assert.equal(
      pre.bonus_products.reduce((s, p) => s + (p.priceOne ?? 0), 0),
      -796,
    );
  });

  it('cancel-keeps-receipts: cancel restores the balance and keeps the receipt unchanged', async () => {
    await start('cancel-keeps-receipts');
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 500));
    const paid = await rig.client.start(tx.id, 'cash');
    const cancelled = await rig.client.cancel(tx.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(cancelled.receipt, paid.receipt);
    assert.doesNotMatch(JSON.stringify(cancelled.receipt), /STORNO/);
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.cash_balance, 251);
  });

  it('default: cancel replaces the receipt with a STORNO receipt', async () => {
    await start();
    const tx = await rig.client.create(topUpBasket(SEED_CARD, 500));
    await rig.client.start(tx.id, 'cash');
    assert.match(JSON.stringify((await rig.client.cancel(tx.id)).receipt), /STORNO/);
  });

  it('expired-token-403: an expired token is 403 ProductNotAllowedException code 2003', async () => {
    await start('expired-token-403');
    const res = await fetch(`${rig.standIn.baseUrl}/Smart/Transactions/STX_X`, {
      headers: { authorization: 'Bearer expired-or-unknown' },
    });
    const body = (await res.json()) as { error: string; code: number };
    assert.deepEqual(
      { status: res.status, error: body.error, code: body.code },
      {
        status: 403,
        error: 'ProductNotAllowedException',
        code: 2003,
      },
    );
    // The client re-authenticates once on it and goes on.
    await rig.client.create(seedBasket());
    rig.standIn.expireAllTokens();
    assert.ok((await rig.client.create(seedBasket())).id);
  });

  it('device-code-1200: device codes expire_in 1200 s, interval 5, as in the docs', async () => {
    await start('device-code-1200');
    const res = await fetch(rig.standIn.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'device',
        client_id: DEMO_CLIENT.clientId,
        client_secret: DEMO_CLIENT.clientSecret,
        uuid: '/vendor/test/kiosk/1',
      }),
    });
    const body = (await res.json()) as { expires_in: number; interval: number };
    assert.deepEqual(
      { expires_in: body.expires_in, interval: body.interval },
      { expires_in: 1200, interval: 5 },
    );
  });

  it('POST /__sim/profile switches by name or by switches; GET shows them; an unknown name is 400', async () => {
    await start();
    assert.equal(rig.standIn.behaviour().secondStart, 'refused');
    const byName = await sim('/__sim/profile', { method: 'POST', body: { name: 'second-start-charges' } });
    assert.equal((byName.json.behaviour as { secondStart: string }).secondStart, 'charges');
    const bySwitch = await sim('/__sim/profile', { method: 'POST', body: { set: { readLag: 4 } } });
    assert.deepEqual(
      {
        readLag: (bySwitch.json.behaviour as { readLag: number }).readLag,
        secondStart: (bySwitch.json.behaviour as { secondStart: string }).secondStart,
      },
      { readLag: 4, secondStart: 'charges' },
      'switches go over the current profile',
    );
    assert.equal(((await sim('/__sim/profile')).json.behaviour as { readLag: number }).readLag, 4);
    assert.equal((await sim('/__sim/profile', { method: 'POST', body: { name: 'nope' } })).status, 400);
    assert.equal(
      (await sim('/__sim/profile', { method: 'POST', body: { set: { readLag: -1 } } })).status,
      400,
    );
  });
});
