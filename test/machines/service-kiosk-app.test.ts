/**
 * The service menu in the real kiosk program (child process, control port): long press of `service`,
 * the PIN with the buttons, cash collection with the report printed and the journal's cash box reset;
 * a wrong-PIN lock-out and its end. Also the PIN hash itself (scrypt) and the CLI that makes it.
 */
import assert from 'node:assert/strict';
import { pinHashMain } from '../../src/app/service-pin-hash.js';
import { hashPin, verifyPin } from '../../src/app/service-pin.js';
import { collectionReportLines } from '../../src/app/service-report.js';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { emptyState } from '../../src/journal/state.js';
import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import type { VendSummary } from '../../src/contracts/kiosk-summary.js';
import { rmSync } from 'node:fs';
import { buyOneAndCut } from '../support/vend.js';

const SEED_CARD = '9276004429942845';

describe('service PIN hash', () => {
  it('scrypt hash: the right PIN matches, a wrong one does not, no hash is not_configured', async () => {
    const stored = await hashPin('2580', Buffer.alloc(16, 7));
    assert.match(stored, /^scrypt:(07){16}:[0-9a-f]{64}$/);
    assert.equal(await verifyPin('2580', stored), 'ok');
    assert.equal(await verifyPin('2581', stored), 'wrong');
    assert.equal(await verifyPin('2580', undefined), 'not_configured');
    assert.equal(await verifyPin('2580', 'plain:2580'), 'not_configured');
    await assert.rejects(hashPin('12'), /4 to 8 digits/);
  });

  it('the CLI prints the config section; refuses a bad PIN', async () => {
    const ok = await pinHashMain(['123456'], () => '');
    assert.equal(ok.code, 0);
    const section = JSON.parse(ok.out) as { pinHash: string; pinLength: number };
    assert.equal(section.pinLength, 6);
    assert.equal(await verifyPin('123456', section.pinHash), 'ok');
    const fromStdin = await pinHashMain([], () => '4711\n');
    assert.equal(fromStdin.code, 0);
    assert.equal((await pinHashMain(['12a4'], () => '')).code, 2);
  });

  it('the collection report shows expected vs counted and the totals it was given', () => {
    const totals = emptyState().sinceCollection;
    totals.topUps = { count: 2, cents: 1500 };
    totals.cashIn = { count: 5, cents: 1600 };
    const lines = collectionReportLines(
      {
        kioskId: 'k-1',
        at: new Date(2025, 0, 2, 10, 5),
        since: null,
        expected: 1600,
        counted: 1550,
        pieces: 5,
        totals,
        by: 'Techniker',
      },
      'de',
    );
    const text = JSON.stringify(lines);
    for (const part of [
      '"Erwartet","value":"16,00 EUR"',
      '"Gezählt","value":"15,50 EUR"',
      '"Differenz","value":"-0,50 EUR"',
      '"Aufladungen","value":"2 / 15,00 EUR"',
      '"Bargeld ein","value":"5 / 16,00 EUR"',
      '"Zeit","value":"2025-01-02 10:05"',
    ])
      assert.ok(text.includes(part), part);
  });
});

