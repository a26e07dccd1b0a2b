import assert from 'node:assert/strict';
import sinon from 'sinon';
import { PulseCoinAcceptor } from '../../hal/coin-acceptor/pulse-coin-acceptor.js';
import type { CoinEvent } from '../../hal/coin-acceptor/coin-acceptor.js';
import { FakeGpio } from '../../hal/io/fake-gpio-pin.js';
import { SimulatedCoinAcceptor } from '../../hal/coin-acceptor/sim-coin-acceptor.js';
import { recordingLogger } from '../../src/util/logger.js';

const COIN = 23;
const BILL = 24;
const INHIBIT = 25;

describe('PulseCoinAcceptor', () => {
  let clock: sinon.SinonFakeTimers;
  let gpio: FakeGpio;
  let acceptor: PulseCoinAcceptor;
  let coins: CoinEvent[];
  let faults: string[];

  beforeEach(async () => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    gpio = new FakeGpio();
    acceptor = new PulseCoinAcceptor(gpio, {
      coin: { bcm: COIN, centsPerPulse: 10, quietGapMs: 300, minPulseMs: 10, coinPulses: [1, 2, 5, 10, 20] },
      bill: { bcm: BILL, centsPerPulse: 500, quietGapMs: 500, minPulseMs: 30 },
      inhibit: { bcm: INHIBIT },
    });
    coins = [];
    faults = [];
    acceptor.on('coin', (c) => coins.push(c));
    acceptor.on('fault', (f) => faults.push(f));
    await acceptor.start();
  });

  afterEach(async () => {
    await acceptor.close();
    clock.restore();
  });

  /** A train of `n` pulses of `width` ms with `gap` ms between them, on the fake clock. */
  function train(bcm: number, n: number, width = 30, gap = 100): void {
    const pin = gpio.pin(bcm);
    for (let i = 0; i < n; i++) {
      pin.drive(0, clock.now); // active-low pulse
      clock.tick(width);
      pin.drive(1, clock.now);
      if (i < n - 1) clock.tick(gap);
    }
  }

  it('is inhibited from the start: the inhibit line is high before anything happens', () => {
    assert.equal(acceptor.accepting, false);
    assert.equal(gpio.pin(INHIBIT).direction, 'out');
    assert.equal(gpio.pin(INHIBIT).level, 1);
    assert.deepEqual(gpio.pin(INHIBIT).writes, []);
  });

  it('setAccepting drives the inhibit line', async () => {
    await acceptor.setAccepting(true);
    assert.equal(gpio.pin(INHIBIT).level, 0);
    assert.equal(acceptor.accepting, true);
    await acceptor.setAccepting(false);
    assert.equal(gpio.pin(INHIBIT).level, 1);
    assert.deepEqual(gpio.pin(INHIBIT).writes, [0, 1]);
  });

  it('counts a 5-pulse train as one 50 cent coin after the quiet gap', async () => {
    await acceptor.setAccepting(true);
    train(COIN, 5);
    clock.tick(299);
    assert.equal(coins.length, 0, 'not closed before the quiet gap');
    clock.tick(1);
    assert.equal(coins.length, 1);
    assert.deepEqual(
      { ...coins[0], at: undefined },
      { cents: 50, pulses: 5, at: undefined, source: 'coin', whileInhibited: false, combined: false },
    );
  });

  it('two coins with a clear gap are two coins', async () => {
    await acceptor.setAccepting(true);
    train(COIN, 2);
    clock.tick(400);
    train(COIN, 10);
    clock.tick(300);
    assert.deepEqual(
      coins.map((c) => c.cents),
      [20, 100],
    );
    assert.ok(coins.every((c) => !c.combined));
  });

  it('merged trains (fast insertion) are reported as their total and flagged combined', async () => {
    await acceptor.setAccepting(true);
    train(COIN, 5); // 50 cents
    clock.tick(150); // less than the quiet gap: the second coin's train merges
    train(COIN, 2); // 20 cents
    clock.tick(300);
    assert.equal(coins.length, 1);
    assert.equal(coins[0]?.cents, 70);
    assert.equal(coins[0]?.pulses, 7);
    assert.equal(coins[0]?.combined, true);
    assert.equal(faults.length, 1);
    assert.match(faults[0] ?? '', /7 pulses match no programmed coin/);
  });

  it('noise pulses shorter than the minimum width are ignored, inside and outside a train', async () => {
    await acceptor.setAccepting(true);
    const pin = gpio.pin(COIN);
    pin.drive(0, clock.now);
    clock.tick(2);
    pin.drive(1, clock.now); // 2 ms spike alone: no coin
    clock.tick(1000);
    assert.equal(coins.length, 0);
    train(COIN, 2);
    clock.tick(50);
    pin.drive(0, clock.now);
    clock.tick(9);
    pin.drive(1, clock.now); // 9 ms spike inside the train
    clock.tick(300);
    assert.deepEqual(
      coins.map((c) => c.pulses),
      [2],
    );
    const probe = await acceptor.probe();
    assert.equal(probe.status, 'ok (2 noise pulses ignored)');
  });

  it('a repeated level (an edge too short to see) does not double-count', async () => {
    await acceptor.setAccepting(true);
    const pin = gpio.pin(COIN);
    pin.drive(0, clock.now);
    clock.tick(10);
    pin.drive(0, clock.now);
    clock.tick(20);
    pin.drive(1, clock.now);
    pin.drive(1, clock.now);
    clock.tick(300);
    assert.deepEqual(
      coins.map((c) => c.pulses),
      [1],
    );
  });

  it('pulses that arrive while inhibited are still counted, with a flag', async () => {
    await acceptor.setAccepting(true);
    await acceptor.setAccepting(false);
    train(COIN, 2);
    clock.tick(300);
    assert.equal(coins.length, 1);
    assert.equal(coins[0]?.cents, 20);
    assert.equal(coins[0]?.whileInhibited, true);
  });

  it('a coin in flight when the kiosk inhibits is flagged but counted in full', async () => {
    await acceptor.setAccepting(true);
    train(COIN, 2);
    await acceptor.setAccepting(false);
    clock.tick(100);
    train(COIN, 3);
    clock.tick(300);
    assert.equal(coins[0]?.cents, 50);
    assert.equal(coins[0]?.whileInhibited, true);
  });

  it('a stuck line reports the pulses so far and a fault; the next pulse after release counts again', async () => {
    await acceptor.setAccepting(true);
    train(COIN, 2);
    clock.tick(100);
    gpio.pin(COIN).drive(0, clock.now); // stays low
    clock.tick(1000);
    assert.deepEqual(
      coins.map((c) => c.cents),
      [20],
    );
    assert.match(faults[0] ?? '', /stuck active/);
    assert.equal((await acceptor.probe()).status, 'stuck');
    gpio.pin(COIN).drive(1, clock.now);
    clock.tick(1000);
    assert.equal(coins.length, 1, 'the release of a stuck line is not a pulse');
    train(COIN, 1);
    clock.tick(300);
    assert.deepEqual(
      coins.map((c) => c.cents),
      [20, 10],
    );
  });

  it('bill validator on the second input: 2 pulses of 500 cents', async () => {
    await acceptor.setAccepting(true);
    train(BILL, 2, 100, 100);
    clock.tick(500);
    assert.equal(coins.length, 1);
    assert.equal(coins[0]?.source, 'bill');
    assert.equal(coins[0]?.cents, 1000);
  });

  it('close reports a coin still in its quiet gap, inhibits and releases the pins', async () => {
    await acceptor.setAccepting(true);
    train(COIN, 1);
    await acceptor.close();
    assert.deepEqual(
      coins.map((c) => c.cents),
      [10],
    );
    assert.equal(gpio.pin(INHIBIT).level, 1);
    for (const bcm of [COIN, BILL, INHIBIT]) assert.equal(gpio.pin(bcm).unexported, true);
    await assert.rejects(acceptor.setAccepting(true), /closed/);
  });
});

