/**
 * Operator accounts over HTTP against a real Mosquitto and the real stores: nothing without a session,
 * roles (a viewer looks, an operator commands), CSRF and Origin checks on state-changing requests, the
 * Host allow-list against DNS rebinding, the login rate limit, and the audit log naming who did what.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';

import sinon from 'sinon';

import { Accounts, hashPassword, verifyPassword } from '../../src/dashboard/auth.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { eventually } from './eventually.js';
import { authed, logIn } from './session.js';
import { postgresTarget, sqliteTarget, STORE_TARGETS } from './store-targets.js';
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
      const [sent] = await dash.store!.all(
        "SELECT ip FROM audit WHERE username = 'olga' AND action = 'command ping'",
      );
      assert.equal(sent?.ip, '127.0.0.1', 'a command is audited with the address it came from');
      for (const line of [
        'olga login',
        'olga login failed',
        'olga command ping',
        'ada user add',
        // The refusals of the test before: who tried what.
        'victor command ping refused (role viewer)',
        'olga POST /api/kiosks/k-0401/cmd/ping refused (CSRF token)',
        'olga POST /api/kiosks/k-0401/cmd/ping refused (cross-site)',
      ])
        assert.ok(seen.includes(line), `${line} in ${seen.join(', ')}`);
    });

    it('ends every session and live stream of a user whose password changed or who was disabled', async () => {
      await dash.server.accounts!.addUser('paula', 'paula-password-1', 'operator');
      const paula = await logIn(base(), 'paula', 'paula-password-1');
      const ada = await logIn(base(), 'ada', 'admin-password-1');
      const streamEnds = async (s: typeof paula): Promise<() => Promise<boolean>> => {
        const res = await fetch(`${base()}/api/stream`, { headers: authed(s) });
        assert.equal(res.status, 200);
        const reader = res.body!.getReader();
        await reader.read(); // the retry line: the stream is open
        return async () => {
          for (;;) {
            const r = await Promise.race([
              reader.read(),
              new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 3000)),
            ]);
            if (r === 'open') return false;
            if (r.done) return true;
          }
        };
      };
      const password = (s: typeof paula, body: unknown) =>
        fetch(`${base()}/api/password`, {
          method: 'POST',
          headers: authed(s, { 'Content-Type': 'application/json' }),
          body: JSON.stringify(body),
        });
      const loginStatus = async (username: string, pw: string) =>
        (
          await fetch(`${base()}/api/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username, password: pw }),
          })
        ).status;

      const ended = await streamEnds(paula);
      const other = await logIn(base(), 'paula', 'paula-password-1'); // a second browser
      assert.equal(
        (await password(paula, { current: 'wrong-password', password: 'paula-password-2' })).status,
        403,
      );
      assert.equal((await fetch(`${base()}/api/kiosks`, { headers: authed(paula) })).status, 200, 'still in');
      const changed = await password(paula, { current: 'paula-password-1', password: 'paula-password-2' });
      assert.equal(changed.status, 200);
      assert.equal(await ended(), true, 'the stream of the old session ended');
      assert.equal((await fetch(`${base()}/api/kiosks`, { headers: authed(paula) })).status, 401);
      assert.equal(
        (await fetch(`${base()}/api/kiosks`, { headers: authed(other) })).status,
        401,
        'other browser out',
      );
      const fresh = {
        cookie: (changed.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
        csrf: ((await changed.json()) as { csrf: string }).csrf,
        role: 'operator',
      };
      assert.equal(
        (await fetch(`${base()}/api/kiosks`, { headers: authed(fresh) })).status,
        200,
        'new cookie',
      );
      assert.equal(await loginStatus('paula', 'paula-password-1'), 401);

      const endedToo = await streamEnds(fresh);
      const update = (s: typeof paula, name: string, body: unknown) =>
        fetch(`${base()}/api/users/${name}`, {
          method: 'POST',
          headers: authed(s, { 'Content-Type': 'application/json' }),
          body: JSON.stringify(body),
        });
      assert.equal((await update(fresh, 'victor', { disabled: true })).status, 403, 'admins only');
      assert.equal((await update(ada, 'ada', { disabled: true })).status, 400, 'not oneself');
      assert.equal((await update(ada, 'paula', { disabled: true })).status, 200);
      assert.equal(await endedToo(), true, 'the disabled user’s stream ended');
      assert.equal((await fetch(`${base()}/api/kiosks`, { headers: authed(fresh) })).status, 401);
      assert.equal(await loginStatus('paula', 'paula-password-2'), 401);
      assert.equal((await update(ada, 'paula', { disabled: false })).status, 200);
      assert.equal(await loginStatus('paula', 'paula-password-2'), 200);

      await dash.buffer!.drain();
      const { audit } = (await (await fetch(`${base()}/api/audit`, { headers: authed(ada) })).json()) as {
        audit: { username: string; action: string }[];
      };
      const seen = audit.map((a) => `${a.username} ${a.action}`);
      for (const line of [
        'paula password change failed',
        'paula password change',
        'ada user disable',
        'ada user enable',
      ])
        assert.ok(seen.includes(line), `${line} in ${seen.join(', ')}`);
    });

    it('ends a live stream at logout', async () => {
      const victor = await logIn(base(), 'victor', 'viewer-password-1');
      const res = await fetch(`${base()}/api/stream`, { headers: authed(victor) });
      const reader = res.body!.getReader();
      await reader.read();
      const out = await fetch(`${base()}/api/logout`, { method: 'POST', headers: authed(victor) });
      assert.equal(out.status, 200);
      const done = await Promise.race([
        (async () => {
          for (;;) if ((await reader.read()).done) return true;
        })(),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000)),
      ]);
      assert.equal(done, true, 'a logged-out page gets no more fleet data');
    });

    it("shows a merchant's user only that merchant's kiosks: tiles, stream, detail, commands, history and CSV", async () => {
      const alpha = new SimKiosk({ id: 'k-0501', url: broker.url, heartbeatS: 1, tenant: 'alpha' });
      const beta = new SimKiosk({ id: 'k-0502', url: broker.url, heartbeatS: 1, tenant: 'beta' });
      await alpha.start();
      await beta.start();
      try {
        await eventually('births stored', async () => {
          const rows = await dash.store!.kiosks();
          return rows.filter((k) => k.tenant === 'alpha' || k.tenant === 'beta').length === 2;
        });
        await alpha.sell(250);
        await beta.sell(990);
        await beta.sell(110);
        await eventually(
          'sales stored',
          async () => (await dash.store!.ledgerOfDay(dash.model.dayOf(Date.now()))).length >= 3,
        );
        const accounts = dash.server.accounts!;
        await assert.rejects(
          accounts.addUser('root2', 'admin-password-2', 'admin', Date.now(), 'alpha'),
          /no tenant/,
        );
        await accounts.addUser('amy', 'amy-password-1', 'viewer', Date.now(), 'alpha');
        await accounts.addUser('otto', 'otto-password-1', 'operator', Date.now(), 'alpha');
        const amy = await logIn(base(), 'amy', 'amy-password-1');
        const otto = await logIn(base(), 'otto', 'otto-password-1');
        const olga = await logIn(base(), 'olga', 'operator-password-1');
        const get = (s: typeof amy, path: string) => fetch(`${base()}${path}`, { headers: authed(s) });
        const ids = async (s: typeof amy) =>
          ((await (await get(s, '/api/kiosks')).json()) as { kiosks: { id: string }[] }).kiosks.map(
            (k) => k.id,
          );

        assert.deepEqual(await ids(amy), ['k-0501']);
        assert.deepEqual(await ids(olga), ['k-0401', 'k-0501', 'k-0502'], 'an unscoped user sees all');
        assert.equal((await get(amy, '/api/kiosks/k-0501')).status, 200);
        assert.equal((await get(amy, '/api/kiosks/k-0502')).status, 404, "another merchant's");
        assert.equal((await get(amy, '/api/kiosks/k-0401')).status, 404, 'a kiosk naming no merchant');
        const ping = (s: typeof amy, id: string) =>
          fetch(`${base()}/api/kiosks/${id}/cmd/ping`, {
            method: 'POST',
            headers: authed(s, { 'Content-Type': 'application/json' }),
            body: '{}',
          });
        assert.equal((await ping(otto, 'k-0502')).status, 404);
        assert.equal((await ping(otto, 'k-0501')).status, 202);

        type Day = { salesCount: number; salesCents: number };
        const today = async (s: typeof amy, q = '') =>
          ((await (await get(s, `/api/history?days=1${q}`)).json()) as { days: Day[] }).days[0];
        assert.deepEqual(
          [(await today(amy))?.salesCount, (await today(amy))?.salesCents],
          [1, 250],
          "the fleet chart: this merchant's sales only",
        );
        assert.ok(((await today(olga))?.salesCents ?? 0) >= 1350);
        assert.equal((await get(amy, '/api/history?days=1&kiosk=k-0502')).status, 404);
        const day = dash.model.dayOf(Date.now());
        const csv = await (await get(amy, `/api/export/${day}.csv`)).text();
        const kiosks = new Set(
          csv
            .trim()
            .split('\r\n')
            .slice(1)
            .map((l) => l.split(',')[1]),
        );
        assert.deepEqual([...kiosks], ['k-0501']);
        assert.equal((await get(amy, `/api/export/${day}.csv?kiosk=k-0502`)).status, 404);

        // The live stream: the snapshot and later tiles of this merchant's kiosks only.
        const res = await get(amy, '/api/stream');
        const reader = res.body!.getReader();
        let text = '';
        while (!text.includes('event: snapshot'))
          text += new TextDecoder().decode((await reader.read()).value);
        const snap = /event: snapshot\ndata: (.*)\n/.exec(text)?.[1] ?? '';
        assert.deepEqual(
          (JSON.parse(snap) as { kiosks: { id: string }[] }).kiosks.map((k) => k.id),
          ['k-0501'],
        );
        for (let i = 0; i < 3; i++) text += new TextDecoder().decode((await reader.read()).value);
        assert.ok(!text.includes('k-0502') && !text.includes('k-0401'), 'no other kiosk in the stream');
        await reader.cancel();

        const ada = await logIn(base(), 'ada', 'admin-password-1');
        await dash.buffer!.drain();
        const { audit } = (await (await get(ada, '/api/audit')).json()) as {
          audit: { username: string; action: string; kiosk_id?: string; kioskId?: string }[];
        };
        assert.ok(
          audit.some((a) => a.username === 'otto' && a.action === 'command ping refused (another merchant)'),
          'the attempt on another merchant’s kiosk is in the audit log',
        );
      } finally {
        await alpha.drop();
        await beta.drop();
      }
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

const login = (base: string, username: string, password: string) =>
  fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });

/** A live stream, and whether the server has ended it. */
async function openStream(base: string, headers: Record<string, string>) {
  const res = await fetch(`${base}/api/stream`, { headers });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const s = { ended: false };
  void (async () => {
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
    s.ended = true;
  })();
  return s;
}

