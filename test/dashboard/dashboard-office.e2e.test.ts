/**
 * The back-office views in a real browser (Debian's chromium via playwright-core) against a real
 * Mosquitto and the SQLite store: the kiosk's name from its birth on the tile and the page, the weekly
 * chart, the cash box with its fill estimate, the share of time in service, stock per slot and the
 * hopper from health, open vouchers when the kiosk reports them, and the commands that settle a release
 * in doubt or unblock a slot. History (samples and sales of the
 * past weeks) is written into the store as the ingest would have; today's kiosk talks over the broker.
 */
import assert from 'node:assert/strict';

import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';

import { decode } from '../../src/dashboard/messages.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { storeOpsFor } from '../../src/dashboard/store/ops.js';
import {
  birthMessage,
  cmdresMessage,
  emptyCounters,
  healthMessage,
  newCondition,
  transactionEvent,
  voucherEvent,
} from '../../src/fleet-sim/payloads.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, skipWithoutBrowserAndBroker } from './browser.js';
import { eventually } from './eventually.js';
import { sqliteTarget } from './store-targets.js';

const DAY = 86_400_000;
const ID = 'k-0601';

describe('dashboard back-office views in a real browser', function () {
  this.timeout(60_000);
  const target = sqliteTarget();
  let broker: MosquittoBroker;
  let dash: Dashboard;
  let browser: Browser;
  let pub: MqttClient;
  const pageErrors: string[] = [];

  /** Stores a message as if it had arrived at `at` (the history before this test's dashboard ran). */
  async function storedAt(topic: string, body: unknown, at: number, sample = false): Promise<void> {
    const d = decode(topic, Buffer.from(JSON.stringify(body)));
    assert.ok(d.ok, d.ok ? '' : d.reason);
    await dash.store!.writeNow(
      storeOpsFor(d.msg, {
        receivedAt: at,
        dayOf: (ms) => dash.model.dayOf(ms),
        sampleHealth: sample,
        recordCollection: sample,
      }),
    );
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
      auth: false,
      cashBoxCapacityCents: 50_000,
    });
    const now = Date.now();
    const c = newCondition(ID, { heartbeatS: 5 });
    const collected = now - 3 * DAY;
    const withBox = (ts: number, cents: number, collection = collected) => {
      const m = healthMessage(c, ts);
      m.counters = {
        sinceInstall: c.lifetime,
        sinceCollection: { ...emptyCounters(), cashIn: { count: 1, cents } },
        lastCollectionTs: collection,
        // The collection before: 10 cents short of the books.
        lastCollection:
          collection === collected
            ? { ts: collected, countedCents: 31_990, expectedCents: 32_000 }
            : { ts: collection, countedCents: 25_000, expectedCents: 25_000 },
      };
      return m;
    };
    // An earlier collection, as a health of back then told it.
    await storedAt(`kiosk/v1/${ID}/health`, withBox(now - 9 * DAY, 100, now - 10 * DAY), now - 9 * DAY, true);
    // Two days ago 40 €, yesterday 80 € in the box: 40 € a day.
    for (const [ago, cents] of [
      [2, 4000],
      [1, 8000],
    ] as const) {
      await storedAt(`kiosk/v1/${ID}/health`, withBox(now - ago * DAY, cents), now - ago * DAY, true);
    }
    // Sales of past weeks: only the weekly chart shows all of them.
    for (const [ago, cents] of [
      [45, 700],
      [20, 500],
      [10, 1000],
    ] as const)
      await storedAt(
        `kiosk/v1/${ID}/evt/transaction`,
        transactionEvent(c, now - ago * DAY, 'sale', cents),
        now - ago * DAY,
      );

    // Today, live over the broker: its name in the birth, slots, hopper and vouchers in the health.
    pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const health = withBox(Date.now(), 12_000);
    health.devices = {
      ...health.devices,
      slots: {
        health: 'degraded',
        status: 'A1 3, A2 0 blocked',
        stock: { A1: 3, A2: 0 },
        blocked: { A2: 'jammed' },
        releasesInDoubt: 1,
      },
      hopper: { health: 'ok', status: 'ok', coinCents: 50, coins: 40, bookedCoins: 12, lowAt: 20 },
    };
    Object.assign(health.counters, { openVouchers: { count: 2, cents: 350 } });
    await pub.publishAsync(
      `kiosk/v1/${ID}/birth`,
      JSON.stringify({ ...birthMessage(c, Date.now()), kioskName: 'Bahnhof Süd' }),
      { qos: 1, retain: true },
    );
    await pub.publishAsync(`kiosk/v1/${ID}/health`, JSON.stringify(health), { qos: 0, retain: true });
    await eventually('the live health', () => dash.model.detail(ID, Date.now())?.health?.devices.hopper);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await pub?.endAsync();
    await browser?.close();
    await dash?.stop();
    await broker?.stop();
    await target.cleanup();
  });

  /** A page that accepts every confirmation and keeps its texts. */
  async function confirmingPage(): Promise<{ page: Page; dialogs: string[] }> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    return { page, dialogs };
  }

  const fact = (page: Page, label: string) =>
    page.locator('#facts dt', { hasText: label }).locator('xpath=following-sibling::dd[1]');

  it('shows name, weekly chart, cash box estimate, time in service, stock, hopper and open vouchers', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${dash.port}/`);
    await page.waitForSelector(`.tile[data-kiosk="${ID}"] .tile-name:text-is("Bahnhof Süd")`);

    // Fleet chart: 30 days hold two of the three past sales; 12 weeks hold all three.
    await page.waitForSelector('#fleet-chart[data-drawn="30"][data-unit="day"] canvas');
    assert.equal(await page.locator('#fleet-chart').getAttribute('data-sales-cents'), '1500');
    await page.click('button[data-chart="fleet-chart"][data-span="week"]');
    await page.waitForSelector('#fleet-chart[data-drawn="12"][data-unit="week"] canvas');
    assert.equal(await page.locator('#fleet-chart').getAttribute('data-sales-cents'), '2200');

    await page.goto(`http://127.0.0.1:${dash.port}/kiosk/${ID}`);
    await page.waitForSelector('#detail-name:text-is("Bahnhof Süd")');
    await page.click('button[data-chart="kiosk-chart"][data-span="week"]');
    await page.waitForSelector('#kiosk-chart[data-drawn="12"][data-unit="week"] canvas');
    assert.equal(await page.locator('#kiosk-chart').getAttribute('data-sales-cents'), '2200');

    await fact(page, 'Cash box').waitFor();
    const box = await fact(page, 'Cash box').innerText();
    // 120 € of 500 €, 40 € a day: full in about 9.5 days.
    assert.match(box, /^120,00 € of 500,00 € \(24 %\), 40,00 €\/day, full in about (9|10) d/);
    assert.match(await fact(page, 'In service').innerText(), /^\d+\.\d % since /);
    assert.equal(await fact(page, 'Open vouchers').innerText(), '2 (3,50 €)');
    // Each collection once (every health repeats the last one), newest first, a difference marked.
    const collections = page.locator('#collections li');
    assert.equal(await collections.count(), 2);
    assert.match(await collections.nth(0).innerText(), /: counted 319,90 €, expected 320,00 € \(-0,10 €\)$/);
    assert.equal(await collections.nth(0).getAttribute('class'), 'mismatch');
    assert.match(await collections.nth(1).innerText(), /: counted 250,00 €, expected 250,00 €$/);

    await page.waitForSelector('#vend:not([hidden])');
    assert.equal(await page.locator('#vend tr[data-slot="A1"] td[data-stock]').innerText(), '3');
    assert.match(await page.locator('#vend tr[data-slot="A2"]').innerText(), /blocked \(jammed\)/);
    await page.waitForSelector('#vend-hopper[data-coins="40"]');
    assert.match(
      await page.locator('#vend-hopper').innerText(),
      /40 × 0,50 € = 20,00 €.*1 release\(s\) in doubt/,
    );
    // The kiosk's books (issue 15): 12 coins, at or below lowAt 20.
    await page.waitForSelector('#vend-hopper[data-booked="12"][data-level="low"].fault');
    assert.match(await page.locator('#vend-hopper').innerText(), /books: 12 × 0,50 € = 6,00 € \(low\)/);
    assert.deepEqual(pageErrors, []);
    await page.context().close();
  });

  it('finds a voucher by its short id, pays it out at the office with a confirmation: pending until the kiosk answers, then settled', async () => {
    const c = newCondition('k-0602');
    const ref = 'k-0602.QX7MD2KA';
    const cmds: { topic: string; cmdId: string; args: unknown }[] = [];
    await pub.subscribeAsync('kiosk/v1/k-0602/cmd/+', { qos: 1 });
    pub.on('message', (topic, payload) => {
      if (topic.includes('/cmd/'))
        cmds.push({ topic, ...(JSON.parse(payload.toString()) as { cmdId: string; args: unknown }) });
    });
    await pub.publishAsync('kiosk/v1/k-0602/birth', JSON.stringify(birthMessage(c, Date.now())), {
      qos: 1,
      retain: true,
    });
    await pub.publishAsync(
      'kiosk/v1/k-0602/evt/voucher',
      JSON.stringify(voucherEvent(c, Date.now(), 'issued', 120, ref)),
      { qos: 1 },
    );
    await eventually(
      'the voucher in the store',
      async () => (await dash.store!.voucher('k-0602', ref))?.status === 'open',
    );

    const { page, dialogs } = await confirmingPage();
    await page.goto(`http://127.0.0.1:${dash.port}/`);
    // What the fleet owes: every open voucher, with the sum.
    await page.click('#voucher-open');
    await page.waitForSelector(`#voucher-list li[data-ref="${ref}"]`);
    assert.equal(await page.locator('#voucher-open-sum').innerText(), '1 open, 1,20 € owed');
    await page.fill('#voucher-ref', 'QX7M-D2KA');
    await page.click('#voucher-find button[type="submit"]');
    const row = page.locator(`#voucher-list li[data-ref="${ref}"]`);
    await row.locator('b:text-is("open")').waitFor();
    await row.locator('button', { hasText: 'Paid out at the office' }).click();
    await page.waitForSelector(`#voucher-list li[data-ref="${ref}"][data-state="pending"]`);
    assert.match(await row.innerText(), /settlement pending .*do not pay yet/);
    assert.deepEqual(dialogs, [`Pay out 1,20 € for voucher ${ref} of k-0602 at the office?`]);
    await eventually('the command on the broker', () => cmds.length === 1);
    assert.equal(cmds[0]!.topic, 'kiosk/v1/k-0602/cmd/voucher-settle');
    assert.deepEqual(cmds[0]!.args, { ref, by: 'office' });

    // The kiosk answers: settled, the page says pay.
    await pub.publishAsync(
      'kiosk/v1/k-0602/cmdres',
      JSON.stringify(
        cmdresMessage(c, Date.now(), cmds[0]!.cmdId, 'voucher-settle', 'succeeded', {
          result: { ref, amountCents: 120, by: 'office office', already: false },
        }),
      ),
      { qos: 1 },
    );
    await eventually(
      'settled in the store',
      async () => (await dash.store!.voucher('k-0602', ref))?.settle?.state === 'settled',
    );
    await page.click('#voucher-find button[type="submit"]');
    await page.waitForSelector(`#voucher-list li[data-ref="${ref}"][data-state="settled"]`);
    assert.match(await row.innerText(), /settled by office: pay the customer/);
    assert.equal(await row.locator('button').count(), 0, 'nothing to pay twice');
    assert.deepEqual(pageErrors, []);
    await page.context().close();
  });

  it('settles a release in doubt and unblocks a jammed slot from the kiosk page, each after a confirmation', async () => {
    const kiosk = 'k-0603';
    const c = newCondition(kiosk);
    const cmds: { topic: string; args: unknown }[] = [];
    await pub.subscribeAsync(`kiosk/v1/${kiosk}/cmd/+`, { qos: 1 });
    pub.on('message', (topic, payload) => {
      if (topic.startsWith(`kiosk/v1/${kiosk}/cmd/`))
        cmds.push({ topic, args: (JSON.parse(payload.toString()) as { args: unknown }).args });
    });
    const health = healthMessage(c, Date.now());
    health.devices = {
      ...health.devices,
      slots: {
        health: 'degraded',
        status: 'A1 2 blocked, A2 5 blocked',
        stock: { A1: 2, A2: 5 },
        blocked: { A1: 'release power_cut', A2: 'jammed' },
        releasesInDoubt: 1,
        inDoubt: [{ jobId: 's-77:release-0:1', slot: 'A1', cents: 180 }],
      },
    };
    await pub.publishAsync(`kiosk/v1/${kiosk}/birth`, JSON.stringify(birthMessage(c, Date.now())), {
      qos: 1,
      retain: true,
    });
    await pub.publishAsync(`kiosk/v1/${kiosk}/health`, JSON.stringify(health), { qos: 0, retain: true });
    await eventually('the health', () => dash.model.detail(kiosk, Date.now())?.health?.devices.slots);

    const { page, dialogs } = await confirmingPage();
    await page.goto(`http://127.0.0.1:${dash.port}/kiosk/${kiosk}`);
    const doubt = page.locator('#vend-doubt li[data-job="s-77:release-0:1"]');
    assert.match(await doubt.innerText(), /A1: release of 1,80 € unknown/);
    // A1's block is the release in doubt: settle it first, so no unblock is offered there.
    assert.equal(await page.locator('#vend tr[data-slot="A1"] button').count(), 0);
    assert.doesNotMatch(
      await page.locator('#vend-hopper').innerText(),
      /in doubt/,
      'listed, not counted twice',
    );

    await doubt.locator('button', { hasText: 'Refund (voucher)' }).click();
    await eventually('the settle command on the broker', () => cmds.length === 1);
    assert.equal(cmds[0]!.topic, `kiosk/v1/${kiosk}/cmd/settle-release`);
    assert.deepEqual(cmds[0]!.args, { jobId: 's-77:release-0:1', how: 'refunded' });

    await page.locator('#vend tr[data-slot="A2"] button', { hasText: 'Unblock' }).click();
    await eventually('the unblock command on the broker', () => cmds.length === 2);
    assert.equal(cmds[1]!.topic, `kiosk/v1/${kiosk}/cmd/unblock-slot`);
    assert.deepEqual(cmds[1]!.args, { slot: 'A2' });
    assert.deepEqual(dialogs, [
      `${kiosk}: The goods did not come out of A1: issue a voucher for 1,80 €?`,
      `${kiosk}: Slot A2 releases again (check it is clear)?`,
    ]);
    await page.locator('#cmd-log li[data-cmd-name="unblock-slot"]').waitFor();
    assert.deepEqual(pageErrors, []);
    await page.context().close();
  });
});
