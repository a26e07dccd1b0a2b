import assert from 'node:assert/strict';
import sinon from 'sinon';
import { GpioVendSlots } from '../../hal/vend-slot/gpio-vend-slots.js';
import type { SlotConfig } from '../../hal/vend-slot/gpio-vend-slots.js';
import { FakeSlotMechanism } from '../../hal/vend-slot/fake-slot-mechanism.js';
import { SimulatedVendSlots } from '../../hal/vend-slot/sim-vend-slots.js';
import type { ReleaseResult } from '../../hal/vend-slot/vend-slot.js';
import { FakeGpio } from '../../hal/io/fake-gpio-pin.js';

const SPIRAL: SlotConfig = {
  id: 'A1',
  output: { bcm: 5, mode: 'pulse', pulseMs: 800 },
  sensor: { bcm: 6, kind: 'drop', debounceMs: 5, stuckMs: 1000 },
  timeoutMs: 3000,
};
const LOCKER: SlotConfig = {
  id: 'B1',
  output: { bcm: 12, mode: 'hold', activeLow: true },
  sensor: { bcm: 16, kind: 'door', debounceMs: 30 },
  timeoutMs: 4000,
};

describe('GpioVendSlots on fake pins', () => {
  let clock: sinon.SinonFakeTimers;
  let gpio: FakeGpio;
  let slots: GpioVendSlots;
  let spiral: FakeSlotMechanism;
  let locker: FakeSlotMechanism;
  let faults: string[];

  beforeEach(async () => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    gpio = new FakeGpio();
    slots = new GpioVendSlots(gpio, { slots: [SPIRAL, LOCKER] }, undefined, () => Date.now());
    spiral = new FakeSlotMechanism(gpio, 5, 6, () => Date.now());
    locker = new FakeSlotMechanism(gpio, 12, 16, () => Date.now());
    faults = [];
    slots.on('fault', (slot, reason) => faults.push(`${slot} ${reason}`));
    // Idle sensors: active-low lines sit high.
    gpio.pin(6).drive(1, Date.now());
    gpio.pin(16).drive(1, Date.now());
    await slots.start();
  });

  afterEach(async () => {
    await slots.close();
    clock.restore();
  });

  async function release(slot: string, ms = 10_000): Promise<ReleaseResult> {
    const pending = slots.release(slot);
    await clock.tickAsync(ms);
    return pending;
  }

  it('opens the outputs inactive (also an active-low relay) before anything else', () => {
    assert.equal(gpio.pin(5).level, 0);
    assert.equal(gpio.pin(12).level, 1, 'active-low relay off = line high');
    assert.deepEqual(slots.slots, ['A1', 'B1']);
  });

  it('pulses the spiral for its pulse length and confirms the drop', async () => {
    const result = await release('A1');
    assert.deepEqual(result, { slot: 'A1', outcome: 'delivered', confirmedAfterMs: 200 });
    assert.deepEqual(gpio.pin(5).writes, [1, 0]);
    assert.equal(spiral.fired, 1);
    assert.deepEqual(faults, []);
  });

  it('the pulse runs to its end even when the drop came early', async () => {
    const pending = slots.release('A1');
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.tickAsync(400);
    assert.equal(settled, false, 'the motor is still turning');
    assert.equal(gpio.pin(5).value, 1);
    await clock.tickAsync(500);
    assert.equal(settled, true);
    assert.equal(gpio.pin(5).value, 0);
  });

  it('holds a locker solenoid until the door opens, then lets go', async () => {
    locker.dropAfterMs = 1500;
    locker.widthMs = 5000;
    const result = await release('B1', 2000);
    assert.equal(result.outcome, 'delivered');
    assert.deepEqual(gpio.pin(12).writes, [1, 0]);
    assert.equal(gpio.pin(12).level, 1, 'released again');
  });

  it('a jam fails after the timeout with the output fired, and the output off', async () => {
    spiral.mode = 'jam';
    const result = await release('A1');
    assert.deepEqual(result, { slot: 'A1', outcome: 'failed', reason: 'no_confirmation', fired: true });
    assert.equal(gpio.pin(5).value, 0);
  });

  it('a locker whose door never opens is not held longer than the timeout', async () => {
    locker.mode = 'jam';
    const result = await release('B1', 4100);
    assert.equal(result.outcome, 'failed');
    assert.equal(gpio.pin(12).value, 0);
  });

  it('blips shorter than the debounce are not a drop', async () => {
    spiral.mode = 'bounce';
    spiral.dropAfterMs = 3500; // the real drop comes after the timeout
    const result = await release('A1', 3100);
    assert.equal(result.outcome, 'failed');
  });

  it('a product that drops after the timeout does not confirm anything', async () => {
    spiral.mode = 'late';
    spiral.lateMs = 3500;
    const first = await release('A1', 3600);
    assert.equal(first.outcome, 'failed');
    spiral.mode = 'ok';
    const second = await release('A1');
    assert.equal(second.outcome, 'delivered');
  });

  it('a stuck sensor fires nothing', async () => {
    spiral.stick();
    await clock.tickAsync(100);
    const result = await release('A1');
    assert.deepEqual(result, { slot: 'A1', outcome: 'failed', reason: 'sensor_stuck', fired: false });
    assert.deepEqual(gpio.pin(5).writes, []);
    assert.deepEqual(faults, ['A1 sensor_stuck']);
  });

  it('a beam still blocked after the drop is reported stuck', async () => {
    spiral.widthMs = 60_000;
    const result = await release('A1', 3000);
    assert.equal(result.outcome, 'delivered');
    await clock.tickAsync(2000);
    assert.deepEqual(faults, ['A1 sensor_stuck']);
  });

  it('one release at a time, and unknown slots are refused', async () => {
    const first = slots.release('A1');
    const second = await slots.release('B1');
    assert.deepEqual(second, { slot: 'B1', outcome: 'failed', reason: 'busy', fired: false });
    assert.deepEqual(await slots.release('Z9'), {
      slot: 'Z9',
      outcome: 'failed',
      reason: 'unknown_slot',
      fired: false,
    });
    await clock.tickAsync(5000);
    assert.equal((await first).outcome, 'delivered');
  });

  it('close switches outputs off and releases the pins', async () => {
    const pending = slots.release('B1');
    await clock.tickAsync(10);
    assert.equal(gpio.pin(12).value, 1);
    await slots.close();
    assert.equal(gpio.pin(12).value, 0);
    assert.equal(gpio.pin(12).unexported, true);
    await clock.tickAsync(5000);
    await pending;
  });
});

describe('SimulatedVendSlots', () => {
  it('delivers, jams and breaks sensors on command', async () => {
    const slots = new SimulatedVendSlots(['A1', 'A2']);
    assert.equal((await slots.release('A1')).outcome, 'delivered');
    slots.jam('A1');
    assert.deepEqual(await slots.release('A1'), {
      slot: 'A1',
      outcome: 'failed',
      reason: 'no_confirmation',
      fired: true,
    });
    slots.breakSensor('A2');
    assert.deepEqual(await slots.release('A2'), {
      slot: 'A2',
      outcome: 'failed',
      reason: 'sensor_stuck',
      fired: false,
    });
    slots.fix('A1');
    assert.equal((await slots.release('A1')).outcome, 'delivered');
    assert.deepEqual(slots.fired, ['A1', 'A1', 'A1']);
    assert.throws(() => slots.jam('Z9'));
  });
});
