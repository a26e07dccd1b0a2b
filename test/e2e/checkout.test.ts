/**
 * The checkout kiosk end to end (catalogue of config/simulator.json: amount1 Kaffee 1,80, amount2
 * Wasser 0,99, amount3 Sandwich 3,49, amount4 Obstsalat 2,49), paid by card, by card and coins, by
 * coins alone, and cancelled with coins inserted. Only the control port; checks display, receipts, ledger.
 */
import assert from 'node:assert/strict';
import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';

const SEED_CARD = '9276004429942845'; // 2,51 EUR
const RICH_CARD = '9276000000000059'; // 30,00 EUR

describe('e2e: checkout kiosk', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess | undefined;

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  async function start(): Promise<KioskProcess> {
    kiosk = await startKiosk({
      config: { kiosk: { mode: 'checkout' }, catalogue: simulatorCatalogue(), timeouts: { resultMs: 1500 } },
    });
    await kiosk.waitForIdle();
    assert.equal((await kiosk.display())[0], 'Willkommen!');
    return kiosk;
  }

  it('paid fully by card: confirm, card charged, receipt with the card payment', async () => {
    const k = await start();
    await k.press('amount1');
    await k.waitForScreen(/^Summe 1,80 EUR\nOK = Bezahlen\n1 Artikel/);
    await k.scan(RICH_CARD);
    await k.waitForScreen(/Karte: Punkte/);
    await k.press('ok');
    // The confirmation says what the card pays and what is on it.
    const confirm = await k.waitForScreen(/^Von Karte 1,80 EUR/);
    assert.equal(confirm[1], 'OK=Ja C=Abbruch');
    assert.match(confirm[2] ?? '', /^Guthaben \d+,\d\d EUR$/);
    assert.equal((await k.ledger()).cards[RICH_CARD]!.cash_balance, 3000, 'nothing charged before OK');
    await k.press('ok');

    const thanks = await k.waitForScreen(/Vielen Dank!/);
    assert.equal(thanks[1], 'Guthaben 28,20 EUR');
    const ledger = await k.ledger();
    assert.equal(ledger.cards[RICH_CARD]!.cash_balance, 2820);
    assert.equal(ledger.sales.length, 1);
    assert.deepEqual(
      {
        method: ledger.sales[0]!.method,
        redeemed: ledger.sales[0]!.redeemed,
        collected: ledger.sales[0]!.collected,
      },
      { method: 'loyalty', redeemed: 180, collected: 0 },
    );
    const receipts = await k.receipts();
    assert.equal(receipts.length, 1);
    assert.match(receipts[0]!.join('\n'), /Zahlung über:\n1,80 EUR/);
    assert.match(receipts[0]!.join('\n'), /Aktuelles Guthaben\n28,20 EUR/);

    const idle = await k.waitForSettled();
    assert.equal(idle.journal.cashBoxCents, 0);
  });

  it('partly by card, the rest with coins: card emptied, 0,98 collected, the 2 ct change credited', async () => {
    const k = await start();
    await k.press('amount3');
    await k.waitForScreen(/Summe 3,49 EUR/);
    await k.scan(SEED_CARD);
    await k.waitForScreen(/Karte: Geschenkgutsc/);
    await k.press('ok');
    const collect = await k.waitForScreen(/Bitte einwerfen\nNoch 0,98 EUR/);
    assert.equal(collect[2], 'Kein Wechselgeld', 'said before the first coin');
    assert.equal((await k.state()).acceptor, 'accepting');
    // No hopper: per-coin inhibit returns a coin larger than what is due; the smallest coin ends it.
    assert.equal((await k.coin(100)).accepted, false, 'a 1 euro coin for 0,98 goes back to the cup');
    for (const cents of [50, 20, 20, 10]) assert.equal((await k.coin(cents)).accepted, true);

    await k.waitForScreen(/Vielen Dank!/);
    const ledger = await k.ledger();
    const sale = ledger.sales.find((s) => s.redeemed > 0);
    assert.ok(sale, 'a sale that redeemed the card');
    assert.deepEqual(
      { method: sale.method, redeemed: sale.redeemed, collected: sale.collected },
      {
        method: 'cash',
        redeemed: 251,
        collected: 98,
      },
    );
    // 1,00 inserted for 0,98 due (0,08 left, 0,10 the smallest coin): the 2 ct go onto the card.
    assert.equal(ledger.cards[SEED_CARD]!.cash_balance, 2);
    const receipts = (await k.receipts()).map((r) => r.join('\n'));
    // One receipt, every part on it: card, cash given, the change put onto the card; then the API's lines.
    assert.equal(receipts.length, 1, 'one receipt for a mixed payment');
    assert.match(receipts[0]!, /Zahlung über:\n2,51 EUR\n\nUmsatz erfasst:\n3,49 EUR/);
    assert.match(receipts[0]!, /Kundenkarte \.\.\.\d{4}\s+2,51 EUR/);
    assert.match(receipts[0]!, /Bar gegeben\s+1,00 EUR/);
    assert.match(receipts[0]!, /Rest auf Karte\s+0,02 EUR/);
    assert.match(receipts[0]!, /Beleg-Nr\.\s+\S+-\d{5}/);

    const idle = await k.waitForSettled();
    assert.equal(idle.journal.cashBoxCents, 100);
    assert.equal(idle.journal.unclaimedVouchers, 0);
  });

  it('without a card, coins only: sale recorded as cash; overpayment becomes a voucher', async () => {
    const k = await start();
    await k.press('amount1');
    await k.press('amount2');
    await k.waitForScreen(/Summe 2,79 EUR\nOK = Bezahlen\n2 Artikel/);
    await k.press('ok');
    await k.waitForScreen(/Noch 2,79 EUR/);
    await k.coin(200);
    await k.waitForScreen(/Noch 0,79 EUR\nEingew\. 2,00 EUR/);
    assert.equal((await k.coin(100)).accepted, false, 'per-coin inhibit: no coin larger than 0,79');
    for (const cents of [50, 20, 10]) assert.equal((await k.coin(cents)).accepted, true);

    const voucher = await k.waitForScreen(/Gutschein-Code:/);
    assert.match(voucher[1]!, /^[A-Z2-7]{4}-[A-Z2-7]{4}$/, "the signed code's id");
    // 0,09 left when only coins from 0,10 exist: the one cent too many becomes the voucher.
    assert.equal(voucher[2], 'Wert 0,01 EUR');
    const code = voucher[1]!;

    const ledger = await k.ledger();
    assert.equal(ledger.sales.length, 1);
    assert.deepEqual(
      {
        method: ledger.sales[0]!.method,
        collected: ledger.sales[0]!.collected,
        redeemed: ledger.sales[0]!.redeemed,
      },
      { method: 'cash', collected: 279, redeemed: 0 },
    );
    const printed = (await k.receipts()).map((r) => r.join('\n'));
    const saleReceipt = printed.find((r) => r.includes('Summe'));
    assert.ok(
      saleReceipt,
      'the sale is printed with its items, though the API sends no lines without a card',
    );
    assert.match(saleReceipt, /Summe\s+2,79 EUR/);
    assert.match(saleReceipt, /Bar gegeben\s+2,80 EUR/);
    assert.match(saleReceipt, /Rest als Gutschein\s+0,01 EUR/);
    assert.ok(saleReceipt.includes(code), 'the receipt names the voucher code too');
    const voucherReceipt = printed.find((r) => r.includes(code));
    assert.ok(voucherReceipt, 'the voucher is printed with the code shown');
    assert.match(voucherReceipt, /0,01 EUR/);

    await k.press('ok'); // leave the voucher screen
    const idle = await k.waitForSettled();
    assert.equal(idle.journal.unclaimedVouchers, 1);
    assert.equal(idle.journal.cashBoxCents, 280);
  });

  it('cancel with coins inserted and no card: an unclaimed voucher, nothing sold', async () => {
    const k = await start();
    await k.press('amount3');
    await k.press('ok');
    await k.waitForScreen(/Noch 3,49 EUR/);
    await k.coin(200);
    await k.coin(50);
    await k.waitForScreen(/Eingew\. 2,50 EUR/);
    await k.press('cancel');

    const voucher = await k.waitForScreen(/Gutschein-Code:/);
    assert.equal(voucher[2], 'Wert 2,50 EUR');
    const printed = (await k.receipts()).map((r) => r.join('\n'));
    assert.equal(printed.length, 1);
    assert.match(printed[0]!, /Nicht verbuchter Betrag:\n\s*2,50 EUR/);
    assert.ok(printed[0]!.includes(voucher[1]!));
    const ledger = await k.ledger();
    assert.equal(ledger.sales.filter((s) => !s.cancelled).length, 0, 'nothing sold');

    await k.press('ok'); // leave the voucher screen
    const idle = await k.waitForSettled();
    assert.deepEqual(idle.journal, { openSessions: 0, cashBoxCents: 250, unclaimedVouchers: 1 });
  });
});
