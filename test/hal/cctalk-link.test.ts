/**
 * The ccTalk request/reply link and the one thing a reply does not carry: which request it answers.
 * A reply that comes after its request timed out (a slow device, the host stalled, a reply left in
 * the line's buffer by a process that died) must not be taken for the next request's: every answer
 * after it would be one behind, and a validator's channel table read that way credits a 2 EUR coin
 * as 1 EUR (found by the chaos harness with the validator on a pty, `--acceptor cctalk`).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { CctalkLink, type CctalkError } from '../../hal/io/cctalk-link.js';
import { buildFrame, CCTALK_HOST, CCTALK_VALIDATOR, HEADER } from '../../hal/io/cctalk-frame.js';

/**
 * A device on the far side that answers request n with [n], `delayMs(n)` after it is free: like a
 * real one it handles a request at a time, so its replies leave in the order of the requests.
 */
class SlowDevice extends EventEmitter {
  requests = 0;
  private freeAt = 0;
  constructor(private readonly delayMs: (n: number) => number) {
    super();
  }
  async write(_data: Buffer): Promise<void> {
    const n = ++this.requests;
    this.freeAt = Math.max(this.freeAt, Date.now()) + this.delayMs(n);
    setTimeout(() => {
      this.emit(
        'data',
        buildFrame({ destination: CCTALK_HOST, source: CCTALK_VALIDATOR, header: HEADER.ACK, data: [n] }),
      );
    }, this.freeAt - Date.now());
  }
}

// A request whose reply has no fixed length (so the length check cannot tell replies apart).
const ask = (link: CctalkLink) =>
  link.request(CCTALK_VALIDATOR, HEADER.REQUEST_EQUIPMENT_CATEGORY).then(
    (d) => d[0],
    (e: Error) => e.message,
  );

describe('ccTalk link: a late reply is never taken for the next request', () => {
  it('drops the reply that comes after its timeout, and the next answers are their own', async () => {
    // Request 1 is answered after 60 ms, past the 30 ms timeout; the others at once.
    const device = new SlowDevice((n) => (n === 1 ? 60 : 2));
    const link = new CctalkLink(device, { timeoutMs: 30 });
    const first = await ask(link);
    assert.match(String(first), /no answer/);
    const answers = [await ask(link), await ask(link), await ask(link)];
    assert.deepEqual(answers, [2, 3, 4], 'each request gets its own reply, not the one before');
    link.close();
  });

  it('drops a reply already waiting on the line when the link starts (a process that died mid-request)', async () => {
    const device = new SlowDevice(() => 3);
    const link = new CctalkLink(device, { timeoutMs: 100 });
    // The dead process's reply, delivered as soon as the new one reads the line: before the answer
    // to the first request, which comes 2 ms after it is sent.
    setTimeout(() => {
      device.emit(
        'data',
        buildFrame({ destination: CCTALK_HOST, source: CCTALK_VALIDATOR, header: HEADER.ACK, data: [99] }),
      );
    }, 1);
    const answers = [await ask(link), await ask(link)];
    assert.deepEqual(answers, [1, 2]);
    link.close();
  });

  it('refuses a reply of the wrong length as garbled: an empty ACK is no credit buffer with counter 0', async () => {
    // The 229 gets a 1-byte ACK (another request's reply): read as a credit buffer it is nonsense, and an
    // empty one would read as a counter of 0, "power lost", and the buffer credited again.
    const device = new SlowDevice(() => 2);
    const link = new CctalkLink(device, { timeoutMs: 100 });
    await assert.rejects(link.request(CCTALK_VALIDATOR, HEADER.READ_BUFFERED_CREDIT), (err: CctalkError) => {
      assert.equal(err.reason, 'garbled');
      return true;
    });
    // The next request waits for a quiet line and gets its own reply.
    assert.equal(await ask(link), 2);
    link.close();
  });
});
