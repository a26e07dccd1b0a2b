/**
 * The device session's lifecycle (issue 12 item 7): a refused refresh token is renewed with the
 * device grant and the `device_code` kept from pairing; a refused renewal is `pairingLost` (an
 * operator must pair again), never a network outage; an outage is never `pairingLost`.
 */
import assert from 'node:assert/strict';
import { TokenManager, type AuthConfig } from '../../src/api/auth.js';
import { ApiError, isPairingLost } from '../../src/api/errors.js';
import type { FetchLike } from '../../src/api/http.js';
import { recordingLogger } from '../../src/util/logger.js';
import { startSeedApi, type SeedApi } from '../support/seed-api.js';

const CLIENT = { clientId: 'kiosk-seeds', clientSecret: 'seeds-secret' };

describe('device session: refresh, renewal with the device code, pairing lost', () => {
  let api: SeedApi;
  beforeEach(async () => {
    api = await startSeedApi({ refreshTokens: ['rt_alive'], deviceCodes: ['dc_alive'] });
  });
  afterEach(async () => api.close());

  const grants = () =>
    api.calls
      .filter((c) => c.path === '/oauth/token')
      .map((c) => `${String(c.body?.grant_type)}:${c.status}`);

  function manager(auth: Partial<Extract<AuthConfig, { grant: 'refresh_token' }>>, extra = {}) {
    const stored: string[] = [];
    const lost: ApiError[] = [];
    const logger = recordingLogger();
    const tokens = new TokenManager({
      tokenUrl: api.tokenUrl,
      auth: { grant: 'refresh_token', ...CLIENT, refreshToken: 'rt_alive', ...auth },
      onRenewedPairing: (t) => {
        stored.push(t);
      },
      onPairingLost: (e) => lost.push(e),
      logger,
      ...extra,
    });
    return { tokens, stored, lost, logger };
  }

  it('a live refresh token: one refresh, no device grant, nothing stored', async () => {
    const m = manager({ deviceCode: 'dc_alive' });
    assert.match(await m.tokens.token(), /^at_/);
    assert.deepEqual(grants(), ['refresh_token:200']);
    assert.deepEqual(m.stored, []);
  });

  it('invalid_grant on refresh: renewed with the stored device code, the new refresh token stored and used next', async () => {
    const m = manager({ refreshToken: 'rt_dead', deviceCode: 'dc_alive' });
    const access = await m.tokens.token();
    assert.match(access, /^at_/);
    assert.deepEqual(grants(), ['refresh_token:400', 'device:200']);
    const device = api.calls.find((c) => c.body?.grant_type === 'device')!;
    assert.equal(device.body?.code, 'dc_alive', 'the device code kept from pairing');
    assert.equal(m.stored.length, 1);
    assert.match(m.stored[0]!, /^rt_/);
    assert.equal(m.tokens.refreshToken, m.stored[0]);
    assert.deepEqual(m.lost, []);

    m.tokens.invalidate();
    await m.tokens.token();
    const last = api.calls.at(-1)!;
    assert.deepEqual([last.body?.grant_type, last.body?.refresh_token], ['refresh_token', m.stored[0]]);
    const logged = JSON.stringify(m.logger.records);
    assert.ok(!logged.includes('dc_alive') && !logged.includes(m.stored[0]!), 'no secrets in the log');
  });

  it('invalid_grant, then invalid_device on the renewal: pairingLost with the OAuth name; no more calls after', async () => {
    const m = manager({ refreshToken: 'rt_dead', deviceCode: 'dc_dead' });
    const err = await m.tokens.token().then(
      () => assert.fail('a token from a dead pairing'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApiError);
    assert.equal(err.kind, 'auth');
    assert.equal(err.pairingLost, true);
    assert.equal(err.oauthError, 'invalid_device');
    assert.equal(err.httpStatus, 401);
    assert.equal(err.outcome, 'not_applied');
    assert.equal(err.retryable, false);
    assert.deepEqual(grants(), ['refresh_token:400', 'device:401']);
    assert.equal(m.lost.length, 1);

    await assert.rejects(m.tokens.token(), (e: unknown) => isPairingLost(e));
    assert.equal(grants().length, 2, 'dead credentials are not sent again');
    assert.equal(m.lost.length, 1, 'told once');
  });

  it('a refused refresh token and no device code (paired before it was kept): pairingLost, invalid_grant', async () => {
    const m = manager({ refreshToken: 'rt_dead' });
    await assert.rejects(
      m.tokens.token(),
      (e: unknown) => e instanceof ApiError && e.pairingLost && e.oauthError === 'invalid_grant',
    );
    assert.deepEqual(grants(), ['refresh_token:400']);
  });

  it('the back office revokes the session while the kiosk runs: the next refresh finds it', async () => {
    const m = manager({ deviceCode: 'dc_alive' }, { renewBeforeMs: 0 });
    await m.tokens.token();
    api.killRefreshToken();
    api.killDeviceCode();
    m.tokens.invalidate();
    await assert.rejects(m.tokens.token(), (e: unknown) => isPairingLost(e));
    assert.deepEqual(grants(), ['refresh_token:200', 'refresh_token:400', 'device:401']);
  });

  it('invalid_client keeps its name and is not a lost pairing (the secret is wrong, pairing again would not help)', async () => {
    const m = manager({ clientSecret: 'wrong', deviceCode: 'dc_alive' });
    await assert.rejects(
      m.tokens.token(),
      (e: unknown) =>
        e instanceof ApiError &&
        e.kind === 'auth' &&
        e.oauthError === 'invalid_client' &&
        e.httpStatus === 401 &&
        !e.pairingLost,
    );
    assert.deepEqual(grants(), ['refresh_token:401']);
  });

  it('an outage is not a lost pairing: no answer to the refresh, or the renewal answered 503', async () => {
    const refused: FetchLike = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      });
    };
    const down = manager({ deviceCode: 'dc_alive' }, { fetch: refused });
    await assert.rejects(
      down.tokens.token(),
      (e: unknown) => e instanceof ApiError && e.kind === 'network' && !e.pairingLost,
    );
    assert.deepEqual(down.lost, []);

    const answers: Array<[number, object]> = [
      [400, { error: 'invalid_grant', error_description: 'expired' }],
      [503, { error: 'temporarily_unavailable' }],
      [400, { error: 'invalid_grant', error_description: 'expired' }],
      [200, { access_token: 'at_later', expires_in: 1200, token_type: 'bearer', refresh_token: 'rt_new' }],
    ];
    const flaky: FetchLike = async () => {
      const [status, body] = answers.shift()!;
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    };
    const m = manager({ refreshToken: 'rt_dead', deviceCode: 'dc_alive' }, { fetch: flaky });
    await assert.rejects(m.tokens.token(), (e: unknown) => e instanceof ApiError && !e.pairingLost);
    assert.deepEqual(m.lost, [], 'a 503 on the renewal is the server, not the pairing');
    assert.equal(await m.tokens.token(), 'at_later', 'tried again on the next call');
    assert.deepEqual(m.stored, ['rt_new']);
  });

  it('a refresh answer that rotates the refresh token: the new one is stored and presented next, an unchanged one is not stored again', async () => {
    const presented: string[] = [];
    const answers = [
      { access_token: 'at_1', token_type: 'bearer', expires_in: 1200, refresh_token: 'rt_rotated' },
      { access_token: 'at_2', token_type: 'bearer', expires_in: 1200, refresh_token: 'rt_rotated' },
    ];
    const rotating: FetchLike = async (_url, init) => {
      presented.push(String((JSON.parse(String(init.body)) as { refresh_token?: string }).refresh_token));
      return new Response(JSON.stringify(answers.shift()), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const m = manager({ refreshToken: 'rt_alive', deviceCode: 'dc_alive' }, { fetch: rotating });
    assert.equal(await m.tokens.token(), 'at_1');
    assert.deepEqual(m.stored, ['rt_rotated'], 'stored, or the next start presents the revoked one');
    assert.equal(m.tokens.refreshToken, 'rt_rotated');
    m.tokens.invalidate();
    assert.equal(await m.tokens.token(), 'at_2');
    assert.deepEqual(presented, ['rt_alive', 'rt_rotated']);
    assert.deepEqual(m.stored, ['rt_rotated'], 'the same token again is not written again');
    assert.ok(!JSON.stringify(m.logger.records).includes('rt_rotated'), 'no secrets in the log');
  });

  it('a refresh token that cannot be stored is logged, and the renewed session is used all the same', async () => {
    const logger = recordingLogger();
    const tokens = new TokenManager({
      tokenUrl: api.tokenUrl,
      auth: { grant: 'refresh_token', ...CLIENT, refreshToken: 'rt_dead', deviceCode: 'dc_alive' },
      onRenewedPairing: () => Promise.reject(new Error('EROFS')),
      logger,
    });
    assert.match(await tokens.token(), /^at_/);
    assert.ok(JSON.stringify(logger.records).includes('could not be stored'));
  });
});
