import assert from 'node:assert/strict';
import sinon from 'sinon';
import { CctalkHopper } from '../../hal/hopper/cctalk-hopper.js';
import type { CctalkHopperConfig } from '../../hal/hopper/cctalk-hopper.js';
import { FakeCctalkHopper } from '../../hal/hopper/fake-cctalk-hopper.js';
import type { DispenseIntent } from '../../hal/hopper/hopper.js';
import { HopperError } from '../../hal/hopper/hopper.js';
import { FakeSerialPorts } from '../../hal/io/fake-serial-port.js';
import { HEADER } from '../../hal/io/cctalk-frame.js';

const PATH = '/dev/serial/by-id/usb-FTDI_ccTalk-if00-port0';

describe('CctalkHopper on the serialport mock binding', () => {
  let clock: sinon.SinonFakeTimers;
  let ports: FakeSerialPorts;
  let device: FakeCctalkHopper;
  let hopper: CctalkHopper;

  function makeHopper(config: Partial<CctalkHopperConfig> = {}): CctalkHopper {
    return new CctalkHopper(
      { path: PATH, coinCents: 50, pollMs: 100, stallMs: 1000, silentMs: 2000, timeoutMs: 200, ...config },
      ports.factory,
    );
  }

  function playDevice(options: ConstructorParameters<typeof FakeCctalkHopper>[1] = {}): FakeCctalkHopper {
    const d = new FakeCctalkHopper((bytes) => {
      process.nextTick(() => {
        if (ports.isOpen(PATH)) ports.emit(PATH, bytes);
      });
    }, options);
    ports.onWrite(PATH, (data) => d.receive(data));
    return d;
  }

  async function tick(ms: number): Promise<void> {
    await clock.tickAsync(ms);
    for (let i = 0; i < 30; i++) await new Promise((r) => process.nextTick(r));
  }

  /** Runs the fake clock until the promise settles (the driver polls on timers). */
  async function run<T>(promise: Promise<T>, limitMs = 60_000): Promise<T> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    for (let t = 0; !done && t < limitMs; t += 50) await tick(50);
    assert.ok(done, 'did not settle');
    return promise;
  }

  beforeEach(async () => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
    ports = new FakeSerialPorts();
    device = playDevice({ coins: 20, echo: true });
    ports.plug(PATH);
    hopper = makeHopper();
    hopper.start();
    await tick(0);
    // The link waits for a quiet line (40 ms) before its first request.
    await tick(50);
  });

  afterEach(async () => {
    await hopper.close();
    ports.reset();
    clock.restore();
  });

  it('initialises (poll, serial, enable) through the echo of the shared line and goes ok', () => {
    assert.deepEqual(device.headers.slice(0, 3), [
      HEADER.SIMPLE_POLL,
      HEADER.REQUEST_SERIAL_NUMBER,
      HEADER.ENABLE_HOPPER,
    ]);
    assert.equal(device.enabled, true);
    assert.equal(hopper.status, 'ok');
  });

  it('pays a complete payout, journal hook first, and reads the counters back', async () => {
    device.coinsPerPoll = 2;
    const order: string[] = [];
    let intent: DispenseIntent | undefined;
    const result = await run(
      hopper.dispense(5, async (i) => {
        intent = i;
        order.push(`journal dispenses=${device.dispenses.length}`);
      }),
    );
    assert.deepEqual(order, ['journal dispenses=0'], 'the intent is journaled before the command goes out');
    assert.deepEqual(intent?.before, { event: 0, remaining: 0, paid: 0, unpaid: 0, lifetime: 0 });
    assert.equal(result.outcome, 'complete');
    assert.equal(result.paid, 5);
    assert.equal(result.paidCents, 250);
    assert.equal(result.unpaidCents, 0);
    assert.equal(result.after?.lifetime, 5);
    assert.deepEqual(device.dispenses, [5]);
    assert.equal(device.coins, 15);
    const dispenseFrame = ports.written.get(PATH)?.find((b) => b[3] === HEADER.DISPENSE_HOPPER_COINS);
    assert.deepEqual([...(dispenseFrame ?? [])].slice(0, 8), [3, 4, 1, 167, 0x56, 0x34, 0x12, 5]);
  });

  it('a journal failure sends nothing', async () => {
    await assert.rejects(
      run(
        hopper.dispense(3, async () => {
          throw new Error('disk full');
        }),
      ),
      /disk full/,
    );
    assert.deepEqual(device.dispenses, []);
  });

  it('an empty hopper gives a short payout known to the coin, and status empty', async () => {
    device.coins = 3;
    const result = await run(hopper.dispense(5));
    assert.equal(result.outcome, 'short');
    assert.equal(result.paid, 3);
    assert.equal(result.unpaid, 2);
    assert.equal(result.unpaidCents, 100);
    assert.equal(result.fault, 'empty');
    assert.equal(hopper.status, 'empty');
  });

  it('a jam is told apart from empty by the fault flags', async () => {
    device.jamAfter = 1;
    const result = await run(hopper.dispense(4));
    assert.equal(result.outcome, 'short');
    assert.equal(result.paid, 1);
    assert.equal(result.fault, 'jammed');
    assert.equal(hopper.status, 'jammed');
    // Still jammed between payouts: nothing in the hardware says otherwise.
    await tick(5000);
    assert.equal(hopper.status, 'jammed');
    // The technician cleared it and booked a fill: asked again, and the next payout is whole.
    hopper.refilled();
    assert.equal(hopper.status, 'ok');
    const again = await run(hopper.dispense(2));
    assert.equal(again.outcome, 'complete');
  });

  it('a stalled motor is stopped (emergency stop) and counted', async () => {
    device.coinsPerPoll = 1;
    const pending = hopper.dispense(6);
    await tick(250);
    device.hang = true;
    const result = await run(pending);
    assert.ok(device.headers.includes(HEADER.EMERGENCY_STOP));
    assert.equal(result.outcome, 'short');
    assert.equal(result.paid + result.unpaid, 6);
    assert.equal(result.paid, device.lifetime);
    assert.deepEqual(device.dispenses, [6], 'never dispensed again');
  });

  it('a lost ACK of the dispense is not a reason to send it again: the counters tell', async () => {
    device.dropNextDispenseAck = true;
    const result = await run(hopper.dispense(4));
    assert.equal(result.outcome, 'complete');
    assert.equal(result.paid, 4);
    assert.deepEqual(device.dispenses, [4]);
  });

  it('a hopper that goes silent mid-payout gives unknown with the coins seen so far', async () => {
    device.coinsPerPoll = 1;
    const pending = hopper.dispense(5);
    await tick(250);
    device.silent = true;
    const result = await run(pending);
    assert.equal(result.outcome, 'unknown');
    assert.ok(result.paid >= 1 && result.paid <= device.lifetime);
    assert.deepEqual(device.dispenses, [5]);
  });

  it('a wall clock set forward by hours mid-payout (time sync on a Pi without RTC) stops nothing', async () => {
    device.coinsPerPoll = 1;
    const pending = hopper.dispense(6);
    await tick(250);
    // Between two coins (the poll sees the same count) the wall clock leaps ahead.
    device.coinsPerPoll = 0;
    await tick(150);
    clock.setSystemTime(Date.now() + 3 * 3_600_000);
    await tick(150);
    device.coinsPerPoll = 1;
    const result = await run(pending);
    assert.equal(result.outcome, 'complete');
    assert.equal(result.paid, 6);
    assert.equal(
      device.headers.includes(HEADER.EMERGENCY_STOP),
      false,
      'no emergency stop of a healthy payout',
    );
    assert.deepEqual(device.dispenses, [6]);
  });

  it('a wall clock set back by hours mid-payout still finds a silent hopper silent', async () => {
    device.coinsPerPoll = 1;
    const pending = hopper.dispense(5);
    await tick(250);
    clock.setSystemTime(Date.now() - 3 * 3_600_000);
    device.silent = true;
    const result = await run(pending, 10_000);
    assert.equal(result.outcome, 'unknown');
    assert.equal(result.fault, 'offline');
    assert.deepEqual(device.dispenses, [5]);
  });

  it('after a power cut mid-payout, settle knows the paid coins from the lifetime counter', async () => {
    device.coinsPerPoll = 1;
    device.powerCutAfter = 2;
    let intent: DispenseIntent | undefined;
    const pending = hopper.dispense(5, async (i) => {
      intent = i;
    });
    const first = await run(pending);
    assert.equal(first.outcome, 'unknown', 'the kiosk cannot know while the hopper is dark');
    // Power back: the kiosk boots with a fresh driver and settles the journaled intent.
    await hopper.close();
    device.silent = false;
    hopper = makeHopper();
    hopper.start();
    await tick(10);
    assert.ok(intent);
    const settled = await run(hopper.settle(intent));
    assert.equal(settled.outcome, 'short');
    assert.equal(settled.paid, 2);
    assert.equal(settled.unpaidCents, 150);
    assert.deepEqual(device.dispenses, [5], 'settling never dispenses');
  });

  it('without a lifetime counter, a hopper that lost its memory leaves the payout unknown', async () => {
    device.lifetimeSupported = false;
    device.coinsPerPoll = 1;
    let intent: DispenseIntent | undefined;
    await run(
      hopper.dispense(3, async (i) => {
        intent = i;
      }),
    );
    assert.ok(intent);
    assert.equal(intent.before.lifetime, undefined);
    device.powerCut();
    await tick(10);
    const settled = await run(hopper.settle({ ...intent, before: { ...intent.before, event: 7 } }));
    assert.equal(settled.outcome, 'unknown');
  });

  it('between payouts: a hopper that loses its supply goes offline by the idle poll, and ok again (re-enabled) when back', async () => {
    const seen: string[] = [];
    hopper.on('status', (s) => seen.push(s));
    await tick(5000);
    assert.equal(hopper.status, 'ok', 'answering: stays ok');
    // The supply goes (the USB adapter stays: the port does not close), no payout running.
    device.silent = true;
    device.powerCut();
    await tick(2000 + 3 * 200 + 100);
    assert.equal(hopper.status, 'offline', 'noticed within one idle poll and its retries');
    assert.deepEqual(seen, ['offline']);
    device.silent = false;
    await tick(2000 + 500);
    assert.equal(hopper.status, 'ok');
    assert.equal(device.enabled, true, 'a hopper back from a power cut is enabled again');
    assert.deepEqual(seen, ['offline', 'ok']);
    const result = await run(hopper.dispense(2));
    assert.equal(result.outcome, 'complete');
  });

  it('refuses bad counts and a hopper that is offline before anything is sent', async () => {
    await assert.rejects(hopper.dispense(0), HopperError);
    await assert.rejects(hopper.dispense(256), HopperError);
    await hopper.close();
    await assert.rejects(hopper.dispense(1), (err: HopperError) => err.reason === 'offline');
    assert.deepEqual(device.dispenses, []);
  });
});
