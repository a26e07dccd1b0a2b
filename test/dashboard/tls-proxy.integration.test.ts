/**
 * docs/dashboard.md's TLS example, run as written: the nginx block is read from the doc (only its
 * ports, certificate paths and the dashboard's port are replaced), nginx terminates TLS with a
 * self-signed certificate for fleet.example.com, and the dashboard behind it runs with
 * `--allowed-host fleet.example.com --trust-proxy`. A browser's story through it: the page, the
 * plain-HTTP redirect, the login with its Secure cookie and HSTS, a command with its CSRF token, the
 * live stream unbuffered, and the login limit's client address from the proxy, not from a header the
 * client made up.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { freePort } from '../../src/harness/kiosk-process.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { needs, MOSQUITTO, NGINX, OPENSSL } from '../support/real-parts.js';
import { eventually } from './eventually.js';

const HOST = 'fleet.example.com';

/** The doc's nginx example, with this run's ports and files. */
function nginxFromDoc(
  doc: string,
  o: { tls: number; plain: number; dashboard: number; dir: string },
): string {
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/dashboard.md has an nginx example');
  const servers = block
    .replace('listen 443 ssl', `listen ${o.tls} ssl`)
    .replace('listen 80;', `listen ${o.plain};`)
    .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${o.dir}/cert.pem;`)
    .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${o.dir}/key.pem;`)
    .replaceAll('127.0.0.1:8090', `127.0.0.1:${o.dashboard}`);
  assert.ok(!/listen 443|listen 80;|letsencrypt|:8090/.test(servers), 'every placeholder replaced');
  return [
    'worker_processes 1;',
    `pid ${o.dir}/nginx.pid;`,
    `error_log ${o.dir}/error.log;`,
    'events {}',
    'http {',
    `  access_log off; client_body_temp_path ${o.dir}/body; proxy_temp_path ${o.dir}/proxy;`,
    servers,
    '}',
  ].join('\n');
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('dashboard behind the documented TLS proxy (nginx, real Mosquitto)', function () {
  this.timeout(60_000);
  let dir: string;
  let broker: MosquittoBroker;
  let dash: Dashboard;
  let nginx: ChildProcess | undefined;
  let kiosk: SimKiosk;
  let tls = 0;
  let plain = 0;
  let ca: Buffer;

  /** A request as a browser at https://fleet.example.com makes it (SNI and Host), trusting the test's cert. */
  const req = (
    method: string,
    p: string,
    headers: Record<string, string> = {},
    body?: string,
    until?: (text: string) => boolean,
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const r = https.request(
        {
          host: '127.0.0.1',
          port: tls,
          servername: HOST,
          ca,
          method,
          path: p,
          headers: { Host: HOST, ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
            if (until?.(text)) {
              res.destroy();
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
            }
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      r.on('error', reject);
      r.end(body);
    });

  before(async function () {
    await needs(this, MOSQUITTO, NGINX, OPENSSL);
    dir = mkdtempSync(path.join(os.tmpdir(), 'dash-tls-'));
    const cert = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST}`,
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cert.status, 0, cert.stderr);
    ca = readFileSync(`${dir}/cert.pem`);
    broker = await startMosquitto();
    const port = await freePort();
    dash = await startDashboard({
      mqttUrl: broker.url,
      port,
      waitForBroker: true,
      store: path.join(dir, 'dashboard.sqlite'),
      // What `--allowed-host fleet.example.com --trust-proxy` gives.
      allowedHosts: ['127.0.0.1', 'localhost', '[::1]', HOST],
      trustProxy: true,
    });
    await dash.server.accounts!.addUser('olga', 'operator-password-1', 'operator');
    kiosk = new SimKiosk({ id: 'k-0701', url: broker.url, heartbeatS: 1 });
    await kiosk.start();
    await eventually('kiosk known', () => dash.model.has('k-0701'));
    [tls, plain] = [await freePort(), await freePort()];
    const doc = readFileSync(new URL('../../docs/dashboard.md', import.meta.url), 'utf8');
    writeFileSync(`${dir}/nginx.conf`, nginxFromDoc(doc, { tls, plain, dashboard: port, dir }));
    const nginxBin = spawnSync('sh', ['-c', 'command -v nginx || echo /usr/sbin/nginx'], {
      encoding: 'utf8',
    }).stdout.trim();
    nginx = spawn(nginxBin, ['-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: 'ignore' });
    await eventually(
      'nginx answers',
      async () => (await req('GET', '/login').catch(() => undefined))?.status === 200,
    );
  });

  after(async () => {
    nginx?.kill('SIGTERM');
    await kiosk?.drop();
    await dash?.stop();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page over TLS, redirects plain HTTP, logs in, commands, streams and sees the real client address', async () => {
    const page = await req('GET', '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['strict-transport-security'], 'max-age=31536000');

    const redirect = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port: plain, path: '/kiosk/k-0701', headers: { Host: HOST } }, resolve)
        .on('error', reject),
    );
    redirect.resume();
    assert.equal(redirect.statusCode, 301);
    assert.equal(redirect.headers.location, `https://${HOST}/kiosk/k-0701`);

    // A client that makes up its address: the proxy's X-Forwarded-For replaces it.
    const login = await req(
      'POST',
      '/api/login',
      { 'Content-Type': 'application/json', Origin: `https://${HOST}`, 'X-Forwarded-For': '203.0.113.66' },
      JSON.stringify({ username: 'olga', password: 'operator-password-1' }),
    );
    assert.equal(login.status, 200, login.body);
    const setCookie = String(login.headers['set-cookie'] ?? '');
    for (const attr of ['Secure', 'HttpOnly', 'SameSite=Strict'])
      assert.ok(setCookie.includes(attr), setCookie);
    const cookie = setCookie.split(';')[0]!;
    const { csrf } = JSON.parse(login.body) as { csrf: string };

    const list = await req('GET', '/api/kiosks', { Cookie: cookie });
    assert.deepEqual(
      (JSON.parse(list.body) as { kiosks: { id: string }[] }).kiosks.map((k) => k.id),
      ['k-0701'],
    );
    const cmd = (headers: Record<string, string>) =>
      req(
        'POST',
        '/api/kiosks/k-0701/cmd/ping',
        { Cookie: cookie, 'Content-Type': 'application/json', Origin: `https://${HOST}`, ...headers },
        '{}',
      );
    assert.equal((await cmd({ 'X-CSRF-Token': csrf })).status, 202);
    assert.equal((await cmd({})).status, 403, 'no CSRF token');

    // The stream through the proxy: the snapshot, then a live tile update (not held in a buffer).
    const stream = await req('GET', '/api/stream', { Cookie: cookie }, undefined, (t) =>
      /event: snapshot[\s\S]*event: kiosks/.test(t),
    );
    assert.equal(stream.status, 200);
    assert.match(stream.body, /event: kiosks\ndata: .*k-0701/);

    await dash.buffer!.drain();
    const [row] = await dash.store!.all("SELECT ip FROM audit WHERE username = 'olga' AND action = 'login'");
    assert.equal(row?.ip, '127.0.0.1', 'the address nginx saw, not the one the client sent');
  });
});
