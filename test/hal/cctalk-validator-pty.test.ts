/**
 * The real CctalkCoinValidator on serialport's native binding, through a socat pty pair at 9600 baud,
 * with the test playing the validator byte for byte (FakeCctalkValidator, echoing the host like the
 * shared data line): per-coin inhibit, credits by the event counter, and a restart that resumes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoinEvent } from '../../hal/coin-acceptor/coin-acceptor.js';
import { CctalkCoinValidator } from '../../hal/coin-acceptor/cctalk-validator.js';
import { nodeSerialPortFactory } from '../../hal/io/serial-port-node.js';
import { playValidator } from '../../src/chaos/validator-line.js';
import type { SerialPortLike } from '../../hal/io/serial-port.js';
import { startPtyPair, type PtyPair } from '../support/socat.js';
import { needs, SOCAT } from '../support/real-parts.js';

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CctalkCoinValidator end to end over a socat pty pair', function () {
  let dir: string;
  let pair: PtyPair | undefined;
  let port: SerialPortLike | undefined;
  let validator: CctalkCoinValidator | undefined;

  before(async function () {
    await needs(this, SOCAT);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pty-validator-'));
  });

  afterEach(async () => {
    await validator?.close();
    if (port?.isOpen) await new Promise<void>((r) => port?.close(() => r()));
    await pair?.stop();
    await rm(dir, { recursive: true, force: true });
    validator = port = pair = undefined;
  });

  it('refuses an inhibited coin, counts wanted ones once, and resumes after a restart', async () => {
    pair = await startPtyPair({ linkA: join(dir, 'validator'), linkB: join(dir, 'device') });
    const played = await playValidator(pair.b);
    port = played.port;
    const { device } = played;
    const config = {
      path: pair.a,
      pollMs: 30,
      timeoutMs: 300,
      backoff: { initialMs: 50, maxMs: 200, presenceCheckMs: 100 },
    };
    const coins: CoinEvent[] = [];
    validator = new CctalkCoinValidator(config, nodeSerialPortFactory);
    validator.on('coin', (c) => coins.push(c));
    await validator.start();
    assert.equal(await validator.initialised(5000), true, 'coin ids read, inhibit set');
    assert.deepEqual(validator.coinValues, [10, 20, 50, 100, 200]);
    await validator.setAccepting(true, [10, 20, 50, 100]);
    assert.equal(device.mask, 0b1111);
    assert.equal(device.master, true);

    assert.equal(device.insert(200), false, 'the 2 euro coin goes back');
    assert.equal(device.insert(100), true);
    assert.equal(device.insert(50), true);
    await until('two credits', () => coins.length >= 2);
    assert.deepEqual(
      coins.map((c) => [c.cents, c.event]),
      [
        [100, 2],
        [50, 3],
      ],
    );

    // The kiosk stops having journaled event 2 only; the validator keeps power and its buffer.
    await validator.close();
    device.master = true;
    const again: CoinEvent[] = [];
    validator = new CctalkCoinValidator(config, nodeSerialPortFactory);
    validator.on('coin', (c) => again.push(c));
    validator.resumeFrom(2);
    await validator.start();
    await until('the unjournaled credit', () => again.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      again.map((c) => [c.cents, c.event]),
      [[50, 3]],
      'once, and not the journaled 1 euro coin',
    );
  });
});
