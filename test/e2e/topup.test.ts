/**
 * The top-up kiosk end to end: the real program as a child process, driven only through its control
 * port, against the in-process API stand-in; display, printed receipts and the stand-in's ledger checked.
 */
import assert from 'node:assert/strict';
import { hashPin } from '../../src/app/service-pin.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';

const SEED_CARD = '9276004429942845'; // 2,51 EUR
const UNKNOWN_CARD = '9276999999999999';
const LOCKED_CARD = '9276000000000026'; // 20,00 EUR, locked

describe('e2e: top-up kiosk', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess | undefined;

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  async function start(config: Record<string, unknown> = {}): Promise<KioskProcess> {
    kiosk = await startKiosk({ config: { timeouts: { resultMs: 1500 }, ...config } });
    await kiosk.waitForIdle();
    assert.deepEqual((await kiosk.display()).slice(0, 2), ['Karte aufladen', 'Karte scannen']);
    return kiosk;
  }

  it('tops up a card with coins: balance on screen, receipt printed, ledger credited', async () => {
    const k = await start();
    await k.scan(SEED_CARD);
    const chosen = await k.waitForScreen(/Betrag wählen/);
    assert.equal(chosen[0], 'Guthaben 2,51 EUR');
    assert.equal(chosen[3], '1=5 2=10 3=20 4=50');
    assert.equal(
      (await k.state()).acceptor,
      'accepting',
      'money can go in on the balance screen (open amount)',
    );

    await k.press('amount1');
    await k.waitForScreen(/Bitte einwerfen\nNoch 5,00 EUR/);
    assert.equal((await k.state()).acceptor, 'accepting');
    await k.coin(200);
    await k.waitForScreen(/Noch 3,00 EUR\nEingew\. 2,00 EUR/);
    await k.coin(200);
    await k.coin(100);

    const thanks = await k.waitForScreen(/Vielen Dank!/);
    assert.equal(thanks[1], 'Guthaben 7,51 EUR');
    assert.equal((await k.state()).acceptor, 'inhibited');

    const receipts = await k.receipts();
    assert.equal(receipts.length, 1);
    const text = receipts[0]!.join('\n');
    assert.match(text, /Kundenkarte Aufladung/);
    assert.match(text, /wurde aufgeladen:\n5,00 EUR/);
    assert.match(text, /Aktuelles Guthaben:\n7,51 EUR/);
    assert.match(text, /9276\*{8}2845/, 'card number masked on the receipt');
    assert.doesNotMatch(text, new RegExp(SEED_CARD));

    const ledger = await k.ledger();
    assert.equal(ledger.cards[SEED_CARD]!.cash_balance, 751);
    assert.equal(ledger.sales.length, 1);
    assert.deepEqual(
      {
        method: ledger.sales[0]!.method,
        collected: ledger.sales[0]!.collected,
        loaded: ledger.sales[0]!.loaded,
      },
      { method: 'cash', collected: 500, loaded: 500 },
    );

    const idle = await k.waitForSettled();
    assert.deepEqual(idle.journal, { openSessions: 0, cashBoxCents: 500, unclaimedVouchers: 0 });
  });

  it('the paper runs out mid-session: said before the rest is paid; the receipt is kept, the farewell says staff reprint it, the service menu does', async () => {
    const k = await start({ service: { pinHash: await hashPin('1234') } });
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Betrag wählen/);
    await k.press('amount1');
    await k.waitForScreen(/Bitte einwerfen\nNoch 5,00 EUR/);
    await k.coin(200);
    await k.waitForScreen(/Noch 3,00 EUR/);
    assert.ok(!(await k.display()).includes('Kein Beleg mögl.'), 'paper there: nothing said');
    // The simulated printer's paper runs out; the kiosk hears it (printer status) while the customer pays.
    await k.request({ cmd: 'paper', state: 'out' });
    const told = await k.waitForScreen(/Noch 3,00 EUR\nEingew\. 2,00 EUR\nKein Beleg mögl\./, 10_000);
    assert.equal(told[0], 'Bitte einwerfen');
    await k.coin(200);
    await k.coin(100);
    const bye = await k.waitForScreen(/Vielen Dank!/, 10_000);
    assert.deepEqual(bye.slice(1, 3), ['Guthaben 7,51 EUR', 'Beleg beim Personal']);
    const no = /^(?:Nr\. )?(k-\S+-\d{5})$/.exec(bye[3] ?? '')?.[1];
    assert.ok(no, `the receipt number on the farewell: ${bye.join(' | ')}`);
    assert.equal((await k.receipts()).length, 0, 'nothing printed');
    await k.waitForSettled();

    // New paper; the technician reprints it from the service menu (Belegnachdruck: newest first).
    await k.request({ cmd: 'paper', state: 'ok' });
    await k.longPress('service');
    await k.waitForScreen(/Service-PIN/);
    for (const d of '1234') await k.press(`amount${d}`);
    await k.waitForScreen(/^Service 1\//);
    for (let i = 0; i < 4; i++) await k.press('down');
    await k.waitForScreen(/>Belegnachdruck/);
    await k.press('ok');
    const listed = await k.waitForScreen(
      /^(Nr\. )?k-\S+\n\d\d\.\d\d\. \d\d:\d\d\nnicht gedruckt\n1\/1 OK=Druck/,
    );
    assert.ok(listed[0]!.endsWith(no!), 'the receipt the farewell named');
    await k.press('ok');
    await k.waitForScreen(/^Beleg gedruckt/, 10_000);
    const [copy] = await k.receipts();
    const text = (copy ?? []).join('\n');
    assert.match(text, /Kopie/);
    assert.match(text, new RegExp(`Beleg-Nr\\.\\s+${no}`), 'the receipt the farewell named');
    assert.match(text, /wurde aufgeladen:\n5,00 EUR/);
  });

  it('cancel with money inserted: the coins end up credited to the card', async () => {
    const k = await start();
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Betrag wählen/);
    await k.press('amount2');
    await k.waitForScreen(/Noch 10,00 EUR/);
    await k.coin(200);
    await k.coin(50);
    await k.waitForScreen(/Eingew\. 2,50 EUR/);

    await k.press('cancel');
    await k.waitForScreen(/Abgebrochen/);
    assert.equal((await k.state()).acceptor, 'inhibited');

    const ledger = await k.ledger();
    assert.equal(ledger.cards[SEED_CARD]!.cash_balance, 251 + 250, 'the inserted 2,50 EUR are on the card');
    assert.equal(ledger.sales.filter((s) => !s.cancelled).length, 1);
    assert.equal(ledger.sales[0]!.loaded, 250);

    const receipts = await k.receipts();
    assert.equal(receipts.length, 1, 'a credit receipt');
    assert.match(receipts[0]!.join('\n'), /wurde aufgeladen:\n2,50 EUR/);

    const idle = await k.waitForSettled();
    assert.deepEqual(idle.journal, { openSessions: 0, cashBoxCents: 250, unclaimedVouchers: 0 });
  });

  it('a customer who walks away: "Noch da?", then the money is credited and the kiosk is idle again', async () => {
    const k = await start({ timeouts: { inactivityMs: 1000, warningMs: 1000, resultMs: 800 } });
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Betrag wählen/);
    await k.press('amount1');
    await k.coin(100);
    await k.waitForScreen(/Eingew\. 1,00 EUR/);

    const warning = await k.waitForScreen(/Noch da\?/, 4000);
    assert.equal(warning[1], 'Taste drücken');
    assert.equal((await k.state()).acceptor, 'inhibited', 'no coins while nobody may be there');

    await k.waitForScreen(/Auf Wiedersehen/, 5000);
    const idle = await k.waitForSettled();
    assert.deepEqual(idle.journal, { openSessions: 0, cashBoxCents: 100, unclaimedVouchers: 0 });
    assert.equal(await k.balance(SEED_CARD), 351);
    assert.equal((await k.receipts()).length, 1);
  });

  it('"Noch da?" answered with a button press goes back to the session', async () => {
    const k = await start({ timeouts: { inactivityMs: 800, warningMs: 3000 } });
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Betrag wählen/);
    await k.waitForScreen(/Noch da\?/, 4000);
    await k.press('down');
    await k.waitForScreen(/Betrag wählen/);
    assert.match((await k.state()).flow ?? '', /chooseAmount/);
  });

  it('an unknown card: the API echoes it not valid here; a clear message, nothing booked, back to idle', async () => {
    const k = await start();
    await k.scan(UNKNOWN_CARD);
    const refused = await k.waitForScreen(/Karte hier\nnicht gültig/);
    assert.equal(refused[2], 'Bitte Service');
    const idle = await k.waitForSettled();
    assert.deepEqual(idle.journal, { openSessions: 0, cashBoxCents: 0, unclaimedVouchers: 0 });
    assert.deepEqual((await k.display()).slice(0, 2), ['Karte aufladen', 'Karte scannen']);
    assert.equal((await k.ledger()).sales.length, 0);
    assert.deepEqual(await k.receipts(), []);
  });

  it('code 1016 on the look-up is a backend fault: retried, then "Dienst gestört", never "Karte unbekannt"', async () => {
    kiosk = await startKiosk({ config: { timeouts: { resultMs: 1500 } }, externalApi: true });
    const k = kiosk;
    await k.waitForIdle();
    await k.faults([
      {
        method: 'POST',
        path: '/Smart/Transactions',
        fault: { type: 'status', status: 400, code: 1016 },
        times: 10,
      },
    ]);
    await k.scan(SEED_CARD);
    const failed = await k.waitForScreen(/Dienst gestört/, 15_000);
    assert.doesNotMatch(failed.join('\n'), /unbekannt/);
    const creates = (await k.apiRequests()).handled.filter(
      (h) => h.method === 'POST' && h.path.endsWith('/Smart/Transactions'),
    );
    assert.ok(creates.length > 1, `the look-up was tried again (${creates.length} creates)`);
    assert.ok(creates.every((h) => h.status === 400));
    const idle = await k.waitForSettled();
    assert.deepEqual(idle.journal, { openSessions: 0, cashBoxCents: 0, unclaimedVouchers: 0 });
    assert.equal((await k.ledger()).sales.length, 0);
  });

  it('a locked card: "Karte gesperrt", its balance untouched, back to idle', async () => {
    const k = await start();
    await k.scan(LOCKED_CARD);
    const refused = await k.waitForScreen(/Karte gesperrt/);
    assert.equal(refused[1], 'Bitte Service');
    await k.waitForIdle();
    const ledger = await k.ledger();
    assert.equal(ledger.cards[LOCKED_CARD]!.cash_balance, 2000);
    assert.equal(ledger.sales.length, 0);
    assert.deepEqual(await k.receipts(), []);
  });

  it('card numbers never appear unmasked in the logs', async () => {
    const k = await start();
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Betrag wählen/);
    await k.press('cancel');
    await k.waitForIdle();
    assert.ok(k.logs().length > 0, 'structured JSON logs on stdout');
    assert.doesNotMatch(k.stdout, new RegExp(SEED_CARD));
  });
});
