/**
 * Power cuts of the real kiosk program: SIGKILL at the nastiest moments, a restart on the same
 * journal, and the three books checked afterwards. The API stand-in runs in its own process; a
 * latency fault holds the `start` call open so that the kill lands while it is in flight, and a
 * second fault decides whether the server commits it (drop_after_commit) or not (drop_before_commit).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reconcile, type LedgerFileView } from '../../src/chaos/books.js';
import { Journal } from '../../src/journal/journal.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { assertNothingLost } from './world.js';

const PLENTY = '9276000000000059'; // 30,00 EUR
const CONFIG = {
  api: { timeoutMs: 8000 },
  timeouts: { inactivityMs: 20_000, warningMs: 5000, terminalMs: 5000, resultMs: 300 },
};

async function books(k: KioskProcess, acceptedCents: number) {
  const { records, state } = await Journal.read(join(k.dir, 'journal'));
  const ledger = JSON.parse(readFileSync(k.ledgerPath!, 'utf8')) as LedgerFileView;
  return {
    state,
    ledger,
    books: reconcile({
      acceptor: { cents: acceptedCents, coins: 0, unconfirmedAtKill: 0 },
      journal: { records, state },
      ledger,
    }),
  };
}

/** Card scanned, 5,00 EUR chosen and inserted: the kiosk is sending start/cash. */
async function topUpUntilStart(k: KioskProcess): Promise<number> {
  await k.waitForIdle(15_000);
  await k.scan(PLENTY);
  await k.waitForState(/serving/, /chooseAmount/);
  await k.press('amount1');
  await k.waitForState(/serving/, /collecting/);
  for (const c of [200, 200, 100]) assert.equal((await k.coin(c)).accepted, true);
  await k.waitForState(/serving/, /pay\.starting/);
  return 500;
}

