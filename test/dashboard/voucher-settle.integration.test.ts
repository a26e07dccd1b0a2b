/**
 * A voucher paid out at the office (issue 14 leftover 1), end to end: the real kiosk program issues a
 * voucher (overpaid, no card), the dashboard (real Mosquitto, its store on SQLite and on PostgreSQL)
 * finds it by the short id printed under the QR, the operator settles it: pending in the store until
 * the kiosk answers `voucher-settle`, then settled, and the kiosk's journal books one office payout.
 * A second click is refused while pending or after; a kiosk that is off gets the command when it is
 * back (pending meanwhile); a customer who redeems the voucher at the kiosk while the office's command
 * waits for the kiosk's idle state wins, and the operator is told 'already redeemed'. The dashboard's
 * voucher rows and the kiosk's journal agree at the end.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import type { VoucherRow } from '../../src/dashboard/store/fleet-store.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { Journal } from '../../src/journal/journal.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';
import { checkoutFleetConfig, lastVoucherCode, overpayForVoucher } from '../support/vend.js';
import { eventually } from './eventually.js';
import { STORE_TARGETS } from './store-targets.js';

/** What the customer shows: the short id under the QR (`QX7M-D2KA`). */
const shortOf = (code: string): string =>
  `${code.split('.')[3]!.slice(0, 4)}-${code.split('.')[3]!.slice(4)}`;

