/**
 * The real Pn532Reader on serialport's native binding, through a socat pty pair, with the test playing
 * the PN532 (FakePn532Chip) on the other end at 115200.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pn532Reader } from '../../hal/card-reader/pn532-reader.js';
import { FakePn532Chip } from '../../hal/card-reader/fake-pn532-chip.js';
import { nodeSerialPortFactory } from '../../hal/io/serial-port-node.js';
import type { SerialPortLike } from '../../hal/io/serial-port.js';
import { startPtyPair } from '../support/socat.js';
import type { PtyPair } from '../support/socat.js';
import { needs, SOCAT } from '../support/real-parts.js';

function nextEvent<T>(
  emitter: { once(e: string, l: (v: T) => void): unknown; off(e: string, l: (v: T) => void): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (v: T): void => {
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    emitter.once(event, on);
  });
}

async function playChip(path: string): Promise<{ chip: FakePn532Chip; port: SerialPortLike }> {
  const port = nodeSerialPortFactory.create({ path, baudRate: 115200 });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => {});
  const chip = new FakePn532Chip((bytes) => {
    if (port.isOpen) port.write(bytes);
  });
  port.on('data', (chunk) => chip.receive(chunk));
  return { chip, port };
}

describe('Pn532Reader end to end over a socat pty pair', function () {
  let dir: string;
  let pair: PtyPair | undefined;
  let device: SerialPortLike | undefined;
  let reader: Pn532Reader | undefined;

  before(async function () {
    await needs(this, SOCAT);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pty-pn532-'));
  });

  afterEach(async () => {
    await reader?.close();
    if (device?.isOpen) await new Promise<void>((r) => device?.close(() => r()));
    await pair?.stop();
    await rm(dir, { recursive: true, force: true });
    reader = device = pair = undefined;
  });

  it('reads a card UID through a real tty, and survives an unplug', async () => {
    const linkA = join(dir, 'pn532');
    const linkB = join(dir, 'chip');
    pair = await startPtyPair({ linkA, linkB });
    let played = await playChip(pair.b);
    device = played.port;
    reader = new Pn532Reader(
      {
        path: linkA,
        pollIntervalMs: 50,
        chipRetryMs: 100,
        backoff: { initialMs: 50, maxMs: 200, presenceCheckMs: 100 },
      },
      nodeSerialPortFactory,
    );
    const online = nextEvent<string>(reader, 'status');
    reader.start();
    assert.equal(await online, 'online');
    assert.equal(reader.firmware, 'PN532 v1.6');

    const read = nextEvent<string>(reader, 'read');
    played.chip.hold('04A224B2C35E80');
    assert.equal(await read, '04A224B2C35E80');

    const offline = nextEvent<string>(reader, 'status');
    await new Promise<void>((r) => device?.close(() => r()));
    await pair.stop();
    assert.equal(await offline, 'offline');

    const back = nextEvent<string>(reader, 'status');
    pair = await startPtyPair({ linkA, linkB });
    played = await playChip(pair.b);
    device = played.port;
    assert.equal(await back, 'online');
    const again = nextEvent<string>(reader, 'read');
    played.chip.hold('DEADBEEF');
    assert.equal(await again, 'DEADBEEF');
  });
});
