/**
 * Bytes on the I2C bus per screen change on a 20x4 HD44780/PCF8574, for a kiosk's usual screens:
 * the real driver (diffing, one write per update) against the theoretical minimum and a naive
 * driver that rewrites the whole screen. Run: npx tsx bench/display-bus.ts
 */
import { RecordingLcdBus } from '../hal/display/fake-i2c-lcd-bus.js';
import { rowStarts } from '../hal/display/hd44780.js';
import { Pcf8574Lcd } from '../hal/display/pcf8574-lcd.js';

const COLS = 20;
const ROWS = 4;
/** 8 data bits + ACK at 100 kHz. */
const US_PER_BYTE = 90;
const CELL = 4;

const idle = ['  Willkommen bei', "   John's Bakery", 'Karte auflegen oder', 'scannen        12:00'];
const balance = ['Hallo!', 'Guthaben:  12,50 EUR', 'Aufladen: Taste 1-4', 'Abbruch: C'];
const amount = ['Aufladen', 'Betrag:    20,00 EUR', 'Bitte Münzen rein', 'Ändern: Taste 1-4'];
const counting = (paid: string, missing: string): string[] => [
  'Aufladen 20,00 EUR',
  `Bezahlt: ${paid.padStart(11)}`,
  `Noch:    ${missing.padStart(11)}`,
  'Abbruch: C',
];
const thanks = ['Vielen Dank!', 'Neues Guthaben:', '           32,50 EUR', 'Beleg wird gedruckt'];

const transitions: Array<[string, string[]]> = [
  ['blank -> idle', idle],
  ['idle -> balance', balance],
  ['balance -> amount', amount],
  ['amount -> coins 0,00', counting('0,00 EUR', '20,00 EUR')],
  ['coin -> paid 2,00', counting('2,00 EUR', '18,00 EUR')],
  ['coin -> paid 2,50', counting('2,50 EUR', '17,50 EUR')],
  ['coin -> paid 3,50', counting('3,50 EUR', '16,50 EUR')],
  ['coin -> paid 5,50', counting('5,50 EUR', '14,50 EUR')],
  ['coins -> paid 20,00', counting('20,00 EUR', '0,00 EUR')],
  ['coins -> thank you', thanks],
  ['thank you -> idle', idle],
];

interface Row {
  name: string;
  changed: number;
  driver: number;
  cgram: number;
  minimum: number;
  naive: number;
}

/** Visible DDRAM codes, row-major, from the decoded controller state. */
function glass(bus: RecordingLcdBus): number[] {
  const starts = rowStarts(COLS, ROWS);
  const codes: number[] = [];
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < COLS; c++) codes.push(bus.model.ddram[(starts[r] ?? 0) + c] ?? 0x20);
  }
  return codes;
}

/** One cursor command per run of changed cells within a row, plus each changed cell. */
function minimum(before: number[], after: number[]): { bytes: number; changed: number } {
  let bytes = 0;
  let changed = 0;
  for (let r = 0; r < ROWS; r++) {
    let inRun = false;
    for (let c = 0; c < COLS; c++) {
      const i = r * COLS + c;
      const diff = before[i] !== after[i];
      if (diff) {
        changed++;
        bytes += CELL;
        if (!inRun) bytes += CELL;
      }
      inRun = diff;
    }
  }
  return { bytes, changed };
}

async function measure(maxMergedGap: number): Promise<Row[]> {
  const bus = new RecordingLcdBus();
  const lcd = new Pcf8574Lcd({
    cols: COLS,
    rows: ROWS,
    address: 0x27,
    maxMergedGap,
    openBus: async () => bus,
    sleep: async () => {},
  });
  await lcd.show([]);
  const rows: Row[] = [];
  for (const [name, screen] of transitions) {
    const before = glass(bus);
    const cgramBefore = bus.model.cgram.join(',');
    const from = bus.writes.length;
    const logFrom = bus.model.log.length;
    await lcd.show(screen);
    if (bus.writes.length - from > 1) throw new Error(`${name}: more than one i2cWrite`);
    const after = glass(bus);
    // CGRAM uploads are needed by any driver that shows the glyph; count them on both sides.
    const cgramInstr = bus.model.log
      .slice(logFrom)
      .filter((l, i, all) => (!l.rs && (l.value & 0xc0) === 0x40) || (l.rs && inCgram(all, i))).length;
    const cgram = cgramBefore === bus.model.cgram.join(',') ? 0 : cgramInstr * CELL;
    const min = minimum(before, after);
    rows.push({
      name,
      changed: min.changed,
      driver: bus.bytesSince(from),
      cgram,
      minimum: min.bytes + cgram,
      naive: ROWS * (CELL + COLS * CELL) + cgram,
    });
  }
  return rows;
}

/** Whether data instruction `i` of `log` went to CGRAM (the last address command before it was CGRAM). */
function inCgram(log: ReadonlyArray<{ rs: boolean; value: number }>, i: number): boolean {
  for (let k = i - 1; k >= 0; k--) {
    const l = log[k];
    if (l && !l.rs && l.value & 0x80) return false;
    if (l && !l.rs && (l.value & 0xc0) === 0x40) return true;
  }
  return false;
}

const ms = (bytes: number): string => ((bytes * US_PER_BYTE) / 1000).toFixed(1);

async function main(): Promise<void> {
  const rows = await measure(1);
  const header = [
    'transition',
    'cells',
    'driver B',
    'min B',
    'ratio',
    'driver ms',
    'naive B',
    'naive ms',
    'cgram B',
  ];
  const table = rows.map((r) => [
    r.name,
    String(r.changed),
    String(r.driver),
    String(r.minimum),
    r.minimum === 0 ? '-' : (r.driver / r.minimum).toFixed(3),
    ms(r.driver),
    String(r.naive),
    ms(r.naive),
    String(r.cgram),
  ]);
  const sum = (f: (r: Row) => number): number => rows.reduce((n, r) => n + f(r), 0);
  const total = [
    'TOTAL',
    String(sum((r) => r.changed)),
    String(sum((r) => r.driver)),
    String(sum((r) => r.minimum)),
    (sum((r) => r.driver) / sum((r) => r.minimum)).toFixed(3),
    ms(sum((r) => r.driver)),
    String(sum((r) => r.naive)),
    ms(sum((r) => r.naive)),
    String(sum((r) => r.cgram)),
  ];
  const all = [header, ...table, total];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const fmt = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log(
    `HD44780 20x4 over PCF8574, bus time at 100 kHz (${US_PER_BYTE} us/byte), one i2cWrite per update`,
  );
  console.log(fmt(header));
  for (const row of table) console.log(fmt(row));
  console.log(fmt(total));
  const worst = Math.max(...rows.filter((r) => r.minimum > 0).map((r) => r.driver / r.minimum));
  console.log(`worst ratio driver/minimum: ${worst.toFixed(3)} (target <= 1.100)`);

  console.log('\nrun merging (largest gap of unchanged cells rewritten instead of a new cursor command):');
  for (const gap of [0, 1, 2, 3]) {
    const r = await measure(gap);
    const driver = r.reduce((n, x) => n + x.driver, 0);
    const min = r.reduce((n, x) => n + x.minimum, 0);
    console.log(`  maxMergedGap=${gap}: ${driver} bytes in total (${(driver / min).toFixed(3)} x minimum)`);
  }
}

await main();
