import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Display } from '../../hal/display/display.js';
import { recordingIo } from '../../src/cli/cli-io.js';
import { pairCommand } from '../../src/cli/pair-command.js';
import { writeHealthReport } from '../../src/ops/health-file.js';
import { DEMO_CLIENT, startApiStandIn, type StandIn } from '../../src/sim/api-server.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';

/** A display that records frames, standing in for the HD44780 on the PCF8574 backpack. */
function recordingDisplay() {
  const frames: string[][] = [];
  let closed = false;
  const display = {
    cols: 20,
    rows: 4,
    show: async (lines: readonly string[]) => void frames.push([...lines]),
    close: async () => void (closed = true),
  } as unknown as Display;
  return { display, frames, closed: () => closed };
}

describe('cli/kiosk pair against the API stand-in', function () {
  this.timeout(10_000);
  let standIn: StandIn;
  let k: TempKiosk;
  // The API asks for a poll every 5 s; the test polls every few ms.
  const sleep = () => new Promise<void>((r) => setTimeout(r, 5));

  function kioskFor(patch: Record<string, unknown> = {}): TempKiosk {
    return tempKiosk({
      api: {
        baseUrl: standIn.baseUrl,
        tokenUrl: standIn.tokenUrl,
        ...DEMO_CLIENT,
        deviceUuid: '/vendor/muster/kiosk/k-test-0007',
        refreshTokenFile: 'state/refresh-token',
      },
      ...patch,
    });
  }
  const hd44780 = () => ({
    hardware: {
      display: { driver: 'hd44780-pcf8574', cols: 20, rows: 4, address: '0x27' },
      reader: { driver: 'simulated' },
      buttons: { driver: 'simulated' },
      coin: { driver: 'simulated' },
      printer: { driver: 'simulated' },
    },
    journal: { dir: 'state/journal' },
  });

  beforeEach(async () => {
    standIn = await startApiStandIn({ autoConfirmDeviceMs: 30 });
  });
  afterEach(async () => {
    k.cleanup();
    await standIn.close();
  });

  it('shows the code on the terminal and the HD44780, stores the token 0600, exit 0', async () => {
    k = kioskFor(hd44780());
    const lcd = recordingDisplay();
    const io = recordingIo();
    const code = await pairCommand(['--config', k.configFile], io, {
      sleep,
      openDisplay: async () => lcd.display,
    });
    assert.equal(code, 0, io.stderr.join('\n'));
    const tokenFile = join(k.dir, 'state/refresh-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.match(token, /^[0-9a-f]{32}$/);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const text = io.stdout.join('\n');
    const userCode = /enter the code:\s+(\S+)/.exec(text)?.[1];
    assert.ok(userCode, text);
    assert.deepEqual(lcd.frames[0]?.slice(0, 2), ['Kiosk pairing', `Code: ${userCode}`]);
    assert.deepEqual(lcd.frames.at(-1), ['Kiosk paired', 'OK']);
    assert.ok(lcd.closed(), 'display released');
    assert.match(text, /systemctl restart kiosk/);
    assert.ok(!text.includes(token) && !io.stderr.join('\n').includes(token), 'token never printed');
  });

  it('leaves the display alone while the kiosk runs (it owns it)', async () => {
    k = kioskFor(hd44780());
    mkdirSync(join(k.dir, 'state'), { recursive: true });
    await writeHealthReport(join(k.dir, 'state'), {
      version: '1',
      state: 'idle',
      busy: false,
      ts: Date.now(),
      pid: process.pid,
    });
    let opened = 0;
    const io = recordingIo();
    const code = await pairCommand(['--config', k.configFile], io, {
      sleep,
      openDisplay: async () => {
        opened++;
        return recordingDisplay().display;
      },
    });
    assert.equal(code, 0);
    assert.equal(opened, 0);
    assert.match(io.stderr.join('\n'), /the kiosk is running and owns the display/);
    assert.match(io.stdout.join('\n'), /enter the code:/);
  });

  it('exit 3 when the API refuses the client, nothing stored', async () => {
    k = kioskFor();
    const io = recordingIo({ KIOSK_API_CLIENT_SECRET: 'wrong' });
    const code = await pairCommand(['--config', k.configFile], io, { sleep });
    assert.equal(code, 3);
    assert.match(io.stderr.join('\n'), /kiosk pair: the API refused/);
    assert.throws(() => statSync(join(k.dir, 'state/refresh-token')));
  });

  it('exit 2 for a configuration that cannot pair, 64 for a bad option', async () => {
    k = tempKiosk();
    let io = recordingIo();
    assert.equal(await pairCommand(['--config', k.configFile], io, { sleep }), 2);
    assert.match(io.stderr.join('\n'), /api\.baseUrl is "standin"/);
    assert.match(io.stderr.join('\n'), /api\.deviceUuid: missing/);
    io = recordingIo();
    assert.equal(await pairCommand(['--config', k.configFile, '--display'], io, { sleep }), 64);
    assert.equal(io.stderr.join('\n'), "kiosk pair: unknown option '--display' (see kiosk pair --help)");
    io = recordingIo();
    assert.equal(await pairCommand(['-h'], io), 0);
    assert.match(io.stdout.join('\n'), /exit codes: 0 paired, 2 code expired or refused/);
  });
});
