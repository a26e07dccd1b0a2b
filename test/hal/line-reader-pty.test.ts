/**
 * End to end through a real pseudo-terminal pair (socat): the real LineCardReader on serialport's native
 * binding, the test writing as the reader device on the other end. "Unplug" stops socat (the driver's
 * tty hangs up), "replug" starts it again with the same link name, like a /dev/serial/by-id link.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineCardReader } from '../../hal/card-reader/line-reader.js';
import { nodeSerialPortFactory } from '../../hal/io/serial-port-node.js';
import type { SerialPortLike } from '../../hal/io/serial-port.js';
import { startPtyPair } from '../support/socat.js';
import type { PtyPair } from '../support/socat.js';
import { needs, SOCAT } from '../support/real-parts.js';

function openDeviceEnd(path: string): Promise<SerialPortLike> {
  const port = nodeSerialPortFactory.create({ path, baudRate: 9600 });
  return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve(port))));
}

function writeAll(port: SerialPortLike, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) =>
    port.write(Buffer.from(data), (err) => (err ? reject(err) : resolve())),
  );
}

function closePort(port: SerialPortLike): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

/** Resolves with the next `count` values of `event`, or rejects after `ms` (a hang is a failure). */
function collect<T>(
  emitter: { on(e: string, l: (v: T) => void): unknown; off(e: string, l: (v: T) => void): unknown },
  event: string,
  count: number,
  ms = 5000,
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for ${count} ${event} events, got ${JSON.stringify(got)}`));
    }, ms);
    function on(v: T): void {
      got.push(v);
      if (got.length === count) {
        clearTimeout(timer);
        emitter.off(event, on);
        resolve(got);
      }
    }
    emitter.on(event, on);
  });
}

describe('LineCardReader end to end over a socat pty pair', function () {
  let dir: string;
  let pair: PtyPair | undefined;
  let device: SerialPortLike | undefined;
  let reader: LineCardReader | undefined;

  before(async function () {
    await needs(this, SOCAT);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pty-'));
  });

  afterEach(async () => {
    await reader?.close();
    if (device) await closePort(device);
    await pair?.stop();
    await rm(dir, { recursive: true, force: true });
    reader = device = pair = undefined;
  });

  it('reads CR, LF and CR LF lines split across writes and drops garbage', async () => {
    pair = await startPtyPair({ linkA: join(dir, 'reader'), linkB: join(dir, 'device') });
    reader = new LineCardReader(
      { path: pair.a, backoff: { initialMs: 50, maxMs: 200 } },
      nodeSerialPortFactory,
    );
    reader.start();
    await once(reader, 'status');
    assert.equal(reader.status, 'online');
    device = await openDeviceEnd(pair.b);
    const reads = collect<string>(reader, 'read', 4);
    await writeAll(device, '9276004400012845\r');
    await writeAll(device, '\n4006381333931\n');
    await writeAll(device, Buffer.from([0x31, 0x00, 0xfe, 0x0d]));
    await writeAll(device, '12345');
    await writeAll(device, '678\r\n');
    await writeAll(device, 'ABC-1\r\n');
    assert.deepEqual(await reads, ['9276004400012845', '4006381333931', '12345678', 'ABC-1']);
  });

  it('comes back after the pty disappears and reappears under the same name', async () => {
    const linkA = join(dir, 'reader');
    const linkB = join(dir, 'device');
    pair = await startPtyPair({ linkA, linkB });
    reader = new LineCardReader(
      { path: linkA, backoff: { initialMs: 50, maxMs: 200 } },
      nodeSerialPortFactory,
    );
    const statuses: string[] = [];
    reader.on('status', (s) => statuses.push(s));
    reader.start();
    await once(reader, 'status');

    const offline = collect<string>(reader, 'status', 1);
    await pair.stop();
    assert.deepEqual(await offline, ['offline']);

    const online = collect<string>(reader, 'status', 1);
    pair = await startPtyPair({ linkA, linkB });
    assert.deepEqual(await online, ['online']);
    device = await openDeviceEnd(pair.b);
    const reads = collect<string>(reader, 'read', 1);
    await writeAll(device, '1111222233334444\r\n');
    assert.deepEqual(await reads, ['1111222233334444']);
    assert.deepEqual(statuses, ['online', 'offline', 'online']);
  });
});
