import assert from 'node:assert/strict';
import sinon from 'sinon';
import { RecordingLcdBus } from '../../hal/display/fake-i2c-lcd-bus.js';
import { Pcf8574Lcd } from '../../hal/display/pcf8574-lcd.js';
import type { Pcf8574LcdOptions } from '../../hal/display/pcf8574-lcd.js';
import type { DisplayStatusEvent } from '../../hal/display/display.js';
import { recordingLogger } from '../../src/util/logger.js';

const noSleep = async (): Promise<void> => {};

function make(
  bus: RecordingLcdBus,
  options: Partial<Pcf8574LcdOptions> = {},
): { lcd: Pcf8574Lcd; events: DisplayStatusEvent[] } {
  const lcd = new Pcf8574Lcd({
    cols: 20,
    rows: 4,
    address: 0x27,
    openBus: async () => bus,
    sleep: noSleep,
    exists: () => true,
    ...options,
  });
  const events: DisplayStatusEvent[] = [];
  lcd.on('status', (e) => events.push(e));
  return { lcd, events };
}

const INIT_WRITES = [
  [0x08],
  [0x3c, 0x38],
  [0x3c, 0x38],
  [0x3c, 0x38],
  // nibble 2 (4-bit mode), function set 0x28, display on 0x0C, clear 0x01
  [0x2c, 0x28, 0x2c, 0x28, 0x8c, 0x88, 0x0c, 0x08, 0xcc, 0xc8, 0x0c, 0x08, 0x1c, 0x18],
  // entry mode 0x06
  [0x0c, 0x08, 0x6c, 0x68],
];

