/**
 * The journal's disk fills up (or turns read-only) before a session, during coin insertion, during
 * payment and at boot, on a real small filesystem: a 1 MiB tmpfs mounted by the test under the
 * kiosk's journal directory (CI runs as root), the kiosk reporting to a real Mosquitto. Every coin
 * the acceptor answered `accepted: true` is in the journal or held by the kiosk (and written once
 * the disk allows); the acceptor refuses money from the failure on; the open session is finished
 * with the journal's space reserve; the kiosk is then out of service (`storage`) with the fleet
 * alerts `journal_unwritable` / `disk_low`, and back in service once there is room again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';

import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { Journal } from '../../src/journal/journal.js';

const PLENTY = '9276000000000059';
const KIOSK_ID = 'k-diskfull-01';

/** Fills the filesystem at `dir` until the kernel says ENOSPC. */
function fill(dir: string): void {
  try {
    writeFileSync(join(dir, 'filler'), Buffer.alloc(4 * 1024 * 1024));
    assert.fail('the tmpfs did not fill up');
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  }
}

function unfill(dir: string): void {
  rmSync(join(dir, 'filler'), { force: true });
}

describe('journal disk full (real tmpfs, real Mosquitto)', function () {
  this.timeout(120_000);
  let broker: MosquittoBroker;
  let observer: MqttClient;
  /** Retained alert payloads as they stand now (a cleared alert is removed). */
  const alerts = new Map<string, { severity?: string; message?: string }>();
  let dir: string;
  let journalDir: string;
  let k: KioskProcess | undefined;

  const config = (journal: Record<string, number> = {}) => ({
    kiosk: { id: KIOSK_ID },
    timeouts: { inactivityMs: 60_000 },
    fleet: { url: broker.url, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
    journal: {
      reserveBytes: 64 * 1024,
      lowFreeBytes: 384 * 1024,
      minFreeBytes: 256 * 1024,
      spaceCheckMs: 100,
      ...journal,
    },
  });
  const start = async (journal: Record<string, number> = {}, extra: Record<string, unknown> = {}) => {
    k = await startKiosk({ dir, keepDir: true, config: { ...config(journal), ...extra } });
    return k;
  };
  const waitAlert = async (name: string, present: boolean, what: string) => {
    const end = Date.now() + 15_000;
    while (alerts.has(name) !== present) {
      if (Date.now() > end)
        assert.fail(`timed out waiting for alert ${name} ${present ? 'raised' : 'cleared'}: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return alerts.get(name);
  };
  /** A top-up session waiting for coins (the amount is more than the tests insert). */
  const collecting = async () => {
    await k!.scan(PLENTY);
    await k!.waitForState(/serving/, /chooseAmount/);
    await k!.press('amount4');
    await k!.waitForState(/serving/, /collecting/);
  };
  /** From idle to a session holding one journaled coin of 100 ct; resolves with the card's balance before. */
  const sessionWithFirstCoin = async () => {
    await k!.waitForIdle(15_000);
    const before = await k!.balance(PLENTY);
    await collecting();
    assert.equal((await k!.coin(100)).accepted, true);
    await cashBox(100, 'first coin');
    return before;
  };
  /** Waits until the journal's cash box holds `cents` (the coins are durable). */
  const cashBox = (cents: number, what: string) =>
    k!.waitFor(
      () => k!.state(),
      (s) => s.journal.cashBoxCents === cents,
      5000,
      what,
    );
  const held = (s: Awaited<ReturnType<KioskProcess['state']>>) => s.journal.unjournaledCents ?? 0;

  before(async () => {
    broker = await startMosquitto();
    observer = mqtt.connect(broker.url, { protocolVersion: 5, clientId: `observer-${randomUUID()}` });
    await new Promise<void>((resolve, reject) => {
      observer.once('connect', () => resolve());
      observer.once('error', reject);
    });
    observer.on('message', (topic, payload) => {
      const name = topic.split('/alert/')[1];
      if (!name) return;
      if (payload.length === 0) alerts.delete(name);
      else alerts.set(name, JSON.parse(payload.toString('utf8')) as { severity?: string; message?: string });
    });
    await observer.subscribeAsync(`kiosk/v1/${KIOSK_ID}/alert/#`, { qos: 1 });
  });

  after(async () => {
    await observer?.endAsync().catch(() => undefined);
    await broker?.stop();
  });

  beforeEach(() => {
    alerts.clear();
    dir = mkdtempSync(join(tmpdir(), 'kiosk-diskfull-'));
    journalDir = join(dir, 'journal');
    mkdirSync(journalDir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', journalDir]);
    } catch (err) {
      throw new Error(`this test mounts a tmpfs and needs root (CI runs as root): ${String(err)}`, {
        cause: err,
      });
    }
  });

  afterEach(async () => {
    await k?.kill().catch(() => undefined);
    await k?.stopApi().catch(() => undefined);
    k = undefined;
    execFileSync('umount', [journalDir]);
    rmSync(dir, { recursive: true, force: true });
    // Retained alerts of this kiosk id stay on the broker: clear them for the next case.
    for (const name of alerts.keys())
      await observer.publishAsync(`kiosk/v1/${KIOSK_ID}/alert/${name}`, '', { retain: true, qos: 1 });
  });

  it('before a session: out of service below the free-space floor (disk_low), back in service when freed', async () => {
    await start();
    await k!.waitForIdle(15_000);
    fill(journalDir);
    const s = await k!.waitForState(/outOfService/, undefined, 10_000);
    assert.equal(s.reason, 'storage');
    assert.equal(s.acceptor, 'inhibited');
    assert.equal((await k!.coin(100)).accepted, false, 'no coin below the floor');
    assert.equal((await waitAlert('disk_low', true, 'below floor'))?.severity, 'critical');
    assert.match((await k!.display()).join('\n'), /Speicher voll/);

    unfill(journalDir);
    await k!.waitForIdle(10_000);
    await waitAlert('disk_low', false, 'freed');
    await collecting();
    assert.equal((await k!.coin(200)).accepted, true, 'in service again');
    await cashBox(200, 'coin journaled');
  });

  it('during coin insertion: the session settles itself with the reserve, then out of service until freed', async () => {
    await start();
    const before = await sessionWithFirstCoin();
    fill(journalDir);
    // Coins go in until the kiosk notices (a failed append, or the free-space check): then refused.
    let accepted = 100;
    let refused = false;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await k!.coin(10);
      if (r.accepted) accepted += 10;
      else refused = true;
      await k!.waitFor(
        () => k!.state(),
        (s) => s.journal.cashBoxCents + held(s) === accepted,
        5000,
        'coin journaled or held',
      );
    }
    assert.ok(refused, 'the acceptor refused money after the disk filled');
    const s = await k!.state();
    assert.equal(s.acceptor, 'inhibited');
    assert.equal(held(s), 0, 'the reserve made every accepted coin durable');
    assert.equal(s.journal.cashBoxCents, accepted);

    // Nobody presses OK: the flow hears "storage offline" and loads what is in by itself (the
    // credit's journal entries go into the reserve), well before the 60 s inactivity timeout.
    await k!.waitForState(/outOfService/, undefined, 20_000);
    assert.equal((await k!.state()).reason, 'storage');
    assert.equal(await k!.balance(PLENTY), before + accepted, 'every accepted coin on the card');
    assert.equal((await waitAlert('journal_unwritable', true, 'reserve in use'))?.severity, 'critical');
    assert.equal((await k!.coin(200)).accepted, false);

    unfill(journalDir);
    await k!.waitForIdle(10_000);
    await waitAlert('journal_unwritable', false, 'reserve restored');
    await k!.kill();
    const { state } = await Journal.read(journalDir);
    assert.equal(state.cashBox.cents, accepted, 'no cent in no book');
    assert.equal(Object.keys(state.sessions).length, 0, 'the session was closed');
  });

  it('during coin insertion with no reserve left: the coin is held, then written the moment the disk allows', async () => {
    // No reserve and no floor: the full disk is noticed only by the failed append (the worst case).
    await start({ reserveBytes: 0, lowFreeBytes: 0, minFreeBytes: 0 });
    const before = await sessionWithFirstCoin();
    fill(journalDir);
    // Appends that still fit in the segment's last page succeed: insert until one is held.
    let accepted = 100;
    for (let i = 0; i < 200; i++) {
      assert.equal((await k!.coin(50)).accepted, true, 'the acceptor is open until a write fails');
      accepted += 50;
      const x = await k!.waitFor(
        () => k!.state(),
        (st) => st.journal.cashBoxCents + held(st) === accepted,
        5000,
        'coin journaled or held',
      );
      if (held(x) > 0) break;
    }
    const s = await k!.state();
    assert.equal(held(s), 50, 'the coin whose write failed is held');
    assert.equal(s.acceptor, 'inhibited');
    assert.match(s.journal.unwritable ?? '', /ENOSPC/);
    assert.equal(s.inserted, accepted - 50, 'a held coin is not counted before it is durable');
    assert.equal((await k!.coin(200)).accepted, false, 'refused from the failure on');
    // The customer is told: the held coin, its amount, that it will be booked.
    await k!.waitForScreen(/Gehalten 0,50 EUR\nWird gebucht/, 5000);
    assert.match((await k!.state()).flow ?? '', /collecting/, 'the session waits for the held coin');
    assert.match((await waitAlert('journal_unwritable', true, 'held'))?.message ?? '', /50 ct held/);
    assert.ok(
      k!.logs().some((l) => l.msg === 'coin not journaled: acceptor inhibited, coin held for the operator'),
    );

    unfill(journalDir);
    const after = await k!.waitFor(
      () => k!.state(),
      (x) => held(x) === 0 && x.inserted === accepted,
      10_000,
      'held coin written and counted',
    );
    assert.equal(after.journal.cashBoxCents, accepted);
    await waitAlert('journal_unwritable', false, 'journal writes again');
    await k!.press('ok');
    await k!.waitForIdle(20_000);
    assert.equal(await k!.balance(PLENTY), before + accepted, 'every accepted coin on the card');
  });

  it('checkout, during coin insertion: the payment is called off, the coins settled with the reserve, then out of service', async () => {
    await start(
      {},
      {
        kiosk: { id: KIOSK_ID, mode: 'checkout' },
        catalogue: simulatorCatalogue(),
        timeouts: { inactivityMs: 60_000, resultMs: 1500 },
      },
    );
    await k!.waitForIdle(15_000);
    await k!.press('amount3'); // Sandwich 3,49
    await k!.press('ok');
    await k!.waitForState(/serving/, /collecting/);
    assert.equal((await k!.coin(100)).accepted, true);
    await cashBox(100, 'first coin');
    fill(journalDir);
    let accepted = 100;
    for (let i = 0; i < 200; i++) {
      const r = await k!.coin(10);
      if (!r.accepted) break;
      accepted += 10;
      // A customer's next coin comes after this one has landed (journaled, or held by a failed write
      // that inhibits the acceptor); inserted back to back, a loaded machine let a whole basket through
      // the chute before the first write failed.
      await k!.waitFor(
        () => k!.state(),
        (x) => x.acceptor === 'inhibited' || (x.inserted ?? 0) + held(x) >= accepted,
        10_000,
        'the coin handled',
      );
    }
    assert.ok(accepted < 349, 'refused before the basket was paid');
    // Nobody presses cancel: the flow hears "storage offline" and settles by itself.
    const s = await k!.waitForState(/outOfService/, undefined, 20_000);
    assert.equal(s.reason, 'storage');
    assert.equal(held(s), 0);
    assert.equal((await k!.ledger()).sales.length, 0, 'the basket was not paid');
    unfill(journalDir);
    await k!.waitForIdle(10_000);
    await k!.kill();
    const { state } = await Journal.read(journalDir);
    assert.equal(state.cashBox.cents, accepted, 'no cent in no book');
    assert.equal(Object.keys(state.sessions).length, 0, 'the session was closed');
    assert.equal(
      state.unclaimedVouchers.reduce((sum, v) => sum + v.cents, 0),
      accepted,
      "the coins in are the customer's voucher",
    );
  });

  it('during payment: the credit is journaled in the reserve, the card loaded once, then out of service', async () => {
    await start();
    await k!.waitForIdle(15_000);
    const before = await k!.balance(PLENTY);
    await collecting();
    for (const c of [200, 100]) assert.equal((await k!.coin(c)).accepted, true);
    await cashBox(300, 'coins journaled');
    fill(journalDir);
    await k!.press('ok');
    await k!.waitForState(/outOfService/, undefined, 20_000);
    assert.equal(await k!.balance(PLENTY), before + 300, 'loaded once');
    assert.equal((await k!.state()).reason, 'storage');
    await waitAlert('disk_low', true, 'disk full');
    unfill(journalDir);
    await k!.waitForIdle(10_000);
    await k!.kill();
    const { state } = await Journal.read(journalDir);
    assert.equal(Object.keys(state.sessions).length, 0, 'the session was closed');
    assert.equal(state.cashBox.cents, 300, 'the coins are in the books');
  });

  it('at boot with a full disk: out of service (not in service refusing coins), in service once freed', async () => {
    await start();
    await k!.waitForIdle(15_000);
    await k!.kill();
    fill(journalDir);
    await start();
    const s = await k!.waitForState(/outOfService/, undefined, 15_000);
    assert.equal(s.reason, 'storage');
    assert.equal(s.acceptor, 'inhibited');
    assert.equal((await k!.coin(100)).accepted, false);
    await waitAlert('disk_low', true, 'full at boot');
    unfill(journalDir);
    await k!.waitForIdle(10_000);
    await waitAlert('disk_low', false, 'freed');
  });
});
