/**
 * The vending counter end to end (issue 15): a real kiosk process with simulated slots and hopper,
 * driven over the control port. The goods come out only after the payment, change comes from the
 * hopper, a jammed slot gives the money back and is blocked, a sold-out product is refused before any
 * money is taken.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { replayLog } from '../../src/fleet/outbox-log.js';
import {
  freePort,
  simulatorCatalogue,
  startKiosk,
  type KioskProcess,
} from '../../src/harness/kiosk-process.js';
import type { VendSummary } from '../../src/contracts/kiosk-summary.js';
import { buyTwoAndCut } from '../support/vend.js';

describe('e2e: vending counter (slots and hopper)', function () {
  this.timeout(30_000);
  let kiosk: KioskProcess | undefined;

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });

  const running: KioskProcess[] = [];
  afterEach(async () => {
    for (const k of running.splice(0).reverse()) await k.stop().catch(() => undefined);
  });

  /**
   * `keep`: the directory outlives stop() (a restart on it, the journal read afterwards). `broker`: a
   * fleet URL (nothing listens there: the money events stay in the outbox under the kiosk's dir).
   */
  async function start(
    dir?: string,
    keep = false,
    broker?: string,
    cardTerminal = false,
    externalApi = false,
  ): Promise<KioskProcess> {
    kiosk = await startKiosk({
      ...(dir ? { dir } : {}),
      keepDir: keep,
      externalApi,
      config: {
        kiosk: { mode: 'checkout', cardTerminal },
        ...(broker ? { fleet: { url: broker, outboxDir: 'outbox' } } : {}),
        catalogue: simulatorCatalogue(),
        timeouts: { resultMs: 1500 },
        hardware: {
          slots: {
            driver: 'simulated',
            slots: [
              { id: 'A1', product: 1, initialStock: 2, lowAt: 0 },
              { id: 'A2', product: 2, initialStock: 0 },
            ],
          },
          hopper: { driver: 'simulated', coinCents: 10, coins: 30 },
        },
      },
    });
    await kiosk.waitForIdle(15_000);
    running.push(kiosk);
    return kiosk;
  }

  const vend = async (k: KioskProcess) => (await k.state()).vend as VendSummary;
  /** The `evt/transaction` messages waiting in the outbox under `dir`. */
  const outboxTransactions = (dir: string) => {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((n) => {
        const p = join(d, n);
        return statSync(p).isDirectory() ? walk(p) : n === 'outbox.log' ? [p] : [];
      });
    return walk(dir).flatMap((file) =>
      [...replayLog(readFileSync(file)).live.values()]
        .filter((r) => r.topic.endsWith('/evt/transaction'))
        .map((r) => JSON.parse(Buffer.from(r.body).toString('utf8')) as Record<string, unknown>),
    );
  };
  const slot = async (k: KioskProcess, id: string) => (await vend(k)).slots.find((s) => s.id === id)!;

  it('paid with coins: the slot releases after the payment, the 20 ct change come from the hopper', async () => {
    const k = await start();
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    assert.equal((await slot(k, 'A1')).stock, 2, 'nothing released before the payment');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForScreen(/Vielen Dank!/);
    const settled = await k.waitForSettled();
    assert.equal(settled.journal.unclaimedVouchers, 0, 'no voucher: the hopper paid the change');
    const v = await vend(k);
    assert.deepEqual(
      v.slots.find((s) => s.id === 'A1'),
      { id: 'A1', product: 1, stock: 1, blocked: null },
    );
    assert.equal(v.hopper?.coins, 28, 'two 10 ct coins paid out');
    const ledger = await k.ledger();
    assert.equal(ledger.sales.length, 1);
    assert.equal(ledger.sales[0]!.collected, 180);
    const receipt = (await k.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(receipt, /Wechselgeld \(M.nzen\)\s+0,20 EUR/);
    assert.doesNotMatch(receipt, /Nicht ausgegeben/);
  });

  it("the flow's sale event and the journal's sales-value odometer split a sale with change alike", async () => {
    const broker = `mqtt://127.0.0.1:${await freePort()}`;
    const k = await start(undefined, true, broker);
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForScreen(/Vielen Dank!/);
    await k.waitForSettled();
    await k.stop();
    kiosk = undefined;
    // 2,00 EUR in, 0,20 EUR change from the hopper: the cash part is the 1,80 EUR kept, on both sides.
    const sold = outboxTransactions(k.dir).filter((e) => e.outcome === 'completed');
    assert.deepEqual(
      sold.map((e) => [e.amountCents, e.parts]),
      [[180, { cardBalance: 0, voucher: 0, terminal: 0, cash: 180 }]],
    );
    const { state } = await Journal.read(join(k.dir, 'journal'));
    assert.deepEqual(state.lifetime.salesValue, { count: 1, cents: 180, parts: sold[0]!.parts });
    rmSync(k.dir, { recursive: true, force: true });
  });

  it('the hopper drops out mid-session: coins that need change refused, "Kein Wechselgeld" before the next coin, the leftover on a voucher, the hopper never asked', async () => {
    const k = await start();
    await k.press('amount1');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    assert.equal((await k.coin(200)).accepted, true, 'the hopper pays change: every coin');
    await k.waitForSettled();
    assert.equal((await vend(k)).hopper?.coins, 28);
    await k.press('amount1');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(100);
    await k.waitForScreen(/Noch 0,80 EUR/);
    await k.request({ cmd: 'hopper', action: 'offline' });
    await k.waitForScreen(/Kein Wechselgeld/);
    assert.equal((await k.coin(200)).accepted, false, 'a coin that would need change goes back');
    await k.lateCoin(100); // already in the chute: 0,20 too many
    const settled = await k.waitForSettled();
    assert.equal(settled.journal.unclaimedVouchers, 1, 'the 0,20 EUR on a voucher');
    assert.equal((await vend(k)).hopper?.coins, 28, 'the offline hopper was not asked');
    assert.equal((await slot(k, 'A1')).stock, 0, 'both coffees released');
  });

  it('a jammed slot: nothing delivered, the whole 2,00 EUR back from the hopper, the slot blocked and refused', async () => {
    const k = await start();
    await k.request({ cmd: 'slot', slot: 'A1', action: 'jam' });
    await k.press('amount1');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForSettled();
    const v = await vend(k);
    assert.equal(v.slots.find((s) => s.id === 'A1')!.blocked, 'no_confirmation');
    assert.equal(v.slots.find((s) => s.id === 'A1')!.stock, 2, 'a unit not delivered is still counted');
    assert.equal(v.hopper?.coins, 10, 'the price (18 coins) and the change (2 coins) paid back');
    assert.equal((await k.state()).journal.unclaimedVouchers, 0);
    const receipt = (await k.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(
      receipt,
      /Nicht ausgegeben A1 Kaffee\s+-1,80 EUR\n-+\nSumme\s+0,00 EUR/,
      'the unit not handed out is given back on the receipt, and not in its total',
    );
    assert.match(receipt, /Wechselgeld \(M.nzen\)\s+2,00 EUR/);
    // The next customer cannot buy from the blocked slot: refused before any money.
    await k.press('amount1');
    await k.waitForScreen(/Ausverkauft/);
  });

  it('a jammed slot after a card-terminal payment: reversed through the API, nothing paid back from the hopper or a voucher', async () => {
    const k = await start(undefined, false, undefined, true);
    await k.request({ cmd: 'slot', slot: 'A1', action: 'jam' });
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    await k.press('ok');
    await k.waitForState(/serving/, /choosePayment\.choosing/);
    await k.press('amount2');
    await k.waitForScreen(/1,80 EUR storniert/);
    const settled = await k.waitForSettled();
    const ledger = await k.ledger();
    assert.deepEqual(
      ledger.sales.map((s) => [s.method, s.collected, s.cancelled]),
      [['cashless', 180, true]],
      'the terminal payment was reversed at the API',
    );
    // Before, the 1,80 EUR also came back as 18 coins from the hopper: the customer was paid twice.
    assert.equal((await vend(k)).hopper?.coins, 30, 'the hopper paid nothing');
    assert.equal(settled.journal.unclaimedVouchers, 0, 'no voucher');
    const receipt = (await k.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(receipt, /Nicht ausgegeben A1 Kaffee\s+-1,80 EUR/);
    assert.match(receipt, /Zahlung storniert\s+1,80 EUR/);
    const { records } = await Journal.read(join(k.dir, 'journal'));
    assert.deepEqual(
      records
        .filter((r) => r.type === 'terminal_intent' || r.type === 'terminal_outcome')
        .map((r) => (r.type === 'terminal_intent' ? [r.type, r.by, r.cents] : [r.type, r.result])),
      [
        ['terminal_intent', 'vending', 180],
        ['terminal_outcome', 'ok'],
      ],
      'journaled before the call, the outcome after',
    );
  });

  it('a reversal in doubt (answer lost, read-back failing): held, "Erstattung offen", recovery reads it back; refunded once', async () => {
    const k = await start(undefined, false, undefined, true, true);
    await k.request({ cmd: 'slot', slot: 'A1', action: 'jam' });
    // The release waits mid-way until let go: the simulated jam fails at once, and a poll for the
    // brief 'releasing' state missed it (the faults then came too late and the reversal went through).
    await k.request({ cmd: 'slot', slot: 'A1', action: 'hold' });
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    await k.press('ok');
    await k.waitForState(/serving/, /choosePayment\.choosing/);
    await k.press('amount2');
    // Paid; while the release is held, the reversal's answer is set to be lost after the API took it
    // and the duties' read-back to fail: the outcome is unknown.
    await k.waitForState(/serving/, /paid\.releasing/);
    await k.faults([
      { method: 'POST', path: '/cancelTrx', fault: { type: 'drop_after_commit' } },
      { method: 'GET', path: '/Smart/Transactions/', fault: { type: 'status', status: 503 } },
    ]);
    // Let the release go on (fixing another slot lifts the hold; A1 stays jammed): no drop.
    await k.request({ cmd: 'slot', slot: 'A2', action: 'fix' });
    const farewell = await k.waitForScreen(/Erstattung offen/);
    assert.doesNotMatch(farewell.join('\n'), /Gutschein|storniert/);
    const receipt = (await k.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(receipt, /Erstattung wird gepr.ft\s+1,80 EUR/);
    assert.doesNotMatch(receipt, /Rest als Gutschein|Wechselgeld/);
    // Recovery (5 s after the session was left open) reads the reversal back: it took effect.
    const settled = await k.waitForSettled(30_000);
    assert.equal(settled.journal.unclaimedVouchers, 0, 'no voucher on top of the reversal');
    assert.equal((await vend(k)).hopper?.coins, 30, 'the hopper paid nothing');
    assert.deepEqual(
      (await k.ledger()).sales.map((s) => [s.method, s.collected, s.cancelled]),
      [['cashless', 180, true]],
      'reversed once at the API',
    );
    const { records } = await Journal.read(join(k.dir, 'journal'));
    assert.deepEqual(
      records
        .filter((r) => r.type === 'terminal_intent' || r.type === 'terminal_outcome')
        .map((r) => (r.type === 'terminal_intent' ? [r.type, r.by] : [r.type, r.result])),
      [
        ['terminal_intent', 'vending'],
        ['terminal_outcome', 'unknown'],
        ['terminal_outcome', 'ok'],
      ],
      'in doubt, then settled by the read-back (never sent twice)',
    );
  });

  it('sold out: the product is refused before any money is taken', async () => {
    const k = await start();
    await k.press('amount2');
    await k.waitForScreen(/Ausverkauft/);
    const state = await k.state();
    assert.equal(state.acceptor, 'inhibited');
    assert.equal(state.inserted ?? 0, 0);
  });

  it('power cut during a release: after the restart that unit is unknown (never released again, slot blocked), the unit never tried and the change are owed back', async () => {
    const broker = `mqtt://127.0.0.1:${await freePort()}`;
    const k = await start(undefined, true, broker);
    await buyTwoAndCut(k);
    kiosk = undefined;

    const k2 = await start(k.dir, true, broker);
    await k2.waitFor(
      () => k2.state(),
      (s) => s.state === 'idle' && s.journal.openSessions === 0,
      20_000,
    );
    const v = await vend(k2);
    assert.deepEqual(
      v.slots.find((s) => s.id === 'A1'),
      {
        id: 'A1',
        product: 1,
        stock: 1,
        blocked: 'release power_cut',
      },
    );
    assert.equal(v.releasesInDoubt.length, 1);
    assert.equal(v.releasesInDoubt[0]!.cents, 180);
    // The receipt recovery prints: the unit never tried given back, out of the total and the VAT (before:
    // 2 x Kaffee, Summe 3,60, VAT on 3,60); the unit cut in its release stays charged, in doubt.
    const paper = (await k2.receipts()).map((r) => r.join('\n')).at(-1) ?? '';
    assert.match(paper, /Nicht ausgegeben A1 Kaffee\s+-1,80 EUR/);
    assert.match(paper, /Ausgabe ungeklärt:\nA1 Kaffee\s+1,80 EUR/);
    assert.match(paper, /Summe\s+1,80 EUR\nMwSt 19 % auf 1,80 EUR\s+0,29 EUR\n/);
    // Where the rest went, as on a live receipt (before: printed before recovery settled it, no line):
    // 4,00 given, the 2,20 on the voucher recovery keeps for the operator, named by its short id only.
    assert.match(
      paper,
      /Bar gegeben\s+4,00 EUR\nRest als Gutschein\s+2,20 EUR\nGutschein-Nr\.\s+(\S{4})-(\S{4})\n/,
    );
    const shortId = /Gutschein-Nr\.\s+(\S{4})-(\S{4})/.exec(paper)!.slice(1).join('');
    await k2.stop();
    // The fleet hears of the sale once, from recovery (the flow was cut before its releases were done):
    // the goods not given back, 1,80 (before: 3,60 told at the payment, or nothing at all).
    const sold = outboxTransactions(k.dir).filter((e) => e.outcome === 'completed');
    assert.deepEqual(
      sold.map((e) => [e.kind, e.amountCents, e.itemCount]),
      [['sale', 180, 1]],
    );
    const { records, state } = await Journal.read(join(k.dir, 'journal'));
    // Valued at the unit delivered (in doubt, so charged), paid in cash: the same parts on both sides.
    assert.deepEqual(sold[0]!.parts, { cardBalance: 0, voucher: 0, terminal: 0, cash: 180 });
    assert.deepEqual(state.lifetime.salesValue.parts, sold[0]!.parts);
    const outcomes = records.flatMap((r) =>
      r.type === 'release_outcome' ? [`${r.result}:${r.reason ?? ''}`] : [],
    );
    assert.deepEqual(outcomes.sort(), ['failed:not_tried', 'unknown:power_cut'], 'nothing released twice');
    // 4,00 in, 3,60 paid; the unit never tried (1,80) and the 0,40 change: 2,20 on a voucher by recovery.
    assert.deepEqual(
      state.unclaimedVouchers.map((u) => [u.cents, u.ref?.split('.')[1]]),
      [[220, shortId]],
    );
    assert.ok(!paper.includes(state.unclaimedVouchers[0]!.voucher), 'the code that pays is not printed');
    // The receipt's figures add up: total = cash given - voucher out (the export's columns).
    const receipt = records.find((r) => r.type === 'receipt' && r.sale);
    assert.ok(receipt?.type === 'receipt' && receipt.sale);
    assert.deepEqual([receipt.sale.total, receipt.sale.cashIn, receipt.sale.voucherOut], [180, 400, 220]);
    assert.equal(Object.keys(state.sessions).length, 0);
    rmSync(k.dir, { recursive: true, force: true });
  });
});
