import assert from 'node:assert/strict';
import { once } from 'node:events';
import sinon from 'sinon';
import { LineSplitter, maskDigitsForLog } from '../../hal/card-reader/line-reader-splitter.js';
import type { SplitResult } from '../../hal/card-reader/line-reader-splitter.js';
import { LineCardReader } from '../../hal/card-reader/line-reader.js';
import { FakeSerialPorts } from '../../hal/io/fake-serial-port.js';
import { SimulatedCardReader } from '../../hal/card-reader/sim-card-reader.js';
import { recordingLogger } from '../../src/util/logger.js';

const CARD = '9276004400012845';

function lines(results: SplitResult[]): string[] {
  return results.map((r) => (r.kind === 'line' ? r.text : `<${r.reason}:${r.length}>`));
}

describe('LineSplitter', () => {
  it('accepts CR, LF and CR LF, and CR LF gives no extra empty read', () => {
    const s = new LineSplitter();
    assert.deepEqual(lines(s.push(Buffer.from(`${CARD}\r`))), [CARD]);
    assert.deepEqual(lines(s.push(Buffer.from('4006381333931\n'))), ['4006381333931']);
    assert.deepEqual(lines(s.push(Buffer.from(`${CARD}\r\n`))), [CARD]);
    assert.deepEqual(lines(s.push(Buffer.from('A1\r\nB2\rC3\n'))), ['A1', 'B2', 'C3']);
  });

  it('CR at the end of one chunk and LF at the start of the next is one terminator', () => {
    const s = new LineSplitter();
    assert.deepEqual(lines(s.push(Buffer.from('1234\r'))), ['1234']);
    assert.deepEqual(lines(s.push(Buffer.from('\n5678\r'))), ['5678']);
  });

  it('a line delivered one byte at a time', () => {
    const s = new LineSplitter();
    const out: SplitResult[] = [];
    for (const b of Buffer.from(`${CARD}\r\n`)) out.push(...s.push(Buffer.from([b])));
    assert.deepEqual(lines(out), [CARD]);
  });

  it('empty lines (LF LF, CR CR, spaces only) are not reads', () => {
    const s = new LineSplitter();
    assert.deepEqual(lines(s.push(Buffer.from('\n\n\r\r   \r\n'))), []);
  });

  it('drops a line with non-printable bytes and keeps the next one', () => {
    const s = new LineSplitter();
    const out = s.push(Buffer.from([0x31, 0x32, 0xff, 0x00, 0x33, 0x0d, ...Buffer.from('4711\r')]));
    assert.deepEqual(lines(out), ['<garbage:5>', '4711']);
  });

  it('drops an over-long line without buffering it, and recovers', () => {
    const s = new LineSplitter({ maxLength: 20 });
    const out = [
      ...s.push(Buffer.from('1'.repeat(15))),
      ...s.push(Buffer.from(`${'2'.repeat(1000)}\n${CARD}\n`)),
    ];
    assert.deepEqual(lines(out), ['<too_long:1015>', CARD]);
    const exact = s.push(Buffer.from(`${'3'.repeat(20)}\n`));
    assert.deepEqual(lines(exact), ['3'.repeat(20)]);
  });

  it('drops a stale partial line instead of gluing it to the next read', () => {
    const s = new LineSplitter({ staleMs: 500 });
    assert.deepEqual(lines(s.push(Buffer.from('92760044'), 1000)), []);
    assert.deepEqual(lines(s.push(Buffer.from(`${CARD}\r`), 1600)), ['<stale:8>', CARD]);
  });

  it('log previews never hold a whole card number', () => {
    assert.equal(maskDigitsForLog(`x${CARD}${CARD}y`), `x9276************************2845y`);
    assert.equal(maskDigitsForLog('ab 12345 cd 1234'), 'ab ***** cd 1234');
  });
});

