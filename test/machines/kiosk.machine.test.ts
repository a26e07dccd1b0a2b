import assert from 'node:assert/strict';
import sinon from 'sinon';
import { createActor, fromPromise, SimulatedClock, type SnapshotFrom } from 'xstate';
import { kioskMachine, type KioskConfig } from '../../machines/kiosk.machine.js';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import type { RecoverOutput, SelfTestOutput } from '../../machines/ports.js';
import type { KioskEmitted, KioskEvent } from '../../machines/kiosk.machine.js';
import { screenFor } from '../../machines/screens.js';
import { CARD, flush, provideSession, run, stateString, stubs, TEST_CONFIG } from './fakes.js';

function kiosk(
  opts: { mode?: 'topup' | 'checkout'; config?: Partial<KioskConfig>; selfTest?: SelfTestOutput } = {},
) {
  const clock = new SimulatedClock();
  const s = stubs();
  const acceptor: boolean[] = [];
  const kioskEvents: KioskEmitted[] = [];
  /** For each event heard: whether the kiosk was serving then (a session's events come before its end). */
  const servingWhenHeard: boolean[] = [];
  const selfTest = sinon
    .stub<[], Promise<SelfTestOutput>>()
    .resolves(opts.selfTest ?? { apiReachable: true, devices: {} });
  const recover = sinon.stub<[], Promise<RecoverOutput>>().resolves({ unresolved: 0 });
  const machine = kioskMachine.provide({
    actors: {
      selfTest: fromPromise(() => selfTest()),
      recover: fromPromise(() => recover()),
      topup: provideSession(topupMachine, s, acceptor) as never,
      checkout: provideSession(checkoutMachine, s, acceptor),
    },
    actions: {
      setAcceptor: (_, p) => {
        acceptor.push(p.enabled);
      },
    },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      bootId: 'B1',
      config: { mode: opts.mode ?? 'topup', recheckMs: 60_000, session: TEST_CONFIG, ...opts.config },
    },
  });
  // What the app hears: the kiosk's own events and what its children emit.
  actor.on('*', (e) => {
    kioskEvents.push(e);
    servingWhenHeard.push(actor.getSnapshot().matches('serving'));
  });
  const h = {
    actor,
    clock,
    stubs: s,
    selfTest,
    recover,
    acceptor,
    kioskEvents,
    servingWhenHeard,
    value: () => stateString(actor.getSnapshot().value),
    get context() {
      return actor.getSnapshot().context;
    },
    async start() {
      actor.start();
      await flush();
    },
    async send(...evs: KioskEvent[]) {
      for (const e of evs) {
        actor.send(e);
        await flush();
      }
    },
    async advance(ms: number) {
      clock.increment(ms);
      await flush();
    },
  };
  return h;
}

/** The session child's snapshot (both flows share one context shape). */
function flowOf(h: ReturnType<typeof kiosk>) {
  const child = h.actor.getSnapshot().children.flow;
  return child?.getSnapshot() as SnapshotFrom<typeof checkoutMachine> | undefined;
}

