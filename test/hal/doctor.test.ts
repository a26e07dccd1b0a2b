import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeResult } from '../../src/contracts/device.js';
import { formatDoctorTable, runDoctor } from '../../hal/doctor/doctor.js';
import { buildDoctorProbes } from '../../hal/doctor/doctor-probes.js';
import type { DoctorDeps } from '../../hal/doctor/doctor-probes.js';
import { FakeGpio } from '../../hal/io/fake-gpio-pin.js';
import { FakeSerialPorts } from '../../hal/io/fake-serial-port.js';
import { FakePn532Chip } from '../../hal/card-reader/fake-pn532-chip.js';
import { FakeCctalkHopper } from '../../hal/hopper/fake-cctalk-hopper.js';
import type { FakeGpioPin } from '../../hal/io/fake-gpio-pin.js';
import { hardwareConfigSchema } from '../../hal/hardware-config.js';
import { GpioNumbering, readGpioNumbering } from '../../hal/io/sysfs-gpio-base.js';
import { DEMO_CLIENT } from '../../src/sim/api-server.js';
import { startRig } from '../support/api.js';

const row = (over: Partial<ProbeResult>): ProbeResult => ({
  device: 'x',
  driver: 'd',
  found: true,
  where: 'w',
  status: 'ok',
  required: true,
  ...over,
});

describe('runDoctor', () => {
  it('prints a table and exits 0 when every required device is there', async () => {
    let printed = '';
    const report = await runDoctor(
      [
        { probe: async () => row({ device: 'buttons' }) },
        { probe: async () => row({ device: 'display', found: false, required: false, hint: 'I2C off' }) },
      ],
      { print: (t) => (printed = t) },
    );
    assert.equal(report.exitCode, 0);
    assert.equal(printed, report.table);
    const lines = printed.split('\n');
    assert.match(lines[0] ?? '', /^device\s+driver\s+found\s+where\s+status\s+what to check$/);
    assert.match(printed, /display\s+d\s+no\s+w\s+ok\s+I2C off/);
  });

  it('exits 1 when a required device is missing, and says which', async () => {
    const report = await runDoctor(
      [{ probe: async () => row({ device: 'reader', found: false, status: 'ENOENT' }) }],
      {
        print: () => {},
      },
    );
    assert.equal(report.exitCode, 1);
    assert.match(report.table, /reader\s+d\s+NO \(required\)/);
    assert.match(report.table, /1 required device\(s\) missing: reader/);
  });

  it('a probe that throws or hangs becomes a row, not a crash', async () => {
    const report = await runDoctor(
      [
        { device: 'coin', driver: 'pulse-gpio', probe: async () => Promise.reject(new Error('boom')) },
        {
          device: 'printer',
          driver: 'escpos',
          required: false,
          probe: () => new Promise<ProbeResult>(() => {}),
        },
      ],
      { timeoutMs: 50, print: () => {} },
    );
    assert.deepEqual(
      report.rows.map((r) => [r.device, r.found, r.status, r.hint]),
      [
        ['coin', false, 'probe failed', 'boom'],
        ['printer', false, 'timeout', 'no answer within 50 ms: the device or its driver hangs'],
      ],
    );
    assert.equal(report.exitCode, 1);
  });

  it('formatDoctorTable pads columns so they line up', () => {
    const t = formatDoctorTable([
      row({ device: 'a', where: 'long where text' }),
      row({ device: 'bbbbbbbbbb' }),
    ]);
    const [header, , first, second] = t.split('\n');
    const col = (header ?? '').indexOf('status');
    assert.equal((first ?? '').indexOf('ok'), col);
    assert.equal((second ?? '').indexOf('ok'), col);
  });
});

