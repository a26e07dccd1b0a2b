import assert from 'node:assert/strict';
import sinon from 'sinon';
import { Pn532Reader } from '../../hal/card-reader/pn532-reader.js';
import type { Pn532Config } from '../../hal/card-reader/pn532-reader.js';
import { FakeSerialPorts } from '../../hal/io/fake-serial-port.js';
import { FakePn532Chip } from '../../hal/card-reader/fake-pn532-chip.js';
import { CMD } from '../../hal/card-reader/pn532-frame.js';
import { recordingLogger } from '../../src/util/logger.js';

const PATH = '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0';

describe('Pn532Reader on the serialport mock binding', () => {
  let clock: sinon.SinonFakeTimers;
  let ports: FakeSerialPorts;
  let chip: FakePn532Chip;
  let reader: Pn532Reader;
  let reads: string[];
  let statuses: string[];
  let log: ReturnType<typeof recordingLogger>;

  function makeReader(config: Partial<Pn532Config> = {}): void {
    reader = new Pn532Reader(
      { path: PATH, pollIntervalMs: 250, backoff: { initialMs: 500, maxMs: 4000 }, ...config },
      ports.factory,
      log,
    );
    reader.on('read', (t) => reads.push(t));
    reader.on('status', (s) => statuses.push(s));
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    ports = new FakeSerialPorts();
    log = recordingLogger();
    chip = new FakePn532Chip((bytes) => {
      // The chip answers after the host's write completes, like a UART would.
      process.nextTick(() => {
        if (ports.isOpen(PATH)) ports.emit(PATH, bytes);
      });
    });
    ports.onWrite(PATH, (data) => chip.receive(data));
    reads = [];
    statuses = [];
    makeReader();
  });

  afterEach(async () => {
    await reader.close();
    ports.reset();
    clock.restore();
  });

  async function tick(ms: number): Promise<void> {
    await clock.tickAsync(ms);
    for (let i = 0; i < 30; i++) await new Promise((r) => process.nextTick(r));
  }

  it('wakes the chip, configures it, goes online and polls', async () => {
    ports.plug(PATH);
    reader.start();
    await tick(0);
    assert.equal(reader.status, 'online');
    assert.deepEqual(chip.commands.slice(0, 4), [
      CMD.SAMConfiguration,
      CMD.GetFirmwareVersion,
      CMD.RFConfiguration,
      CMD.InListPassiveTarget,
    ]);
    const first = ports.written.get(PATH)?.[0];
    assert.ok(first);
    assert.deepEqual([...first.subarray(0, 3)], [0x55, 0x55, 0x00], 'wake-up goes out first');
    assert.equal(reader.firmware, 'PN532 v1.6');
    await tick(1000);
    const polls = chip.commands.filter((c) => c === CMD.InListPassiveTarget).length;
    assert.ok(polls >= 4 && polls <= 6, `about one poll per 250 ms, got ${polls}`);
    assert.deepEqual(statuses, ['online']);
  });

  it('reports a card once while it is held, and again after it was taken away', async () => {
    ports.plug(PATH);
    reader.start();
    await tick(0);
    chip.hold('04A224B2C35E80');
    await tick(2000);
    assert.deepEqual(reads, ['04A224B2C35E80']);
    chip.hold(undefined);
    await tick(250); // one empty poll is not enough to count as gone
    chip.hold('04A224B2C35E80');
    await tick(1000);
    assert.deepEqual(reads, ['04A224B2C35E80']);
    chip.hold(undefined);
    await tick(1000);
    chip.hold('04A224B2C35E80');
    await tick(500);
    assert.deepEqual(reads, ['04A224B2C35E80', '04A224B2C35E80']);
    chip.hold('DEADBEEF');
    await tick(500);
    assert.deepEqual(reads.at(-1), 'DEADBEEF');
    assert.ok(!JSON.stringify(log.records).includes('04A224B2C35E80'), 'UIDs are masked in logs');
  });

  it('decimal UID output when configured', async () => {
    makeReader({ uidFormat: 'decimal' });
    ports.plug(PATH);
    reader.start();
    await tick(0);
    chip.hold('DEADBEEF');
    await tick(500);
    assert.ok(reads.includes('3735928559'));
  });

  it('answers split into 1-byte chunks and corrupted responses (NACK and repeat) still work', async () => {
    chip.chunkSize = 1;
    ports.plug(PATH);
    reader.start();
    await tick(0);
    assert.equal(reader.status, 'online');
    chip.corruptResponses = 1;
    chip.hold('DEADBEEF');
    await tick(300);
    assert.deepEqual(reads, ['DEADBEEF']);
    const nacks = (ports.written.get(PATH) ?? []).filter((b) =>
      b.equals(Buffer.from([0, 0, 0xff, 0xff, 0, 0])),
    );
    assert.equal(nacks.length, 1);
  });

  it('a silent chip leaves the reader offline with a hint, and it comes up when the chip answers', async () => {
    chip.silent = true;
    ports.plug(PATH);
    reader.start();
    await tick(500);
    assert.equal(reader.status, 'offline');
    assert.deepEqual(statuses, ['offline']);
    const probe = await reader.probe();
    assert.equal(probe.found, false);
    assert.match(probe.status, /chip silent/);
    assert.match(probe.hint ?? '', /TX\/RX/);
    chip.silent = false;
    await tick(2000);
    assert.equal(reader.status, 'online');
    assert.equal((await reader.probe()).status, 'ok (PN532 v1.6)');
  });

  it('a chip that stops answering is woken up again', async () => {
    ports.plug(PATH);
    reader.start();
    await tick(0);
    chip.silent = true;
    await tick(3 * (250 + 200));
    assert.equal(reader.status, 'offline');
    chip.silent = false;
    chip.sleep(); // a brown-out put it back to sleep: it needs the wake-up again
    await tick(2000);
    assert.equal(reader.status, 'online');
    assert.deepEqual(statuses, ['online', 'offline', 'online']);
  });

  it('unplug and replug: back online without a restart, card reads resume', async () => {
    ports.plug(PATH);
    reader.start();
    await tick(0);
    ports.unplug(PATH);
    await tick(0);
    assert.equal(reader.status, 'offline');
    await tick(500 + 1000);
    ports.plug(PATH);
    chip.sleep();
    await tick(2000);
    assert.equal(reader.status, 'online');
    assert.equal(ports.opens.get(PATH), 2);
    chip.hold('CAFEBABE');
    await tick(300);
    assert.deepEqual(reads, ['CAFEBABE']);
    assert.deepEqual(statuses, ['online', 'offline', 'online']);
  });

  it('missing at start: offline, ENOENT with a hint', async () => {
    reader.start();
    await tick(0);
    assert.deepEqual(statuses, ['offline']);
    const probe = await reader.probe();
    assert.equal(probe.status, 'ENOENT');
    assert.match(probe.hint ?? '', /ls -l \/dev\/serial\/by-id/);
  });
});
