/**
 * deploy/mosquitto/mosquitto.conf itself, on a real Mosquitto: the production file with only paths and
 * ports replaced. A kiosk with a client certificate (CN = its id) gets its id as user name and client id
 * whatever it asks for, and the ACL then holds it to its own topics; the back end on its own listener
 * reads everything.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { findMosquitto, freePort, writePasswordFile } from '../../src/harness/mosquitto.js';
import { Observer } from './support/observer.js';
import { needs, MOSQUITTO, MOSQUITTO_PASSWD, OPENSSL } from '../support/real-parts.js';

const DEPLOY = path.resolve(import.meta.dirname, '../../deploy/mosquitto');

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

async function waitForPort(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto not listening on ${port}:\n${log()}`);
}

describe('broker config (deploy/mosquitto/mosquitto.conf) with TLS client certificates', function () {
  this.timeout(30_000);
  let dir: string;
  let proc: ChildProcess | undefined;
  let logText = '';
  let ports: { cert: number; password: number; backend: number };
  const clients: (MqttClient | Observer)[] = [];

  before(async function () {
    await needs(this, MOSQUITTO, MOSQUITTO_PASSWD, OPENSSL);
    dir = await mkdtemp(path.join(os.tmpdir(), 'mosq-tls-'));
    const subj = (cn: string) => ['-subj', `/CN=${cn}`];
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        ...subj('fleet-ca'),
      ],
      dir,
    );
    await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    const leaf = async (name: string, cn: string, ext: boolean) => {
      openssl(
        [
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          ...subj(cn),
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.crt`,
          '-days',
          '2',
          ...(ext ? ['-extfile', 'san.ext'] : []),
        ],
        dir,
      );
    };
    await leaf('server', 'localhost', true);
    await leaf('k-a', 'k-a', false);
    await leaf('k-b', 'k-b', false);
    await writePasswordFile(path.join(dir, 'passwd-backend'), { dashboard: 'pw-dash', operator: 'pw-op' });
    await writePasswordFile(path.join(dir, 'passwd-kiosks'), { 'k-c': 'pw-c', 'k-d': 'pw-d' });
    ports = { cert: await freePort(), password: await freePort(), backend: await freePort() };
    let conf = await readFile(path.join(DEPLOY, 'mosquitto.conf'), 'utf8');
    conf = conf
      .replaceAll('/etc/mosquitto/certs/', `${dir}/`)
      .replaceAll('/etc/mosquitto/passwd-kiosks', path.join(dir, 'passwd-kiosks'))
      .replaceAll('/etc/mosquitto/passwd-backend', path.join(dir, 'passwd-backend'))
      .replaceAll('/etc/mosquitto/acl', path.join(DEPLOY, 'acl'))
      .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
      .replace(/^listener 8883$/m, `listener ${ports.cert} 127.0.0.1`)
      .replace(/^listener 8884$/m, `listener ${ports.password} 127.0.0.1`)
      .replace(/^listener 8885 127\.0\.0\.1$/m, `listener ${ports.backend} 127.0.0.1`);
    assert.ok(conf.includes(`listener ${ports.backend} `), 'the back-end listener line was found');
    assert.ok(
      conf.split('\n').every((l) => l.startsWith('#') || !l.includes('/etc/mosquitto')),
      'every production path was replaced',
    );
    if (process.getuid?.() === 0) conf = `user root\n${conf}`;
    conf += '\nlog_dest stderr\n';
    await writeFile(path.join(dir, 'mosquitto.conf'), conf);
    proc = spawn(findMosquitto()!, ['-c', path.join(dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stderr?.on('data', (b: Buffer) => (logText += b.toString()));
    proc.stdout?.on('data', (b: Buffer) => (logText += b.toString()));
    await waitForPort(ports.backend, proc, () => logText);
    await waitForPort(ports.cert, proc, () => logText);
  });
  after(async () => {
    for (const c of clients.splice(0)) {
      if (c instanceof Observer) await c.close();
      else await c.endAsync(true);
    }
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const kiosk = async (name: 'k-a' | 'k-b', clientId: string): Promise<MqttClient> => {
    const [ca, cert, key] = await Promise.all(
      ['ca.crt', `${name}.crt`, `${name}.key`].map((f) => readFile(path.join(dir, f))),
    );
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${ports.cert}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId,
      ca,
      cert,
      key,
      servername: 'localhost',
    });
    clients.push(c);
    return c;
  };

  it('binds a kiosk to its certificate: own topics pass, forged ones and session takeover do not', async () => {
    const dash = await Observer.connect(`mqtt://127.0.0.1:${ports.backend}`, ['kiosk/v1/+/#'], {
      username: 'dashboard',
      password: 'pw-dash',
      clientId: 'dashboard-1',
      reconnectPeriod: 0,
    });
    clients.push(dash);
    const b = await kiosk('k-b', 'k-b');
    let bClosed = false;
    b.on('close', () => (bClosed = true));
    const a = await kiosk('k-a', 'k-b'); // certificate k-a asking for B's client id
    await a.publishAsync('kiosk/v1/k-b/state', 'forged', { qos: 1 }).catch(() => undefined);
    await a.publishAsync('kiosk/v1/k-a/cmd/restart', 'self-command', { qos: 1 }).catch(() => undefined);
    await a.publishAsync('kiosk/v1/k-a/state', 'a-online', { qos: 1 });
    await b.publishAsync('kiosk/v1/k-b/state', 'b-online', { qos: 1 });
    await dash.waitFor(
      'both',
      () => dash.messages.length >= 2 && dash.messages.find((m) => m.payload === 'b-online'),
    );
    assert.deepEqual(dash.messages.map((m) => m.payload).sort(), ['a-online', 'b-online']);
    assert.equal(bClosed, false, 'B kept its session');
  });

  it('refuses a kiosk without a client certificate on the kiosk listener', async () => {
    const ca = await readFile(path.join(dir, 'ca.crt'));
    await assert.rejects(
      mqtt.connectAsync(`mqtts://127.0.0.1:${ports.cert}`, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 3000,
        clientId: 'k-a',
        ca,
        servername: 'localhost',
      }),
    );
  });

  const byPassword = async (port: number, user: string, password: string, clientId = user, tls = true) => {
    const ca = await readFile(path.join(dir, 'ca.crt'));
    const c = await mqtt.connectAsync(`${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      clientId,
      username: user,
      password,
      ...(tls ? { ca, servername: 'localhost' } : {}),
    });
    clients.push(c);
    return c;
  };

  it('the production file: per-listener settings, back end on loopback, every listener binds client id to user', async () => {
    const conf = await readFile(path.join(DEPLOY, 'mosquitto.conf'), 'utf8');
    const lines = conf.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.ok(lines.includes('per_listener_settings true'));
    const listeners = conf.split(/^listener /m).slice(1);
    assert.equal(listeners.length, 3);
    for (const l of listeners) {
      assert.match(l, /^use_username_as_clientid true$/m, `listener ${l.split('\n')[0]}`);
      assert.match(l, /^allow_anonymous false$/m);
      assert.match(l, /^acl_file \/etc\/mosquitto\/acl$/m);
    }
    assert.match(listeners[2]!, /^8885 127\.0\.0\.1\n/, 'the back end listens on loopback');
    assert.match(listeners[1]!, /^password_file \/etc\/mosquitto\/passwd-kiosks$/m);
    assert.match(listeners[2]!, /^password_file \/etc\/mosquitto\/passwd-backend$/m);
  });

  it('kiosk and back-end accounts each open only their own listener', async () => {
    await byPassword(ports.password, 'k-c', 'pw-c'); // control: the kiosk's own listener
    await byPassword(ports.backend, 'dashboard', 'pw-dash', 'dashboard', false); // control: the back end's
    await assert.rejects(byPassword(ports.backend, 'k-c', 'pw-c', 'k-c', false), 'kiosk on the back end');
    await assert.rejects(
      byPassword(ports.password, 'dashboard', 'pw-dash'),
      'back end on the kiosk listener',
    );
    await assert.rejects(byPassword(ports.password, 'operator', 'pw-op'), 'operator on the kiosk listener');
  });

  it('on the password and back-end listeners nobody can kick another client off by its client id', async () => {
    const d = await byPassword(ports.password, 'k-d', 'pw-d');
    const dash = await byPassword(ports.backend, 'dashboard', 'pw-dash', 'dashboard', false);
    let dClosed = false;
    let dashClosed = false;
    d.on('close', () => (dClosed = true));
    dash.on('close', () => (dashClosed = true));
    const c = await byPassword(ports.password, 'k-c', 'pw-c', 'k-d'); // kiosk C asking for D's client id
    const op = await byPassword(ports.backend, 'operator', 'pw-op', 'dashboard', false); // operator asking for the dashboard's
    // a round trip on each connection after the attempts: a takeover would have closed D or the dashboard by now
    await Promise.all(
      [c, op, d, dash].map((x) => x.subscribeAsync('kiosk/v1/none/cmd/+', { qos: 1 }).catch(() => undefined)),
    );
    await d.publishAsync('kiosk/v1/k-d/state', 'd-alive', { qos: 1 });
    await dash.subscribeAsync('kiosk/v1/+/state', { qos: 1 });
    assert.equal(dClosed, false, 'kiosk D kept its session');
    assert.equal(dashClosed, false, 'the dashboard kept its session');
    assert.equal(d.connected && dash.connected, true);
  });

  it('a kiosk cannot create retained alert topics of its own; the contract’s names pass', async () => {
    const a = await kiosk('k-a', 'k-a');
    for (let i = 0; i < 20; i++)
      await a
        .publishAsync(`kiosk/v1/k-a/alert/made_up_${i}`, 'x', { qos: 1, retain: true })
        .catch(() => undefined);
    await a.publishAsync('kiosk/v1/k-a/evt/made_up', 'x', { qos: 1, retain: true }).catch(() => undefined);
    await a.publishAsync('kiosk/v1/k-a/alert/paper_out', 'real', { qos: 1, retain: true });
    // a new subscriber gets the retained topics: only the contract's alert
    const late = await Observer.connect(`mqtt://127.0.0.1:${ports.backend}`, ['kiosk/v1/k-a/#'], {
      username: 'dashboard',
      password: 'pw-dash',
      reconnectPeriod: 0,
    });
    clients.push(late);
    await late.waitFor('paper_out', () => late.messages.find((m) => m.topic.endsWith('/alert/paper_out')));
    assert.deepEqual(
      late.messages.filter((m) => /\/(alert|evt)\//.test(m.topic)).map((m) => m.topic),
      ['kiosk/v1/k-a/alert/paper_out'],
    );
    await a.publishAsync('kiosk/v1/k-a/alert/paper_out', '', { qos: 1, retain: true });
  });
});
