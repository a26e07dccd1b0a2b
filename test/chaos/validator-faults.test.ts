/**
 * The ccTalk validator's own chaos faults (src/chaos/validator-faults.ts): how the seeded PRNG
 * schedules them, and what each does to a validator the harness plays, as the acceptor's book sees
 * it: a coin returned is in no book, a credit read is the kiosk's, one past the buffer the operator's.
 */
import assert from 'node:assert/strict';
import { FakeCctalkValidator } from '../../hal/coin-acceptor/fake-cctalk-validator.js';
import { buildFrame, CCTALK_VALIDATOR, HEADER } from '../../hal/io/cctalk-frame.js';
import {
  OPEN_WAIT_MS,
  planValidatorFault,
  validatorFault,
  type CoinsWhen,
  type ValidatorFaultHooks,
  type ValidatorFaultPlan,
} from '../../src/chaos/validator-faults.js';
import { Rng } from '../../src/util/prng.js';

describe('chaos: validator fault scheduling', () => {
  it('rate 0 draws nothing: the PRNG goes on as if the kinds did not exist', () => {
    const a = new Rng(43101);
    const b = new Rng(43101);
    assert.equal(planValidatorFault(a, 0), null);
    assert.equal(a.next(), b.next());
  });

  it('at most one per session, each kind about at its rate, the same plan for the same seed', () => {
    const plans = (seed: number, rate: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 2000 }, () => planValidatorFault(rng, rate));
    };
    const p = plans(43101, 0.2);
    assert.deepEqual(p, plans(43101, 0.2), 'repeated by its seed');
    const power = p.filter((x) => x?.kind === 'validator_power_loss').length;
    const overflow = p.filter((x) => x?.kind === 'validator_overflow').length;
    // Each drawn at 0.2, the pair (0.04) split: about 0.18 of sessions each.
    assert.ok(power > 300 && power < 430, `power loss in ${power} of 2000`);
    assert.ok(overflow > 300 && overflow < 430, `overflow in ${overflow} of 2000`);
    const all = plans(7, 1);
    assert.ok(all.every((x) => x !== null));
    assert.ok(all.some((x) => x?.kind === 'validator_power_loss'));
    assert.ok(all.some((x) => x?.kind === 'validator_overflow'));
  });

  it('draws power losses of 0.2-2.5 s, with 0-3 coins after; overflows of 6-8 coins: past the 5-result buffer', () => {
    const rng = new Rng(5);
    const when: Record<string, number> = {};
    for (let i = 0; i < 500; i++) {
      const x = planValidatorFault(rng, 0.5);
      if (!x) continue;
      if (x.kind === 'validator_power_loss') {
        assert.ok(x.atMs >= 0 && x.atMs <= 3000);
        assert.ok(x.downMs >= 200 && x.downMs <= 2500);
        assert.ok(x.coinsAfter.length <= 3);
        when[x.coinsWhen] = (when[x.coinsWhen] ?? 0) + 1;
      } else {
        // Early, then waiting for open channels: a quick vending customer is gone by 2.5 s.
        assert.ok(x.atMs >= 0 && x.atMs <= 400, `overflow at ${x.atMs} ms`);
        assert.ok(x.coins.length >= 6 && x.coins.length <= 8);
      }
      for (const c of x.kind === 'validator_overflow' ? x.coins : x.coinsAfter)
        assert.ok([50, 100, 200].includes(c));
    }
    // Before the kiosk's next read, just after it, and once it has opened the channels again.
    assert.deepEqual(Object.keys(when).sort(), ['afterRead', 'beforeRead', 'reopened']);
    for (const n of Object.values(when)) assert.ok(n > 20, JSON.stringify(when));
  });
});

