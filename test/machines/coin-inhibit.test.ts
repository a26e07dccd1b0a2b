/**
 * Per-coin inhibit in the flows (issue 14/15): a checkout that cannot pay change asks the acceptor only
 * for coins up to what is still due (the list follows every coin), says so before the first coin with
 * what a coin too many becomes, and still counts a coin of a refused value that arrives anyway (a pulse
 * acceptor cannot refuse one value). A top-up keeps under the chosen amount and the kiosk's maximum.
 */
import assert from 'node:assert/strict';
import { createActor } from 'xstate';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { kioskMachine } from '../../machines/kiosk.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { screenFor } from '../../machines/screens.js';
import { CARD, flush, money, run } from './fakes.js';

const EURO_COINS = [10, 20, 50, 100, 200];
/** No hopper (or an empty one), no terminal: coins only, no change. */
const NO_CHANGE = { coinValues: EURO_COINS, givesChange: false, terminal: false };

/** Every line a 20x4 display shows over the turns of its alternating lines. */
function allLines(snapshot: Parameters<typeof screenFor>[0], lang: 'de' | 'en' = 'de'): string[] {
  const lines = new Set<string>();
  for (let now = 0; now < 30_000; now += 500) {
    for (const l of screenFor(snapshot, { cols: 20, rows: 4, now, lang })) lines.add(l);
  }
  return [...lines];
}

describe('per-coin inhibit: checkout without change', () => {
  it('takes only coins up to what is still due, narrowing after every coin', async () => {
    const h = run(checkoutMachine, { config: NO_CHANGE });
    await h.press('amount1', 'ok'); // coffee 1,50
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptorOn(), true);
    assert.deepEqual(h.acceptList(), [10, 20, 50, 100], 'a 2 euro coin would be 0,50 too many');
    await h.coins(100);
    assert.deepEqual(h.acceptList(), [10, 20, 50]);
    await h.coins(20);
    assert.deepEqual(h.acceptList(), [10, 20], '0,30 still due');
    await h.coins(20, 10);
    assert.equal(h.acceptorOn(), false);
    assert.deepEqual(money(h.context), { inserted: 150, paid: 150, credited: 0, unclaimed: 0 });
    assert.equal(h.stubs.recordUnclaimed.callCount, 0, 'paid exactly: no voucher');
  });

  it('when no coin is small enough the smallest is taken (the customer can always finish)', async () => {
    const h = run(checkoutMachine, {
      config: { ...NO_CHANGE, catalogue: [{ id: 21, desc: 'Kaugummi', ean: null, priceOne: 95, tax: 7 }] },
    });
    await h.press('amount1', 'ok');
    await h.coins(50, 20, 20);
    assert.deepEqual(h.acceptList(), [10], '0,05 due, 0,10 is the smallest coin');
    await h.coins(10);
    assert.deepEqual(money(h.context), { inserted: 100, paid: 95, credited: 0, unclaimed: 5 });
  });

  it('a refused value that arrives anyway (pulse acceptor, a coin in the chute) is money: the rest is a voucher', async () => {
    const h = run(checkoutMachine, { config: NO_CHANGE });
    await h.press('amount1', 'ok');
    assert.deepEqual(h.acceptList(), [10, 20, 50, 100]);
    await h.coins(200);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { cents: number }).cents, 50);
  });

  it('with a card the list applies too; an overpay that still happens goes onto the card', async () => {
    const h = run(checkoutMachine, { config: NO_CHANGE });
    await h.press('amount1');
    await h.send({ type: 'SCAN', data: CARD });
    h.stubs.preTransaction.resolves({ missingSum: 70 });
    await h.press('ok');
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.deepEqual(h.acceptList(), [10, 20, 50]);
    assert.ok(allLines(h.snapshot).includes('Mehr: auf Karte'));
    await h.coins(100); // a pulse acceptor let it in
    assert.deepEqual(money(h.context), { inserted: 100, paid: 70, credited: 30, unclaimed: 0 });
  });

  it('a hopper that pays change, or acceptor values unknown: no list, every coin', async () => {
    const withHopper = run(checkoutMachine, {
      config: { ...NO_CHANGE, givesChange: true, changeCoin: 10 },
    });
    await withHopper.press('amount1', 'ok');
    assert.equal(withHopper.acceptorOn(), true);
    assert.equal(withHopper.acceptList(), undefined);
    const unknown = run(checkoutMachine, { config: { ...NO_CHANGE, coinValues: [] } });
    await unknown.press('amount1', 'ok');
    assert.equal(unknown.acceptorOn(), true);
    assert.equal(unknown.acceptList(), undefined);
  });

  it('the screen says before the first coin: no change, which coins, what a coin too many becomes', async () => {
    const h = run(checkoutMachine, { config: NO_CHANGE });
    await h.press('amount1', 'ok');
    const de = allLines(h.snapshot);
    for (const line of ['Kein Wechselgeld', 'Münzen bis 1,00 EUR', 'Mehr: Gutschein', 'Noch 1,50 EUR'])
      assert.ok(de.includes(line), `${line} in ${JSON.stringify(de)}`);
    assert.ok(allLines(h.snapshot, 'en').includes('Coins up to 1,00 EUR'));
    const two = new Set<string>();
    for (let now = 0; now < 30_000; now += 500)
      for (const l of screenFor(h.snapshot, { cols: 16, rows: 2, now })) two.add(l);
    assert.ok(two.has('Münzen bis 1,00'), `16x2: ${JSON.stringify([...two])}`);
    await h.coins(100);
    assert.ok(allLines(h.snapshot).includes('Münzen bis 0,50 EUR'));
  });
});