describe('PulseCoinAcceptor per-coin inhibit (one line for all coins)', () => {
  const BILL_INHIBIT = 26;
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  function pulses(gpio: FakeGpio, bcm: number, n: number, width = 30): void {
    for (let i = 0; i < n; i++) {
      gpio.pin(bcm).drive(0, clock.now);
      clock.tick(width);
      gpio.pin(bcm).drive(1, clock.now);
      clock.tick(100);
    }
  }

  it('cannot refuse one value: the line stays open, a coin left out of accept is money, flagged', async () => {
    const gpio = new FakeGpio();
    const a = new PulseCoinAcceptor(gpio, {
      coin: { bcm: COIN, centsPerPulse: 10, coinPulses: [1, 2, 5, 10, 20] },
      inhibit: { bcm: INHIBIT },
    });
    const coins: CoinEvent[] = [];
    a.on('coin', (c) => coins.push(c));
    await a.start();
    assert.equal(a.perCoinInhibit, false);
    assert.deepEqual(a.coinValues, [10, 20, 50, 100, 200]);
    await a.setAccepting(true, [10, 20, 50]);
    assert.equal(gpio.pin(INHIBIT).level, 0, 'open: some wanted coins exist');
    pulses(gpio, COIN, 20); // a 2 euro coin dropped in anyway
    clock.tick(300);
    pulses(gpio, COIN, 5);
    clock.tick(300);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.notAccepted ?? false, c.whileInhibited]),
      [
        [200, true, false],
        [50, false, false],
      ],
    );
    await a.close();
  });

  it('an accept list with none of its coins closes the line, as enabled false does', async () => {
    const gpio = new FakeGpio();
    const a = new PulseCoinAcceptor(gpio, {
      coin: { bcm: COIN, centsPerPulse: 10, coinPulses: [5, 10, 20] },
      inhibit: { bcm: INHIBIT },
    });
    await a.setAccepting(true, [10, 20]);
    assert.equal(gpio.pin(INHIBIT).level, 1);
    assert.equal(a.accepting, false);
    await a.setAccepting(true, []);
    assert.equal(gpio.pin(INHIBIT).level, 1);
    await a.setAccepting(true);
    assert.equal(gpio.pin(INHIBIT).level, 0, 'absent list: every coin');
    assert.equal(a.accepting, true);
    await a.close();
  });

  it('the bill validator line follows the bill values; without coinPulses any wanted value opens it', async () => {
    const gpio = new FakeGpio();
    const a = new PulseCoinAcceptor(gpio, {
      coin: { bcm: COIN, centsPerPulse: 10, coinPulses: [5, 10, 20] },
      bill: { bcm: BILL, centsPerPulse: 500, coinPulses: [1, 2] },
      inhibit: { bcm: INHIBIT },
      billInhibit: { bcm: BILL_INHIBIT },
    });
    await a.setAccepting(true, [50, 100]);
    assert.deepEqual([gpio.pin(INHIBIT).level, gpio.pin(BILL_INHIBIT).level], [0, 1], 'coins only');
    await a.setAccepting(true, [500]);
    assert.deepEqual([gpio.pin(INHIBIT).level, gpio.pin(BILL_INHIBIT).level], [1, 0], 'a 5 euro note only');
    await a.close();
    const g2 = new FakeGpio();
    const b = new PulseCoinAcceptor(g2, {
      coin: { bcm: COIN, centsPerPulse: 10 },
      inhibit: { bcm: INHIBIT },
    });
    assert.deepEqual(b.coinValues, []);
    await b.setAccepting(true, [10]);
    assert.equal(g2.pin(INHIBIT).level, 0, 'values unknown: open while anything is wanted');
    await b.close();
  });
});