describe('kiosk machine', () => {
  it('boots through self-test and recovery to idle, acceptor inhibited', async () => {
    const h = kiosk();
    await h.start();
    assert.equal(h.value(), 'idle');
    assert.equal(h.selfTest.callCount, 1);
    assert.equal(h.recover.callCount, 1);
    assert.equal(h.acceptor.at(-1), false);
  });

  it('stays in recovering until the journal answers, by event', async () => {
    const h = kiosk();
    h.recover.returns(new Promise(() => {}));
    await h.start();
    assert.equal(h.value(), 'recovering');
    await h.send({ type: 'RECOVERY_FAILED', reason: 'disk' });
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'recovery_failed');
  });

  it('RECOVERY_DONE serves', async () => {
    const h = kiosk();
    h.recover.returns(new Promise(() => {}));
    await h.start();
    await h.send({ type: 'RECOVERY_DONE' });
    assert.equal(h.value(), 'idle');
  });

  it('recovery leaving unresolved transactions keeps the kiosk out of service, rechecks later', async () => {
    const h = kiosk();
    h.recover.onFirstCall().resolves({ unresolved: 1 });
    await h.start();
    assert.equal(h.context.reason, 'recovery_failed');
    await h.advance(60_000);
    assert.equal(h.value(), 'idle');
    assert.equal(h.selfTest.callCount, 2);
  });

  it('API unreachable at self-test: out of service, recheck after the delay', async () => {
    const h = kiosk({ selfTest: { apiReachable: false, devices: {} } });
    await h.start();
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'api_unreachable');
    assert.ok(h.kioskEvents.some((e) => e.type === 'fault' && e.detail === 'api_unreachable'));
    h.selfTest.resolves({ apiReachable: true, devices: {} });
    await h.advance(59_999);
    assert.equal(h.value(), 'outOfService');
    await h.advance(1);
    assert.equal(h.value(), 'idle');
  });

  it('device pairing lost at self-test: out of service pairing_lost, not "no connection", and no recheck', async () => {
    const h = kiosk({ selfTest: { apiReachable: true, pairingLost: true, devices: {} } });
    await h.start();
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'pairing_lost');
    assert.ok(h.kioskEvents.some((e) => e.type === 'fault' && e.detail === 'pairing_lost'));
    await h.advance(120_000);
    assert.equal(h.selfTest.callCount, 1, 'waiting does not bring a pairing back');
    assert.equal(h.value(), 'outOfService');
  });

  it('PAIRING_LOST in idle: out of service at once; while serving: after the session ends', async () => {
    const idle = kiosk();
    await idle.start();
    await idle.send({ type: 'PAIRING_LOST' });
    assert.equal(idle.value(), 'outOfService');
    assert.equal(idle.context.reason, 'pairing_lost');

    const h = kiosk();
    await h.start();
    await h.send({ type: 'SCAN', data: CARD });
    await h.send({ type: 'PAIRING_LOST' });
    assert.equal(h.value(), 'serving.topup', 'the customer is not thrown out');
    await h.send({ type: 'BUTTON', name: 'amount1' }, { type: 'COIN', cents: 500 });
    await h.advance(3000);
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'pairing_lost');
    assert.equal(h.context.lastSession?.paid, 500);
  });

  it('self-test crashing: out of service (self_test)', async () => {
    const h = kiosk();
    h.selfTest.rejects(new Error('boom'));
    await h.start();
    assert.equal(h.context.reason, 'self_test');
  });

  it('printer out of paper: out of service only when receipts are mandatory', async () => {
    const strict = kiosk({
      config: { receiptsRequired: true },
      selfTest: { apiReachable: true, devices: { printer: 'offline' } },
    });
    await strict.start();
    assert.equal(strict.context.reason, 'printer');
    await strict.send({ type: 'DEVICE', device: 'printer', health: 'ok' });
    assert.equal(strict.value(), 'idle');

    const lax = kiosk({ selfTest: { apiReachable: true, devices: { printer: 'offline' } } });
    await lax.start();
    assert.equal(lax.value(), 'idle');
  });

  it('acceptor fault while idle: out of service; back when it recovers', async () => {
    const h = kiosk();
    await h.start();
    await h.send({ type: 'DEVICE', device: 'acceptor', health: 'offline', detail: 'jam' });
    assert.equal(h.context.reason, 'acceptor');
    await h.send({ type: 'DEVICE', device: 'acceptor', health: 'ok' });
    assert.equal(h.value(), 'idle');
  });

  it('a scan starts a top-up session with the scan as its first event; the session ends back in idle', async () => {
    const h = kiosk();
    await h.start();
    await h.send({ type: 'SCAN', data: CARD });
    assert.equal(h.value(), 'serving.topup');
    const child = flowOf(h);
    assert.ok(child);
    assert.equal(stateString(child.value), 'session.chooseAmount');
    await h.send({ type: 'BUTTON', name: 'amount1' }, { type: 'COIN', cents: 500 });
    assert.equal(h.stubs.startPayment.callCount, 1);
    await h.advance(3000);
    assert.equal(h.value(), 'idle');
    assert.equal(h.context.lastSession?.outcome, 'paid');
    assert.equal(h.context.lastSession?.paid, 500);
  });

  it('checkout mode: a button starts a checkout session, ids unique per boot and session', async () => {
    const h = kiosk({ mode: 'checkout' });
    await h.start();
    await h.send({ type: 'BUTTON', name: 'amount1' });
    assert.equal(h.value(), 'serving.checkout');
    const child = flowOf(h);
    assert.equal(child?.context.sessionId, 'B1-1');
    assert.equal(child?.context.basket.length, 1);
  });

  it('a coin in idle wakes a session that accounts for it', async () => {
    const h = kiosk();
    await h.start();
    await h.send({ type: 'COIN', cents: 200 });
    assert.equal(flowOf(h)?.context.inserted, 200);
  });

  it('maintenance by long-press in idle, and back', async () => {
    const h = kiosk();
    await h.start();
    await h.send({ type: 'BUTTON', name: 'service' });
    assert.equal(h.value(), 'idle', 'a short press does nothing');
    await h.send({ type: 'BUTTON_LONG', name: 'service' });
    assert.equal(h.value(), 'maintenance');
    await h.send({ type: 'BUTTON_LONG', name: 'service' });
    assert.equal(h.value(), 'idle');
  });

  it('maintenance and lock never interrupt a paying customer: deferred until the session ends', async () => {
    const h = kiosk();
    await h.start();
    await h.send(
      { type: 'SCAN', data: CARD },
      { type: 'BUTTON', name: 'amount2' },
      { type: 'COIN', cents: 500 },
    );
    await h.send(
      { type: 'MAINTENANCE', on: true },
      { type: 'BUTTON_LONG', name: 'service' },
      { type: 'LOCK' },
    );
    assert.equal(h.value(), 'serving.topup');
    await h.send({ type: 'COIN', cents: 500 });
    await h.advance(3000);
    assert.equal(h.value(), 'outOfService', 'the lock wins after the session');
    assert.equal(h.context.reason, 'locked');
    await h.send({ type: 'UNLOCK' });
    assert.equal(h.value(), 'maintenance', 'then the deferred maintenance');
    await h.send({ type: 'MAINTENANCE', on: false });
    assert.equal(h.value(), 'idle');
  });

  it('fleet lock in idle: out of service at once; maintenance command from out of service', async () => {
    const h = kiosk();
    await h.start();
    await h.send({ type: 'LOCK' });
    assert.equal(h.context.reason, 'locked');
    await h.send({ type: 'MAINTENANCE', on: true });
    assert.equal(h.value(), 'maintenance');
    await h.send({ type: 'MAINTENANCE', on: false });
    assert.equal(h.value(), 'outOfService');
  });

  it('an unresolved payment puts the kiosk out of service with the money recorded', async () => {
    const h = kiosk({ mode: 'checkout' });
    h.stubs.startPayment.rejects(Object.assign(new Error('t'), { kind: 'timeout', outcome: 'unknown' }));
    h.stubs.readBack.rejects(Object.assign(new Error('n'), { kind: 'network', outcome: 'not_applied' }));
    await h.start();
    await h.send(
      { type: 'BUTTON', name: 'amount1' },
      { type: 'BUTTON', name: 'ok' },
      { type: 'COIN', cents: 200 },
    );
    await h.advance(1000);
    await h.advance(2000); // the second read-back backs off
    await h.advance(3000); // payUnresolved message
    await h.advance(9000); // voucher on screen
    await h.advance(3000); // farewell
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'api_unresolved');
    assert.equal(h.context.lastSession?.unclaimed, 200);
    // What the app hears: the session's debt and outcome while serving, then the kiosk's own fault.
    const told = h.kioskEvents.map((e) =>
      e.type === 'transaction_finished' ? `${e.type}:${e.outcome}` : e.type,
    );
    assert.deepEqual(told.slice(-4), ['debt', 'transaction_finished:unresolved', 'unclaimed', 'fault']);
    assert.deepEqual(h.kioskEvents.at(-1), {
      type: 'fault',
      what: 'out_of_service',
      detail: 'api_unresolved',
    });
    assert.deepEqual(h.servingWhenHeard.slice(-2), [true, false]);
  });

  it('a coin while out of service is reported, not lost', async () => {
    const h = kiosk({ selfTest: { apiReachable: false, devices: {} } });
    await h.start();
    await h.send({ type: 'COIN', cents: 100 });
    assert.equal(h.context.strayCents, 100);
    assert.ok(h.kioskEvents.some((e) => e.type === 'debt' && e.cents === 100));
  });
});