describe('chaos: validator faults against the played validator', () => {
  const frame = (header: number, data: number[] = []) =>
    buildFrame({ destination: CCTALK_VALIDATOR, source: 1, header, data });
  /**
   * A host that reads the validator (229) every 20 ms, as the kiosk's driver does. `open`: it wants
   * the channels open (a customer paying), and like the driver it sends the inhibits (231, 228)
   * again at the poll after one that found them reset; `openAfterMs`: it starts wanting them then.
   */
  function rig(open = true, openAfterMs = 0) {
    const device = new FakeCctalkValidator(() => undefined);
    const host = { open: open && openAfterMs === 0, customerGone: false };
    const start = Date.now();
    let sawShut = false;
    const timer = setInterval(() => {
      if (open && Date.now() - start >= openAfterMs) host.open = true;
      if (host.open && sawShut && device.powered) {
        device.receive(frame(HEADER.MODIFY_INHIBIT_STATUS, [0xff, 0xff]));
        device.receive(frame(HEADER.MODIFY_MASTER_INHIBIT, [1]));
      }
      const reads = device.reads;
      device.receive(frame(HEADER.READ_BUFFERED_CREDIT));
      sawShut = device.reads > reads && !device.master;
    }, 20);
    if (host.open) {
      device.mask = 0xffff;
      device.master = true;
    }
    const book = { taken: [] as number[], unread: [] as number[] };
    const seen: string[] = [];
    const notLanded: string[] = [];
    const hooks: ValidatorFaultHooks = {
      taken: (c) => book.taken.push(c),
      unreadAtCut: (c) => book.unread.push(...c),
      saw: (w) => seen.push(w),
      trace: () => undefined,
      running: () => true,
      customerGone: () => host.customerGone,
      notLanded: (why) => notLanded.push(why),
      kioskAccepting: async () => host.open,
      log: () => undefined,
    };
    return { device, book, seen, notLanded, host, hooks, stop: () => clearInterval(timer) };
  }

  const powerLoss = (coinsWhen: CoinsWhen, coinsAfter: number[], downMs: number): ValidatorFaultPlan => ({
    kind: 'validator_power_loss',
    atMs: 0,
    downMs,
    coinsAfter,
    coinsWhen,
  });

  it('power loss: coins while it is off and straight after it comes back are returned, in no book', async () => {
    const r = rig();
    const plan = powerLoss('beforeRead', [100, 200], 100);
    const run = validatorFault(r.device, plan, r.hooks);
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(r.device.insert(50), false, 'no power: back to the cup');
    await run;
    r.stop();
    assert.deepEqual(r.book, { taken: [], unread: [] });
    assert.deepEqual(r.seen, [
      'validator_power_loss:cut',
      'validator_power_loss:coin_returned',
      'validator_power_loss:coin_returned',
      'validator_power_loss:reopened',
    ]);
    assert.equal(r.device.event, 2, 'the power-up counter: two refusals since');
  });

  it('power loss, coins once the kiosk reopened: taken, the reopened validator credits them', async () => {
    const r = rig();
    const plan = powerLoss('reopened', [100, 200], 100);
    await validatorFault(r.device, plan, r.hooks);
    r.stop();
    assert.deepEqual(r.book, { taken: [100, 200], unread: [] });
    assert.deepEqual(r.seen, [
      'validator_power_loss:cut',
      'validator_power_loss:coins_after_reopen',
      'validator_power_loss:coin_taken',
      'validator_power_loss:coin_taken',
      'validator_power_loss:reopened',
    ]);
    assert.deepEqual(r.notLanded, []);
  });

  it('power loss, reopened coins while no customer pays: the cut lands, the coins are returned', async () => {
    const r = rig(false);
    r.host.customerGone = true;
    const plan = powerLoss('reopened', [50], 50);
    await validatorFault(r.device, plan, r.hooks);
    r.stop();
    assert.deepEqual(r.book, { taken: [], unread: [] });
    assert.deepEqual(r.seen.slice(0, 3), [
      'validator_power_loss:cut',
      'validator_power_loss:was_shut',
      'validator_power_loss:coin_returned',
    ]);
  });

  it('overflow: every coin taken, the oldest past the 5-result buffer for the operator', async () => {
    const r = rig();
    const plan: ValidatorFaultPlan = {
      kind: 'validator_overflow',
      atMs: 0,
      coins: [50, 100, 200, 50, 100, 200, 50],
    };
    await validatorFault(r.device, plan, r.hooks);
    r.stop();
    assert.deepEqual(r.book.taken, plan.coins);
    assert.deepEqual(r.device.dropped.overflowed, [50, 100], 'the two oldest of seven');
    assert.ok(r.seen.includes('validator_overflow:credits_lost'));
  });

  it('overflow waits for the channels a vending customer opens late (4.5 s), then lands', async function () {
    this.timeout(15_000);
    const r = rig(true, 4500);
    const plan: ValidatorFaultPlan = {
      kind: 'validator_overflow',
      atMs: 0,
      coins: [50, 50, 100, 100, 200, 200],
    };
    await validatorFault(r.device, plan, r.hooks);
    r.stop();
    assert.deepEqual(r.book.taken, plan.coins);
    assert.deepEqual(r.device.dropped.overflowed, [50], 'the oldest of six');
    assert.deepEqual(r.notLanded, []);
  });

  const sixFifties: ValidatorFaultPlan = {
    kind: 'validator_overflow',
    atMs: 0,
    coins: [50, 50, 50, 50, 50, 50],
  };

  it('overflow while the channels stay shut: nothing inserted, reported not landed', async function () {
    this.timeout(15_000);
    const r = rig(false);
    const t0 = Date.now();
    await validatorFault(r.device, sixFifties, r.hooks);
    r.stop();
    assert.ok(Date.now() - t0 >= OPEN_WAIT_MS - 50, 'waited the whole bound');
    assert.deepEqual(r.book, { taken: [], unread: [] });
    assert.deepEqual(r.seen, ['validator_overflow:not_accepting']);
    assert.deepEqual(r.notLanded, ['channels_shut']);
  });

  it('overflow: a customer gone with the channels shut ends the wait early', async () => {
    const r = rig(false);
    setTimeout(() => (r.host.customerGone = true), 100);
    const t0 = Date.now();
    await validatorFault(r.device, sixFifties, r.hooks);
    r.stop();
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(r.notLanded, ['channels_shut']);
  });
});
