/**
 * The ccTalk coin validator driver against a byte-for-byte fake validator on serialport's mock binding:
 * the frames it sends (231 mask, 228 master inhibit, 229 polls), per-coin inhibit, and the event
 * counter that keeps every credit counted once across polls, wraps and restarts.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { CoinEvent } from '../../hal/coin-acceptor/coin-acceptor.js';
import {
  CctalkCoinValidator,
  coinIdValue,
  eventBefore,
  newEvents,
  wasReset,
  type CctalkValidatorConfig,
} from '../../hal/coin-acceptor/cctalk-validator.js';
import { FakeCctalkValidator } from '../../hal/coin-acceptor/fake-cctalk-validator.js';
import { buildFrame, HEADER } from '../../hal/io/cctalk-frame.js';
import { FakeSerialPorts } from '../../hal/io/fake-serial-port.js';

const PATH = '/dev/serial/by-id/usb-FTDI_ccTalk-validator-if00-port0';

describe('ccTalk validator event counter arithmetic', () => {
  it('counts results between two counters, across the 255 -> 1 wrap, and none after a reset to 0', () => {
    assert.equal(newEvents(7, 7), 0);
    assert.equal(newEvents(7, 9), 2);
    assert.equal(newEvents(254, 2), 3, '255, 1, 2 (0 is skipped)');
    assert.equal(newEvents(0, 3), 3, 'from power-up: 1, 2, 3');
    assert.equal(newEvents(9, 0), 0, 'the validator lost power: its buffer is empty');
    assert.equal(eventBefore(2, 2), 255);
    assert.equal(eventBefore(9, 4), 5);
  });

  it('reads coin ids: EU200A is 200 cents, an empty channel none', () => {
    assert.equal(coinIdValue('EU200A'), 200);
    assert.equal(coinIdValue('EU005A'), 5);
    assert.equal(coinIdValue('......'), null);
    assert.equal(coinIdValue('EU000A'), null);
  });
});

describe('CctalkCoinValidator on the serialport mock binding', () => {
  let clock: sinon.SinonFakeTimers;
  let ports: FakeSerialPorts;
  let device: FakeCctalkValidator;
  let validator: CctalkCoinValidator;
  let coins: CoinEvent[];
  let faults: string[];
  /** Where the counter moved without a coin (the journal's resume point besides the coins). */
  let counters: number[];
  /** Results lost past the buffer, and the event they end at (for the journal's `acceptor_lost`). */
  let losses: [number, number][];
  /** Each loss's `readAt`: when the answer before it was asked. */
  let lossesReadAt: (number | undefined)[];
  /** Every frame the host wrote, as bytes. */
  let written: Buffer[];

  function playDevice(): FakeCctalkValidator {
    const d = new FakeCctalkValidator(
      (bytes) => {
        process.nextTick(() => {
          if (ports.isOpen(PATH)) ports.emit(PATH, bytes);
        });
      },
      { echo: true },
    );
    ports.onWrite(PATH, (data) => {
      written.push(Buffer.from(data));
      d.receive(data);
    });
    return d;
  }

  async function tick(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 10) {
      await clock.tickAsync(10);
      for (let i = 0; i < 20; i++) await new Promise((r) => process.nextTick(r));
    }
  }

  async function startValidator(
    config: Partial<CctalkValidatorConfig> = {},
    resume?: number,
  ): Promise<CctalkCoinValidator> {
    const v = new CctalkCoinValidator({ path: PATH, pollMs: 50, timeoutMs: 100, ...config }, ports.factory);
    v.on('coin', (c) => coins.push(c));
    v.on('fault', (f) => faults.push(f));
    v.on('counter', (e) => counters.push(e));
    v.on('lost', (n, e, readAt) => {
      losses.push([n, e]);
      lossesReadAt.push(readAt);
    });
    if (resume !== undefined) v.resumeFrom(resume);
    await v.start();
    await tick(300);
    return v;
  }

  beforeEach(async () => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
    ports = new FakeSerialPorts();
    written = [];
    coins = [];
    faults = [];
    counters = [];
    losses = [];
    lossesReadAt = [];
    device = playDevice();
    ports.plug(PATH);
    validator = await startValidator();
  });

  afterEach(async () => {
    await validator.close();
    ports.reset();
    clock.restore();
  });

  it('initialises through the echo: poll, the 16 coin ids, then every channel and the master inhibited', () => {
    assert.deepEqual(device.headers.slice(0, 2), [HEADER.SIMPLE_POLL, HEADER.REQUEST_COIN_ID]);
    assert.equal(device.headers.filter((h) => h === HEADER.REQUEST_COIN_ID).length, 16);
    assert.deepEqual(validator.coinValues, [10, 20, 50, 100, 200]);
    assert.equal(validator.perCoinInhibit, true);
    assert.deepEqual(device.inhibitWrites, [
      { header: HEADER.MODIFY_MASTER_INHIBIT, data: [0] },
      { header: HEADER.MODIFY_INHIBIT_STATUS, data: [0, 0] },
    ]);
    assert.equal(device.master, false);
  });

  it('sends the inhibit mask byte for byte: 10/20/50 cents on channels 1-3 are 07 00, then master on', async () => {
    written.length = 0;
    await validator.setAccepting(true, [10, 20, 50]);
    // Host 1 -> validator 2: [2][2][1][231][07][00][checksum], then [2][1][1][228][01][checksum].
    const mask = buildFrame({ destination: 2, source: 1, header: 231, data: [0x07, 0x00] });
    const master = buildFrame({ destination: 2, source: 1, header: 228, data: [0x01] });
    assert.deepEqual(mask, Buffer.from([2, 2, 1, 231, 7, 0, (256 - ((2 + 2 + 1 + 231 + 7) % 256)) % 256]));
    const sent = written.filter((b) => b[3] === 231 || b[3] === 228);
    assert.deepEqual(sent, [mask, master]);
    assert.equal(validator.accepting, true);
  });

  it('per-coin inhibit: a coin left out is returned by the validator, never reported; a wanted one is', async () => {
    await validator.setAccepting(true, [10, 20, 50]);
    assert.equal(device.insert(200), false, 'the 2 euro channel is disabled: back to the cup');
    assert.equal(device.insert(50), true);
    await tick(200);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [[50, 2]],
    );
    assert.deepEqual(faults, [], 'an inhibited coin returned is routine, not a fault');
    await validator.setAccepting(true, []);
    assert.equal(device.master, false, 'an empty list refuses every coin');
    await validator.setAccepting(true);
    assert.equal(device.mask, 0b11111, 'absent list: every channel');
  });

  it('several credits between two polls come out oldest first, each once, across the wrap', async () => {
    await validator.setAccepting(true);
    device.event = 253; // as if the validator had run a while
    validator.resumeFrom(253);
    for (const c of [10, 20, 50]) device.insert(c);
    await tick(200);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [
        [10, 254],
        [20, 255],
        [50, 1],
      ],
    );
    await tick(500);
    assert.equal(coins.length, 3, 'polled again and again: still counted once');
  });

  it('more than five results between polls: the five readable ones, and a fault for the rest', async () => {
    await validator.setAccepting(true);
    await validator.close(); // stop polling; the validator goes on taking coins
    device.master = true;
    device.mask = 0xffff;
    for (let i = 0; i < 7; i++) device.insert(100);
    validator = await startValidator({}, 0);
    assert.equal(coins.length, 5);
    assert.match(faults.join('\n'), /2 results lost/);
    assert.deepEqual(losses, [[2, 2]], 'told for the journal: events 1 and 2 gone, credits resume after 2');
    assert.deepEqual(lossesReadAt, [undefined], 'the read before them was before this start');
    assert.deepEqual(
      coins.map((c) => c.event),
      [3, 4, 5, 6, 7],
    );
    // A restart that resumes from the loss's event (the journal's) does not record it again.
    await validator.close();
    coins = [];
    losses = [];
    validator = await startValidator({}, 2);
    assert.deepEqual(losses, []);
    assert.equal(coins.length, 5, 'the five the journal did not get yet (the kiosk died before them)');
  });

  it('a validator browning out while the kiosk runs, a coin at it before the first poll after: channels open again, no loss', async () => {
    await validator.setAccepting(true);
    for (const c of [100, 200, 50]) device.insert(c);
    await tick(200);
    assert.equal(coins.length, 3);
    device.powerOff();
    assert.equal(device.insert(100), false, 'without power the coin goes back to the cup');
    await tick(800); // polls time out
    assert.match(faults.join('\n'), /not answering/);
    device.powerOn();
    // Straight after power-up, before the kiosk's next 229: the power-up inhibits return it (event 1).
    assert.equal(device.insert(200), false);
    await tick(800);
    assert.deepEqual(losses, [], 'counter 3 -> 1 is a reset, not 253 results');
    assert.doesNotMatch(faults.join('\n'), /results lost/);
    assert.deepEqual(counters, [0, 0], 'the reset told for the journal');
    assert.equal(device.master, true, 'the kiosk accepts: the master open again');
    assert.equal(device.mask, 0b11111);
    assert.equal(device.insert(100), true);
    await tick(200);
    assert.deepEqual(
      coins.slice(3).map((c) => [c.cents, c.event]),
      [[100, 2]],
    );
  });

  it('a kiosk starting while the validator has no power: it is set up once it answers, and takes coins', async () => {
    await validator.close();
    device.powerOff();
    validator = await startValidator({}, 0);
    await validator.setAccepting(true);
    assert.equal(await validator.initialised(0), false);
    await tick(500);
    device.powerOn();
    await tick(1500);
    assert.equal(await validator.initialised(0), true, 'the start-up ran once the validator answered');
    assert.deepEqual(validator.coinValues, [10, 20, 50, 100, 200]);
    assert.equal(device.master, true, "the kiosk's wish applied");
    assert.equal(device.insert(100), true);
    await tick(200);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [[100, 1]],
    );
  });

  it('the line broken while coins go in: the loss says when the last answer before it was asked (the results were lost since)', async () => {
    await validator.setAccepting(true);
    device.insert(100);
    await tick(200);
    assert.equal(coins.length, 1);
    device.silent = true;
    // Polls from here on go unanswered: the last answer was asked at most one poll (50 ms) ago.
    const silentFrom = Date.now();
    await tick(400);
    for (let i = 0; i < 7; i++) device.insert(50);
    await tick(400);
    device.silent = false;
    await tick(300);
    assert.deepEqual(losses, [[2, 3]], 'events 2 and 3 gone');
    const readAt = lossesReadAt[0];
    assert.ok(readAt !== undefined, 'the last answer was in this run');
    assert.ok(
      readAt <= silentFrom && readAt >= silentFrom - 200,
      `asked before the line broke (${silentFrom - readAt} ms)`,
    );
    assert.equal(coins.length, 6);
  });

  it('the line broken while the validator keeps its power: after it answers again the wanted state is sent again', async () => {
    await validator.setAccepting(true);
    device.silent = true;
    await tick(800);
    const writes = device.inhibitWrites.length;
    device.silent = false;
    await tick(300);
    assert.deepEqual(
      device.inhibitWrites.slice(writes).map((w) => [w.header, ...w.data]),
      [
        [HEADER.MODIFY_INHIBIT_STATUS, 0x1f, 0],
        [HEADER.MODIFY_MASTER_INHIBIT, 1],
      ],
    );
  });

  it('tells a reset from a wrap: a counter behind the last one with the buffer empty past it', () => {
    const answer = (now: number, results: [number, number][]) =>
      Buffer.from([now, ...Array.from({ length: 5 }, (_, i) => results[i] ?? [0, 0]).flat()]);
    assert.equal(wasReset(3, 0, answer(0, [])), true);
    assert.equal(wasReset(0, 0, answer(0, [])), false);
    assert.equal(wasReset(3, 1, answer(1, [[0, 2]])), true, 'one refusal after the power-up');
    assert.equal(
      wasReset(
        253,
        2,
        answer(2, [
          [1, 1],
          [2, 1],
          [3, 1],
          [0, 2],
          [4, 1],
        ]),
      ),
      false,
      'a wrap: the slots past 2 hold results 255 and 254',
    );
    assert.equal(
      wasReset(
        3,
        5,
        answer(5, [
          [1, 1],
          [1, 1],
          [1, 1],
          [1, 1],
          [1, 1],
        ]),
      ),
      false,
    );
    assert.equal(wasReset(3, 4, answer(4, [[1, 1]])), false, 'ahead of the last one: no telling');
  });

  it('a restart resumes after the last journaled event: an unjournaled credit comes again, a journaled one not', async () => {
    await validator.setAccepting(true);
    device.insert(100);
    device.insert(200);
    await tick(200);
    assert.deepEqual(
      coins.map((c) => c.event),
      [1, 2],
    );
    // The kiosk died after journaling the first coin (event 1) only.
    await validator.close();
    coins = [];
    validator = await startValidator({}, 1);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [[200, 2]],
      'the 2 euro coin once more, the 1 euro coin not again',
    );
    await validator.close();
    coins = [];
    // Without a resume point (a new journal): the buffer is the baseline, nothing is reported.
    validator = await startValidator();
    assert.deepEqual(coins, []);
  });

  it('the counter a start without a resume point begins from, and a reset, are told for the journal; ordinary polls not', async () => {
    assert.deepEqual(counters, [0], 'the baseline of a new journal');
    await validator.setAccepting(true, [10, 20, 50, 100]);
    device.insert(100);
    await tick(300);
    assert.deepEqual(counters, [0], 'a credit is journaled with its coin');
    device.powerCut(); // the validator alone: its counter, buffer and inhibits are gone
    await tick(300);
    assert.deepEqual(counters, [0, 0]);
    assert.equal(device.mask, 0b1111, 'the wanted channels open again');
    assert.equal(device.master, true);
    await tick(300);
    assert.deepEqual(counters, [0, 0], 'told once');
  });

  it('a reset journaled, then a coin while the kiosk is down: the next start reports it once', async () => {
    // The journal's resume point is the last coin's event or the last counter told, whichever came last.
    let resume: number | undefined;
    const journal = (v: CctalkCoinValidator) => {
      v.on('coin', (c) => (resume = c.event));
      v.on('counter', (e) => (resume = e));
    };
    journal(validator);
    await validator.setAccepting(true);
    device.insert(100);
    await tick(200);
    assert.equal(resume, 1);
    device.powerCut();
    await tick(200);
    await validator.close(); // the kiosk dies; the validator keeps its power from here on
    device.master = true;
    device.mask = 0xffff;
    assert.equal(device.insert(200), true, 'taken while the kiosk is down: event 1 again');
    coins = [];
    validator = new CctalkCoinValidator({ path: PATH, pollMs: 50, timeoutMs: 100 }, ports.factory);
    validator.on('coin', (c) => coins.push(c));
    validator.resumeFrom(resume);
    await validator.start();
    await tick(300);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [[200, 1]],
      'not mistaken for the 1 euro coin journaled before the reset',
    );
  });

  it('a validator that lost power (counter 0) has nothing to catch up; credits after it count from 1', async () => {
    device.powerCut();
    validator.resumeFrom(2);
    await tick(200);
    await validator.setAccepting(true);
    device.insert(20);
    await tick(200);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [[20, 1]],
    );
  });

  it('a coin credited while the kiosk inhibits is reported, flagged: it is in the box', async () => {
    await validator.setAccepting(true);
    device.insert(50); // in the validator as the kiosk closes
    await validator.setAccepting(false);
    await tick(200);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.whileInhibited]),
      [[50, true]],
    );
  });

  it('configured channels override the coin ids; the wanted state is applied again after a replug', async () => {
    await validator.close();
    validator = await startValidator({ channels: { '1': 5 } });
    assert.deepEqual(validator.coinValues, [5, 20, 50, 100, 200]);
    await validator.setAccepting(true, [50]);
    assert.equal(device.mask, 0b100);
    device.powerCut(); // power back with everything inhibited
    ports.unplug(PATH);
    await tick(2000);
    ports.plug(PATH);
    await tick(3000);
    assert.equal(device.mask, 0b100, 'the mask the kiosk wants, again');
    assert.equal(device.master, true);
  });

  it('a wish made while the start-up inhibit is on the line lands last: the mask and master it asked for', async () => {
    // The kiosk opens the acceptor as soon as the validator is ready, which can be while the driver's
    // own start-up inhibit (228 00, then 231 00 00) is still being sent (seen over a loaded pty).
    await validator.close();
    let wish: Promise<void> | undefined;
    const v = new CctalkCoinValidator({ path: PATH, pollMs: 50, timeoutMs: 100 }, ports.factory);
    const off = ports.onWrite(PATH, (data) => {
      if (!wish && data[3] === HEADER.MODIFY_MASTER_INHIBIT && data[4] === 0)
        wish = v.setAccepting(true, [10, 20, 50, 100]);
    });
    validator = v;
    await v.start();
    await tick(400);
    off();
    assert.ok(wish, 'the wish was made mid start-up');
    await wish;
    assert.equal(device.mask, 0b1111, 'not the start-up mask 00 00 written after it');
    assert.equal(device.master, true);
    assert.equal(v.accepting, true);
    assert.deepEqual(device.inhibitWrites.slice(-2), [
      { header: HEADER.MODIFY_INHIBIT_STATUS, data: [0x0f, 0] },
      { header: HEADER.MODIFY_MASTER_INHIBIT, data: [1] },
    ]);
  });
});