describe('kiosk machine: journal storage offline during a session', () => {
  const SIZES = [
    { cols: 16, rows: 2 },
    { cols: 20, rows: 4 },
  ] as const;
  const offline = { type: 'DEVICE', device: 'storage', health: 'offline' } as const;
  /** Every display size and language, each screen as one string. */
  const screens = (h: ReturnType<typeof kiosk>) =>
    SIZES.flatMap((size) =>
      (['de', 'en'] as const).map((lang) =>
        screenFor(h.actor.getSnapshot(), { ...size, lang, strict: true }).join('|'),
      ),
    );
  /** A few turns of the 2-row display (its first line alternates). */
  const turns = (h: ReturnType<typeof kiosk>, lang: 'de' | 'en') =>
    [0, 3000, 6000].map((now) =>
      screenFor(h.actor.getSnapshot(), { cols: 16, rows: 2, lang, now }).join('|'),
    );

  /** A top-up session collecting, 200 ct in (less than the chosen 20 EUR). */
  const topupWith200 = async () => {
    const h = kiosk();
    await h.start();
    await h.send(
      { type: 'SCAN', data: CARD },
      { type: 'BUTTON', name: 'amount3' },
      { type: 'COIN', cents: 200 },
    );
    return h;
  };

  it('top-up: storage offline while collecting loads what is in, then out of service (storage), acceptor off', async () => {
    const h = await topupWith200();
    assert.equal(stateString(flowOf(h)!.value), 'session.collecting.waiting');
    await h.send(offline);
    assert.equal(h.stubs.startPayment.callCount, 1, 'the coins in are loaded at once');
    assert.equal(h.acceptor.at(-1), false);
    await h.advance(3000);
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'storage');
    assert.equal(h.context.lastSession?.paid, 200);
    assert.match(screens(h)[0]!, /Außer Betrieb\|Speicher voll/);
  });

  it('top-up: storage offline with nothing in ends the session (nothing to load), on the amount screen too', async () => {
    for (const amount of [[], [{ type: 'BUTTON', name: 'amount2' } as const]]) {
      const h = kiosk();
      await h.start();
      await h.send({ type: 'SCAN', data: CARD }, ...amount, offline);
      assert.equal(h.stubs.startPayment.callCount, 0);
      await h.advance(5000);
      assert.equal(h.value(), 'outOfService');
      assert.equal(h.context.reason, 'storage');
    }
  });

  it('top-up: a held coin keeps the session until it is written, on screen with its amount in both languages and sizes', async () => {
    const h = await topupWith200();
    // As the app sends them: the held coin first, then the storage failure.
    await h.send({ type: 'COINS_HELD', cents: 50 }, offline);
    assert.equal(
      stateString(flowOf(h)!.value),
      'session.collecting.waiting',
      'not settled without the held coin',
    );
    assert.equal(h.stubs.startPayment.callCount, 0);
    const [de2, en2, de4, en4] = screens(h);
    assert.match(de2!, /Gehalten 0,50/);
    assert.match(en2!, /Held 0,50/);
    assert.equal(de4, 'Speicher voll|Gehalten 0,50 EUR|Wird gebucht|sobald möglich');
    assert.equal(en4, 'Storage full|Held 0,50 EUR|Will be booked|when possible');
    assert.ok(
      turns(h, 'de').some((s) => s.startsWith('Wird gebucht|')),
      'the 2-row display says it will be booked',
    );
    assert.ok(turns(h, 'en').some((s) => s.startsWith('Will be booked|')));
    await h.send({ type: 'BUTTON', name: 'ok' }, { type: 'BUTTON', name: 'cancel' });
    assert.equal(h.stubs.startPayment.callCount, 0, 'OK and cancel wait for the held coin');
    // The disk lets the coin be written (counted by COIN), the reserve is still in use: settle now.
    await h.send({ type: 'COIN', cents: 50 }, { type: 'COINS_HELD', cents: 0 });
    assert.equal(h.stubs.startPayment.callCount, 1);
    await h.advance(3000);
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.lastSession?.paid, 250, 'the held coin is loaded with the others');
  });

  it('top-up: storage fine again once the held coin is written: the session goes on taking money', async () => {
    const h = await topupWith200();
    await h.send(
      { type: 'COINS_HELD', cents: 50 },
      offline,
      { type: 'COIN', cents: 50 },
      { type: 'DEVICE', device: 'storage', health: 'ok' },
      { type: 'COINS_HELD', cents: 0 },
    );
    assert.equal(stateString(flowOf(h)!.value), 'session.collecting.waiting');
    assert.equal(flowOf(h)!.context.inserted, 250);
    assert.equal(h.acceptor.at(-1), true);
    assert.doesNotMatch(screens(h)[3]!, /Held/);
  });

  it('checkout: storage offline while collecting cancels the payment and settles the money in, then out of service', async () => {
    const h = kiosk({ mode: 'checkout' });
    await h.start();
    await h.send(
      { type: 'BUTTON', name: 'amount1' },
      { type: 'BUTTON', name: 'ok' },
      { type: 'COIN', cents: 50 },
    );
    assert.match(stateString(flowOf(h)!.value), /collecting\.waiting/);
    await h.send(offline);
    assert.equal(h.stubs.startPayment.callCount, 0, 'the basket is not paid');
    for (let i = 0; i < 10 && h.value() !== 'outOfService'; i++) await h.advance(3000);
    assert.equal(h.value(), 'outOfService');
    assert.equal(h.context.reason, 'storage');
    assert.equal(h.context.lastSession?.unclaimed, 50, 'the coin in is settled');
  });

  it('out of service with coins still held: the screen says they are held and will be booked', async () => {
    const h = kiosk();
    await h.start();
    await h.send(offline, { type: 'COINS_HELD', cents: 120 });
    assert.equal(h.value(), 'outOfService');
    assert.match(screens(h)[2]!, /^Speicher voll\|Gehalten 1,20 EUR\|Wird gebucht/);
    await h.send({ type: 'COINS_HELD', cents: 0 });
    assert.match(screens(h)[2]!, /^Außer Betrieb/);
  });
});

