/**
 * The stand-in, driven through the real client, reproduces the four flows of the seeds with the
 * same receipt structure, and the ledger holds the balances it should afterwards.
 */
import assert from 'node:assert/strict';
import { startApiStandIn } from '../../src/sim/api-server.js';
import { cardOf, TransactionSchema, type ReceiptLine } from '../../src/api/schemas.js';
import { loadSeedTransactions } from '../support/seeds.js';
import { SEED_CARD, seedBasket, startRig, topUpBasket, type ApiRig } from '../support/api.js';

const shape = (receipt: ReceiptLine[] | undefined): string[] =>
  (receipt ?? []).map((l) => {
    if (l.type === 'separator') return `sep:${l.value?.caption ?? ''}`;
    if (l.type === 'name-value') return `nv:${l.value.name.trim()}`;
    if (l.type === 'textline')
      return /\d,\d\d EUR$/.test(l.value.text)
        ? `money:${l.value.decoration.join('+')}`
        : `text:${l.value.text}`;
    return 'space';
  });

const balance = (rig: ApiRig, card: string) => {
  const c = rig.standIn.ledger.card(card)!;
  return c.cash_balance + c.bonus_balance;
};

describe('stand-in: the four flows of the seeds through the client', () => {
  let rig: ApiRig;
  const seeds = loadSeedTransactions();
  const seedShape = (n: string) => shape(TransactionSchema.parse(seeds.get(n)).receipt);

  beforeEach(async () => {
    rig = await startRig();
  });
  afterEach(async () => rig.close());

  it('1. card balance covers all: preTransaction -> missing 0 -> start/loyalty (seed 000)', async () => {
    rig.standIn.ledger.setCard({ ...rig.standIn.ledger.card(SEED_CARD)!, cash_balance: 1047 });
    const created = await rig.client.create(seedBasket(SEED_CARD));
    assert.equal(created.status, 'created');
    assert.equal(cardOf(created)?.merchantcard?.balance, 1047);
    const pre = await rig.client.preTransaction(created.id);
    assert.equal(pre.missing_sum, 0);
    assert.deepEqual(
      pre.bonus_products.map((p) => [p.tax, p.priceOne]),
      [
        [7, -598],
        [19, -198],
      ],
    );
    assert.equal((await rig.client.get(created.id)).status, 'processing');
    const paid = await rig.client.start(created.id, 'loyalty');
    assert.equal(paid.status, 'ok');
    assert.equal(paid.payment_method, 'loyalty');
    assert.deepEqual(shape(paid.receipt), seedShape('000'));
    assert.equal(balance(rig, SEED_CARD), 251, 'the seed\u2019s final balance: 2,51 EUR');
    assert.equal(cardOf(paid)?.merchantcard?.balance, 251);
  });

  it('2. card balance covers part: missing_sum > 0, rest in cash, start/cash (seeds 001/002)', async () => {
    const created = await rig.client.create(seedBasket(SEED_CARD));
    const pre = await rig.client.preTransaction(created.id);
    assert.equal(pre.missing_sum, 796 - 251);
    await assert.rejects(
      rig.client.start(created.id, 'loyalty'),
      (e: Error & { kind?: string; outcome?: string }) => e.kind === 'http' && e.outcome === 'not_applied',
    );
    const paid = await rig.client.start(created.id, 'cash');
    assert.equal(paid.status, 'ok');
    assert.equal(paid.payment_method, 'cash');
    assert.equal(balance(rig, SEED_CARD), 0, 'the whole balance was redeemed');
    const sale = rig.standIn.ledger.sales().find((s) => s.txId === created.id)!;
    assert.equal(sale.collected, 545);
    assert.equal(sale.redeemed, 251);
    assert.deepEqual(shape(paid.receipt), [
      'sep:Kundenkarte',
      'nv:Kartennummer:',
      'nv:TA Code:',
      'space',
      'text:Zahlung über:',
      'money:important',
      'space',
      ...seedShape('001').slice(4),
    ]);
  });

  it('3. cash without preTransaction records the sale and leaves the balance (seed 003)', async () => {
    const created = await rig.client.create(seedBasket(SEED_CARD));
    const paid = await rig.client.start(created.id, 'cash');
    assert.equal(paid.status, 'ok');
    assert.deepEqual(shape(paid.receipt), seedShape('003'));
    assert.equal(balance(rig, SEED_CARD), 251);
    assert.equal(rig.standIn.ledger.card(SEED_CARD)!.points, 7, 'bonus points collected: 1 per euro');
  });

  it('3b. cash without a card: a sale with no card section', async () => {
    const created = await rig.client.create(seedBasket());
    const paid = await rig.client.start(created.id, 'cash');
    assert.equal(paid.status, 'ok');
    assert.deepEqual(paid.receipt, []);
    assert.equal(rig.standIn.ledger.sales().at(-1)!.collected, 796);
  });

  it('4. top-up: product 4260447149502, start/cash, two receipt sections, balance raised (seed 004)', async () => {
    const created = await rig.client.create(topUpBasket(SEED_CARD, 1500));
    const paid = await rig.client.start(created.id, 'cash');
    assert.equal(paid.status, 'ok');
    assert.deepEqual(shape(paid.receipt), seedShape('004'));
    assert.equal(balance(rig, SEED_CARD), 251 + 1500);
    const last = paid.receipt!.at(-1)!;
    assert.ok(last.type === 'textline' && last.value.text === '17,51 EUR');
  });

  it('cancel restores the balance and prints STORNO; a second start is refused, never charged twice', async () => {
    const created = await rig.client.create(seedBasket(SEED_CARD));
    await rig.client.preTransaction(created.id);
    await rig.client.start(created.id, 'cash');
    assert.equal(balance(rig, SEED_CARD), 0);
    await assert.rejects(
      rig.client.start(created.id, 'cash'),
      (e: Error & { httpStatus?: number; outcome?: string }) =>
        e.httpStatus === 409 && e.outcome === 'not_applied',
    );
    assert.equal(rig.standIn.ledger.sales().filter((s) => s.txId === created.id).length, 1);
    const cancelled = await rig.client.cancel(created.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(shape(cancelled.receipt).includes('text:STORNO'));
    assert.equal(balance(rig, SEED_CARD), 251);
  });

  it('abort abandons an unpaid order; update replaces the basket and discards the preTransaction', async () => {
    const created = await rig.client.create(seedBasket(SEED_CARD));
    await rig.client.preTransaction(created.id);
    const updated = await rig.client.update(created.id, topUpBasket(SEED_CARD, 500));
    assert.equal(updated.status, 'created');
    assert.equal(updated.basket_info?.sum, 500);
    const aborted = await rig.client.abort(created.id);
    assert.equal(aborted.status, 'cancelled');
    await assert.rejects(rig.client.start(created.id, 'cash'), /cancelled/);
    assert.equal(balance(rig, SEED_CARD), 251);
  });

  it('bonus balance is used after the cash balance', async () => {
    const card = '9276000000000042'; // cash 5,00 + bonus 7,50
    const created = await rig.client.create(seedBasket(card));
    const pre = await rig.client.preTransaction(created.id);
    assert.equal(pre.missing_sum, 0);
    await rig.client.start(created.id, 'loyalty');
    const c = rig.standIn.ledger.card(card)!;
    assert.deepEqual([c.cash_balance, c.bonus_balance], [0, 1250 - 796]);
  });

  it('card problems: unknown card, other merchant, locked, inactive (never code 1016: a backend fault)', async () => {
    const unknown = await rig.client.create(seedBasket('9276999999999999'));
    assert.equal(cardOf(unknown)?.valid, false);
    assert.equal(cardOf(unknown)?.merchantcard ?? null, null);
    assert.deepEqual(await rig.client.merchantCards({ q: 'card.cardnumber:"9276999999999999"' }), []);
    const other = await rig.client.create(seedBasket('9276000000000034'));
    assert.equal(cardOf(other)?.valid, false);
    assert.deepEqual(await rig.client.merchantCards({ q: 'card.cardnumber:9276000000000034' }), []);
    await assert.rejects(
      rig.client.preTransaction(other.id),
      (e: Error & { code?: number; userMessage?: string }) =>
        e.code === 1001 && e.userMessage === 'Diese Karte gilt hier nicht.',
    );
    const [own] = await rig.client.merchantCards({ q: `card.cardnumber:"${SEED_CARD}"` });
    assert.equal(own?.card?.cardnumber, SEED_CARD);
    assert.equal(own?.balance, 251);
    const locked = await rig.client.create(seedBasket('9276000000000026'));
    assert.equal(cardOf(locked)?.merchantcard?.lock_status, 'locked');
    await assert.rejects(rig.client.preTransaction(locked.id), /locked/);
    const inactive = await rig.client.create(seedBasket('9276000000000067'));
    assert.equal(cardOf(inactive)?.merchantcard?.stock_status, 'inactive');
  });

  it('the ledger survives a restart of the stand-in', async () => {
    const created = await rig.client.create(topUpBasket(SEED_CARD, 700));
    await rig.client.start(created.id, 'cash');
    const again = await startApiStandIn({ ledgerPath: `${rig.dir}/ledger.json` });
    try {
      assert.equal(again.ledger.card(SEED_CARD)!.cash_balance, 951);
      assert.equal(again.ledger.transaction(created.id)!.status, 'ok');
    } finally {
      await again.close();
    }
  });
});