describe('PulseCoinAcceptor wiring options', () => {
  it('active-low inhibit: low while inhibited', async () => {
    const gpio = new FakeGpio();
    const a = new PulseCoinAcceptor(gpio, {
      coin: { bcm: COIN, centsPerPulse: 10 },
      inhibit: { bcm: INHIBIT, activeLow: true },
    });
    assert.equal(gpio.pin(INHIBIT).level, 0);
    await a.setAccepting(true);
    assert.equal(gpio.pin(INHIBIT).level, 1);
    await a.close();
    assert.equal(gpio.pin(INHIBIT).level, 0);
  });

  it('without an inhibit line the probe says so', async () => {
    const gpio = new FakeGpio();
    const log = recordingLogger();
    const a = new PulseCoinAcceptor(gpio, { coin: { bcm: COIN, centsPerPulse: 10 } }, log);
    const p = await a.probe();
    assert.equal(p.status, 'no inhibit line');
    assert.match(p.hint ?? '', /takes coins/);
    await a.close();
  });
});

describe('SimulatedCoinAcceptor', () => {
  it('refuses coins while inhibited, accepts while accepting, and reports late coins', async () => {
    const sim = new SimulatedCoinAcceptor(10);
    const coins: CoinEvent[] = [];
    sim.on('coin', (c) => coins.push(c));
    assert.equal(sim.accepting, false);
    assert.equal(sim.insert(200), false);
    await sim.setAccepting(true);
    assert.equal(sim.insert(200), true);
    await sim.setAccepting(false);
    sim.insertLate(50);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.pulses, c.whileInhibited]),
      [
        [200, 20, false],
        [50, 5, true],
      ],
    );
    assert.throws(() => sim.insert(5), /not a multiple/);
  });

  it('refuses (returns) a coin value left out of accept, takes the others; absent list takes all', async () => {
    const sim = new SimulatedCoinAcceptor(10);
    const coins: CoinEvent[] = [];
    sim.on('coin', (c) => coins.push(c));
    assert.equal(sim.perCoinInhibit, true);
    await sim.setAccepting(true, [10, 20, 50]);
    assert.equal(sim.insert(200), false, 'a 2 euro coin goes back to the cup');
    assert.equal(sim.insertBill(500), false);
    assert.equal(sim.insert(50), true);
    sim.insertLate(100); // already in the validator when the list changed: in the box, flagged
    await sim.setAccepting(true, []);
    assert.equal(sim.accepting, false, 'an empty list is inhibit');
    assert.equal(sim.insert(10), false);
    await sim.setAccepting(true);
    assert.equal(sim.insert(200), true);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.notAccepted ?? false]),
      [
        [50, false],
        [100, true],
        [200, false],
      ],
    );
  });

  it('keeps only the last 100 coins in `counted`, newest last (a long-running simulator stays flat)', async () => {
    const sim = new SimulatedCoinAcceptor(10);
    await sim.setAccepting(true);
    for (let i = 1; i <= 250; i++) sim.insert(i * 10);
    assert.equal(sim.counted.length, 100);
    assert.equal(sim.counted[0]?.cents, 1510);
    assert.equal(sim.counted.at(-1)?.cents, 2500);
  });
});
