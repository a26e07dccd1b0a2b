/**
 * A power cut while the card terminal pays (`start/cashless`), with the real kiosk program: the
 * stand-in holds the call open (latency), commits it and drops the answer, the kiosk is killed once
 * the call is at the server (observed through the stand-in, never a guessed sleep) and restarted on
 * the same journal and ledger.
 *  - checkout without slots (the customer holds the goods): recovery reads the payment back and
 *    prints the customer's receipt from the read-back transaction, never an empty one;
 *  - a vending counter (nothing was released): the terminal payment is reversed by its receipt
 *    number (`cancelTrx`), journaled, and nothing is owed.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';

const CONFIG = {
  kiosk: { mode: 'checkout', cardTerminal: true },
  catalogue: simulatorCatalogue(),
  api: { timeoutMs: 8000 },
  timeouts: { inactivityMs: 20_000, warningMs: 5000, terminalMs: 8000, resultMs: 300 },
};
const SLOTS = {
  hardware: {
    slots: { driver: 'simulated', slots: [{ id: 'A1', product: 1, initialStock: 2, lowAt: 0 }] },
  },
};

describe('power cut during start/cashless (SIGKILL) and restart', function () {
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

  /** Kaffee (1,80) chosen, paid at the terminal; killed while the committed call has no answer yet. */
  async function cutDuringTerminalPayment(config: Record<string, unknown>): Promise<KioskProcess> {
    const k = await start({ externalApi: true, config, keepDir: true });
    await k.faults([
      { path: '/start/cashless', fault: { type: 'latency', ms: 1500 } },
      { path: '/start/cashless', fault: { type: 'drop_after_commit' } },
    ]);
    await k.waitForIdle(15_000);
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    await k.press('ok');
    await k.waitForState(/serving/, /choosePayment\.choosing/);
    await k.press('amount2');
    await k.waitForState(/serving/, /pay\.starting/);
    await k.waitForApiReceived('/start/cashless');
    await k.kill();
    assert.equal((await k.waitForApiDone('/start/cashless')).outcome, 'dropped_after_commit');
    const sales = (await k.ledger()).sales;
    assert.deepEqual(
      sales.map((s) => ({ method: s.method, collected: s.collected, cancelled: s.cancelled })),
      [{ method: 'cashless', collected: 180, cancelled: false }],
      'the customer was charged at the terminal',
    );
    await k.stopApi();
    return k;
  }

  async function restart(k: KioskProcess, config: Record<string, unknown>): Promise<KioskProcess> {
    const k2 = await start({ dir: k.dir, externalApi: true, config });
    await k2.waitFor(
      () => k2.state(),
      (s) => s.state === 'idle' && s.journal.openSessions === 0,
      30_000,
      'recovered',
    );
    return k2;
  }

  it('checkout: the payment is read back and the customer receipt printed from it (items, terminal slip), not reversed', async () => {
    const k = await cutDuringTerminalPayment(CONFIG);
    const k2 = await restart(k, CONFIG);
    const printed = (await k2.receipts()).map((r) => r.join('\n'));
    assert.equal(printed.length, 1, 'one receipt printed by recovery');
    const receipt = printed[0]!;
    assert.match(receipt, /Kaffee\s+1,80 EUR/, "the kiosk's part: what was bought");
    assert.match(receipt, /Kartenzahlung\s+1,80 EUR/, 'how it was paid');
    assert.match(receipt, /Kartenzahlung Kundenbeleg/, "the API's lines as read back: the terminal slip");
    assert.match(receipt, /Beleg-Nr\.:\s+\d{4}/);
    const sales = (await k2.ledger()).sales;
    assert.equal(sales.length, 1);
    assert.equal(sales[0]!.cancelled, false, 'served: not reversed');
    await k2.stop();

    const { state } = await Journal.read(join(k2.dir, 'journal'));
    const kept = state.recentReceipts.at(-1);
    assert.ok(kept && kept.printed && kept.lines.length > 10, 'journaled, printed, not empty');
    assert.equal(Object.values(state.terminal.batch).length, 1, 'reversible until end-of-day');
    assert.equal(state.terminal.merchantReceipts.at(-1)?.kind, 'payment', 'merchant copy kept');
    assert.equal(state.lifetime.sales.cents, 180);
  });

  it('vending counter, nothing released: the terminal payment is reversed (cancelTrx), journaled, nothing owed', async () => {
    const config = { ...CONFIG, ...SLOTS };
    const k = await cutDuringTerminalPayment(config);
    const k2 = await restart(k, config);
    const sales = (await k2.ledger()).sales;
    assert.equal(sales.length, 1);
    assert.equal(sales[0]!.cancelled, true, 'reversed through the API');
    const s = await k2.state();
    assert.equal(s.journal.unclaimedVouchers, 0, 'no voucher on top of the reversal');
    assert.deepEqual((await k2.receipts()).length, 0, 'no paid receipt for goods not served');
    await k2.stop();

    const { records, state } = await Journal.read(join(k2.dir, 'journal'));
    const intent = records.find((r) => r.type === 'terminal_intent');
    const outcome = records.find((r) => r.type === 'terminal_outcome');
    assert.ok(intent && intent.type === 'terminal_intent' && intent.action === 'cancel_trx');
    assert.equal(intent.by, 'recovery');
    assert.equal(intent.cents, 180);
    assert.ok(outcome && outcome.type === 'terminal_outcome' && outcome.result === 'ok');
    assert.ok(
      records.findIndex((r) => r === intent) < records.findIndex((r) => r === outcome),
      'intent before outcome',
    );
    assert.deepEqual(state.terminal.reversals, { count: 1, cents: 180 });
    assert.equal(state.unclaimedVouchers.length, 0);
    assert.equal(state.vend.notDelivered.cents, 180, 'the unit never released is recorded not served');
  });

  it('vending counter, the start/cashless intent damaged too: the payment is found on the server and reversed, not closed aborted (chaos seed 49002)', async () => {
    const config = { ...CONFIG, ...SLOTS };
    const k = await cutDuringTerminalPayment(config);
    // one flipped bit in the only record of the terminal payment, as rotting storage would leave it
    const dir = join(k.dir, 'journal');
    const file = join(
      dir,
      readdirSync(dir)
        .filter((n) => /^journal-\d+\.log$/.test(n))
        .sort()
        .at(-1)!,
    );
    const bytes = readFileSync(file);
    const at = bytes.indexOf('"step":"start/cashless"');
    assert.ok(at > 0, 'the intent was journaled before the call');
    bytes[at + 3] = bytes[at + 3]! ^ 0x04;
    writeFileSync(file, bytes);
    const k2 = await restart(k, config);
    const sales = (await k2.ledger()).sales;
    assert.equal(sales.length, 1);
    assert.equal(sales[0]!.cancelled, true, 'reversed through the API');
    assert.equal((await k2.state()).journal.unclaimedVouchers, 0, 'no voucher on top of the reversal');
    await k2.stop();

    const { records, state } = await Journal.read(dir);
    assert.ok(
      records.some((r) => r.type === 'api_intent' && r.step === 'start/cashless'),
      'journaled again',
    );
    assert.deepEqual(state.terminal.reversals, { count: 1, cents: 180 });
    const closed = records.find((r) => r.type === 'session_closed');
    assert.ok(closed && closed.type === 'session_closed' && closed.outcome !== 'completed');
  });
});
