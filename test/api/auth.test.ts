import assert from 'node:assert/strict';
import sinon from 'sinon';
import { OAuthError, TokenManager, pairDevice } from '../../src/api/auth.js';
import { ApiError } from '../../src/api/errors.js';
import { SmartTransactionsClient } from '../../src/api/client.js';
import { DEMO_CLIENT } from '../../src/sim/api-server.js';
import { recordingLogger } from '../../src/util/logger.js';
import { seedBasket, startRig, type ApiRig } from '../support/api.js';

describe('OAuth: client_credentials, device pairing, refresh_token', () => {
  let rig: ApiRig;
  beforeEach(async () => {
    rig = await startRig();
  });
  afterEach(async () => rig.close());

  it('renews the token shortly before it expires, and shares one renewal between concurrent callers', async () => {
    let now = 1_000_000;
    const fetchSpy = sinon.spy((url: string, init: RequestInit) => fetch(url, init));
    const tokens = new TokenManager({
      tokenUrl: rig.standIn.tokenUrl,
      auth: { grant: 'client_credentials', ...DEMO_CLIENT },
      fetch: fetchSpy,
      now: () => now,
      renewBeforeMs: 60_000,
    });
    const [a, b, c] = await Promise.all([tokens.token(), tokens.token(), tokens.token()]);
    assert.equal(fetchSpy.callCount, 1);
    assert.ok(a === b && b === c);
    now += (1200 - 61) * 1000;
    assert.equal(await tokens.token(), a, 'still valid for more than the margin');
    now += 2000;
    const renewed = await tokens.token();
    assert.notEqual(renewed, a);
    assert.equal(fetchSpy.callCount, 2);
  });

  it('wrong client secret: kind auth, not applied; the secret never appears in logs', async () => {
    const logger = recordingLogger();
    const tokens = new TokenManager({
      tokenUrl: rig.standIn.tokenUrl,
      auth: { grant: 'client_credentials', clientId: DEMO_CLIENT.clientId, clientSecret: 'hunter2-wrong' },
      logger,
    });
    await assert.rejects(
      tokens.token(),
      (e: unknown) =>
        e instanceof ApiError && e.kind === 'auth' && e.outcome === 'not_applied' && e.httpStatus === 401,
    );
    const client = new SmartTransactionsClient({ baseUrl: rig.standIn.baseUrl, tokens: rig.tokens, logger });
    await client.create(seedBasket());
    const logged = JSON.stringify(logger.records);
    assert.ok(!logged.includes('hunter2'), 'no secret in logs');
    assert.ok(!logged.includes(DEMO_CLIENT.clientSecret), 'no secret in logs');
    const token = await rig.tokens.token();
    assert.ok(!logged.includes(token), 'no token in logs');
  });

  it('device grant: shows the user code, polls while authorization_pending, keeps the refresh token', async () => {
    const codes: string[] = [];
    let polls = 0;
    const result = await pairDevice({
      tokenUrl: rig.standIn.tokenUrl,
      ...DEMO_CLIENT,
      uuid: '/vendor/demo/kiosk/0001',
      onUserCode: (c) => codes.push(c.user_code),
      sleep: async () => {
        polls += 1;
        if (polls === 3) rig.standIn.confirmDevice(codes[0]!);
      },
    });
    assert.equal(codes.length, 1);
    assert.match(codes[0]!, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
    assert.equal(polls, 3, 'two pending answers, then the token');
    assert.ok(result.refreshToken.length > 10);

    // The refresh token renews access; a new device token voids the previous one.
    const tokens = new TokenManager({
      tokenUrl: rig.standIn.tokenUrl,
      auth: { grant: 'refresh_token', ...DEMO_CLIENT, refreshToken: result.refreshToken },
    });
    const client = new SmartTransactionsClient({ baseUrl: rig.standIn.baseUrl, tokens });
    assert.equal((await client.create(seedBasket())).status, 'created');
    const oldClient = new SmartTransactionsClient({
      baseUrl: rig.standIn.baseUrl,
      tokens: { token: async () => result.accessToken, invalidate: () => {} },
    });
    await assert.rejects(
      oldClient.create(seedBasket()),
      (e: unknown) => e instanceof ApiError && e.kind === 'auth',
    );
  });

  it('device grant: a code nobody confirms expires with a clear error', async () => {
    const waits: number[] = [];
    await assert.rejects(
      pairDevice({
        tokenUrl: rig.standIn.tokenUrl,
        ...DEMO_CLIENT,
        uuid: '/vendor/demo/kiosk/0002',
        onUserCode: () => {},
        sleep: async (ms) => {
          waits.push(ms);
        },
      }),
      (e: unknown) => e instanceof OAuthError && e.error === 'expired_token',
    );
    assert.equal(waits[0], 5000);
    assert.equal(
      waits.reduce((a, b) => a + b, 0),
      1_200_000, // the documented expires_in of 1200 s
      'polled until expires_in ran out',
    );
  });

  it('device grant: slow_down lengthens the poll interval by 5 s', async () => {
    const answers: Array<[number, object]> = [
      [
        200,
        {
          device_code: 'dc',
          user_code: 'AB12-CD34',
          verification_url: 'https://x',
          expires_in: 600,
          interval: 5,
        },
      ],
      [400, { error: 'slow_down' }],
      [400, { error: 'authorization_pending' }],
      [200, { access_token: 'at', expires_in: 1200, token_type: 'bearer', refresh_token: 'rt' }],
    ];
    const waits: number[] = [];
    const result = await pairDevice({
      tokenUrl: 'http://stand-in.invalid/oauth/token',
      ...DEMO_CLIENT,
      uuid: '/x',
      onUserCode: () => {},
      sleep: async (ms) => void waits.push(ms),
      fetch: async () => {
        const [status, body] = answers.shift()!;
        return new Response(JSON.stringify(body), { status });
      },
    });
    assert.deepEqual(waits, [5000, 10000, 10000]);
    assert.equal(result.refreshToken, 'rt');
  });

  it('device grant: access_denied stops polling with an OAuthError', async () => {
    const answers: Array<[number, object]> = [
      [
        200,
        {
          device_code: 'dc',
          user_code: 'AB12-CD34',
          verification_url: 'https://x',
          expires_in: 600,
          interval: 5,
        },
      ],
      [400, { error: 'access_denied', error_description: 'the operator refused' }],
    ];
    await assert.rejects(
      pairDevice({
        tokenUrl: 'http://x.invalid/t',
        ...DEMO_CLIENT,
        uuid: '/x',
        onUserCode: () => {},
        sleep: async () => {},
        fetch: async () => {
          const [status, body] = answers.shift()!;
          return new Response(JSON.stringify(body), { status });
        },
      }),
      (e: unknown) => e instanceof OAuthError && e.error === 'access_denied' && /refused/.test(e.message),
    );
  });

  it('device grant with a wrong secret fails at once with kind auth', async () => {
    await assert.rejects(
      pairDevice({
        tokenUrl: rig.standIn.tokenUrl,
        clientId: DEMO_CLIENT.clientId,
        clientSecret: 'nope',
        uuid: '/x',
        onUserCode: () => assert.fail('no code'),
      }),
      (e: unknown) => e instanceof ApiError && e.kind === 'auth',
    );
  });
});