describe('kiosk machine: what the app hears (actor.on)', () => {
  /** A top-up woken by a coin, one more coin, then cancel: the money goes onto the card. */
  async function wokenAndCancelled(h: { send(...evs: KioskEvent[]): Promise<void> }) {
    await h.send({ type: 'COIN', cents: 200 });
    await h.send(
      { type: 'SCAN', data: CARD },
      { type: 'BUTTON', name: 'amount3' },
      { type: 'COIN', cents: 100 },
    );
    await h.send({ type: 'BUTTON', name: 'cancel' });
  }

  it("a session's events reach the app on the kiosk, typed, in the session's own order, before it ends", async () => {
    const h = kiosk();
    await h.start();
    await wokenAndCancelled(h);
    await h.advance(3000);
    assert.equal(h.value(), 'idle');
    const card = '9276********2845';
    assert.deepEqual(h.kioskEvents, [
      // Emitted by the session at its start (the replayed first coin), before the app could see the child.
      { type: 'coin_accepted', cents: 200 },
      { type: 'transaction_created', id: 'STX_LOOKUP' },
      { type: 'coin_accepted', cents: 100 },
      {
        type: 'transaction_finished',
        id: 'STX_LOOKUP',
        outcome: 'aborted',
        amount: 0,
        method: null,
        cardMasked: card,
        itemCount: 0,
      },
      { type: 'credited', cents: 300, transactionId: 'STX_CREDIT', cardMasked: card },
    ]);
    // The app journals the session's end when the kiosk leaves `serving`: every event came before.
    assert.deepEqual(h.servingWhenHeard, [true, true, true, true, true]);
    // The same session run alone emits the same events in the same order.
    const alone = run(topupMachine, { firstEvent: { type: 'COIN', cents: 200 } });
    await alone.send(
      { type: 'SCAN', data: CARD },
      { type: 'BUTTON', name: 'amount3' },
      { type: 'COIN', cents: 100 },
    );
    await alone.send({ type: 'BUTTON', name: 'cancel' });
    await alone.advance(3000);
    assert.deepEqual(alone.events, h.kioskEvents);
  });

  it('the events are typed by the kiosk machine (npm run typecheck fails on a wrong shape)', () => {
    const h = kiosk();
    h.actor.on('credited', (e) => {
      const cents: number = e.cents;
      const tx: string = e.transactionId;
      // @ts-expect-error a credit has no `amount` (transaction_finished has)
      void [cents, tx, e.amount];
    });
    h.actor.on('service_report', (e) => void e.report.action);
    // @ts-expect-error no such event
    h.actor.on('credit', () => {});
    assert.ok(h.actor);
  });
});