describe('service menu in the kiosk program', function () {
  this.timeout(60_000);
  let kiosk: KioskProcess | undefined;
  let pinHash = '';

  before(async () => {
    pinHash = await hashPin('1234');
  });

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  async function start(service: Record<string, unknown>): Promise<KioskProcess> {
    kiosk = await startKiosk({ config: { timeouts: { resultMs: 1500 }, service: { pinHash, ...service } } });
    await kiosk.waitForIdle();
    return kiosk;
  }

  /** A vending counter (one slot, a 10 ct hopper with 30 coins never booked) with the PIN; kept for reading its journal. */
  const startVending = (dir?: string) =>
    startKiosk({
      ...(dir ? { dir } : {}),
      keepDir: true,
      config: {
        kiosk: { mode: 'checkout' },
        catalogue: simulatorCatalogue(),
        timeouts: { resultMs: 1500 },
        service: { pinHash },
        hardware: {
          slots: { driver: 'simulated', slots: [{ id: 'A1', product: 1, initialStock: 3, lowAt: 0 }] },
          hopper: { driver: 'simulated', coinCents: 10, coins: 30 },
        },
      },
    });

  async function pin(k: KioskProcess, digits: string): Promise<void> {
    for (const d of digits) await k.press(`amount${d}`);
  }

  it('PIN -> cash collection -> report printed -> cash box reset (lifetime counters kept)', async () => {
    const k = await start({});
    // A top-up puts 5,00 EUR in the cash box.
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Betrag wählen/);
    await k.press('amount1');
    await k.waitForScreen(/Noch 5,00 EUR/);
    await k.coin(200);
    await k.coin(200);
    await k.coin(100);
    await k.waitForScreen(/Vielen Dank!/);
    const before = await k.waitForSettled();
    assert.equal(before.journal.cashBoxCents, 500);
    const receiptsBefore = (await k.receipts()).length;

    await k.longPress('service');
    await k.waitForScreen(/Service-PIN\nPIN 0___/);
    await pin(k, '12');
    const half = await k.display();
    assert.equal(half[1], 'PIN **0_');
    assert.ok(!half.join('\n').includes('12'), 'typed digits are never shown');
    await pin(k, '34');
    await k.waitForScreen(/^Service 1\/11\n>Info/);
    assert.equal((await k.state()).state, 'maintenance');

    for (let i = 0; i < 3; i++) await k.press('down');
    await k.waitForScreen(/>Kassenleerung/);
    await k.press('ok');
    await k.waitForScreen(/Gezählt 5,00 EUR\nErwartet 5,00 EUR/);
    // The technician counted 4,90 EUR: step 10 ct, one down.
    await k.press('amount1');
    await k.press('down');
    await k.waitForScreen(/Gezählt 4,90 EUR/);
    await k.press('ok');
    await k.waitForScreen(/Leerung buchen\?/);
    await k.press('ok');
    await k.waitForScreen(/Leerung gebucht\nBericht gedruckt/, 10_000);

    const after = await k.state();
    assert.equal(after.journal.cashBoxCents, 0, 'the cash box starts again from zero');
    const receipts = await k.receipts();
    assert.equal(receipts.length, receiptsBefore + 1);
    const report = receipts.at(-1)!.join('\n');
    assert.match(report, /Kassenleerung/);
    assert.match(report, /Erwartet\s+5,00 EUR/);
    assert.match(report, /Gezählt\s+4,90 EUR/);
    assert.match(report, /Differenz\s+-0,10 EUR/);
    assert.match(report, /Aufladungen\s+1 \/ 5,00 EUR/, 'the totals from before the reset');
    assert.match(report, /Bargeld ein\s+3 \/ 5,00 EUR/);
    const { state } = await Journal.read(join(k.dir, 'journal'));
    assert.deepEqual(state.sinceCollection.topUps, { count: 0, cents: 0 }, 'since-collection counters reset');
    assert.deepEqual(state.lifetime.topUps, { count: 1, cents: 500 }, 'lifetime counters kept');
    assert.deepEqual(state.lifetime.collections, { count: 1, cents: 490 });
    assert.deepEqual(
      state.lastCollection && { cents: state.lastCollection.cents, by: state.lastCollection.by },
      {
        cents: 490,
        by: 'technician',
      },
    );

    // Journalled (log) and reported; then leave maintenance from the menu.
    await k.press('ok');
    await k.waitForScreen(/>Kassenleerung/);
    // Past Belegnachdruck, Fachbestand, Offene Ausgaben, Wechselgeld, Gutscheine, Kartenterminal.
    for (let i = 0; i < 7; i++) await k.press('down');
    await k.waitForScreen(/>Wartung beenden/);
    await k.press('ok');
    await k.waitForIdle();
    // The log comes over the child's stdout, which may arrive after its state answer says idle: wait for the line.
    const serviceLog = async () =>
      k
        .logs()
        .filter((l) => l.msg === 'service menu')
        .map((l) => l.service);
    const logged = await k.waitFor(serviceLog, (l) => l.includes('leave'), 5000, "the 'leave' log line");
    assert.deepEqual(logged, ['login', 'cash_collected', 'leave']);
    const collected = k.logs().find((l) => l.msg === 'cash collected');
    assert.equal(collected?.counted, 490);
    assert.equal(collected?.expected, 500);
  });

  it("change hopper: a technician's coins out and in are journaled, and the books' count follows the hopper through a change payout", async () => {
    kiosk = await startVending();
    const k = kiosk;
    await k.waitForIdle();
    const hopperCoins = async () => ((await k.state()).vend as VendSummary).hopper?.coins;
    await k.longPress('service');
    await k.waitForScreen(/Service-PIN/);
    await pin(k, '1234');
    await k.waitForScreen(/^Service 1\/11/);
    for (let i = 0; i < 7; i++) await k.press('down');
    await k.waitForScreen(/>Wechselgeld/);
    await k.press('ok');
    // The 30 coins it came with were never booked: the technician takes them out first.
    await k.waitForScreen(/^1=Auffüllen\n2=Entnehmen\nBuch: unbekannt\nMünze 0,10 EUR/);
    await k.press('amount2');
    for (let i = 0; i < 3; i++) await k.press('up');
    await k.waitForScreen(/^Entnehmen 30\nWert 3,00 EUR/);
    await k.press('ok');
    await k.waitForScreen(/Münzen buchen\?/);
    await k.press('ok');
    await k.waitForScreen(/^Münzen gebucht/);
    assert.equal(await hopperCoins(), 0);
    await k.press('ok');
    await k.waitForScreen(/>Wechselgeld/);
    await k.press('ok');
    await k.waitForScreen(/Buch: 0 Münzen/);
    await k.press('amount1');
    await k.press('amount4');
    await k.press('up');
    await k.waitForScreen(/^Auffüllen 100\nWert 10,00 EUR/);
    await k.press('ok');
    await k.waitForScreen(/Münzen buchen\?/);
    await k.press('ok');
    await k.waitForScreen(/^Münzen gebucht/);
    assert.equal(await hopperCoins(), 100);
    await k.longPress('service');
    await k.waitForIdle();

    // A coffee (1,80) paid with 2,00: two 10 ct coins of change from the hopper.
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForScreen(/Vielen Dank!/, 15_000);
    await k.waitForSettled();
    assert.equal(await hopperCoins(), 98);
    await k.stop();
    const { records, state } = await Journal.read(join(k.dir, 'journal'));
    assert.deepEqual(
      records.flatMap((r) => (r.type === 'hopper_filled' ? [[r.coins, r.coinCents, r.by]] : [])),
      [
        [-30, 10, 'technician'],
        [100, 10, 'technician'],
      ],
    );
    assert.equal(state.vend.hopper.coins, 98, "the books agree with the hopper's own count");
    assert.deepEqual(state.vend.hopper.filled, { count: 1, cents: 1000 });
    assert.deepEqual(state.vend.hopper.emptied, { count: 1, cents: 300 });
    rmSync(k.dir, { recursive: true, force: true });
  });

  it('Offene Ausgaben: after a power cut mid-release the technician refunds the unit; the voucher prints, the settlement is journaled once', async () => {
    const first = await startVending();
    await first.waitForIdle();
    await buyOneAndCut(first);

    kiosk = await startVending(first.dir);
    const k = kiosk;
    await k.waitFor(
      () => k.state(),
      (st) => st.state === 'idle' && st.journal.openSessions === 0,
      20_000,
    );
    const receiptsBefore = (await k.receipts()).length;
    await k.longPress('service');
    await k.waitForScreen(/Service-PIN/);
    await pin(k, '1234');
    await k.waitForScreen(/^Service 1\/11/);
    for (let i = 0; i < 6; i++) await k.press('down');
    await k.waitForScreen(/>Offene Ausgaben/);
    await k.press('ok');
    await k.waitForScreen(/^A1 \d\d\.\d\d\. \d\d:\d\d\nPreis 1,80 EUR\nKaffee/);
    await k.press('ok');
    await k.waitForScreen(/^1=Ausgegeben\n2=Gutschein/);
    await k.press('amount2');
    await k.waitForScreen(/^Gutschein geben\?/);
    await k.press('ok');
    const done = await k.waitForScreen(/^Erstattet\n[A-Z2-7]{4}-[A-Z2-7]{4}/, 10_000);
    const receipts = await k.receipts();
    assert.equal(receipts.length, receiptsBefore + 1, 'the voucher printed');
    assert.match(receipts.at(-1)!.join('\n'), /1,80 EUR/);
    assert.ok(receipts.at(-1)!.join('\n').includes(done[1]!), 'its short id under the QR');
    await k.press('ok');
    await k.waitForScreen(/>Offene Ausgaben/);
    await k.press('ok');
    await k.waitForScreen(/^Nichts offen/);
    await k.stop();
    const { records, state } = await Journal.read(join(k.dir, 'journal'));
    const settled = records.filter((r) => r.type === 'release_settled');
    assert.equal(settled.length, 1);
    assert.deepEqual(
      settled.map((r) => (r.type === 'release_settled' ? [r.how, r.by] : [])),
      [['refunded', 'technician']],
    );
    const code = settled[0]!.type === 'release_settled' ? settled[0]!.voucher! : '';
    assert.ok(state.unclaimedVouchers.some((v) => v.voucher === code && v.cents === 180));
    assert.ok(!JSON.stringify(k.logs()).includes(code.split('.').at(-1)!), 'the code is not in the log');
    rmSync(k.dir, { recursive: true, force: true });
  });

  it('wrong PINs lock the menu out; the right PIN works once the lock-out is over', async () => {
    // The lock-out must outlast the steps taken during it on a loaded machine: 8 s, not 2.
    const k = await start({ maxTries: 2, lockoutMs: 8_000 });
    await k.longPress('service');
    await k.waitForScreen(/Service-PIN/);
    await pin(k, '4321');
    await k.waitForScreen(/Falsch: noch 1/);
    await pin(k, '4321');
    const locked = await k.waitForScreen(/PIN gesperrt/);
    assert.match(locked[1] ?? '', /^Noch 0:0[1-8]$/);
    await pin(k, '1234');
    assert.equal((await k.display())[0], 'PIN gesperrt', 'no PIN taken while locked');
    await k.waitForScreen(/Service-PIN/, 15_000);
    await pin(k, '1234');
    await k.waitForScreen(/^Service 1\/11/);
    // The log comes over the child's stdout (pino writes it asynchronously), which may arrive after
    // the display's answer: wait for the line (the kiosk emits the menu's report right after it renders).
    const serviceLog = async () =>
      k
        .logs()
        .filter((l) => l.msg === 'service menu')
        .map((l) => l.service);
    const logged = await k.waitFor(serviceLog, (l) => l.includes('login'), 5000, "the 'login' log line");
    assert.deepEqual(logged, ['pin_wrong', 'pin_lockout', 'pin_lockout_ended', 'login']);
  });
});
