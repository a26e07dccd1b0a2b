/**
 * deploy/mosquitto/acl against a real Mosquitto: kiosk A can neither publish as kiosk B, nor read B's
 * commands, nor send any command (not even to itself). A denied publish may still be acknowledged (MQTT 5
 * reason code or silently), so every "cannot" is proven by what a subscriber with the rights does not
 * receive: each denied publish is followed by an allowed one on the same connection, and once the allowed
 * one has arrived, the denied one would have arrived before it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { EVENT_MESSAGE_SCHEMAS, KNOWN_ALERTS } from '../../src/fleet/envelope.js';
import { FleetReporter } from '../../src/fleet/reporter.js';
import { startMosquitto, writePasswordFile, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { FakeKiosk, birthFacts, healthFacts } from './support/fake-kiosk.js';
import { Observer } from './support/observer.js';
import { needs, MOSQUITTO, MOSQUITTO_PASSWD } from '../support/real-parts.js';

const ACL = path.resolve(import.meta.dirname, '../../deploy/mosquitto/acl');
const USERS = { 'k-a': 'pw-a', 'k-b': 'pw-b', dashboard: 'pw-dash', operator: 'pw-op' } as const;

describe('broker ACL (deploy/mosquitto/acl) on a real Mosquitto', function () {
  this.timeout(20_000);
  let broker: MosquittoBroker;
  let dir: string;
  const clients: (MqttClient | Observer)[] = [];

  before(async function () {
    await needs(this, MOSQUITTO, MOSQUITTO_PASSWD);
    dir = await mkdtemp(path.join(os.tmpdir(), 'acl-'));
    const passwd = path.join(dir, 'passwd');
    await writePasswordFile(passwd, USERS);
    broker = await startMosquitto({
      passwordFile: passwd,
      aclFile: ACL,
      persistence: false,
      extraConfig: ['use_username_as_clientid true'],
    });
  });
  after(async () => {
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) {
      if (c instanceof Observer) await c.close();
      else await c.endAsync(true);
    }
  });

  const as = async (user: keyof typeof USERS, clientId: string = user): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId,
      username: user,
      password: USERS[user],
    });
    clients.push(c);
    return c;
  };
  const watch = async (user: keyof typeof USERS, topics: string[]): Promise<Observer> => {
    const o = await Observer.connect(broker.url, [], {
      username: user,
      password: USERS[user],
      reconnectPeriod: 0,
    });
    clients.push(o);
    await o.client.subscribeAsync(topics, { qos: 1 });
    return o;
  };
  /** Publishes and ignores the outcome: a denial may come back as an error reason code or not at all. */
  const tryPublish = async (c: MqttClient, topic: string, payload: string): Promise<void> => {
    await c.publishAsync(topic, payload, { qos: 1 }).catch(() => undefined);
  };
  const cmd = (): string =>
    JSON.stringify({ cmdId: randomUUID(), issuedAt: Date.now(), expiresAt: Date.now() + 60_000, args: {} });

  it('the dashboard sees what a kiosk publishes under its own id (positive control)', async () => {
    const dash = await watch('dashboard', ['kiosk/v1/+/#']);
    const a = await as('k-a');
    for (const t of [
      'state',
      'birth',
      'health',
      'alert/paper_out',
      'evt/transaction',
      'cmdres',
      'config/reported',
    ]) {
      await a.publishAsync(`kiosk/v1/k-a/${t}`, `ok-${t}`, { qos: 1 });
    }
    await dash.waitFor('all seven', () => dash.messages.length === 7);
    assert.deepEqual(
      dash.messages.map((m) => m.payload),
      ['state', 'birth', 'health', 'alert/paper_out', 'evt/transaction', 'cmdres', 'config/reported'].map(
        (t) => `ok-${t}`,
      ),
    );
  });

  it('alerts and events by name: the ACL lists exactly the contract’s names, no wildcard', () => {
    const acl = readFileSync(ACL, 'utf8');
    const written = (kind: string) =>
      [...acl.matchAll(new RegExp(`^pattern write kiosk/v1/%u/${kind}/(\\S+)$`, 'gm'))].map((m) => m[1]);
    assert.deepEqual(written('alert').sort(), [...KNOWN_ALERTS].sort());
    assert.deepEqual(written('evt').sort(), Object.keys(EVENT_MESSAGE_SCHEMAS).sort());
    assert.ok(!/#|\+/.test(written('alert').join() + written('evt').join()), 'no wildcard');
    // every name of the shared contract's alert row is among them
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/fleet-mqtt.md'), 'utf8');
    for (const name of KNOWN_ALERTS) assert.ok(doc.includes(`\`${name}\``), `${name} documented`);
  });

  it('a kiosk cannot create retained alert or event topics of its own; every contract alert passes', async () => {
    const a = await as('k-a');
    for (const name of ['made_up', 'paper_out2', 'x'.repeat(40)])
      await a
        .publishAsync(`kiosk/v1/k-a/alert/${name}`, 'forged-retained', { qos: 1, retain: true })
        .catch(() => undefined);
    await a.publishAsync('kiosk/v1/k-a/evt/made_up', 'x', { qos: 1, retain: true }).catch(() => undefined);
    for (const name of KNOWN_ALERTS)
      await a.publishAsync(`kiosk/v1/k-a/alert/${name}`, `ok-${name}`, { qos: 1, retain: true });
    const dash = await watch('dashboard', ['kiosk/v1/k-a/alert/+', 'kiosk/v1/k-a/evt/+']);
    await dash.waitFor('every known alert', () => dash.messages.length >= KNOWN_ALERTS.length);
    assert.deepEqual(dash.messages.map((m) => m.topic.split('/').pop()).sort(), [...KNOWN_ALERTS].sort());
    for (const name of KNOWN_ALERTS)
      await a.publishAsync(`kiosk/v1/k-a/alert/${name}`, '', { qos: 1, retain: true });
  });

  it('kiosk A cannot publish as kiosk B', async () => {
    const dash = await watch('dashboard', ['kiosk/v1/+/#']);
    const a = await as('k-a');
    for (const t of [
      'state',
      'birth',
      'health',
      'alert/paper_out',
      'evt/transaction',
      'cmdres',
      'config/reported',
    ]) {
      await tryPublish(a, `kiosk/v1/k-b/${t}`, 'forged');
    }
    await tryPublish(a, 'kiosk/v1/k-a/other', 'not a contract topic');
    await a.publishAsync('kiosk/v1/k-a/state', 'control', { qos: 1 });
    await dash.waitFor('control', () => dash.messages.find((m) => m.payload === 'control'));
    assert.deepEqual(
      dash.messages.map((m) => m.topic),
      ['kiosk/v1/k-a/state'],
      'only the control message arrived',
    );
  });

  it('kiosk A cannot read kiosk B’s commands or desired config; B can', async () => {
    const a = await watch('k-a', [
      'kiosk/v1/k-b/cmd/+',
      'kiosk/v1/+/cmd/+',
      'kiosk/v1/k-b/config/desired',
      'kiosk/v1/#',
    ]);
    const b = await watch('k-b', ['kiosk/v1/k-b/cmd/+', 'kiosk/v1/k-b/config/desired']);
    const op = await as('operator');
    await op.publishAsync('kiosk/v1/k-b/cmd/ping', cmd(), { qos: 1 });
    await op.publishAsync('kiosk/v1/k-b/config/desired', '{"version":1}', { qos: 1 });
    await op.publishAsync('kiosk/v1/k-a/cmd/ping', 'for-a', { qos: 1 });
    await a.waitFor('its own command', () => a.messages.find((m) => m.payload === 'for-a'));
    await b.waitFor('B got both', () => b.messages.length === 2);
    // overlapping subscriptions may deliver A's own command more than once; nothing of B's may arrive
    assert.deepEqual([...new Set(a.messages.map((m) => m.topic))], ['kiosk/v1/k-a/cmd/ping']);
    assert.ok(!a.messages.some((m) => m.topic.includes('k-b')), 'A received something of B');
  });

  it('a kiosk cannot send any command or desired config, not even to itself', async () => {
    // one connection per kiosk: a second one with the same user name would take over the client id
    const aSees = await watch('k-a', ['kiosk/v1/k-a/cmd/+', 'kiosk/v1/k-a/config/desired']);
    const a = aSees.client;
    const bSees = await watch('k-b', ['kiosk/v1/k-b/cmd/+', 'kiosk/v1/k-b/config/desired']);
    const dash = await watch('dashboard', ['kiosk/v1/+/#']);
    await tryPublish(a, 'kiosk/v1/k-b/cmd/restart', cmd());
    await tryPublish(a, 'kiosk/v1/k-a/cmd/restart', cmd());
    await tryPublish(a, 'kiosk/v1/k-b/config/desired', '{"version":99}');
    await tryPublish(a, 'kiosk/v1/k-a/config/desired', '{"version":99}');
    await a.publishAsync('kiosk/v1/k-a/state', 'control', { qos: 1 });
    await dash.waitFor('control', () => dash.messages.find((m) => m.payload === 'control'));
    // the operator's command still goes through, after the forged ones: they would have arrived first
    const op = await as('operator');
    await op.publishAsync('kiosk/v1/k-a/cmd/ping', 'op-a', { qos: 1 });
    await op.publishAsync('kiosk/v1/k-b/cmd/ping', 'op-b', { qos: 1 });
    await aSees.waitFor('operator command to A', () => aSees.messages.length >= 1);
    await bSees.waitFor('operator command to B', () => bSees.messages.length >= 1);
    assert.deepEqual(
      aSees.messages.map((m) => m.payload),
      ['op-a'],
    );
    assert.deepEqual(
      bSees.messages.map((m) => m.payload),
      ['op-b'],
    );
    assert.deepEqual(
      dash.messages
        .filter((m) => m.topic.includes('/cmd/') || m.topic.endsWith('/config/desired'))
        .map((m) => m.payload),
      ['op-a', 'op-b'],
    );
  });

  it('a kiosk cannot take over another kiosk’s session by asking for its client id', async () => {
    const b = await as('k-b');
    let bClosed = false;
    b.on('close', () => {
      bClosed = true;
    });
    const dash = await watch('dashboard', ['kiosk/v1/+/#']);
    const impostor = await as('k-a', 'k-b'); // user k-a asking for client id k-b: it gets k-a
    await impostor.publishAsync('kiosk/v1/k-a/state', 'impostor', { qos: 1 });
    await dash.waitFor('impostor message', () => dash.messages.find((m) => m.payload === 'impostor'));
    await b.publishAsync('kiosk/v1/k-b/state', 'still me', { qos: 1 });
    await dash.waitFor('B still connected', () => dash.messages.find((m) => m.payload === 'still me'));
    assert.equal(bClosed, false);
    assert.equal(b.connected, true);
  });

  it('the dashboard reads events through a shared subscription; a kiosk cannot', async () => {
    const dash = await watch('dashboard', ['$share/dash/kiosk/v1/+/evt/#']);
    const snoop = await watch('k-b', ['$share/snoop/kiosk/v1/+/evt/#', 'kiosk/v1/k-b/cmd/+']);
    const a = await as('k-a');
    await a.publishAsync('kiosk/v1/k-a/evt/transaction', 'sale', { qos: 1 });
    await dash.waitFor('shared event', () => dash.messages.length === 1);
    const op = await as('operator');
    await op.publishAsync('kiosk/v1/k-b/cmd/ping', 'control', { qos: 1 });
    await snoop.waitFor('control', () => snoop.messages.find((m) => m.payload === 'control'));
    assert.deepEqual(
      snoop.messages.map((m) => m.payload),
      ['control'],
    );
  });

  it('the reporter works within these rules: birth, state, health, a command and its answer', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'acl-kiosk-'));
    const dash = await watch('dashboard', ['kiosk/v1/+/#']);
    const r = new FleetReporter({
      kioskId: 'k-a',
      url: broker.url,
      username: 'k-a',
      password: USERS['k-a'],
      dataDir,
      port: new FakeKiosk(),
      birth: birthFacts,
      health: healthFacts,
      validateConfig: () => ({ ok: true }),
      willDelayS: 1,
      reconnectMinMs: 100,
      reconnectMaxMs: 300,
    });
    try {
      await r.start();
      await dash.waitFor('health', () => dash.on('k-a/health').length === 1);
      const op = await as('operator');
      const c = cmd();
      await op.publishAsync('kiosk/v1/k-a/cmd/ping', c, { qos: 1 });
      await dash.waitFor('answers', () => dash.on('k-a/cmdres').length === 2);
      r.event('transaction', { kind: 'sale', outcome: 'completed', amountCents: 796, currency: 'EUR' });
      await dash.waitFor('event', () => dash.on('k-a/evt/transaction').length === 1);
      assert.equal(dash.on('k-a/cmdres')[1]?.json?.status, 'succeeded');
      await r.kill();
      await dash.waitFor('Will (lost)', () => dash.on('k-a/state').find((m) => m.json?.state === 'lost'));
    } finally {
      await r.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