describe('dashboard login limit shared by two workers on one PostgreSQL', function () {
  this.timeout(60_000);
  const target = postgresTarget();
  let broker: MosquittoBroker;
  const dashes: Dashboard[] = [];
  const base = (i: number) => `http://127.0.0.1:${dashes[i]!.port}`;

  before(async function () {
    await needs(this, MOSQUITTO);
    broker = await startMosquitto();
    for (const i of [0, 1])
      dashes.push(
        await startDashboard({
          mqttUrl: broker.url,
          port: 0,
          waitForBroker: true,
          store: target.spec,
          storeSchema: target.schema!,
          clientId: `limit-${process.pid}-${i}`,
        }),
      );
    await dashes[0]!.server.accounts!.addUser('olga', 'operator-password-1', 'operator');
    await dashes[0]!.server.accounts!.addUser('piet', 'operator-password-2', 'operator');
  });
  after(async () => {
    sinon.restore();
    for (const d of dashes) await d.stop();
    await broker?.stop();
    await target.cleanup();
  });

  it('counts failures at one worker at the other too (5 per user name, not 5 per worker)', async () => {
    const statuses: number[] = [];
    for (const i of [0, 0, 0, 1, 1, 1, 0])
      statuses.push((await login(base(i), 'olga', 'wrong-wrong')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    const right = await login(base(1), 'olga', 'operator-password-1');
    assert.equal(right.status, 429, 'the right password waits out the window at either worker');
    assert.ok(Number(right.headers.get('retry-after')) > 14 * 60, right.headers.get('retry-after') ?? '');
  });

  it('lets no burst of parallel guesses past the limit while the hashes run', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login(base(i % 2), 'piet', 'wrong-wrong').then((r) => r.status)),
    );
    // Per worker in memory, each of the 12 was checked before any failure was counted: 12 times 401.
    const tried = statuses.filter((s) => s === 401).length;
    assert.ok(tried >= 1 && tried <= 5, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 12 - tried, statuses.join(' '));
  });

  it('refuses a login (503) when the store that counts the failures does not answer', async () => {
    const db = dashes[0]!.store!.db;
    sinon.stub(db, 'batch').rejects(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    try {
      const res = await login(base(0), 'nobody', 'wrong-wrong');
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: string }).error, /store does not answer/);
    } finally {
      sinon.restore();
    }
  });
});

