/**
 * The hardware section's device unions build a driver's schema only when a config names that driver
 * (issue 17, start-up). What they answer must be what the whole discriminated union answers: the
 * same data, the same issues (codes, paths, messages), and the same abort behaviour for the
 * refinements around them (the kiosk's "missing: give its settings" check runs only after issues
 * that let it continue).
 */
import assert from 'node:assert/strict';
import * as z from 'zod';
import {
  buttonsConfigSchema,
  coinConfigSchema,
  displayConfigSchema,
  hardwareConfigSchema,
  hopperConfigSchema,
  printerConfigSchema,
  readerConfigSchema,
  slotsConfigSchema,
} from '../../hal/hardware-config.js';
import { checkConfig } from '../../src/config/config.js';
import { baseConfig } from '../../src/harness/kiosk-process.js';

interface Deferred {
  _zod: { innerType: z.ZodType; def: { built: Map<string, unknown>; checks?: z.core.$ZodCheck<unknown>[] } };
}
const devices = {
  buttons: buttonsConfigSchema,
  coin: coinConfigSchema,
  reader: readerConfigSchema,
  display: displayConfigSchema,
  printer: printerConfigSchema,
  slots: slotsConfigSchema,
  hopper: hopperConfigSchema,
};
const internals = (s: unknown) => (s as Deferred)._zod;

/** The same section with every device a plain, fully built discriminated union (and its refinements). */
function wholeSchema() {
  const shape: Record<string, z.ZodType> = { gpioSysfsRoot: z.string().optional() };
  for (const [name, s] of Object.entries(devices)) {
    const { innerType, def } = internals(s);
    shape[name] = (def.checks?.length ? innerType.check(...def.checks) : innerType).optional();
  }
  return z.object(shape);
}

const slot = { id: 'A1', product: 1, output: { bcm: 5, mode: 'pulse' }, sensor: { bcm: 6, kind: 'drop' } };
const inputs: Record<string, unknown[]> = {
  any: [5, 'gpio', null, [], [{ driver: 'simulated' }], {}, { driver: 5 }, { driver: 'nope' }],
  protoKeys: [{ driver: 'toString' }, { driver: '__proto__' }, { driver: 'constructor' }],
  buttons: [
    { driver: 'simulated' },
    { driver: 'simulated', extra: 1 },
    { driver: 'gpio', pins: { ok: 17, cancel: 27 }, debounceMs: 20 },
    { driver: 'gpio', pins: {} },
    { driver: 'gpio', pins: { ok: 99, nope: 3 }, longPressButtons: ['service', 'x'] },
  ],
  coin: [
    { driver: 'simulated', coins: [10, 20] },
    { driver: 'simulated', coins: [] },
    { driver: 'pulse', coin: { bcm: 4, centsPerPulse: 10 }, inhibit: { bcm: 5 } },
    { driver: 'pulse', coin: { bcm: 4 } },
    { driver: 'cctalk', path: '/dev/ttyUSB0', channels: { '1': 200, '17': 5 } },
    { driver: 'cctalk', path: 'COM1', timeoutMs: 20_000 },
  ],
  reader: [
    { driver: 'line', path: '/dev/ttyACM0', backoff: { initialMs: 100 } },
    { driver: 'pn532', path: '/dev/ttyS0', uidFormat: 'octal' },
  ],
  display: [
    { driver: 'hd44780-pcf8574', cols: 16, rows: 2, address: '0x27', own: true },
    { driver: 'hd44780-pcf8574', cols: 40, rows: 2, address: '0x999' },
  ],
  printer: [
    { driver: 'escpos', interface: 'tcp://10.0.0.5:9100', columns: 48, statusSerial: { path: '/dev/ttyS1' } },
    { driver: 'escpos', interface: '', columns: 40 },
  ],
  slots: [
    { driver: 'simulated', slots: [{ id: 'A1', product: 1 }] },
    {
      driver: 'simulated',
      slots: [
        { id: 'A1', product: 1 },
        { id: 'A1', product: 1 },
      ],
    },
    { driver: 'gpio', slots: [slot] },
    { driver: 'gpio', slots: [slot, { ...slot, id: 'A2', product: 2, output: { bcm: 6, mode: 'hold' } }] },
    { driver: 'gpio', slots: [{ ...slot, id: 'a1' }] },
    { driver: 'gpio', slots: [] },
  ],
  hopper: [
    { driver: 'simulated', coinCents: 100 },
    { driver: 'simulated', coinCents: 0, coins: -1 },
    { driver: 'cctalk', path: '/dev/ttyUSB1', coinCents: 200, idlePollMs: 0 },
    { driver: 'cctalk', path: '/dev/ttyUSB1' },
  ],
};

describe('hardware config: device schemas built on first use', () => {
  it('answers every device input as the whole discriminated union does (data and issues)', () => {
    const whole = wholeSchema();
    let compared = 0;
    for (const device of Object.keys(devices)) {
      const mine = [...inputs.any!, ...inputs.protoKeys!, ...(inputs[device] ?? [])];
      for (const input of mine) {
        for (const doc of [{ [device]: input }, { [device]: input, gpioSysfsRoot: 5 }]) {
          const got = hardwareConfigSchema.safeParse(doc);
          const want = whole.safeParse(doc);
          assert.deepEqual(
            got.success ? got.data : got.error.issues,
            want.success ? want.data : want.error.issues,
            `${device}: ${JSON.stringify(input)}`,
          );
          compared++;
        }
      }
    }
    assert.ok(compared > 150, `${compared} compared`);
  });

  it("keeps the kiosk's own messages and the 'missing' check beside a device's issues", () => {
    const doc = baseConfig() as { hardware: Record<string, unknown> };
    delete doc.hardware.printer;
    doc.hardware.buttons = { driver: 'gpio', pins: { ok: 99 } };
    doc.hardware.coin = { driver: 'cctalk', path: '/dev/ttyUSB0', pollMs: 5000 };
    doc.hardware.display = { driver: 'lcd' };
    const checked = checkConfig(doc);
    assert.equal(checked.ok, false);
    assert.deepEqual(!checked.ok && checked.errors, [
      'hardware.buttons.pins.ok: Too big: expected number to be <=57',
      'hardware.coin.pollMs: Too big: expected number to be <=1000',
      'hardware.display.driver: does not match any allowed form (check "driver" and its settings)',
    ]);
    // Only issues that let zod continue: the section's own refinement runs and names the missing printer.
    doc.hardware.buttons = { driver: 'simulated' };
    doc.hardware.coin = { driver: 'cctalk', path: 'COM1' };
    doc.hardware.display = { driver: 'simulated' };
    const again = checkConfig(doc);
    assert.deepEqual(!again.ok && again.errors, [
      'hardware.coin.path: a device path such as /dev/serial/by-id/...',
      'hardware.printer: missing: give its settings or {"driver":"simulated"}',
    ]);
  });

  it('builds only the members a config names (a simulated kiosk: the simulated ones)', () => {
    const fresh = (s: unknown) => internals(s).def.built;
    const before = new Map(Object.entries(devices).map(([name, s]) => [name, new Set(fresh(s).keys())]));
    const checked = checkConfig(baseConfig());
    assert.ok(checked.ok);
    for (const [name, s] of Object.entries(devices)) {
      const added = [...fresh(s).keys()].filter((k) => !before.get(name)!.has(k));
      assert.ok(
        added.every((k) => k === 'simulated'),
        `${name}: built ${added.join(', ')}`,
      );
    }
  });
});
