/**
 * A paired kiosk whose refresh token the API refuses (issue 12 item 7), the real program against the
 * seed API (test/support/seed-api.ts): with the device code kept from pairing it renews the session
 * and stores the new refresh token (0600); when the device code is refused too it goes out of service
 * "Neu koppeln" with the fleet alert `repair_needed` (a real Mosquitto), never "Keine Verbindung".
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { startSeedApi, type SeedApi } from '../support/seed-api.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

describe('e2e: a dead refresh token (device session renewal)', function () {
  this.timeout(60_000);
  let api: SeedApi | undefined;
  let kiosk: KioskProcess | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await kiosk?.stop();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    kiosk = api = dir = undefined;
  });

  /** A kiosk paired earlier: `kiosk pair` left these two files (0600). */
  async function pairedKiosk(deviceCodes: string[], extra: Record<string, unknown> = {}, tokenMode = 0o600) {
    api = await startSeedApi({ refreshTokens: [], deviceCodes });
    dir = mkdtempSync(join(tmpdir(), 'kiosk-pairing-'));
    const tokenFile = join(dir, 'refresh-token');
    writeFileSync(tokenFile, 'rt_revoked\n', { mode: tokenMode });
    chmodSync(tokenFile, tokenMode);
    writeFileSync(`${tokenFile}.device-code`, 'dc_of_pairing\n', { mode: 0o600 });
    kiosk = await startKiosk({
      dir,
      config: {
        api: {
          baseUrl: api.baseUrl,
          clientId: 'kiosk-seeds',
          clientSecret: 'seeds-secret',
          refreshTokenFile: tokenFile,
          deviceUuid: '/vendor/test/kiosk/k-test-0001',
          standIn: undefined,
        },
        ...extra,
      },
    });
    return { k: kiosk, a: api, tokenFile };
  }

  const grants = (a: SeedApi) =>
    a.calls.filter((c) => c.path === '/oauth/token').map((c) => `${String(c.body?.grant_type)}:${c.status}`);

  it('the refresh token refused (invalid_grant): renewed with the stored device code, new token stored 0600, serving', async () => {
    const { k, a, tokenFile } = await pairedKiosk(['dc_of_pairing']);
    await k.waitForIdle(15_000);
    assert.deepEqual(grants(a).slice(0, 2), ['refresh_token:400', 'device:200']);
    const device = a.calls.find((c) => c.body?.grant_type === 'device')!;
    assert.equal(device.body?.code, 'dc_of_pairing');
    const stored = readFileSync(tokenFile, 'utf8').trim();
    assert.match(stored, /^rt_/);
    assert.notEqual(stored, 'rt_revoked');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(`${tokenFile}.device-code`, 'utf8').trim(), 'dc_of_pairing', 'kept');

    // The renewed session works for a customer.
    a.play({ seed: '004', startMethod: 'cash' });
    await k.scan('9276004429942845');
    await k.waitForScreen(/Guthaben 0,00 EUR\nBetrag wählen/);
    assert.doesNotMatch(k.stdout, /rt_[0-9a-f]{6,}|dc_of_pairing/, 'no secret in the log');
  });

  it('the device code refused too (invalid_device): out of service "Neu koppeln", alert repair_needed, not an outage', async function () {
    await needs(this, MOSQUITTO);
    const broker: MosquittoBroker = await startMosquitto();
    const observer: MqttClient = mqtt.connect(broker.url, {
      protocolVersion: 5,
      clientId: `obs-${randomUUID()}`,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        observer.once('connect', () => resolve());
        observer.once('error', reject);
      });
      const alerts = new Map<string, Record<string, unknown> | null>();
      observer.on('message', (t, payload) => {
        const name = t.split('/alert/')[1];
        if (name)
          alerts.set(
            name,
            payload.length ? (JSON.parse(payload.toString()) as Record<string, unknown>) : null,
          );
      });
      await observer.subscribeAsync('kiosk/v1/k-test-0001/alert/#', { qos: 1 });

      const { k, a } = await pairedKiosk([], {
        fleet: { url: broker.url, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
        timeouts: { recheckMs: 500 },
      });
      const state = await k.waitForState(/^outOfService$/, undefined, 15_000);
      assert.equal(state.reason, 'pairing_lost');
      const screen = await k.screen();
      assert.match(screen, /^Außer Betrieb\nNeu koppeln/);
      assert.doesNotMatch(screen, /Keine Verbindung/);
      assert.deepEqual(grants(a), ['refresh_token:400', 'device:401']);

      const alert = await k.waitFor(
        async () => alerts.get('repair_needed'),
        (v) => v !== undefined && v !== null,
        15_000,
        'alert repair_needed',
      );
      assert.equal(alert!.severity, 'critical');
      assert.match(String(alert!.message), /invalid_device/);
      assert.ok(!alerts.get('api_unreachable'), 'not reported as an outage');

      // Rechecks are for reasons that pass; this one does not: no more calls with dead credentials.
      const before = a.calls.length;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(a.calls.length, before);
      assert.equal((await k.state()).reason, 'pairing_lost');
    } finally {
      await observer.endAsync().catch(() => undefined);
      await kiosk?.stop();
      kiosk = undefined;
      await broker.stop();
    }
  });

  it('a token file others can read: not used, out of service "Neu koppeln" at once, no token call', async () => {
    const { k, a } = await pairedKiosk(['dc_of_pairing'], {}, 0o644);
    const state = await k.waitForState(/^outOfService$/, undefined, 15_000);
    assert.equal(state.reason, 'pairing_lost');
    assert.match(await k.screen(), /^Außer Betrieb\nNeu koppeln/);
    assert.deepEqual(grants(a), []);
  });
});
