/**
 * Operators in a real browser (Debian's chromium via playwright-core) against a real Mosquitto, the
 * SQLite store and a simulated kiosk: log in, see the history charts drawn, open a kiosk's own page,
 * send a command as an operator and see it succeed, be refused as a viewer, and see a forged request
 * (no CSRF token) and a DNS-rebinding name (evil.example mapped to 127.0.0.1) refused.
 */
import assert from 'node:assert/strict';

import { chromium, type Browser, type Page } from 'playwright-core';

import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, skipWithoutBrowserAndBroker } from './browser.js';
import { sqliteTarget } from './store-targets.js';

describe('dashboard accounts in a real browser', function () {
  this.timeout(60_000);
  const target = sqliteTarget();
  let broker: MosquittoBroker;
  let dash: Dashboard;
  let browser: Browser;
  let kiosk: SimKiosk;
  const pageErrors: string[] = [];
  const base = () => `http://127.0.0.1:${dash.port}`;

  async function loggedIn(username: string, password: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${base()}/`);
    await page.waitForURL(/\/login/);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#live[data-state="live"]');
    return page;
  }

  before(async function () {
    await skipWithoutBrowserAndBroker(this);
    broker = await startMosquitto();
    dash = await startDashboard({
      mqttUrl: broker.url,
      port: 0,
      waitForBroker: true,
      tickMs: 200,
      store: target.spec,
    });
    await dash.server.accounts!.addUser('olga', 'operator-password-1', 'operator');
    await dash.server.accounts!.addUser('victor', 'viewer-password-1', 'viewer');
    kiosk = new SimKiosk({ id: 'k-0501', url: broker.url, heartbeatS: 1 });
    await kiosk.start();
    await kiosk.sell(1250);
    await kiosk.sell(2000, 'topup');
    await dash.buffer!.drain();
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      // evil.example resolves to us, as a DNS-rebinding attacker's name would.
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP evil.example 127.0.0.1'],
    });
  });

  /** How the page shows an operator-only control (class `operator`) to the user logged in. */
  const operatorOnlyDisplay = (page: Page) =>
    // A string: the page's DOM, not Node's types.
    page.evaluate<string>(`(() => {
      const b = document.createElement('button');
      b.className = 'operator';
      document.body.append(b);
      const display = getComputedStyle(b).display;
      b.remove();
      return display;
    })()`);

  after(async () => {
    await kiosk?.drop();
    await browser?.close();
    await dash?.stop();
    await broker?.stop();
    await target.cleanup();
  });

  it('logs an operator in, draws the history, opens a kiosk page and runs a command', async () => {
    const page = await loggedIn('olga', 'operator-password-1');
    assert.equal(await page.locator('#user-name').innerText(), 'olga (operator)');
    assert.notEqual(
      await operatorOnlyDisplay(page),
      'none',
      'an operator is offered what only operators may do',
    );
    await page.waitForSelector('#fleet-chart[data-drawn="30"] canvas');
    assert.equal(await page.locator('#fleet-chart').getAttribute('data-sales-cents'), '1250');

    await page.click('.tile[data-kiosk="k-0501"]');
    await page.waitForURL(/\/kiosk\/k-0501$/);
    await page.waitForSelector('#kiosk-chart[data-drawn="30"] canvas');
    // Its own address: opened directly, the page shows that kiosk.
    await page.goto(`${base()}/kiosk/k-0501`);
    await page.waitForSelector('#detail[data-kiosk="k-0501"]:not([hidden])');
    await page.waitForSelector('#kiosk-chart[data-drawn="30"]');
    const csv = await page.locator('#kiosk-csv').getAttribute('href');
    assert.match(csv ?? '', /^\/api\/export\/\d{4}-\d{2}-\d{2}\.csv\?kiosk=k-0501$/);
    const text = await page.evaluate(async (href) => (await fetch(href!)).text(), csv);
    assert.match(text, /^day,kiosk,time_utc,event_id/);
    assert.match(text, /,k-0501,.*,transaction,sale,completed,1250,EUR,/);

    await page.click('#cmds button[data-cmd="ping"]');
    await page.waitForSelector('#cmd-log li[data-cmd-name="ping"][data-cmd-status="succeeded"]');
    const [stored] = await dash.store!.commands('k-0501');
    assert.deepEqual([stored?.name, stored?.operator, stored?.status], ['ping', 'olga', 'succeeded']);
    await page.context().close();
  });

  it('refuses a viewer the command, a forged request without the CSRF token, and a rebinding host', async () => {
    const page = await loggedIn('victor', 'viewer-password-1');
    // Not offered what only operators may do (settle a voucher or a release, unblock a slot) ...
    assert.equal(await operatorOnlyDisplay(page), 'none');
    // ... and the commands it is shown are refused by the server.
    await page.click('.tile[data-kiosk="k-0501"]');
    await page.waitForSelector('#detail[data-kiosk="k-0501"]:not([hidden])');
    await page.click('#cmds button[data-cmd="ping"]');
    await page.waitForSelector('#cmd-log li >> text=operators only');

    // A script that has the cookie but not the token (what a forged form or request would send).
    const forged = await page.evaluate(async () => {
      const res = await fetch('/api/kiosks/k-0501/cmd/ping', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      return res.status;
    });
    assert.equal(forged, 403);

    const rebound = await page.goto(`http://evil.example:${dash.port}/api/kiosks`);
    assert.equal(rebound?.status(), 421);
    assert.equal((await dash.store!.commands('k-0501')).filter((c) => c.operator === 'victor').length, 0);
    assert.deepEqual(pageErrors, []);
    await page.context().close();
  });

  it('changes the own password on the page: the current one asked, the old one dead, the page goes on', async () => {
    await dash.server.accounts!.addUser('petra', 'operator-password-2', 'operator');
    const page = await loggedIn('petra', 'operator-password-2');
    const msg = page.locator('#password-msg');
    await page.click('#password-open');
    await page.fill('#password-current', 'not-my-password');
    await page.fill('#password-new', 'petra-new-password-1');
    await page.fill('#password-repeat', 'petra-new-password-1');
    await page.click('#password-submit');
    await page.waitForSelector('#password-msg[data-state="error"]');
    assert.equal(await msg.innerText(), 'current password wrong');

    await page.fill('#password-current', 'operator-password-2');
    await page.fill('#password-repeat', 'petra-new-password-2');
    await page.click('#password-submit');
    await page.waitForSelector('#password-msg >> text=The two new passwords differ.');

    await page.fill('#password-repeat', 'petra-new-password-1');
    await page.click('#password-submit');
    await page.waitForSelector('#password-msg[data-state="ok"]');
    assert.match(await msg.innerText(), /Password changed/);
    await page.click('#password-cancel');

    const login = (password: string) =>
      fetch(`${base()}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'petra', password }),
      }).then((r) => r.status);
    assert.equal(await login('operator-password-2'), 401, 'the old password opens nothing');
    assert.equal(await login('petra-new-password-1'), 200);
    // This page got the new session and its CSRF token: a command still goes through.
    await page.click('.tile[data-kiosk="k-0501"]');
    await page.waitForSelector('#detail[data-kiosk="k-0501"]:not([hidden])');
    await page.click('#cmds button[data-cmd="ping"]');
    await page.waitForSelector('#cmd-log li[data-cmd-name="ping"][data-cmd-status="succeeded"]');
    assert.ok((await dash.store!.commands('k-0501')).some((c) => c.operator === 'petra'));
    assert.deepEqual(pageErrors, []);
    await page.context().close();
  });
});
