/**
 * Takes screenshots of the dashboard with a small, varied simulated fleet (not a test; a tool for the
 * docs and for looking at the page): `npx tsx test/dashboard/screenshot.ts [outDir]`.
 * Needs /usr/sbin/mosquitto and /usr/bin/chromium.
 */
import { chromium } from 'playwright-core';

import { startDashboard } from '../../src/dashboard/server.js';
import { startFleetSim } from '../../src/fleet-sim/run.js';
import { SimKiosk } from '../../src/fleet-sim/sim-kiosk.js';
import { startMosquitto } from '../../src/harness/mosquitto.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser.js';

const outDir = process.argv[2] ?? 'docs/img';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const broker = await startMosquitto();
const dash = await startDashboard({ mqttUrl: broker.url, port: 0, waitForBroker: true, tickMs: 250 });
const fleet = await startFleetSim({
  url: broker.url,
  kiosks: 11,
  heartbeatS: 5,
  saleEveryS: 0,
  lively: false,
});
for (const k of fleet) {
  const n = 3 + Math.floor(Math.random() * 20);
  for (let i = 0; i < n; i++) {
    if (i % 5 === 0) await k.sell(500 * (1 + Math.floor(Math.random() * 4)), 'topup');
    else await k.sell(99 + Math.floor(Math.random() * 1800), 'sale');
  }
}
const at = (i: number): SimKiosk => {
  const k = fleet[i];
  if (!k) throw new Error(`no kiosk ${i}`);
  return k;
};
await at(1).setPaper('low');
await at(3).setPaper('out');
await at(4).setState('maintenance', 'maintenance by operator');
await at(6).setState('out_of_service', 'locked by operator');
const gone = new SimKiosk({ id: 'k-0012', url: broker.url, heartbeatS: 5, willDelayS: 1 });
await gone.start();
await gone.sell(420);
gone.crash();
await wait(2500);

const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`http://127.0.0.1:${dash.port}/`);
await page.waitForSelector('.tile[data-kiosk="k-0012"][data-status="lost"]');
await page.screenshot({ path: `${outDir}/dashboard.png` });
await page.click('.tile[data-kiosk="k-0004"]');
await page.click('#cmds button[data-cmd="diagnostics"]');
await page.waitForSelector('#cmd-log li[data-cmd-status="succeeded"]');
await page.click('#cmds button[data-cmd="ping"]');
await wait(600);
await page.screenshot({ path: `${outDir}/dashboard-detail.png` });
const phone = await browser.newPage({
  viewport: { width: 390, height: 844 },
  isMobile: true,
  deviceScaleFactor: 2,
});
await phone.goto(`http://127.0.0.1:${dash.port}/`);
await phone.waitForSelector('.tile[data-kiosk="k-0012"]');
await phone.screenshot({ path: `${outDir}/dashboard-phone.png` });
await browser.close();
await Promise.all(fleet.map((k) => k.stop()));
await dash.stop();
await broker.stop();
console.log(`screenshots in ${outDir}`);
