/**
 * An attacker with an operator account sends `config/desired` documents to a real kiosk over a real
 * Mosquitto: re-point the API and token URL at its own host, switch the acceptor to simulated, open the
 * control port, move the journal, and every other field outside the allow-list. Each is `rejected` with
 * the field named in `config/reported`; nothing is applied or stored; the attacker's host (a local TCP
 * server that records every connection) is never contacted, not even after a restart with a hostile
 * document left in the kiosk's storage; the kiosk keeps serving with its own API.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { forbiddenDesiredFields } from '../support/hostile-config.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

interface Report {
  version: number | null;
  status: string;
  fields?: string[];
  errors?: string[];
}

const CARD = '9276004429942845';

describe('hostile config/desired against the real kiosk program', function () {
  this.timeout(90_000);
  let broker: MosquittoBroker;
  let observer: MqttClient;
  let attacker: Server;
  let attackerUrl: string;
  const contacts: string[] = [];
  const sockets = new Set<Socket>();
  let kiosk: KioskProcess | undefined;
  const reports: Report[] = [];
  const id = 'k-hostile-01';
  const topic = (t: string) => `kiosk/v1/${id}/${t}`;

  const reportFor = async (version: number): Promise<Report> => {
    const end = Date.now() + 15_000;
    for (;;) {
      const hit = reports.find((r) => r.version === version);
      if (hit) return hit;
      if (Date.now() > end) assert.fail(`no config/reported for version ${version}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const portRefuses = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });

  before(async function () {
    await needs(this, MOSQUITTO);
    // The attacker's host: any connection at all (HTTP for the API, MQTT for the fleet) is recorded.
    attacker = createServer((s) => {
      contacts.push(`connection from ${s.remotePort}`);
      sockets.add(s);
      s.on('data', (b: Buffer) => contacts.push(b.toString('latin1').slice(0, 80)));
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const addr = attacker.address();
    attackerUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    broker = await startMosquitto({ persistence: false });
    observer = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: `operator-${randomUUID()}`,
    });
    observer.on('message', (_t, payload) => {
      if (payload.length) reports.push(JSON.parse(payload.toString('utf8')) as Report);
    });
    await observer.subscribeAsync(topic('config/reported'), { qos: 1 });
  });

  after(async () => {
    await kiosk?.stop().catch(() => undefined);
    await observer?.endAsync().catch(() => undefined);
    await broker?.stop();
    for (const s of sockets) s.destroy();
    await new Promise((r) => attacker?.close(r));
  });

  it('rejects every forbidden field by name, applies and stores nothing, and never contacts the attacker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-hostile-'));
    const hostileControlPort = await freePort();
    const config = {
      kiosk: { id, mode: 'topup' },
      fleet: { url: broker.url, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
      timeouts: { resultMs: 500 },
    };
    kiosk = await startKiosk({ dir, config });
    const attacks = forbiddenDesiredFields(attackerUrl).map(([field, part]) => {
      // the control-port attack asks for a port nobody else uses, so "still closed" can be checked
      if (field === 'sim.controlPort') return [field, { sim: { controlPort: hostileControlPort } }] as const;
      return [field, part] as const;
    });
    let version = 10;
    for (const [field, part] of attacks) {
      version += 1;
      await observer.publishAsync(
        topic('config/desired'),
        JSON.stringify({ version, receipts: { footer: ['looks harmless'] }, ...part }),
        { qos: 1, retain: true },
      );
      const r = await reportFor(version);
      assert.equal(r.status, 'rejected', field);
      assert.deepEqual(r.fields, [field]);
    }
    // The attack from the issue in one document: API and token URL, simulated acceptor, control port.
    version += 1;
    await observer.publishAsync(
      topic('config/desired'),
      JSON.stringify({
        version,
        api: { baseUrl: `${attackerUrl}/api/v2`, tokenUrl: `${attackerUrl}/oauth/token` },
        hardware: { coin: { driver: 'simulated' } },
        sim: { controlPort: hostileControlPort },
      }),
      { qos: 1, retain: true },
    );
    const combined = await reportFor(version);
    assert.equal(combined.status, 'rejected');
    assert.deepEqual(combined.fields, ['api.baseUrl', 'api.tokenUrl', 'hardware.coin', 'sim.controlPort']);
    assert.ok(!existsSync(join(dir, 'desired-config.json')), 'nothing stored for the next start');

    // The kiosk still serves with its own API: a top-up reaches the stand-in, not the attacker.
    const before = await kiosk.balance(CARD);
    await kiosk.scan(CARD);
    await kiosk.waitForScreen(/Betrag/);
    await kiosk.press('amount1');
    await kiosk.waitForScreen(/einwerfen/);
    for (const c of [200, 200, 100]) assert.equal((await kiosk.coin(c)).accepted, true);
    await kiosk.waitFor(
      () => kiosk!.balance(CARD),
      (b) => b === before + 500,
      15_000,
      'the top-up',
    );
    await kiosk.stop();

    // A hostile document in the kiosk's storage (an older firmware stored whole documents) and the
    // retained hostile one on the broker: the restarted kiosk ignores both.
    writeFileSync(
      join(dir, 'desired-config.json'),
      JSON.stringify({
        version: 999,
        api: { baseUrl: `${attackerUrl}/api/v2` },
        sim: { controlPort: hostileControlPort },
      }),
    );
    kiosk = await startKiosk({ dir, config });
    assert.match(kiosk.stderr, /ignoring .*desired-config\.json: not settable from the fleet: api\.baseUrl/);
    await kiosk.scan(CARD);
    await kiosk.waitForScreen(/Betrag/);
    assert.ok(await portRefuses(hostileControlPort), 'the control port the attacker asked for is closed');
    assert.deepEqual(contacts, [], 'the attacker host received nothing');
  });
});
