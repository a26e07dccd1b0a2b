/**
 * The operator's story in a real headless browser (Debian's chromium via playwright-core), against a
 * real Mosquitto and a simulated kiosk: the tile turns online, shows the sales, the paper alert, a
 * `maintenance` command pressed on the page reaches the kiosk and its answer is shown, and when the
 * kiosk is killed the tile turns `lost` after the Will Delay. Everything on the page arrives over SSE;
 * the test never reloads.
 */
import assert from 'node:assert/strict';

import { chromium, type Browser, type Page } from 'playwright-core';

import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, skipWithoutBrowserAndBroker } from './browser.js';

describe('dashboard in a real browser', function () {
  this.timeout(60_000);
  let broker: MosquittoBroker;
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;
  const kiosks: SimKiosk[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    await skipWithoutBrowserAndBroker(this);
    broker = await startMosquitto();
    dash = await startDashboard({ mqttUrl: broker.url, port: 0, waitForBroker: true, tickMs: 200 });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    page.setDefaultTimeout(10_000);
  });

  after(async () => {
    await Promise.all(kiosks.map((k) => k.drop()));
    await browser?.close();
    await dash?.stop();
    await broker?.stop();
  });

  it('follows a kiosk from online through sales, paper out and maintenance to lost', async () => {
    await page.goto(`http://127.0.0.1:${dash.port}/`);
    await page.waitForSelector('#live[data-state="live"]');

    const commands: { name: string; args: unknown }[] = [];
    const k = new SimKiosk({
      id: 'k-0201',
      url: broker.url,
      heartbeatS: 1,
      willDelayS: 2,
      onCommand: (name, payload) => commands.push({ name, args: (payload as { args?: unknown }).args }),
    });
    kiosks.push(k);
    await k.start();
    const tile = '.tile[data-kiosk="k-0201"]';
    await page.waitForSelector(`${tile}[data-status="online"]`);
    // The tile turns online on the retained state; the beat comes with the first health message, which the
    // broker may deliver a moment later (seen as '♥ never' on a loaded machine), so wait for it, then check it.
    await page.locator(`${tile} .beat`).filter({ hasNotText: 'never' }).waitFor();
    assert.match(await page.locator(`${tile} .beat`).innerText(), /♥ (just now|\d s ago)/);

    await k.sell(796);
    await k.sell(1204);
    await k.sell(2000, 'topup');
    await page.waitForSelector(`${tile} [data-sales="2000"]`);
    assert.equal(await page.locator(`${tile} .sales b`).innerText(), '20,00 €');
    assert.equal(await page.locator(`${tile} .topups b`).innerText(), '20,00 €');

    await k.setPaper('out');
    await page.waitForSelector(`${tile} .badge[data-alert="paper_out"]`);
    // The paper level comes with the health after the alert (a separate message, later on a loaded machine).
    await page.waitForSelector(`${tile} [data-paper="out"]`);
    assert.equal(await page.locator(`${tile} [data-paper]`).innerText(), 'paper out');

    await page.click(tile);
    await page.waitForSelector('#detail[data-kiosk="k-0201"]:not([hidden])');
    await page.waitForSelector('#detail-alerts li[data-alert="paper_out"]');
    await page.waitForSelector('#events tr >> text=top-up completed');
    await page.click('#cmds button[data-cmd="maintenance"][data-args=\'{"on":true}\']');
    const answer = page.locator('#cmd-log li[data-cmd-name="maintenance"][data-cmd-status="succeeded"]');
    await answer.waitFor();
    assert.match(await answer.innerText(), /state: maintenance/);
    assert.deepEqual(
      commands.filter((c) => c.name === 'maintenance'),
      [{ name: 'maintenance', args: { on: true } }],
    );
    await page.waitForSelector(`${tile}[data-status="maintenance"]`);

    const killedAt = Date.now();
    k.crash();
    await page.waitForSelector(`${tile}[data-status="lost"]`);
    const took = Date.now() - killedAt;
    assert.ok(took >= 1500, `lost only after the Will Delay, took ${took} ms`);
    await page.waitForSelector('#detail[data-status="lost"]');
    assert.equal(await page.locator('#detail-status').innerText(), 'Lost');
    assert.deepEqual(pageErrors, []);
  });
});
