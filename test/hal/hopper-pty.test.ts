/**
 * The real CctalkHopper on serialport's native binding, through a socat pty pair at 9600 baud, with the
 * test playing the hopper byte for byte (FakeCctalkHopper, echoing the host like the shared data line).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CctalkHopper } from '../../hal/hopper/cctalk-hopper.js';
import { FakeCctalkHopper } from '../../hal/hopper/fake-cctalk-hopper.js';
import type { DispenseIntent, HopperStatus } from '../../hal/hopper/hopper.js';
import { nodeSerialPortFactory } from '../../hal/io/serial-port-node.js';
import type { SerialPortLike } from '../../hal/io/serial-port.js';
import { startPtyPair } from '../support/socat.js';
import type { PtyPair } from '../support/socat.js';
import { needs, SOCAT } from '../support/real-parts.js';

async function playHopper(path: string): Promise<{ device: FakeCctalkHopper; port: SerialPortLike }> {
  const port = nodeSerialPortFactory.create({ path, baudRate: 9600 });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => {});
  const device = new FakeCctalkHopper(
    (bytes) => {
      if (port.isOpen) port.write(bytes);
    },
    { coins: 10, echo: true },
  );
  port.on('data', (chunk) => device.receive(chunk));
  return { device, port };
}

function statusBecomes(hopper: CctalkHopper, wanted: HopperStatus, ms = 5000): Promise<void> {
  if (hopper.status === wanted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hopper not ${wanted} within ${ms} ms`)), ms);
    const on = (s: HopperStatus): void => {
      if (s !== wanted) return;
      clearTimeout(timer);
      hopper.off('status', on);
      resolve();
    };
    hopper.on('status', on);
  });
}

describe('CctalkHopper end to end over a socat pty pair', function () {
  let dir: string;
  let pair: PtyPair | undefined;
  let port: SerialPortLike | undefined;
  let hopper: CctalkHopper | undefined;

  before(async function () {
    await needs(this, SOCAT);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pty-hopper-'));
  });

  afterEach(async () => {
    await hopper?.close();
    if (port?.isOpen) await new Promise<void>((r) => port?.close(() => r()));
    await pair?.stop();
    await rm(dir, { recursive: true, force: true });
    hopper = port = pair = undefined;
  });

  it('pays change through a real tty, runs dry known to the coin, and settles after a power cut', async () => {
    pair = await startPtyPair({ linkA: join(dir, 'hopper'), linkB: join(dir, 'device') });
    const played = await playHopper(pair.b);
    port = played.port;
    const { device } = played;
    const config = {
      path: pair.a,
      coinCents: 100,
      pollMs: 20,
      timeoutMs: 300,
      silentMs: 1000,
      backoff: { initialMs: 50, maxMs: 200, presenceCheckMs: 100 },
    };
    hopper = new CctalkHopper(config, nodeSerialPortFactory);
    hopper.start();
    await statusBecomes(hopper, 'ok');

    device.coinsPerPoll = 1;
    const paid = await hopper.dispense(3);
    assert.equal(paid.outcome, 'complete');
    assert.equal(paid.paidCents, 300);
    assert.equal(device.coins, 7);

    const short = await hopper.dispense(9);
    assert.equal(short.outcome, 'short');
    assert.equal(short.paid, 7);
    assert.equal(short.unpaidCents, 200);
    assert.equal(short.fault, 'empty');
    assert.equal(hopper.status, 'empty');

    device.coins = 10;
    device.powerCutAfter = 4;
    let intent: DispenseIntent | undefined;
    const cut = await hopper.dispense(6, async (i) => {
      intent = i;
    });
    assert.equal(cut.outcome, 'unknown');
    await hopper.close();
    device.silent = false;
    hopper = new CctalkHopper(config, nodeSerialPortFactory);
    hopper.start();
    await statusBecomes(hopper, 'ok');
    assert.ok(intent);
    const settled = await hopper.settle(intent);
    assert.equal(settled.outcome, 'short');
    assert.equal(settled.paid, 4);
    assert.equal(settled.unpaidCents, 200);
    assert.deepEqual(device.dispenses, [3, 9, 6], 'every payout sent exactly once');
  });
});