describe('per-coin inhibit: top-up', () => {
  it('a chosen amount takes coins up to what is still open', async () => {
    const h = run(topupMachine, { config: { coinValues: EURO_COINS } });
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'session.chooseAmount');
    assert.equal(h.acceptList(), undefined, 'open amount far below the maximum: every coin');
    await h.press('amount1'); // 5,00
    await h.coins(200, 200);
    assert.deepEqual(h.acceptList(), [10, 20, 50, 100]);
    assert.ok(allLines(h.snapshot).includes('Münzen bis 1,00 EUR'));
  });

  it('an open amount near the maximum takes no coin that would pass it', async () => {
    const h = run(topupMachine, { config: { coinValues: EURO_COINS, maxTopup: 1000 } });
    await h.send({ type: 'SCAN', data: CARD });
    await h.coins(200, 200, 200, 200);
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptList(), undefined, '2,00 of room: every coin still fits');
    await h.coins(100, 50);
    assert.deepEqual(h.acceptList(), [10, 20, 50]);
  });
});

describe('per-coin inhibit: the kiosk learns whether the hopper can pay change', () => {
  /** A checkout kiosk at idle whose hopper pays change (50 ct coins). */
  async function idleKiosk() {
    const actor = createActor(kioskMachine, {
      input: {
        bootId: 'B',
        config: { mode: 'checkout', session: { ...NO_CHANGE, givesChange: true, changeCoin: 50 } },
      },
    });
    actor.start();
    await flush();
    return actor;
  }

  it('STOCK with givesChange false (hopper empty) is kept for the next session; idle says "no change"', async () => {
    const actor = await idleKiosk();
    actor.send({ type: 'STOCK', slotStock: {}, givesChange: false });
    assert.equal(actor.getSnapshot().context.cfg.session.givesChange, false);
    assert.ok(
      allLines(actor.getSnapshot()).includes('Kein Wechselgeld'),
      'idle says it before the first coin',
    );
    actor.send({ type: 'STOCK', slotStock: {} });
    assert.equal(actor.getSnapshot().context.cfg.session.givesChange, false, 'absent: unchanged');
    actor.send({ type: 'STOCK', slotStock: {}, givesChange: true });
    assert.equal(actor.getSnapshot().context.cfg.session.givesChange, true);
    // A ccTalk validator tells its coins once it answered: the next session asks for them.
    actor.send({ type: 'STOCK', slotStock: {}, coinValues: [5, 10, 20] });
    assert.deepEqual(actor.getSnapshot().context.cfg.session.coinValues, [5, 10, 20]);
    actor.stop();
  });

  it('STOCK while serving reaches the running session too (the hopper dropped out mid-session)', async () => {
    const actor = await idleKiosk();
    actor.send({ type: 'BUTTON', name: 'amount1' });
    await flush();
    const flow = () =>
      actor.getSnapshot().children.flow?.getSnapshot() as
        ReturnType<ReturnType<typeof createActor<typeof checkoutMachine>>['getSnapshot']> | undefined;
    assert.equal(flow()?.context.cfg.givesChange, true);
    actor.send({ type: 'STOCK', slotStock: {}, givesChange: false });
    assert.equal(flow()?.context.cfg.givesChange, false, 'the session heard it');
    assert.equal(actor.getSnapshot().context.cfg.session.givesChange, false, 'and the next one will');
    actor.stop();
  });
});

