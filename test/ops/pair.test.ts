import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager, OAuthError } from '../../src/api/auth.js';
import { ApiError } from '../../src/api/errors.js';
import {
  deviceCodeFile,
  pairFailure,
  pairKiosk,
  PairingStoreError,
  readPairing,
  storeRenewedRefreshToken,
} from '../../src/ops/pair.js';
import { DEMO_CLIENT, startApiStandIn, type StandIn } from '../../src/sim/api-server.js';
import { recordingLogger } from '../../src/util/logger.js';

describe('ops/pair against the API stand-in', function () {
  this.timeout(10_000);
  let standIn: StandIn;
  let dir: string;
  // The real poll interval is the API's (5 s); the test polls every few ms instead.
  const quickSleep = (_ms: number) => new Promise<void>((r) => setTimeout(r, 5));

  beforeEach(async () => {
    standIn = await startApiStandIn({ autoConfirmDeviceMs: 30 });
    dir = mkdtempSync(join(tmpdir(), 'kiosk-pair-'));
  });
  afterEach(async () => {
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the code on the terminal and the display, stores a working refresh token 0600, never prints it', async () => {
    const printed: string[] = [];
    const displayed: string[][] = [];
    const logger = recordingLogger();
    const tokenFile = join(dir, 'creds/refresh-token');
    const outcome = await pairKiosk({
      tokenUrl: standIn.tokenUrl,
      ...DEMO_CLIENT,
      uuid: '/vendor/muster/kiosk/k-0042',
      tokenFile,
      print: (l) => printed.push(l),
      showOnDisplay: (lines) => void displayed.push(lines),
      sleep: quickSleep,
      logger,
    });
    assert.equal(outcome.tokenFile, tokenFile);
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.match(token, /^[0-9a-f]{32}$/);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'creds')).mode & 0o777, 0o700);
    // The device_code is kept beside it, secret as well, for later device sessions.
    assert.match(readFileSync(deviceCodeFile(tokenFile), 'utf8').trim(), /^[0-9a-f]{24}$/);
    assert.equal(statSync(deviceCodeFile(tokenFile)).mode & 0o777, 0o600);

    const code = /enter the code:\s+(\S+)/.exec(printed.join('\n'))?.[1];
    assert.ok(code, printed.join('\n'));
    assert.match(code, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
    assert.deepEqual(displayed[0], [
      'Kiosk pairing',
      `Code: ${code}`,
      'secuoffice.com/devic',
      'valid 20 min',
    ]);
    assert.deepEqual(displayed.at(-1), ['Kiosk paired', 'OK']);
    for (const lines of displayed) for (const l of lines) assert.ok(l.length <= 20, `fits the display: ${l}`);

    const everything = printed.join('\n') + JSON.stringify(displayed) + JSON.stringify(logger.records);
    assert.ok(!everything.includes(token), 'the refresh token appears nowhere but in its file');

    // The stored token is the real thing: the refresh grant accepts it.
    const tokens = new TokenManager({
      tokenUrl: standIn.tokenUrl,
      auth: { grant: 'refresh_token', ...DEMO_CLIENT, refreshToken: token },
    });
    assert.match(await tokens.token(), /^[0-9a-f]{32}$/);
  });

  it('fails with exit code 3 for wrong client credentials and stores nothing', async () => {
    const tokenFile = join(dir, 'refresh-token');
    const err = await pairKiosk({
      tokenUrl: standIn.tokenUrl,
      clientId: DEMO_CLIENT.clientId,
      clientSecret: 'wrong',
      uuid: '/vendor/muster/kiosk/k-0042',
      tokenFile,
      print: () => {},
      sleep: quickSleep,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(pairFailure(err).code, 3);
    assert.match(pairFailure(err).message, /client id or secret/);
    assert.ok(!existsSync(tokenFile));
  });

  it('fails with exit code 4 when the token cannot be stored safely', async () => {
    mkdirSync(join(dir, 'open'));
    chmodSync(join(dir, 'open'), 0o777);
    const err = await pairKiosk({
      tokenUrl: standIn.tokenUrl,
      ...DEMO_CLIENT,
      uuid: '/vendor/muster/kiosk/k-0042',
      tokenFile: join(dir, 'open/refresh-token'),
      print: () => {},
      sleep: quickSleep,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof PairingStoreError, String(err));
    assert.equal(pairFailure(err).code, 4);
    assert.doesNotMatch(pairFailure(err).message, /[0-9a-f]{32}/, 'no token in the message');
  });

  it('maps an expired code to exit code 2', () => {
    assert.equal(pairFailure(new OAuthError('expired_token', 'too late')).code, 2);
    assert.equal(pairFailure(new OAuthError('access_denied', undefined)).code, 2);
  });

  it('the running kiosk reads what pairing stored, refuses a loosened file, stores a renewed token 0600', async () => {
    const tokenFile = join(dir, 'state/refresh-token');
    assert.equal(await readPairing(tokenFile), undefined, 'never paired');
    await pairKiosk({
      tokenUrl: standIn.tokenUrl,
      ...DEMO_CLIENT,
      uuid: '/vendor/muster/kiosk/k-0042',
      tokenFile,
      print: () => {},
      sleep: quickSleep,
    });
    const stored = await readPairing(tokenFile);
    assert.equal(stored?.refreshToken, readFileSync(tokenFile, 'utf8').trim());
    assert.equal(stored?.deviceCode, readFileSync(deviceCodeFile(tokenFile), 'utf8').trim());

    await storeRenewedRefreshToken(tokenFile, 'renewed-token');
    assert.equal(readFileSync(tokenFile, 'utf8'), 'renewed-token\n');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal((await readPairing(tokenFile))?.deviceCode, stored?.deviceCode, 'the device code stays');

    rmSync(deviceCodeFile(tokenFile));
    assert.deepEqual(
      await readPairing(tokenFile),
      { refreshToken: 'renewed-token' },
      'paired before codes were kept',
    );
    chmodSync(tokenFile, 0o644);
    await assert.rejects(readPairing(tokenFile), /readable by others/);
  });
});