describe('dashboard session idle timeout (fake clock)', function () {
  this.timeout(40_000);
  const target = sqliteTarget();
  let broker: MosquittoBroker;
  let dash: Dashboard;
  let clock: sinon.SinonFakeTimers;
  const base = () => `http://127.0.0.1:${dash.port}`;
  const MIN = 60_000;

  before(async function () {
    await needs(this, MOSQUITTO);
    broker = await startMosquitto();
    // Only Date: the sockets and the broker keep their real timers.
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    dash = await startDashboard({ mqttUrl: broker.url, port: 0, waitForBroker: true, store: target.spec });
    await dash.server.accounts!.addUser('olga', 'operator-password-1', 'operator');
    await dash.server.accounts!.addUser('victor', 'viewer-password-1', 'viewer');
  });
  after(async () => {
    clock?.restore();
    await dash?.stop();
    await broker?.stop();
    await target.cleanup();
  });

  it("ends a session 30 minutes after its user's last request, and its live stream; a viewer's open page stays", async () => {
    const olga = await logIn(base(), 'olga', 'operator-password-1');
    const victor = await logIn(base(), 'victor', 'viewer-password-1');
    const olgaStream = await openStream(base(), authed(olga));
    const victorStream = await openStream(base(), authed(victor));
    const kiosks = (s: typeof olga, more: Record<string, string> = {}) =>
      fetch(`${base()}/api/kiosks`, { headers: authed(s, more) }).then((r) => r.status);
    const step = async (minutes: number) => {
      clock.tick(minutes * MIN);
      await dash.server.sweepSessions();
    };

    await step(20);
    assert.equal(await kiosks(olga), 200, 'her own request: active at minute 20');
    await step(10);
    // The page's refresh on a live update is not hers: it answers, but does not keep her session.
    assert.equal(await kiosks(olga, { 'X-Dashboard-Background': '1' }), 200);
    await step(10);
    await step(9);
    assert.equal(olgaStream.ended, false, 'minute 49: 29 minutes idle');
    await step(1);
    await eventually('the idle operator’s stream ended', () => olgaStream.ended);
    assert.equal(await kiosks(olga), 401, 'minute 50: 30 minutes after her last request');
    assert.equal(victorStream.ended, false, "the viewer's wall screen keeps streaming");
    assert.equal(await kiosks(victor), 200);
  });
});

