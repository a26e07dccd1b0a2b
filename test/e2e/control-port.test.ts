/**
 * The control port of the running program: every bad request gets `{"error": ...}` and the kiosk keeps
 * running; unplugging simulated devices shows on the display and in the state.
 */
import assert from 'node:assert/strict';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';

describe('e2e: control port', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess;

  before(async () => {
    kiosk = await startKiosk();
    await kiosk.waitForIdle();
  });

  after(async () => {
    await kiosk?.stop();
  });

  it('answers bad requests with an error and keeps serving', async () => {
    const bad: Array<[string | object, RegExp]> = [
      ['not json', /^not JSON/],
      ['[1,2]', /^bad request: \(root\)/],
      [{ cmd: 'fly' }, /^unknown cmd "fly"/],
      [{ cmd: 'coin' }, /^bad request: cents/],
      [{ cmd: 'coin', cents: -5 }, /^bad request: cents/],
      [{ cmd: 'coin', cents: 3 }, /not a multiple/],
      [{ cmd: 'press', button: 'nosuch' }, /no button named "nosuch"/],
      [{ cmd: 'unplug', device: 'toaster' }, /^bad request: device/],
      [{ cmd: 'unplug', device: 'acceptor' }, /no cable to pull/],
    ];
    for (const [req, pattern] of bad) {
      const answer = await kiosk.request(req);
      assert.match(String(answer.error), pattern, JSON.stringify(req));
    }
    assert.deepEqual(await kiosk.request({ cmd: 'ping' }), { pong: true });
    assert.equal((await kiosk.state()).state, 'idle');
  });

  it('lists the demo cards', async () => {
    const { cards } = await kiosk.request<{ cards: Array<{ cardnumber: string; note: string }> }>({
      cmd: 'cards',
    });
    assert.ok(cards.length >= 8);
    assert.ok(cards.some((c) => c.cardnumber === '9276000000000026' && /locked/.test(c.note)));
  });

  it('a coin while idle and inhibited is returned, not counted', async () => {
    const r = await kiosk.coin(200);
    assert.equal(r.accepted, false);
    await new Promise((r) => setTimeout(r, 200));
    const s = await kiosk.state();
    assert.equal(s.journal.cashBoxCents, 0);
  });

  it('unplugging the reader takes the kiosk out of service; replugging brings it back', async () => {
    await kiosk.request({ cmd: 'unplug', device: 'reader' });
    const out = await kiosk.waitForState(/^outOfService$/);
    assert.equal(out.reason, 'reader');
    assert.equal((await kiosk.display())[1], 'Kartenleser');
    await kiosk.request({ cmd: 'replug', device: 'reader' });
    await kiosk.waitForIdle();
    assert.equal((await kiosk.display())[0], 'Karte aufladen');
  });
});