describe('buildDoctorProbes', () => {
  const PN532 = '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0';
  let ports: FakeSerialPorts;
  let dirs: string[];
  beforeEach(() => {
    ports = new FakeSerialPorts();
    dirs = [];
  });
  afterEach(async () => {
    ports.reset();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const config = hardwareConfigSchema.parse({
    buttons: { driver: 'gpio', pins: { ok: 17, service: 22 } },
    coin: { driver: 'pulse', coin: { bcm: 23, centsPerPulse: 10 }, inhibit: { bcm: 25 } },
    reader: { driver: 'pn532', path: PN532 },
    display: { driver: 'simulated' },
  });

  function deps(gpio: FakeGpio, over: Partial<DoctorDeps> = {}): DoctorDeps {
    return {
      openGpio: async () => ({
        factory: gpio,
        numbering: new GpioNumbering({ name: 'gpiochip571', base: 571, label: 'pinctrl-rp1', ngpio: 54 }),
      }),
      serial: ports.factory,
      readerSettleMs: 2000,
      ...over,
    };
  }

  it('all devices present: rows ok, pins released afterwards, acceptor left inhibited', async () => {
    ports.plug(PN532);
    const chip = new FakePn532Chip((b) =>
      process.nextTick(() => ports.isOpen(PN532) && ports.emit(PN532, b)),
    );
    ports.onWrite(PN532, (d) => chip.receive(d));
    const gpio = new FakeGpio(571);
    const report = await runDoctor(buildDoctorProbes(config, deps(gpio)), { print: () => {} });
    assert.deepEqual(
      report.rows.map((r) => [r.device, r.found, r.status]),
      [
        ['buttons', true, 'ok'],
        ['coin', true, 'ok'],
        ['reader', true, 'ok (PN532 v1.6)'],
        ['display', true, 'ok'],
      ],
    );
    assert.match(report.rows[0]?.where ?? '', /ok=BCM 17 \(gpio 588\)/);
    assert.equal(report.exitCode, 0);
    for (const pin of gpio.pins.values()) assert.equal(pin.unexported, true, `BCM ${pin.bcm} released`);
    assert.equal(gpio.pin(25).level, 1, 'inhibit line left asserted');
    assert.equal(ports.isOpen(PN532), false, 'serial port closed again');
  });

  it('no header chip, no permission, no reader: rows with hints, exit 1', async () => {
    const root = await mkdtemp(join(tmpdir(), 'doctor-sysfs-'));
    dirs.push(root);
    await mkdir(join(root, 'gpiochip0'));
    await writeFile(join(root, 'gpiochip0', 'base'), '0');
    await writeFile(join(root, 'gpiochip0', 'label'), 'some-usb-gpio');
    await writeFile(join(root, 'gpiochip0', 'ngpio'), '8');
    const noChip = await runDoctor(
      buildDoctorProbes(
        config,
        deps(new FakeGpio(), {
          openGpio: async (r) => {
            await readGpioNumbering(r ?? root);
            throw new Error('unreachable');
          },
        }),
      ),
      { print: () => {} },
    );
    assert.equal(noChip.rows[0]?.status, 'no header chip');
    assert.match(noChip.rows[0]?.hint ?? '', /no GPIO header chip found/);
    assert.equal(noChip.rows[2]?.status, 'ENOENT');
    assert.match(noChip.rows[2]?.hint ?? '', /unplugged or wrong path/);
    assert.equal(noChip.exitCode, 1);

    const denied = Object.assign(new Error("EACCES: permission denied, open '/sys/class/gpio/export'"), {
      code: 'EACCES',
    });
    const gpio = new FakeGpio();
    gpio.input = () => {
      throw denied;
    };
    const noPerm = await runDoctor(buildDoctorProbes(config, deps(gpio)), {
      print: () => {},
      timeoutMs: 3000,
    });
    assert.equal(noPerm.rows[0]?.status, 'EACCES');
    assert.match(noPerm.rows[0]?.hint ?? '', /add the kiosk user to group gpio/);
  });

  it('vending counter: slots and hopper rows; a sensor already active and a silent hopper are named; nothing fired or paid', async () => {
    const HOPPER = '/dev/serial/by-id/usb-FTDI_ccTalk-if00-port0';
    const vending = hardwareConfigSchema.parse({
      slots: {
        driver: 'gpio',
        slots: [
          { id: 'A1', product: 1, output: { bcm: 5, mode: 'pulse' }, sensor: { bcm: 6, kind: 'drop' } },
          { id: 'A2', product: 2, output: { bcm: 13, mode: 'pulse' }, sensor: { bcm: 19, kind: 'drop' } },
        ],
      },
      hopper: { driver: 'cctalk', path: HOPPER, coinCents: 50, timeoutMs: 200 },
    });
    ports.plug(HOPPER);
    const hopper = new FakeCctalkHopper((b) =>
      process.nextTick(() => ports.isOpen(HOPPER) && ports.emit(HOPPER, b)),
    );
    ports.onWrite(HOPPER, (d) => hopper.receive(d));
    const gpio = new FakeGpio(571);
    const input = gpio.input.bind(gpio);
    // A2's drop sensor is blocked (a product stuck in the beam) before the doctor opens it.
    gpio.input = (bcm, o) => {
      const pin = input(bcm, o) as FakeGpioPin;
      if (bcm === 19) pin.drive(0, 0); // active low: the beam is broken
      return pin;
    };
    const report = await runDoctor(buildDoctorProbes(vending, deps(gpio)), { print: () => {} });
    assert.deepEqual(
      report.rows.map((r) => [r.device, r.driver, r.found, r.status]),
      [
        ['slots', 'gpio', true, 'sensor active: A2'],
        ['hopper', 'cctalk', true, 'ok'],
      ],
    );
    assert.match(report.rows[0]?.where ?? '', /A1=BCM 5\/6, A2=BCM 13\/19/);
    assert.match(report.rows[0]?.hint ?? '', /product in the beam/);
    for (const bcm of [5, 13]) assert.equal(gpio.pin(bcm).level, 0, `output BCM ${bcm} never fired`);
    for (const pin of gpio.pins.values()) assert.equal(pin.unexported, true, `BCM ${pin.bcm} released`);
    assert.deepEqual(hopper.dispenses, [], 'the doctor pays no coin');
    assert.equal(ports.isOpen(HOPPER), false, 'serial port closed again');

    hopper.silent = true;
    const silent = await runDoctor(
      buildDoctorProbes(hardwareConfigSchema.parse({ hopper: vending.hopper }), deps(new FakeGpio())),
      { print: () => {} },
    );
    assert.deepEqual([silent.rows[0]?.found, silent.rows[0]?.status], [false, 'timeout']);
    assert.match(silent.rows[0]?.hint ?? '', /hopper's supply/);
    assert.deepEqual(
      buildDoctorProbes(
        hardwareConfigSchema.parse({
          slots: { driver: 'simulated', slots: [{ id: 'A1', product: 1 }] },
          hopper: { driver: 'simulated', coinCents: 50 },
        }),
        deps(new FakeGpio()),
      ).map((p) => [p.device, p.driver]),
      [
        ['slots', 'simulated'],
        ['hopper', 'simulated'],
      ],
    );
  });

  it('a port that opens but a silent PN532: found no, with the wiring hint', async () => {
    ports.plug(PN532);
    const report = await runDoctor(
      buildDoctorProbes(
        hardwareConfigSchema.parse({ reader: { driver: 'pn532', path: PN532 } }),
        deps(new FakeGpio()),
      ),
      { print: () => {} },
    );
    assert.equal(report.rows[0]?.found, false);
    assert.match(report.rows[0]?.hint ?? '', /TX\/RX crossed/);
  });
});

describe('hardware config schema', () => {
  it('accepts simulated and real devices, hex I2C addresses, and rejects nonsense with a path', () => {
    const ok = hardwareConfigSchema.parse({
      display: { driver: 'hd44780-pcf8574', cols: 20, rows: 4, address: '0x3f', extra: 1 },
      reader: { driver: 'line', path: '/dev/serial/by-id/usb-x' },
      printer: { driver: 'simulated' },
    });
    assert.equal(ok.display?.driver === 'hd44780-pcf8574' && ok.display.address, 0x3f);
    const bad = hardwareConfigSchema.safeParse({ buttons: { driver: 'gpio', pins: { ok: 99 } } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ['buttons', 'pins', 'ok']);
  });
});

describe('doctor CLI', function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'doctor-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/doctor-cli.ts', ...args], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('a missing serial reader is a table row and exit 1, not a stack trace', async () => {
    const file = join(dir, 'kiosk.json');
    await writeFile(
      file,
      JSON.stringify({
        api: { untouched: true },
        hardware: {
          buttons: { driver: 'simulated' },
          reader: { driver: 'line', path: '/dev/serial/by-id/usb-does-not-exist' },
        },
      }),
    );
    const { code, stdout, stderr } = await run(['--config', file]);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /reader\s+line-serial\s+NO \(required\)\s+\/dev\/serial\/by-id\/usb-does-not-exist\s+ENOENT/,
    );
    assert.doesNotMatch(stdout + stderr, /\n\s+at /);
  });

  it('with kiosk.cardTerminal the terminal is a row: its diagnosis through the API (not required)', async () => {
    const rig = await startRig();
    try {
      const file = join(dir, 'terminal.json');
      const config = (baseUrl: string) =>
        JSON.stringify({
          kiosk: { cardTerminal: true },
          api: { baseUrl, clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret },
          hardware: { buttons: { driver: 'simulated' } },
        });
      await writeFile(file, config(rig.standIn.baseUrl));
      const ok = await run(['--config', file, '--json']);
      assert.equal(ok.code, 0, ok.stderr);
      const rows = JSON.parse(ok.stdout) as ProbeResult[];
      assert.deepEqual(
        rows.find((r) => r.device === 'terminal'),
        {
          device: 'terminal',
          driver: 'smartzvt',
          where: 'API me/diagnosis',
          required: false,
          found: true,
          status: 'ok',
        },
      );
      rig.standIn.faults.add({ path: '/diagnosis', fault: { type: 'status', status: 503 } });
      const down = await run(['--config', file]);
      assert.equal(down.code, 0, 'not required: the kiosk still sells for cash');
      assert.match(down.stdout, /terminal\s+smartzvt\s+no\s+API me\/diagnosis\s+http/);
    } finally {
      await rig.close();
    }
  });

  it('an invalid config exits 2 with the problem named', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ hardware: { reader: { driver: 'line', path: 'COM3' } } }));
    const { code, stderr } = await run(['--config', file]);
    assert.equal(code, 2);
    assert.match(stderr, /hardware\.reader\.path/);
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /usage: doctor --config/);
  });
});
