/**
 * The real serial line-reader driver (hal) on a socat pseudo-terminal instead of the simulated reader:
 * the test plays the barcode reader on the other end of the pty and writes a card number + CR LF.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { startPtyPair, type PtyPair } from '../support/socat.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { needs, SOCAT } from '../support/real-parts.js';

describe('e2e: serial line reader on a pseudo-terminal', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess | undefined;
  let pty: PtyPair | undefined;

  before(async function () {
    await needs(this, SOCAT);
  });

  afterEach(async () => {
    await kiosk?.stop();
    await pty?.stop();
    kiosk = undefined;
    pty = undefined;
  });

  function writeToReader(text: string): void {
    const fd = openSync(pty!.b, 'w');
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  }

  it('a card number + CR LF on the serial line starts a top-up session with that card', async () => {
    pty = await startPtyPair();
    kiosk = await startKiosk({ config: { hardware: { reader: { driver: 'line', path: pty.a } } } });
    await kiosk.waitForIdle();
    const scan = await kiosk.request({ cmd: 'scan', data: '9276004429942845' });
    assert.match(String(scan.error), /reader is not simulated/, 'the control port cannot fake this reader');

    writeToReader('9276004429942845\r\n');
    const lines = await kiosk.waitForScreen(/Betrag wählen/);
    assert.equal(lines[0], 'Guthaben 2,51 EUR');
    await kiosk.press('amount1');
    await kiosk.coin(500);
    const thanks = await kiosk.waitForScreen(/Vielen Dank!/);
    assert.equal(thanks[1], 'Guthaben 7,51 EUR');
    assert.equal(await kiosk.balance('9276004429942845'), 751);
  });

  it('garbage on the line is not a card: the kiosk says so and stays usable', async () => {
    pty = await startPtyPair();
    kiosk = await startKiosk({ config: { hardware: { reader: { driver: 'line', path: pty.a } } } });
    await kiosk.waitForIdle();
    writeToReader('hello\r\n');
    await kiosk.waitForScreen(/Nicht lesbar/);
    writeToReader('9276000000000059\r\n');
    const lines = await kiosk.waitForScreen(/Betrag wählen/);
    assert.equal(lines[0], 'Guthaben 30,00 EUR');
  });

  it('the reader going away (socat stopped) takes the kiosk out of service with the reason shown', async () => {
    pty = await startPtyPair();
    kiosk = await startKiosk({ config: { hardware: { reader: { driver: 'line', path: pty.a } } } });
    await kiosk.waitForIdle();
    await pty.stop();
    const state = await kiosk.waitForState(/^outOfService$/, undefined, 10_000);
    assert.equal(state.reason, 'reader');
    assert.deepEqual((await kiosk.display()).slice(0, 2), ['Außer Betrieb', 'Kartenleser']);
  });
});
