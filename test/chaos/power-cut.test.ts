/** The harness's power cut books the coins not journaled when the power went as in flight, not lost. */
import assert from 'node:assert/strict';
import { FakeCctalkValidator } from '../../hal/coin-acceptor/fake-cctalk-validator.js';
import { cutPower } from '../../src/chaos/run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup() {
  const device = new FakeCctalkValidator(() => undefined);
  // The kiosk was taking money: every channel enabled, master inhibit released.
  device.mask = 0xffff;
  device.master = true;
  const book = { unconfirmed: 0, acceptor: { unconfirmedAtKill: 0 } };
  // The customer's coin while the kill runs: the dead kiosk's channels are still open.
  const kill = async () => {
    await sleep(5);
    if (device.insert(200)) book.unconfirmed += 200;
  };
  return { device, book, kill };
}

describe('chaos harness: a power cut', () => {
  it('a coin the validator took while the kill ran, its buffer then lost with the power, is in flight (seed 48007 run 0)', async () => {
    const { device, book, kill } = setup();
    book.unconfirmed = 100; // a coin not journaled yet when the cut began
    const atCut = await cutPower(book, false, kill, () => device.powerCut());
    assert.deepEqual(device.dropped.unreadAtPowerCut, [200], 'the credit died unread');
    // Booked before the kill (the old order), only the 100 ct were in flight: the 200 ct were lost.
    assert.deepEqual([book.acceptor.unconfirmedAtKill, book.unconfirmed, atCut], [300, 0, 300]);
  });

  it('a validator that keeps its power keeps its buffer: nothing in flight, the restart reads the coin', async () => {
    const { device, book, kill } = setup();
    book.unconfirmed = 100;
    await cutPower(book, true, kill, () => device.powerCut());
    assert.equal(device.unreadCredits, 1, 'still in the buffer for the restarted driver');
    assert.deepEqual([book.acceptor.unconfirmedAtKill, book.unconfirmed], [0, 0]);
  });
});
