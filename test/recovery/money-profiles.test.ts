/**
 * The kiosk's money paths under every stand-in profile (src/sim/profiles.ts): where the API's docs
 * are silent, none of the plausible behaviours may make the kiosk charge twice or lose a cent.
 * In-process, to keep it to seconds per profile: the real checkout and top-up machines, the real
 * API actors over the app's SessionJournal over the real client and stand-in, a real journal; a
 * power cut is the actor stopped mid-call and the journal reopened, then recovery. Each path ends
 * with the three books reconciled (src/chaos/books.ts) and the ledger's sales per transaction.
 */
import assert from 'node:assert/strict';
import { createActor, fromPromise, toPromise, type Actor } from 'xstate';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import type { PrintInput, RecordUnclaimedInput } from '../../machines/ports.js';
import type { SessionConfig, SessionOutput } from '../../machines/session-context.js';
import { newVoucherCode } from '../../src/bookkeeping/session-journal.js';
import { createApiActors } from '../../src/flows/api-actors.js';
import { PROFILE_NAMES, type ProfileName } from '../../src/sim/profiles.js';
import type { HandledRequest } from '../../src/sim/api-server.js';
import { stateString } from '../machines/fakes.js';
import { assertNothingLost, EMPTY, PLENTY, World } from './world.js';

const CONFIG: Partial<SessionConfig> = {
  catalogue: [{ id: 11, desc: 'Kaffee', ean: '4006381333931', priceOne: 150, tax: 19 }],
  topupAmounts: [500, 1000],
  maxTopup: 5000,
  inactivityMs: 60_000,
  warningMs: 60_000,
  messageMs: 20,
  cashlessLimitMs: 10_000,
  retryMs: 10,
  slowMs: 1000,
  maxRetries: 2,
  maxReadBacks: 3,
  noEffectReads: 3,
};

type Flow = typeof topupMachine | typeof checkoutMachine;

/** One customer session on the real machine, its effects journaled as the app does it. */
class Session {
  readonly actor: Actor<Flow>;
  readonly receipts: PrintInput[] = [];

  constructor(
    private readonly w: World,
    readonly sid: string,
    flow: Flow,
    config: Partial<SessionConfig> = {},
  ) {
    const recordUnclaimed = fromPromise(async ({ input }: { input: RecordUnclaimedInput }) => {
      const voucherCode = newVoucherCode();
      await w.sj.unclaimed(input.cents, voucherCode);
      return { voucherCode };
    });
    const print = fromPromise(async ({ input }: { input: PrintInput }) => {
      this.receipts.push(input);
      return {};
    });
    const machine = (flow as typeof checkoutMachine).provide({
      actors: {
        ...createApiActors(w.api, { ledger: w.sj.startLedger(), noEffect: { reads: 3, pauseMs: 5 } }),
        recordUnclaimed,
        print,
      } as never,
    });
    this.actor = createActor(machine, {
      input: { sessionId: sid, config: { ...CONFIG, ...config } },
    }) as unknown as Actor<Flow>;
    this.actor.on('credited', (e) => void w.sj.credited(e.cents, e.transactionId));
  }

  async begin(): Promise<this> {
    await this.w.sj.beginSession(this.sid);
    this.actor.start();
    return this;
  }

  state(): string {
    return stateString(this.actor.getSnapshot().value);
  }

