/**
 * The kiosk's API client parts (src/app/api-client.ts): the grant the stored pairing allows, and the
 * endpoints (configured, or derived from the base URL); an unreadable token file makes the pairing
 * unusable (every token call refused "pair again") instead of failing the start.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPairingLost } from '../../src/api/errors.js';
import { apiClient, apiEndpoints, authFor } from '../../src/app/api-client.js';
import { KioskConfigSchema } from '../../src/config/config-schema.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';
import { recordingLogger } from '../../src/util/logger.js';

const api = { clientId: 'kiosk', clientSecret: 's3cret' };

function config(extra: Record<string, unknown> = {}) {
  return KioskConfigSchema.parse({
    kiosk: { id: 'k-1', mode: 'topup' },
    api: { baseUrl: 'http://127.0.0.1:9/api', clientId: 'kiosk', clientSecret: 's3cret', ...extra },
    hardware: simulatedHardware(),
  });
}

describe('api client parts', () => {
  it('authFor: the pairing’s refresh token (with its device code), else the client credentials', () => {
    assert.deepEqual(authFor(api, undefined, undefined), {
      grant: 'client_credentials',
      clientId: 'kiosk',
      clientSecret: 's3cret',
    });
    assert.deepEqual(authFor(api, { refreshToken: 'R1', deviceCode: 'D1' }, undefined), {
      grant: 'refresh_token',
      clientId: 'kiosk',
      clientSecret: 's3cret',
      refreshToken: 'R1',
      deviceCode: 'D1',
    });
    assert.deepEqual(authFor({ clientId: 'kiosk' }, { refreshToken: 'R1' }, undefined), {
      grant: 'refresh_token',
      clientId: 'kiosk',
      clientSecret: '',
      refreshToken: 'R1',
    });
  });

  it('authFor: an unusable pairing sends no secret and no token', () => {
    assert.deepEqual(authFor(api, { refreshToken: 'R1', deviceCode: 'D1' }, 'pairing unusable: x'), {
      grant: 'refresh_token',
      clientId: 'kiosk',
      clientSecret: '',
      refreshToken: '',
    });
  });

  it('apiEndpoints: the configured ones, no stand-in', async () => {
    const e = await apiEndpoints(config({ tokenUrl: 'http://127.0.0.1:9/token' }), recordingLogger());
    assert.deepEqual(e, {
      baseUrl: 'http://127.0.0.1:9/api',
      tokenUrl: 'http://127.0.0.1:9/token',
      standIn: undefined,
    });
  });

  it('a token file the kiosk may not use: pairing unusable, logged, every token call refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-client-'));
    const file = join(dir, 'refresh-token');
    await writeFile(file, 'R1\n');
    await chmod(file, 0o644); // loosened: readPairing refuses it
    const logger = recordingLogger();
    const lost: unknown[] = [];
    const parts = await apiClient(
      config({ refreshTokenFile: file }),
      { baseUrl: 'http://127.0.0.1:9/api', tokenUrl: undefined },
      logger,
      (err) => lost.push(err),
    );
    assert.match(parts.pairingLost ?? '', /^pairing unusable: /);
    assert.ok(logger.records.some((r) => r.msg === 'device pairing unusable'));
    await assert.rejects(parts.tokens.token(), (err) => isPairingLost(err));
  });
});