describe('power cut of the real kiosk program (SIGKILL) and restart', function () {
  this.timeout(90_000);
  const running: KioskProcess[] = [];
  const start = async (opts: Parameters<typeof startKiosk>[0]) => {
    const k = await startKiosk(opts);
    running.push(k);
    return k;
  };
  afterEach(async () => {
    for (const k of running.splice(0).reverse()) await k.stop().catch(() => undefined);
  });

  for (const committed of [true, false]) {
    it(`start sent, ${committed ? 'committed' : 'never committed'} by the server, no answer when the power went: ${
      committed
        ? 'read back, not repeated'
        : 'aborted to find out (never repeated), the coins credited to the card exactly once'
    }; idle screen after restart`, async () => {
      const k = await start({ externalApi: true, config: CONFIG, keepDir: true });
      await k.faults([
        { path: '/start/cash', fault: { type: 'latency', ms: 1500 } },
        { path: '/start/cash', fault: { type: committed ? 'drop_after_commit' : 'drop_before_commit' } },
      ]);
      const inserted = await topUpUntilStart(k);
      // The kiosk's state says it is starting; the cut must land while the call is at the server.
      await k.waitForApiReceived('/start/cash');
      await k.kill();
      const done = await k.waitForApiDone('/start/cash');
      assert.equal(done.outcome, committed ? 'dropped_after_commit' : 'dropped_before_commit');
      assert.equal((await k.ledger()).sales.length, committed ? 1 : 0);
      await k.stopApi();

      const k2 = await start({ dir: k.dir, externalApi: true, config: CONFIG });
      await k2.waitFor(
        () => k2.state(),
        (s) => s.state === 'idle' && s.journal.openSessions === 0,
        20_000,
        'recovered',
      );
      assert.match(await k2.screen(), /Karte scannen/, 'the next customer sees the attract screen');
      assert.equal(await k2.balance(PLENTY), 3000 + inserted, 'loaded exactly once');
      await k2.stop();

      const { books: b, state } = await books(k2, inserted);
      assertNothingLost(b);
      // Recovery never repeats a start it cannot see (a lagging read would make that a double charge):
      // the abort is accepted, so the start never ran, and the coins go onto the card by a credit.
      assert.deepEqual(
        { paid: b.paidCash, credited: b.creditedCash },
        committed ? { paid: inserted, credited: 0 } : { paid: 0, credited: inserted },
      );
      const receipt = state.recentReceipts.at(-1);
      assert.ok(
        receipt && /Aufladung/.test(JSON.stringify(receipt.lines)),
        'the receipt is kept for a reprint',
      );
    });
  }

  it('coins in, card scanned, power cut before any payment: credited to the card after restart', async () => {
    const k = await start({ externalApi: true, config: CONFIG, keepDir: true });
    await k.waitForIdle(15_000);
    await k.scan(PLENTY);
    await k.waitForState(/serving/, /chooseAmount/);
    await k.press('amount2');
    await k.waitForState(/serving/, /collecting/);
    for (const c of [200, 500]) assert.equal((await k.coin(c)).accepted, true);
    await k.waitFor(
      () => k.state(),
      (s) => s.journal.cashBoxCents === 700,
      5000,
      'coins journaled',
    );
    await k.kill();
    await k.stopApi();

    const k2 = await start({ dir: k.dir, externalApi: true, config: CONFIG });
    await k2.waitFor(
      () => k2.state(),
      (s) => s.state === 'idle' && s.journal.openSessions === 0,
      20_000,
      'recovered',
    );
    assert.equal(await k2.balance(PLENTY), 3700);
    assert.match(await k2.screen(), /Karte scannen/);
    await k2.stop();
    const { books: b } = await books(k2, 700);
    assert.deepEqual(
      { lost: b.lostCents, credited: b.creditedCash, findings: b.findings },
      { lost: 0, credited: 700, findings: [] },
    );
  });

  it('a corrupted journal record costs only that record: the money is kept by the cross-check, the bytes quarantined, an alert; the next boot is clean', async () => {
    const k = await start({ config: CONFIG, keepDir: true });
    await k.waitForIdle(15_000);
    await k.scan(PLENTY);
    await k.waitForState(/serving/, /chooseAmount/);
    await k.press('amount1');
    await k.waitForState(/serving/, /collecting/);
    for (let i = 0; i < 5; i++) await k.coin(100);
    await k.waitForIdle(15_000);
    await k.stop();

    const dir = join(k.dir, 'journal');
    const segment = readdirSync(dir).find((n) => /^journal-\d+\.log$/.test(n))!;
    const lines = readFileSync(join(dir, segment), 'utf8').split('\n');
    const coinLine = lines.findIndex((l) => l.includes('"coin_accepted"'));
    assert.ok(coinLine > 0 && coinLine < lines.length - 3);
    // A flipped byte in a record followed by committed ones: damage, not a torn write.
    lines[coinLine] = lines[coinLine]!.replace('"cents":100', '"cents":900');
    writeFileSync(join(dir, segment), lines.join('\n'));

    const k2 = await start({ dir: k.dir, config: CONFIG });
    await k2.waitForIdle(15_000);
    const s = await k2.state();
    assert.deepEqual(
      s.journal,
      { openSessions: 0, cashBoxCents: 500, unclaimedVouchers: 0 },
      'every intact record kept; the damaged coin is known from the money cross-check',
    );
    assert.ok(
      k2.logs().some((l) => l.msg === 'journal alert' && l.alert === 'damaged'),
      'the operator is alerted',
    );
    assert.equal(
      readdirSync(dir).filter((n) => n.includes('.corrupt-')).length,
      1,
      'the damaged bytes are quarantined',
    );
    await k2.stop();

    const k3 = await start({ dir: k.dir, config: CONFIG });
    await k3.waitForIdle(15_000);
    assert.equal(k3.hasExited, false);
    assert.ok(!k3.logs().some((l) => l.msg === 'journal alert'), 'the next boot finds a clean journal');
    assert.equal(readdirSync(dir).filter((n) => n.includes('.corrupt-')).length, 1);
  });
});
