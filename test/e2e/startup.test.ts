/**
 * Start-up problems end to end: a broken configuration stops the kiosk with exit code 2 and a message
 * naming the field (no stack trace); a missing reader leaves it running but out of service; GPIO buttons
 * on a machine without GPIO stop it with exit code 3; an unreachable API puts it out of service, alive.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startApiStandIn } from '../../src/sim/api-server.js';
import {
  baseConfig,
  freePort,
  mergeConfig,
  startKiosk,
  type KioskProcess,
} from '../../src/harness/kiosk-process.js';

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('e2e: start-up problems', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess | undefined;

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  async function exitOf(raw: string): Promise<{ code: number | null; stderr: string }> {
    kiosk = await startKiosk({ rawConfig: raw });
    const { code } = await kiosk.exited;
    return { code, stderr: kiosk.stderr };
  }

  it('bad JSON: exit 2, "not valid JSON", no stack trace', async () => {
    const { code, stderr } = await exitOf('{"kiosk": {"id": "k-1",');
    assert.equal(code, 2);
    assert.match(stderr, /configuration .*config\.json is not valid/);
    assert.match(stderr, /not valid JSON/);
    assert.doesNotMatch(stderr, STACK_FRAME);
  });

  it('a wrong value: exit 2 and the message names the field and what is allowed', async () => {
    const doc = mergeConfig(baseConfig(), { kiosk: { mode: 'vending' } });
    const { code, stderr } = await exitOf(JSON.stringify(doc));
    assert.equal(code, 2);
    assert.match(stderr, /kiosk\.mode: .*topup.*checkout/);
    assert.doesNotMatch(stderr, STACK_FRAME);
  });

  it('an unknown key and a missing device: both named', async () => {
    const doc = mergeConfig(baseConfig(), {
      kiosk: { colour: 'blue' },
      hardware: { printer: undefined },
    });
    const { code, stderr } = await exitOf(JSON.stringify(doc));
    assert.equal(code, 2);
    assert.match(stderr, /kiosk: unknown key\(s\) colour/);
    assert.match(stderr, /hardware\.printer: missing/);
    assert.doesNotMatch(stderr, STACK_FRAME);
  });

  it('a config file that does not exist, or an empty document: exit 2', async () => {
    kiosk = await startKiosk({ configFile: '/nonexistent/kiosk.json' });
    assert.equal((await kiosk.exited).code, 2);
    assert.match(
      kiosk.stderr,
      /\/nonexistent\/kiosk\.json is not valid:\n\s+- cannot read the file \(ENOENT\)/,
    );
    await kiosk.stop();

    const { code, stderr } = await exitOf('{}');
    assert.equal(code, 2);
    assert.match(stderr, /kiosk: /);
    assert.match(stderr, /api: /);
    assert.doesNotMatch(stderr, STACK_FRAME);
  });

  it('a reader on a serial path that does not exist: the kiosk runs, out of service, "Kartenleser"', async () => {
    kiosk = await startKiosk({
      config: { hardware: { reader: { driver: 'line', path: '/dev/ttyNOSUCH9' } } },
    });
    const state = await kiosk.waitForState(/^outOfService$/, undefined, 10_000);
    assert.equal(state.reason, 'reader');
    assert.deepEqual((await kiosk.display()).slice(0, 3), [
      'Außer Betrieb',
      'Kartenleser',
      'Bitte entschuldigen',
    ]);
    assert.equal(kiosk.hasExited, false);
    const ping = await kiosk.request({ cmd: 'ping' });
    assert.deepEqual(ping, { pong: true });
  });

  it('GPIO buttons on a machine without GPIO: exit 3 with the device and a hint', async function () {
    kiosk = await startKiosk({
      config: { hardware: { buttons: { driver: 'gpio', pins: { ok: 17, cancel: 27 } } } },
      waitReady: false,
    });
    const { code } = await kiosk.exited;
    if (code !== 3 && /running/.test(kiosk.stderr)) {
      console.log('      this machine has a usable /sys/class/gpio: the no-GPIO case cannot be shown here');
      this.skip();
    }
    assert.equal(code, 3);
    assert.match(kiosk.stderr, /hardware\.buttons: GPIO not usable/);
    assert.match(kiosk.stderr, /kiosk doctor --config/);
    assert.doesNotMatch(kiosk.stderr, STACK_FRAME);
  });

  it('an unreachable API at start: the kiosk stays up, out of service ("Keine Verbindung")', async () => {
    const closed = await freePort();
    kiosk = await startKiosk({
      config: { api: { baseUrl: `http://127.0.0.1:${closed}/api/v2`, standIn: undefined, timeoutMs: 1000 } },
    });
    const state = await kiosk.waitForState(/^outOfService$/, undefined, 10_000);
    assert.equal(state.reason, 'api_unreachable');
    assert.deepEqual((await kiosk.display()).slice(0, 2), ['Außer Betrieb', 'Keine Verbindung']);
    // A customer cannot start a session while it is out of service.
    await kiosk.scan('9276004429942845');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await kiosk.state()).state, 'outOfService');
    assert.equal(kiosk.hasExited, false);
  });

  it('the API comes back: the next recheck finds it and the kiosk serves again', async () => {
    const port = await freePort();
    kiosk = await startKiosk({
      config: {
        api: { baseUrl: `http://127.0.0.1:${port}/api/v2`, standIn: undefined, timeoutMs: 1000 },
        timeouts: { recheckMs: 1000 },
      },
    });
    await kiosk.waitForState(/^outOfService$/, undefined, 10_000);
    const api = await startApiStandIn({ port, ledgerPath: join(kiosk.dir, 'late-ledger.json') });
    try {
      const back = await kiosk.waitForState(/^idle$/, undefined, 10_000);
      assert.equal(back.reason, null);
      assert.deepEqual((await kiosk.display()).slice(0, 2), ['Karte aufladen', 'Karte scannen']);
    } finally {
      await api.close();
    }
  });
});