for (const makeTarget of STORE_TARGETS) {
  const target = makeTarget();
  describe(`dashboard: a voucher settled at the office (store on ${target.name}, real kiosk and Mosquitto)`, function () {
    this.timeout(120_000);
    const id = `k-office-${target.name}`;
    let broker: MosquittoBroker;
    let dash: Dashboard;
    const kiosks: KioskProcess[] = [];

    before(async function () {
      await needs(this, MOSQUITTO);
      broker = await startMosquitto();
      dash = await startDashboard({
        mqttUrl: broker.url,
        port: 0,
        waitForBroker: true,
        tickMs: 200,
        store: target.spec,
        ...(target.schema ? { storeSchema: target.schema } : {}),
        auth: false,
      });
    });
    after(async () => {
      for (const k of kiosks.splice(0).reverse()) await k.stop().catch(() => undefined);
      await dash?.stop();
      await broker?.stop();
      await target.cleanup();
    });

    const api = (path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${dash.port}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const find = async (short: string): Promise<VoucherRow | undefined> => {
      const res = await api(`/api/vouchers?ref=${encodeURIComponent(short)}`);
      const body = (await res.json()) as { vouchers: VoucherRow[] };
      return body.vouchers[0];
    };
    const settle = (v: VoucherRow, extra: Record<string, unknown> = {}) =>
      api(`/api/vouchers/${encodeURIComponent(v.kioskId)}/${encodeURIComponent(v.ref)}/settle`, {
        confirm: true,
        ...extra,
      });
    async function start(dir?: string): Promise<KioskProcess> {
      const k = await startKiosk({
        ...(dir ? { dir } : {}),
        keepDir: true,
        config: checkoutFleetConfig(id, broker.url),
      });
      kiosks.push(k);
      await k.waitForIdle(20_000);
      return k;
    }
    async function issue(k: KioskProcess): Promise<string> {
      await overpayForVoucher(k);
      const code = lastVoucherCode(await k.receipts());
      await k.press('ok');
      await k.waitForSettled();
      await eventually(
        'the voucher on the dashboard',
        async () => (await find(shortOf(code)))?.status === 'open',
      );
      return code;
    }
    async function officePayouts(dir: string): Promise<Map<string, number>> {
      const j = await Journal.open(join(dir, 'journal'), { fsync: false });
      const n = new Map<string, number>();
      for await (const e of j.entries())
        if (e.type === 'unclaimed_settled' && e.by?.startsWith('office'))
          n.set(e.voucher, (n.get(e.voucher) ?? 0) + 1);
      await j.close();
      return n;
    }

    it('finds by short id, settles once, pending while the kiosk is off, and tells the operator of a redemption that came first', async () => {
      let k = await start();

      // 1. Online: settled, once.
      const code1 = await issue(k);
      const v1 = (await find(shortOf(code1)))!;
      assert.deepEqual([v1.kioskId, v1.cents, v1.status, v1.settle], [id, 120, 'open', null]);
      assert.ok(!JSON.stringify(v1).includes(code1), 'the dashboard never has the code');
      const r1 = await settle(v1);
      assert.equal(r1.status, 202, await r1.clone().text());
      await eventually('settled', async () => (await find(shortOf(code1)))?.settle?.state === 'settled');
      const s1 = (await find(shortOf(code1)))!;
      assert.deepEqual([s1.status, s1.settle?.note], ['paid_out', 'paid out at the office']);
      await eventually(
        'the kiosk paid_out event',
        async () => (await find(shortOf(code1)))?.paidBy === 'office office',
      );
      const twice = await settle(s1);
      assert.equal(twice.status, 409, 'paid once');
      assert.equal((await api('/api/vouchers/x/y/settle', { confirm: false })).status, 400);

      // 2. The kiosk is off: pending, a second click refused; settled when it is back.
      const code2 = await issue(k);
      await k.stop();
      kiosks.splice(kiosks.indexOf(k), 1);
      const v2 = (await find(shortOf(code2)))!;
      assert.equal((await settle(v2)).status, 202);
      const p2 = (await find(shortOf(code2)))!;
      assert.deepEqual([p2.status, p2.settle?.state], ['open', 'pending'], 'settlement pending');
      const again = await settle(p2);
      assert.equal(again.status, 409);
      assert.match(((await again.json()) as { error: string }).error, /pending already/);
      k = await start(k.dir);
      await eventually(
        'settled after the kiosk came back',
        async () => (await find(shortOf(code2)))?.settle?.state === 'settled',
      );

      // 3. The race: the customer is at the kiosk (a session running) when the office clicks; the
      // command waits for the kiosk's idle state, the customer scans the voucher in that session (the
      // redemption is journaled first), the kiosk refuses the office's payout, the operator is told.
      const code3 = await issue(k);
      const v3 = (await find(shortOf(code3)))!;
      await k.press('amount2');
      await k.waitForScreen(/Summe 0,99 EUR/);
      assert.equal((await settle(v3)).status, 202);
      assert.equal((await find(shortOf(code3)))?.settle?.state, 'pending');
      await k.scan(code3);
      await k.waitForScreen(/Eingew\. 1,20 EUR/);
      await k.press('ok');
      await k.waitForScreen(/Gutschein-Code:/);
      await k.press('ok');
      await k.waitForSettled();
      await eventually(
        'refused as redeemed',
        async () => (await find(shortOf(code3)))?.settle?.state === 'refused',
      );
      const s3 = (await find(shortOf(code3)))!;
      assert.deepEqual(
        [s3.status, s3.settle?.note],
        ['redeemed', 'already redeemed at the kiosk: do not pay'],
      );
      // Known redeemed: the dashboard refuses it itself, nothing is sent.
      const known = await settle(s3);
      assert.equal(known.status, 409);
      assert.match(((await known.json()) as { error: string }).error, /not open: redeemed/);

      // The books agree: the office settled exactly vouchers 1 and 2, the kiosk's journal too.
      await k.stop();
      kiosks.splice(kiosks.indexOf(k), 1);
      const journal = await officePayouts(k.dir);
      assert.deepEqual([journal.get(code1), journal.get(code2), journal.get(code3)], [1, 1, undefined]);
      const settled = await dash.store!.all<{ ref: string }>(
        `SELECT ref FROM vouchers WHERE kiosk_id = ? AND settle_state = 'settled' ORDER BY ref`,
        [id],
      );
      assert.deepEqual(
        settled.map((r) => r.ref),
        [v1.ref, v2.ref].sort(),
      );
    });
  });
}
