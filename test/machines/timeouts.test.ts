/** Every customer-facing wait has an inactivity warning and a walk-away, on the SimulatedClock. */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { CARD, money, run } from './fakes.js';

type H = ReturnType<typeof run>;
const INACTIVITY = 30_000;
const WARNING = 10_000;

const inputStates: {
  name: string;
  make: () => H;
  reach: (h: H) => Promise<void>;
  state: string;
  /** Where "still there" returns to, when not the same leaf (shallow history: the basket overview). */
  back?: string;
}[] = [
  {
    name: 'checkout basket',
    make: () => run(checkoutMachine),
    reach: async (h) => h.press('amount1'),
    state: 'session.basket.browsing',
  },
  {
    name: 'checkout browsing',
    make: () => run(checkoutMachine),
    reach: async (h) => h.press('down'),
    state: 'session.basket.choosing',
    back: 'session.basket.browsing',
  },
  {
    name: 'checkout confirm loyalty',
    make: () => run(checkoutMachine),
    reach: async (h) => {
      await h.send({ type: 'SCAN', data: CARD });
      await h.press('amount1', 'ok');
    },
    state: 'session.confirmLoyalty',
  },
  {
    name: 'checkout choose payment',
    make: () => run(checkoutMachine),
    reach: async (h) => h.press('amount1', 'ok'),
    state: 'session.choosePayment.choosing',
  },
  {
    name: 'checkout collecting',
    make: () => run(checkoutMachine),
    reach: async (h) => h.press('amount2', 'ok', 'ok'),
    state: 'session.collecting.waiting',
  },
  {
    name: 'top-up scan card',
    make: () => run(topupMachine),
    reach: async () => {},
    state: 'session.scanCard',
  },
  {
    name: 'top-up choose amount',
    make: () => run(topupMachine),
    reach: async (h) => h.send({ type: 'SCAN', data: CARD }),
    state: 'session.chooseAmount',
  },
  {
    name: 'top-up collecting',
    make: () => run(topupMachine),
    reach: async (h) => {
      await h.send({ type: 'SCAN', data: CARD });
      await h.press('amount2');
    },
    state: 'session.collecting.waiting',
  },
];

describe('inactivity: "are you still there?" and walk-away', () => {
  for (const s of inputStates) {
    it(`${s.name}: warns after the quiet time, walks away after the warning`, async () => {
      const h = s.make();
      await s.reach(h);
      assert.equal(h.value(), s.state);
      await h.advance(INACTIVITY - 1);
      assert.equal(h.value(), s.state);
      await h.advance(1);
      assert.equal(h.value(), 'stillThere');
      assert.equal(h.acceptorOn(), false, 'no money wanted while nobody may be there');
      await h.advance(WARNING);
      assert.equal(h.context.outcome, 'walked_away');
      assert.notEqual(h.value(), 'stillThere');
    });

    it(`${s.name}: any button during the warning brings the customer back to where they were`, async () => {
      const h = s.make();
      await s.reach(h);
      await h.advance(INACTIVITY);
      await h.press('up');
      assert.equal(h.value(), s.back ?? s.state);
      await h.advance(INACTIVITY - 1);
      assert.equal(h.value(), s.back ?? s.state, 'the quiet time starts again');
    });
  }

  it('activity resets the quiet time (a coin while collecting)', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2', 'ok', 'ok');
    await h.advance(INACTIVITY - 1000);
    await h.coins(100);
    await h.advance(INACTIVITY - 1000);
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptorOn(), true);
  });

  it('walk-away with money and a card: credited to the card', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount3');
    await h.coins(500);
    await h.advance(INACTIVITY);
    await h.advance(WARNING);
    assert.deepEqual(money(h.context), { inserted: 500, paid: 0, credited: 500, unclaimed: 0 });
  });

  it('walk-away with money and no card: unclaimed with reason walked_away and a voucher', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2', 'ok', 'ok');
    await h.coins(100);
    await h.advance(INACTIVITY);
    await h.advance(WARNING);
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { reason: string }).reason, 'walked_away');
    assert.equal(h.value(), 'settling.showVoucher');
    await h.advance(9_000);
    assert.equal(h.value(), 'farewell');
    await h.advance(3_000);
    assert.equal(h.snapshot.status, 'done');
    assert.equal(h.snapshot.output?.outcome, 'walked_away');
  });

  it('a coin during the warning counts and returns to collecting with the acceptor on', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2', 'ok', 'ok');
    await h.advance(INACTIVITY);
    await h.coins(100);
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.context.inserted, 100);
    assert.equal(h.acceptorOn(), true);
  });

  it('cancel during the warning cancels', async () => {
    const h = run(checkoutMachine);
    await h.press('amount2');
    await h.advance(INACTIVITY);
    await h.press('cancel');
    assert.equal(h.context.outcome, 'cancelled');
  });

  it('messages time out: card refused, farewell', async () => {
    const h = run(topupMachine);
    h.stubs.lookupCard.resolves({ kind: 'unknown', transactionId: null });
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'cardRefused');
    await h.advance(2_999);
    assert.equal(h.value(), 'cardRefused');
    await h.advance(1);
    // Nothing held: no second "goodbye" message after the card's (the kiosk is free again at once).
    assert.equal(h.snapshot.status, 'done');
  });
});
