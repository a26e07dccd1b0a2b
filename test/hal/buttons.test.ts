import assert from 'node:assert/strict';
import sinon from 'sinon';
import { GpioButtons } from '../../hal/buttons/gpio-buttons.js';
import { FakeGpio } from '../../hal/io/fake-gpio-pin.js';
import { SimulatedButtons } from '../../hal/buttons/sim-buttons.js';
import { recordingLogger } from '../../src/util/logger.js';

const PINS = { ok: 17, cancel: 27, service: 22 };

describe('GpioButtons', () => {
  let clock: sinon.SinonFakeTimers;
  let gpio: FakeGpio;
  let buttons: GpioButtons;
  let events: string[];

  beforeEach(async () => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    gpio = new FakeGpio(571);
    buttons = new GpioButtons(gpio, { pins: PINS, debounceMs: 30, longPressMs: 2000 });
    events = [];
    buttons.on('press', (n) => events.push(`press:${n}`));
    buttons.on('longpress', (n) => events.push(`longpress:${n}`));
    await buttons.start();
  });

  afterEach(async () => {
    await buttons.close();
    clock.restore();
  });

  /** Physical level: active-low wiring, so 0 = pressed. */
  function level(name: keyof typeof PINS, physical: 0 | 1): void {
    gpio.pin(PINS[name]).drive(physical, clock.now);
  }

  it('opens the pins active-low and idle reads released', () => {
    const ok = gpio.pin(17);
    assert.equal(ok.activeLow, true);
    assert.equal(ok.gpio, 588);
    assert.equal(ok.level, 1);
    assert.deepEqual(buttons.names, ['ok', 'cancel', 'service']);
  });

  it('a clean press emits one press after the debounce time', () => {
    level('ok', 0);
    clock.tick(29);
    assert.deepEqual(events, []);
    clock.tick(1);
    assert.deepEqual(events, ['press:ok']);
    level('ok', 1);
    clock.tick(100);
    assert.deepEqual(events, ['press:ok']);
  });

  it('contact bounce within the debounce time gives exactly one press', () => {
    for (const [dt, v] of [
      [0, 0],
      [2, 1],
      [3, 0],
      [1, 1],
      [4, 0],
    ] as const) {
      clock.tick(dt);
      level('ok', v);
    }
    clock.tick(30);
    // release also bounces
    for (const [dt, v] of [
      [200, 1],
      [2, 0],
      [2, 1],
    ] as const) {
      clock.tick(dt);
      level('ok', v);
    }
    clock.tick(30);
    assert.deepEqual(events, ['press:ok']);
  });

  it('a spike shorter than the debounce time is not a press', () => {
    level('cancel', 0);
    clock.tick(5);
    level('cancel', 1);
    clock.tick(100);
    assert.deepEqual(events, []);
  });

  it('service: a short press is a press on release', () => {
    level('service', 0);
    clock.tick(500);
    assert.deepEqual(events, []);
    level('service', 1);
    clock.tick(30);
    assert.deepEqual(events, ['press:service']);
  });

  it('service: holding 2 s is a longpress while held, and no press follows on release', () => {
    level('service', 0);
    clock.tick(30 + 1999);
    assert.deepEqual(events, []);
    clock.tick(1);
    assert.deepEqual(events, ['longpress:service']);
    clock.tick(5000);
    level('service', 1);
    clock.tick(30);
    assert.deepEqual(events, ['longpress:service']);
  });

  it('ok has no long press: holding it is one press', () => {
    level('ok', 0);
    clock.tick(10_000);
    level('ok', 1);
    clock.tick(30);
    assert.deepEqual(events, ['press:ok']);
  });

  it('close unwatches and unexports every pin', async () => {
    await buttons.close();
    for (const bcm of Object.values(PINS)) {
      assert.equal(gpio.pin(bcm).unexported, true);
      assert.equal(gpio.pin(bcm).watcherCount, 0);
    }
  });
});

describe('GpioButtons edge cases', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('a button held at start is ignored until released, and probe reports it stuck', async () => {
    const gpio = new FakeGpio();
    const log = recordingLogger();
    const buttons = new GpioButtons(gpio, { pins: { ok: 17 } }, log);
    gpio.pin(17).drive(0, 0); // held before start
    const events: string[] = [];
    buttons.on('press', (n) => events.push(n));
    await buttons.start();
    assert.equal(log.records[0]?.level, 'warn');
    assert.equal((await buttons.probe()).status, 'stuck: ok');
    gpio.pin(17).drive(1, clock.now);
    clock.tick(50);
    assert.deepEqual(events, []);
    gpio.pin(17).drive(0, clock.now);
    clock.tick(50);
    assert.deepEqual(events, ['ok']);
    await buttons.close();
  });

  it('active-high wiring when configured', async () => {
    const gpio = new FakeGpio();
    const buttons = new GpioButtons(gpio, { pins: { ok: 5 }, activeLow: false });
    const events: string[] = [];
    buttons.on('press', (n) => events.push(n));
    await buttons.start();
    gpio.pin(5).drive(1, 0);
    clock.tick(30);
    assert.deepEqual(events, ['ok']);
    assert.equal((await buttons.probe()).found, true);
    await buttons.close();
  });

  it('a pin that cannot be opened releases the ones already opened', () => {
    const gpio = new FakeGpio();
    gpio.input(27); // someone else holds BCM 27
    assert.throws(() => new GpioButtons(gpio, { pins: { ok: 17, cancel: 27 } }), /EBUSY/);
    assert.equal(gpio.pin(17).unexported, true);
  });
});

describe('SimulatedButtons', () => {
  it('press and longPress emit like the real driver', async () => {
    const sim = new SimulatedButtons();
    const events: string[] = [];
    sim.on('press', (n) => events.push(`press:${n}`));
    sim.on('longpress', (n) => events.push(`longpress:${n}`));
    await sim.start();
    sim.press('ok');
    sim.longPress('service');
    sim.longPress('cancel');
    assert.deepEqual(events, ['press:ok', 'longpress:service', 'press:cancel']);
    assert.throws(() => sim.press('nope'), /no button named "nope"/);
    await sim.close();
  });
});