describe('hal/pcf8574-lcd (HD44780 behind PCF8574)', () => {
  it('sends the 4-bit init sequence byte for byte, then a single character as 4 bytes', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show([]);
    assert.deepEqual(
      bus.writes.map((w) => w.bytes),
      INIT_WRITES,
    );
    assert.equal(bus.model.eightBitMode, false);
    assert.equal(bus.model.twoLine, true);
    assert.equal(bus.model.displayOn, true);
    assert.deepEqual(bus.model.errors, []);

    await lcd.show(['A']);
    const last = bus.writes.at(-1);
    // cursor to 0x00 (0x80), then 'A' = 0x41 with RS: EN high/low per nibble, backlight bit kept.
    assert.deepEqual(last?.bytes, [0x8c, 0x88, 0x0c, 0x08, 0x4d, 0x49, 0x1d, 0x19]);
    assert.equal(bus.writes.length, INIT_WRITES.length + 1);
    assert.equal(bus.model.screen(20, 4)[0], 'A'.padEnd(20));
  });

  it('waits as the datasheet asks during init (40 ms, 4.1 ms, 100 us, clear 1.52 ms)', async () => {
    const clock = sinon.useFakeTimers();
    try {
      const bus = new RecordingLcdBus(0x27, () => clock.now);
      const lcd = new Pcf8574Lcd({ cols: 16, rows: 2, address: 0x27, openBus: async () => bus });
      const shown = lcd.show(['Hallo']);
      await clock.runAllAsync();
      await shown;
      const at = bus.writes.map((w) => w.at);
      const gap = (i: number): number => (at[i + 1] ?? 0) - (at[i] ?? 0);
      assert.ok(gap(0) >= 40, `power-up wait ${gap(0)}`);
      assert.ok(gap(1) >= 4.1, `after first nibble ${gap(1)}`);
      assert.ok(gap(2) >= 0.1, `after second nibble ${gap(2)}`);
      assert.ok(gap(4) >= 1.52, `after clear ${gap(4)}`);
      assert.deepEqual(bus.model.screen(16, 2), ['Hallo'.padEnd(16), ''.padEnd(16)]);
    } finally {
      clock.restore();
    }
  });

  it('decodes back to exactly what was shown, one i2cWrite per update, 20x4 and 16x2', async () => {
    for (const [cols, rows] of [
      [20, 4],
      [16, 2],
    ] as const) {
      const bus = new RecordingLcdBus();
      const { lcd } = make(bus, { cols, rows });
      const screens = [
        ['Willkommen!', 'Karte auflegen', 'oder scannen', '12:00'],
        ['Guthaben:', '  12,50 EUR', '', 'OK = weiter'],
        ['Betrag wählen', '1) 5 EUR   2) 10 EUR', '3) 20 EUR  4) 50 EUR', 'Zurück'],
        ['Münzen einwerfen', 'Noch: 3,00 EUR', 'Bezahlt: 2,00 EUR', 'Abbruch = Rückgabe'],
      ];
      await lcd.show(['x']);
      for (const screen of screens) {
        const before = bus.writes.length;
        await lcd.show(screen);
        assert.equal(bus.writes.length, before + 1, 'one write per update');
        const expected = Array.from({ length: rows }, (_, r) =>
          (screen[r] ?? '').padEnd(cols).slice(0, cols),
        );
        assert.deepEqual(bus.model.screen(cols, rows), expected);
      }
      assert.deepEqual(bus.model.errors, []);
    }
  });

  it('writes only the changed cells and nothing when nothing changed', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['Bezahlt: 2,00 EUR']);
    let before = bus.writes.length;
    await lcd.show(['Bezahlt: 2,50 EUR']);
    assert.equal(bus.writes.length, before + 1);
    assert.equal(bus.writes.at(-1)?.bytes.length, 8, 'one cursor command + one cell');
    before = bus.writes.length;
    await lcd.show(['Bezahlt: 2,50 EUR']);
    assert.equal(bus.writes.length, before, 'no write for an unchanged screen');
  });

  it('flows from the end of row 0 into row 2 without a cursor command (contiguous DDRAM)', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['', '', '', '']);
    await lcd.show(['x'.padStart(20), '', 'y', '']);
    const last = bus.model.log.slice(-3);
    assert.deepEqual(last, [
      { rs: false, value: 0x80 | 0x13 },
      { rs: true, value: 0x78 },
      { rs: true, value: 0x79 },
    ]);
  });

  it('merges a one-cell gap into the run, starts a new run for longer gaps', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['abcdef']);
    await lcd.show(['XbXdef']);
    assert.equal(bus.writes.at(-1)?.bytes.length, 4 + 3 * 4, 'gap of 1 rewritten: 1 cursor + 3 cells');
    await lcd.show(['bbYdeX']);
    // cells 0, 2 and 5 changed: 0..2 merged (gap 1), 5 is after a gap of 2 -> new cursor command
    assert.equal(bus.writes.at(-1)?.bytes.length, 2 * 4 + 4 * 4);
    assert.equal(bus.model.screen(20, 4)[0], 'bbYdeX'.padEnd(20));
  });

  it('shows German on ROM A00: lower-case umlauts from ROM, capitals and euro from CGRAM', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['äöüß', 'ÄÖÜ €']);
    assert.deepEqual(bus.model.ddram.slice(0, 4), [0xe1, 0xef, 0xf5, 0xe2]);
    const row1 = bus.model.ddram.slice(0x40, 0x45);
    assert.ok(
      row1.filter((c, i) => i !== 3).every((c) => c < 8),
      `capitals and euro use CGRAM codes: ${row1.join(',')}`,
    );
    assert.deepEqual(bus.model.screen(20, 4).slice(0, 2), ['äöüß'.padEnd(20), 'ÄÖÜ €'.padEnd(20)]);

    // Same glyphs again elsewhere: no new CGRAM upload.
    const cgWrites = bus.model.log.filter((l) => !l.rs && (l.value & 0xc0) === 0x40).length;
    await lcd.show(['Über', 'Ärger 5 €']);
    assert.equal(bus.model.log.filter((l) => !l.rs && (l.value & 0xc0) === 0x40).length, cgWrites);
    assert.deepEqual(bus.model.screen(20, 4).slice(0, 2), ['Über'.padEnd(20), 'Ärger 5 €'.padEnd(20)]);
  });

  it('gives out at most 8 custom characters and falls back to readable text beyond that', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['ÄÖÜ€éèêàâç']);
    // 10 custom glyphs wanted: the first 8 in reading order get slots, then "a" for â and "c" for ç.
    assert.equal(bus.model.screen(20, 4)[0], 'ÄÖÜ€éèêàac'.padEnd(20));
    await lcd.show(['Ä\\ x']);
    assert.equal(bus.model.screen(20, 4)[0], 'Ä\\ x'.padEnd(20), 'freed slots are reused');
  });

  it('uses ROM A02 codes for capitals when configured, CGRAM only for the euro sign', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus, { rom: 'A02' });
    await lcd.show(['ÄÖÜäöüß €']);
    assert.deepEqual(bus.model.ddram.slice(0, 7), [0xc4, 0xd6, 0xdc, 0xe4, 0xf6, 0xfc, 0xdf]);
    assert.equal(bus.model.screen(20, 4, 'A02')[0], 'ÄÖÜäöüß €'.padEnd(20));
  });

  it('switches the backlight with one byte and keeps the bit in later writes', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['hi']);
    await lcd.setBacklight(false);
    assert.deepEqual(bus.writes.at(-1)?.bytes, [0x00]);
    assert.equal(bus.model.backlight, false);
    await lcd.show(['ho']);
    assert.ok(bus.writes.at(-1)?.bytes.every((b) => (b & 0x08) === 0));
    await lcd.setBacklight(true);
    assert.equal(bus.model.backlight, true);
  });

  it('re-initialises after an I/O error, rewrites the screen and reports it', async () => {
    const bus = new RecordingLcdBus();
    const logger = recordingLogger();
    const { lcd, events } = make(bus, { logger });
    await lcd.show(['Guthaben', '12,50 EUR']);
    bus.failNext('EREMOTEIO');
    await lcd.show(['Guthaben', '13,00 EUR']);
    assert.deepEqual(events, [{ health: 'ok', cause: 'EREMOTEIO', reinitialised: true }]);
    assert.equal(lcd.health(), 'ok');
    assert.deepEqual(bus.model.screen(20, 4).slice(0, 2), ['Guthaben'.padEnd(20), '13,00 EUR'.padEnd(20)]);
    assert.ok(
      logger.records.some((r) => r.level === 'warn' && r.msg === 'display re-initialised after an I/O error'),
    );
  });

  it('goes offline when unplugged and comes back after replug without a restart', async () => {
    const bus = new RecordingLcdBus();
    const { lcd, events } = make(bus, { retries: 1 });
    await lcd.show(['one']);
    bus.unplug();
    await lcd.show(['two']); // resolves: a dead display must not stop the flow
    assert.equal(lcd.health(), 'offline');
    assert.deepEqual(events, [{ health: 'offline', cause: 'EREMOTEIO', reinitialised: true }]);
    await lcd.show(['three']);
    assert.equal(events.length, 1, 'offline is reported once, not per failed write');
    bus.replug();
    await lcd.show(['four']);
    assert.equal(lcd.health(), 'ok');
    assert.deepEqual(events.at(-1), { health: 'ok', cause: 'EREMOTEIO', reinitialised: true });
    assert.equal(bus.model.screen(20, 4)[0], 'four'.padEnd(20));
  });

  it('reopens the bus after ENOENT (i2c adapter gone and back)', async () => {
    const buses = [new RecordingLcdBus(), new RecordingLcdBus()];
    let opened = 0;
    const lcd = new Pcf8574Lcd({
      cols: 16,
      rows: 2,
      address: 0x27,
      sleep: noSleep,
      openBus: async () => buses[Math.min(opened++, 1)] as RecordingLcdBus,
    });
    await lcd.show(['a']);
    buses[0]?.failNext('ENOENT');
    await lcd.show(['b']);
    assert.equal(opened, 2);
    assert.equal(buses[0]?.closed, true);
    assert.equal(buses[1]?.model.screen(16, 2)[0], 'b'.padEnd(16));
  });

  it('finds the address by scan when none is configured', async () => {
    const bus = new RecordingLcdBus(0x3f);
    const { lcd } = make(bus, { address: undefined });
    await lcd.show(['PCF8574A']);
    assert.equal(bus.writes[0]?.address, 0x3f);
    assert.equal(bus.model.screen(20, 4)[0], 'PCF8574A'.padEnd(20));
  });

  it('coalesces shows made while a write runs: the newest frame wins', async () => {
    const bus = new RecordingLcdBus();
    const { lcd } = make(bus);
    await lcd.show(['0']);
    const before = bus.writes.length;
    const all = Promise.all([lcd.show(['1']), lcd.show(['2']), lcd.show(['3'])]);
    await all;
    assert.ok(bus.writes.length - before <= 2, `${bus.writes.length - before} writes`);
    assert.equal(bus.model.screen(20, 4)[0], '3'.padEnd(20));
  });

  describe('probe', () => {
    it('reports a missing /dev/i2c-N with the raspi-config hint', async () => {
      const bus = new RecordingLcdBus();
      const { lcd } = make(bus, { exists: (p) => p !== '/dev/i2c-1' });
      const result = await lcd.probe();
      assert.equal(result.found, false);
      assert.equal(result.status, 'ENOENT');
      assert.match(result.hint ?? '', /raspi-config/);
    });

    it('names the addresses that do answer when the configured one does not', async () => {
      const bus = new RecordingLcdBus(0x3f);
      const { lcd } = make(bus, { address: 0x27 });
      const result = await lcd.probe();
      assert.equal(result.found, false);
      assert.equal(result.where, 'i2c-1 0x27');
      assert.match(result.hint ?? '', /0x3f/);
    });

    it('is found and ok at the configured address', async () => {
      const bus = new RecordingLcdBus();
      const { lcd } = make(bus, { required: true });
      assert.deepEqual(await lcd.probe(), {
        device: 'display',
        driver: 'hd44780-pcf8574',
        required: true,
        found: true,
        where: 'i2c-1 0x27',
        status: 'ok',
      });
    });
  });
});
