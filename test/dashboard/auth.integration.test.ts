/**
 * Operator accounts over HTTP against a real Mosquitto and the real stores: nothing without a session,
 * roles (a viewer looks, an operator commands), CSRF and Origin checks on state-changing requests, the
 * Host allow-list against DNS rebinding, the login rate limit, and the audit log naming who did what.
 */
import assert from 'node:assert/strict';
import http from 'node:http';

import { hashPassword, verifyPassword } from '../../src/dashboard/auth.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { eventually } from './eventually.js';
import { authed, logIn } from './session.js';
import { STORE_TARGETS } from './store-targets.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

describe('dashboard passwords', () => {
  it('stores scrypt hashes that verify the right password only', async () => {
    const h = await hashPassword('correct horse battery');
    assert.match(h, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse battery', h), true);
    assert.equal(await verifyPassword('correct horse batterY', h), false);
    assert.notEqual(await hashPassword('correct horse battery'), h, 'salted');
  });
});

for (const makeTarget of STORE_TARGETS) {
  const target = makeTarget();
  describe(`dashboard accounts on ${target.name}`, function () {
    this.timeout(40_000);
    let broker: MosquittoBroker;
    let dash: Dashboard;
    let kiosk: SimKiosk;
    const base = () => `http://127.0.0.1:${dash.port}`;

    before(async function () {
      await needs(this, MOSQUITTO);
      broker = await startMosquitto();
      dash = await startDashboard({
        mqttUrl: broker.url,
        port: 0,
        waitForBroker: true,
        store: target.spec,
        ...(target.schema ? { storeSchema: target.schema } : {}),
      });
      const accounts = dash.server.accounts!;
      await accounts.addUser('olga', 'operator-password-1', 'operator');
      await accounts.addUser('victor', 'viewer-password-1', 'viewer');
      await accounts.addUser('ada', 'admin-password-1', 'admin');
      kiosk = new SimKiosk({ id: 'k-0401', url: broker.url, heartbeatS: 1 });
      await kiosk.start();
      await eventually('kiosk known', () => dash.model.has('k-0401'));
    });
    after(async () => {
      await kiosk?.drop();
      await dash?.stop();
      await broker?.stop();
      await target.cleanup();
    });

    it('answers nothing but the login without a session', async () => {
      assert.equal((await fetch(`${base()}/api/kiosks`)).status, 401);
      assert.equal((await fetch(`${base()}/api/stream`)).status, 401);
      const page = await fetch(`${base()}/login`);
      assert.equal(page.status, 200);
    });

    it('sets a Secure, HttpOnly, SameSite=Strict session cookie and refuses a wrong password', async () => {
      const res = await fetch(`${base()}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'olga', password: 'operator-password-1' }),
      });
      assert.equal(res.status, 200);
      const cookie = res.headers.get('set-cookie') ?? '';
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/'])
        assert.ok(cookie.includes(attr), `${attr} in ${cookie}`);
      const bad = await fetch(`${base()}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'olga', password: 'guess' }),
      });
      assert.equal(bad.status, 401);
      assert.equal(bad.headers.get('set-cookie'), null);
    });

    it('lets an operator command and refuses a viewer; CSRF and Origin checked', async () => {
      const olga = await logIn(base(), 'olga', 'operator-password-1');
      const victor = await logIn(base(), 'victor', 'viewer-password-1');
      const cmd = (headers: Record<string, string>) =>
        fetch(`${base()}/api/kiosks/k-0401/cmd/ping`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: '{}',
        });
      assert.equal((await fetch(`${base()}/api/kiosks`, { headers: authed(victor) })).status, 200);
      assert.equal((await cmd(authed(victor))).status, 403);
      assert.equal((await cmd({ Cookie: olga.cookie })).status, 403, 'no CSRF token');
      assert.equal((await cmd(authed(olga, { 'X-CSRF-Token': victor.csrf }))).status, 403, "another's token");
      assert.equal((await cmd(authed(olga, { Origin: 'http://evil.example' }))).status, 403, 'cross-site');
      const ok = await cmd(authed(olga, { Origin: base() }));
      assert.equal(ok.status, 202);
      const { cmdId } = (await ok.json()) as { cmdId: string };
      const stored = await eventually('answer stored', async () => {
        const [c] = await dash.store!.commands('k-0401');
        return c?.cmdId === cmdId && c.status === 'succeeded' ? c : undefined;
      });
      assert.equal(stored.operator, 'olga');
    });

    it('refuses a Host it does not know (DNS rebinding)', async () => {
      const olga = await logIn(base(), 'olga', 'operator-password-1');
      // fetch() cannot set Host; a plain request can, as a rebinding browser effectively does.
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const headers = authed(olga, { Host: host });
          http
            .get({ host: '127.0.0.1', port: dash.port, path: '/api/kiosks', headers }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        });
      assert.equal(await status(`evil.example:${dash.port}`), 421);
      assert.equal(await status(`localhost:${dash.port}`), 200);
    });

    it('keeps user management to admins and writes logins and commands to the audit log', async () => {
      const olga = await logIn(base(), 'olga', 'operator-password-1');
      const ada = await logIn(base(), 'ada', 'admin-password-1');
      const add = (s: typeof olga) =>
        fetch(`${base()}/api/users`, {
          method: 'POST',
          headers: authed(s, { 'Content-Type': 'application/json' }),
          body: JSON.stringify({ username: 'nina', password: 'nina-password-1', role: 'viewer' }),
        });
      assert.equal((await add(olga)).status, 403);
      assert.equal((await add(ada)).status, 201);
      await dash.buffer!.drain();
      const res = await fetch(`${base()}/api/audit`, { headers: authed(ada) });
      const { audit } = (await res.json()) as { audit: { username: string; action: string }[] };
      const seen = audit.map((a) => `${a.username} ${a.action}`);
      for (const line of ['olga login', 'olga login failed', 'olga command ping', 'ada user add'])
        assert.ok(seen.includes(line), `${line} in ${seen.join(', ')}`);
    });

    it('rate-limits failed logins per user name', async () => {
      const attempt = () =>
        fetch(`${base()}/api/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'ada', password: 'wrong-wrong' }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await attempt()).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
      const locked = await fetch(`${base()}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'ada', password: 'admin-password-1' }),
      });
      assert.equal(locked.status, 429, 'even the right password waits out the window');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
    });
  });
}