  async until(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const t0 = Date.now();
    while (!pattern.test(this.state())) {
      if (this.actor.getSnapshot().status !== 'active' || Date.now() - t0 > timeoutMs)
        throw new Error(`${this.sid}: waited for ${pattern}, in ${this.state()}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  press(name: string): void {
    this.actor.send({ type: 'BUTTON', name } as never);
  }

  scan(data: string): void {
    this.actor.send({ type: 'SCAN', data });
  }

  /** Journaled before the machine counts it, as the app does. */
  async coin(cents: number): Promise<void> {
    await this.w.coin(this.sid, cents);
    this.actor.send({ type: 'COIN', cents });
  }

  /** The session to its end, closed in the journal by its outcome. */
  async end(): Promise<SessionOutput> {
    const out = (await toPromise(this.actor)) as SessionOutput;
    await this.w.sj.closeSession(this.sid, out.outcome);
    return out;
  }

  /** The power goes: the machine stops wherever it is. */
  cut(): void {
    this.actor.stop();
  }
}

/** A top-up session of 5,00 onto PLENTY, waiting for coins. */
async function topUpReady(w: World, sid: string): Promise<Session> {
  const s = await new Session(w, sid, topupMachine).begin();
  s.scan(PLENTY);
  await s.until(/chooseAmount/);
  s.press('amount1');
  await s.until(/collecting\.waiting/);
  return s;
}

/** No transaction recorded twice in the API's ledger (a card payment or a terminal payment too). */
function assertChargedOnce(w: World): void {
  const perTx = new Map<string, number>();
  for (const s of w.ledger().sales) perTx.set(s.txId, (perTx.get(s.txId) ?? 0) + 1);
  assert.deepEqual(
    [...perTx].filter(([, n]) => n > 1),
    [],
    'a transaction charged twice',
  );
}

/** Recovery until nothing is open (a lagging read may leave a session for the next round), bounded. */
async function recoverAll(w: World): Promise<void> {
  for (let round = 0; round < 4; round++) {
    const r = await w.recover();
    if (r.unresolved === 0) return;
  }
  assert.fail('sessions still open after four recovery rounds');
}

async function books(w: World, what: string): Promise<void> {
  assertChargedOnce(w);
  assertNothingLost(await w.books(), what);
}

describe('money under every stand-in profile (in-process: real machines, actors, journal, stand-in)', function () {
  this.timeout(30_000);

  for (const profile of PROFILE_NAMES) {
    describe(`profile ${profile}`, () => {
      let w: World | undefined;
      afterEach(async () => {
        await w?.close();
        w = undefined;
      });
      const world = async (mode: 'topup' | 'checkout') =>
        (w = await World.create(mode, { profile: profile satisfies ProfileName }));

      it('coins to a top-up: loaded once, receipt, books balance', async () => {
        const w = await world('topup');
        const s = await topUpReady(w, `${profile}-t1`);
        for (const c of [200, 200, 100]) await s.coin(c);
        const out = await s.end();
        assert.equal(out.outcome, 'paid');
        assert.equal(w.balance(PLENTY), 3500);
        assert.ok(s.receipts.some((r) => r.kind === 'receipt'));
        await books(w, 'top-up');
      });

      it('card payment (the card pays all): charged once', async () => {
        const w = await world('checkout');
        const s = await new Session(w, `${profile}-c1`, checkoutMachine, { terminal: false }).begin();
        s.press('amount1');
        s.scan(PLENTY);
        await s.until(/session\.basket/);
        s.press('ok');
        await s.until(/confirmLoyalty/);
        s.press('ok');
        const out = await s.end();
        assert.equal(out.outcome, 'paid');
        assert.equal(w.balance(PLENTY), 3000 - 150);
        await books(w, 'card payment');
      });

      it('cash payment with an empty card: the sale once, the change credited to the card', async () => {
        const w = await world('checkout');
        const s = await new Session(w, `${profile}-c2`, checkoutMachine, { terminal: false }).begin();
        s.press('amount1');
        s.scan(EMPTY);
        await s.until(/session\.basket/);
        s.press('ok');
        await s.until(/collecting\.waiting/);
        await s.coin(200);
        const out = await s.end();
        assert.deepEqual(
          { outcome: out.outcome, paid: out.paid, credited: out.credited },
          {
            outcome: 'paid',
            paid: 150,
            credited: 50,
          },
        );
        assert.equal(w.balance(EMPTY), 50);
        await books(w, 'cash payment');
      });

      it('terminal payment, then a declined one: paid once; the declined one never paid, never charged', async () => {
        const w = await world('checkout');
        const paid = await new Session(w, `${profile}-c3`, checkoutMachine, { terminal: true }).begin();
        paid.press('amount1');
        paid.press('ok');
        await paid.until(/choosePayment\.choosing/);
        paid.press('amount2');
        assert.equal((await paid.end()).outcome, 'paid');

        w.rig.standIn.faults.add({ path: '/start/cashless', fault: { type: 'decline' } });
        const declined = await new Session(w, `${profile}-c4`, checkoutMachine, { terminal: true }).begin();
        declined.press('amount1');
        declined.press('ok');
        await declined.until(/choosePayment\.choosing/);
        declined.press('amount2');
        const out = await declined.end();
        assert.equal(out.outcome, 'failed');
        assert.ok(
          !declined.receipts.some((r) => r.kind === 'receipt'),
          'no paid receipt for a declined payment',
        );
        assert.deepEqual(
          w.ledger().sales.map((x) => x.method),
          ['cashless'],
          'one terminal sale',
        );
        await books(w, 'terminal');
      });

      it('the answer to start/cash lost after commit: read back as paid, never started again', async () => {
        const w = await world('topup');
        const s = await topUpReady(w, `${profile}-t2`);
        w.rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'drop_after_commit' } });
        await s.coin(500);
        const out = await s.end();
        assert.equal(out.outcome, 'paid');
        assert.equal(w.balance(PLENTY), 3500, 'loaded once');
        await books(w, 'lost answer');
      });

      for (const drop of ['drop_after_commit', 'drop_before_commit'] as const) {
        it(`a power cut while start/cash is on its way (${drop}), then recovery: 5,00 on the card once`, async () => {
          const w = await world('topup');
          const s = await topUpReady(w, `${profile}-${drop}`);
          w.rig.standIn.faults.add({ path: '/start/cash', fault: { type: drop } });
          w.rig.standIn.faults.add({ path: '/start/cash', fault: { type: 'latency', ms: 50 } });
          await s.coin(500);
          await received(w, '/start/cash');
          s.cut();
          // The server is done with the call (committed or not) before the kiosk comes back.
          await waitUntil(async () =>
            (await requests(w)).handled.some((h) => h.outcome.startsWith('dropped')),
          );
          await w.crash();
          await recoverAll(w);
          assert.equal(w.balance(PLENTY), 3500, 'loaded once');
          await books(w, `power cut, ${drop}`);
        });
      }
    });
  }
});

async function requests(w: World): Promise<{ received: { path: string }[]; handled: HandledRequest[] }> {
  return (await fetch(`${w.rig.standIn.url}/__sim/requests`)).json() as never;
}

/** The call is in flight (its body arrived at the stand-in): a cut now leaves it to the server. */
async function received(w: World, suffix: string): Promise<void> {
  await waitUntil(async () => (await requests(w)).received.some((r) => r.path.endsWith(suffix)));
}

async function waitUntil(pred: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}