describe('per-coin inhibit: the hopper drops out during a session (issue 15)', () => {
  const WITH_HOPPER = { ...NO_CHANGE, givesChange: true, changeCoin: 10 };
  const hopperDown = { type: 'STOCK', slotStock: {}, givesChange: false } as const;

  it('while collecting: the list narrows at once and the screen says "Kein Wechselgeld" before the next coin', async () => {
    const h = run(checkoutMachine, { config: WITH_HOPPER });
    await h.press('amount1', 'ok'); // coffee 1,50
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptList(), undefined, 'the hopper pays change: every coin');
    assert.ok(!allLines(h.snapshot).includes('Kein Wechselgeld'));
    await h.coins(100);
    await h.send(hopperDown);
    assert.equal(h.value(), 'session.collecting.waiting');
    assert.equal(h.acceptorOn(), true);
    assert.deepEqual(h.acceptList(), [10, 20, 50], 'a coin that would need change is refused');
    assert.ok(allLines(h.snapshot).includes('Kein Wechselgeld'));
    // The hopper comes back: every coin again.
    await h.send({ ...hopperDown, givesChange: true });
    assert.equal(h.acceptList(), undefined);
  });

  it('the leftover goes on a voucher without asking the dead hopper', async () => {
    const h = run(checkoutMachine, { config: WITH_HOPPER });
    await h.press('amount1', 'ok');
    await h.coins(100);
    await h.send(hopperDown);
    await h.coins(200); // already in the chute when the list narrowed
    await h.flushAll();
    assert.equal(h.stubs.payChange.callCount, 0, 'no payout tried on a hopper that cannot pay');
    assert.equal(h.stubs.recordUnclaimed.callCount, 1);
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { cents: number }).cents, 150);
    assert.deepEqual(money(h.context), { inserted: 300, paid: 150, credited: 0, unclaimed: 150 });
  });

  it('a hopper that drops out after the payment (during the releases) is not asked either', async () => {
    const h = run(checkoutMachine, { config: WITH_HOPPER });
    await h.press('amount1', 'ok');
    // Paying is in flight: the hopper goes offline meanwhile, heard anywhere in the session.
    const paid = await h.stubs.startPayment(undefined);
    h.stubs.startPayment.callsFake(async () => {
      h.actor.send(hopperDown);
      return paid;
    });
    await h.coins(200);
    await h.flushAll();
    assert.equal(h.context.cfg.givesChange, false);
    assert.equal(h.stubs.payChange.callCount, 0, 'the hopper went offline while the payment ran');
    assert.equal((h.stubs.recordUnclaimed.firstCall.args[0] as { cents: number }).cents, 50);
  });

  it('a hopper that can pay still pays the change', async () => {
    const h = run(checkoutMachine, { config: WITH_HOPPER });
    await h.press('amount1', 'ok');
    await h.coins(200);
    await h.flushAll();
    assert.equal(h.stubs.payChange.callCount, 1);
  });
});