describe('LineCardReader on the serialport mock binding', () => {
  const PATH = '/dev/serial/by-id/usb-Barcode_Reader_0001-if00';
  let ports: FakeSerialPorts;
  let clock: sinon.SinonFakeTimers;
  let reader: LineCardReader;
  let reads: string[];
  let statuses: string[];
  let log: ReturnType<typeof recordingLogger>;

  beforeEach(() => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
    ports = new FakeSerialPorts();
    log = recordingLogger();
    reader = new LineCardReader({ path: PATH, backoff: { initialMs: 500, maxMs: 4000 } }, ports.factory, log);
    reads = [];
    statuses = [];
    reader.on('read', (t) => reads.push(t));
    reader.on('status', (s) => statuses.push(s));
  });

  afterEach(async () => {
    await reader.close();
    ports.reset();
    clock.restore();
  });

  async function tick(ms: number): Promise<void> {
    await clock.tickAsync(ms);
    // let the mock binding's nextTick/promise chain settle
    for (let i = 0; i < 20; i++) await new Promise((r) => process.nextTick(r));
  }

  it('reads lines, drops garbage with a masked log line', async () => {
    ports.plug(PATH);
    reader.start();
    await once(reader, 'status');
    assert.equal(reader.status, 'online');
    ports.emit(PATH, `${CARD}\r\n`);
    ports.emit(PATH, Buffer.concat([Buffer.from(`${CARD}`), Buffer.from([0x80, 0x0d])]));
    ports.emit(PATH, '4006381333931\r');
    await tick(0);
    assert.deepEqual(reads, [CARD, '4006381333931']);
    const dropped = log.records.find((r) => r.msg === 'reader line dropped');
    assert.ok(dropped);
    assert.deepEqual(dropped.obj, {
      path: PATH,
      reason: 'garbage',
      length: 17,
      preview: '9276********2845?',
    });
    assert.ok(!JSON.stringify(log.records).includes(CARD), 'no full card number in any log record');
  });

  it('unplug: offline, retries with back-off, and comes back on replug without a restart', async () => {
    ports.plug(PATH);
    reader.start();
    await once(reader, 'status');
    ports.emit(PATH, '1111\n');
    await tick(0);

    ports.unplug(PATH);
    await tick(0);
    assert.equal(reader.status, 'offline');
    assert.deepEqual(statuses, ['online', 'offline']);

    await tick(500); // retry 1 fails (still unplugged), next in 1000
    await tick(1000); // retry 2 fails, next in 2000
    assert.equal(ports.opens.get(PATH), 1);
    ports.plug(PATH);
    await tick(1999);
    assert.equal(reader.status, 'offline', 'waits for the back-off');
    await tick(1);
    assert.equal(reader.status, 'online');
    assert.equal(ports.opens.get(PATH), 2);
    ports.emit(PATH, '2222\r\n');
    await tick(0);
    assert.deepEqual(reads, ['1111', '2222']);
    assert.deepEqual(statuses, ['online', 'offline', 'online']);
  });

  it('a hang-up serialport does not report (path vanishes, port silent) is caught by the presence check', async () => {
    ports.plug(PATH);
    reader.start();
    await once(reader, 'status');
    ports.vanish(PATH);
    await tick(999);
    assert.equal(reader.status, 'online');
    await tick(1);
    assert.equal(reader.status, 'offline');
    assert.equal((await reader.probe()).status, 'vanished');
    ports.plug(PATH);
    await tick(500);
    assert.equal(reader.status, 'online');
    ports.emit(PATH, '3333\n');
    await tick(0);
    assert.deepEqual(reads, ['3333']);
  });

  it('a partial line cut by the unplug is not glued to the first read after replug', async () => {
    ports.plug(PATH);
    reader.start();
    await once(reader, 'status');
    ports.emit(PATH, '9276');
    await tick(0);
    ports.unplug(PATH);
    await tick(0);
    ports.plug(PATH);
    await tick(500);
    assert.equal(reader.status, 'online');
    ports.emit(PATH, `${CARD}\r`);
    await tick(0);
    assert.deepEqual(reads, [CARD]);
  });

  it('a missing device at start is offline with a hint, and back-off is capped', async () => {
    reader.start();
    await tick(0);
    assert.deepEqual(statuses, ['offline']);
    const probe = await reader.probe();
    assert.equal(probe.found, false);
    assert.equal(probe.status, 'ENOENT');
    assert.match(probe.hint ?? '', /unplugged or wrong path/);
    const delays = log.records
      .filter((r) => r.msg === 'serial port open failed')
      .map((r) => (r.obj as { retryInMs: number }).retryInMs);
    await tick(500 + 1000 + 2000 + 4000 + 4000);
    const all = log.records
      .filter((r) => r.msg === 'serial port open failed')
      .map((r) => (r.obj as { retryInMs: number }).retryInMs);
    assert.deepEqual(delays, [500]);
    assert.deepEqual(all, [500, 1000, 2000, 4000, 4000, 4000]);
  });
});

describe('SimulatedCardReader', () => {
  it('scan, unplug, replug', () => {
    const sim = new SimulatedCardReader();
    const events: string[] = [];
    sim.on('read', (t) => events.push(`read:${t}`));
    sim.on('status', (s) => events.push(s));
    sim.start();
    assert.equal(sim.scan(CARD), true);
    sim.unplug();
    assert.equal(sim.scan(CARD), false);
    sim.replug();
    sim.scan('4006381333931');
    assert.deepEqual(events, ['online', `read:${CARD}`, 'offline', 'online', 'read:4006381333931']);
    assert.throws(() => sim.scan(''), /printable/);
  });
});