describe('dashboard user command line', function () {
  this.timeout(60_000);
  it('asks for the password on a terminal without echoing it', async () => {
    const target = sqliteTarget();
    const cmd = `${process.execPath} --import tsx src/dashboard/server.ts user add tina --role admin --store ${target.spec}`;
    try {
      // script(1) gives the command a terminal; the password is typed once the prompt is there.
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        const before = out;
        out += c.toString();
        if (!before.includes('password (') && out.includes('password ('))
          child.stdin.write('typed-secret-42\r');
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, out);
      assert.match(out, /user tina \(admin\) added/);
      assert.ok(!out.includes('typed-secret-42'), `the password was echoed: ${JSON.stringify(out)}`);
      const store = await target.open();
      try {
        assert.equal(await new Accounts(store).check('tina', 'typed-secret-42'), 'admin');
      } finally {
        await store.close();
      }
    } finally {
      await target.cleanup();
    }
  });

  it('adds the first admin, changes a password, disables and enables, and lists', async () => {
    const target = sqliteTarget();
    const run = (args: string[], password?: string) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/dashboard/server.ts', 'user', ...args, '--store', target.spec],
        {
          encoding: 'utf8',
          env: { ...process.env, ...(password ? { DASHBOARD_PASSWORD: password } : {}) },
        },
      );
    try {
      const add = run(['add', 'ada', '--role', 'admin'], 'first-admin-pw');
      assert.equal(add.status, 0, add.stderr);
      assert.equal(run(['passwd', 'ada'], 'second-admin-pw').status, 0);
      assert.equal(run(['passwd', 'nobody'], 'second-admin-pw').status, 1, 'unknown user');
      assert.equal(run(['disable', 'ada']).status, 0);
      assert.match(run(['list']).stdout, /^ada\tadmin\tdisabled$/m);
      const store = await target.open();
      try {
        const accounts = new Accounts(store);
        assert.equal(await accounts.check('ada', 'second-admin-pw'), undefined, 'disabled');
        await accounts.setDisabled('ada', false);
        assert.equal(await accounts.check('ada', 'first-admin-pw'), undefined, 'old password');
        assert.equal(await accounts.check('ada', 'second-admin-pw'), 'admin');
      } finally {
        await store.close();
      }
    } finally {
      await target.cleanup();
    }
  });
});
