/**
 * The ccTalk validator's own chaos faults (src/chaos/validator-faults.ts): how the seeded PRNG
 * schedules them, and what each does to a validator the harness plays, as the acceptor's book sees
 * it: a coin returned is in no book, a credit read is the kiosk's, one past the buffer the operator's.
 */
import assert from 'node:assert/strict';
import { FakeCctalkValidator } from '../../hal/coin-acceptor/fake-cctalk-validator.js';
import { buildFrame, CCTALK_VALIDATOR, HEADER } from '../../hal/io/cctalk-frame.js';
import {
  planValidatorFault,
  validatorFault,
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
    let before = 0;
    for (let i = 0; i < 500; i++) {
      const x = planValidatorFault(rng, 0.5);
      if (!x) continue;
      assert.ok(x.atMs >= 0 && x.atMs <= 3000);
      if (x.kind === 'validator_power_loss') {
        assert.ok(x.downMs >= 200 && x.downMs <= 2500);
        assert.ok(x.coinsAfter.length <= 3);
        if (x.beforeRead) before += 1;
      } else {
        assert.ok(x.coins.length >= 6 && x.coins.length <= 8);
      }
      for (const c of x.kind === 'validator_overflow' ? x.coins : x.coinsAfter)
        assert.ok([50, 100, 200].includes(c));
    }
    assert.ok(before > 0, 'some coins land before the kiosk read the validator again');
  });
});

describe('chaos: validator faults against the played validator', () => {
  /** A host that reads the validator (229) every 20 ms, as the kiosk's driver does; `open`: accepting. */
  function rig(open = true) {
    const device = new FakeCctalkValidator(() => undefined);
    device.mask = open ? 0xffff : 0;
    device.master = open;
    const poll = buildFrame({
      destination: CCTALK_VALIDATOR,
      source: 1,
      header: HEADER.READ_BUFFERED_CREDIT,
      data: [],
    });
    const timer = setInterval(() => device.receive(poll), 20);
    const book = { taken: [] as number[], unread: [] as number[] };
    const seen: string[] = [];
    const hooks: ValidatorFaultHooks = {
      taken: (c) => book.taken.push(c),
      unreadAtCut: (c) => book.unread.push(...c),
      saw: (w) => seen.push(w),
      trace: () => undefined,
      running: () => true,
      kioskAccepting: async () => false,
      log: () => undefined,
    };
    return { device, book, seen, hooks, stop: () => clearInterval(timer) };
  }

  it('power loss: coins while it is off and straight after it comes back are returned, in no book', async () => {
    const r = rig();
    const plan: ValidatorFaultPlan = {
      kind: 'validator_power_loss',
      atMs: 0,
      downMs: 100,
      coinsAfter: [100, 200],
      beforeRead: true,
    };
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
    ]);
    assert.equal(r.device.event, 2, 'the power-up counter: two refusals since');
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

  it('overflow while the channels stay shut: nothing inserted', async function () {
    this.timeout(10_000);
    const r = rig(false);
    await validatorFault(
      r.device,
      { kind: 'validator_overflow', atMs: 0, coins: [50, 50, 50, 50, 50, 50] },
      r.hooks,
    );
    r.stop();
    assert.deepEqual(r.book, { taken: [], unread: [] });
    assert.deepEqual(r.seen, ['validator_overflow:not_accepting']);
  });
});
