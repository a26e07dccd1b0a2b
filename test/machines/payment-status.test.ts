/**
 * The status decides, not HTTP: every transaction status (and one we do not know) on the answer to
 * `start` and on a read-back, on the simplest flow that reaches them (a checkout without card,
 * 200 cents inserted for a 150 basket). For each: what the machine does, what it reports for the
 * journal (`transaction_finished` with the status acted on) and what the customer sees.
 */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { screenFor } from '../../machines/screens.js';
import { classifyStatus, type Took } from '../../src/api/transaction-status.js';
import { apiError, CARD, money, RECEIPT, run } from './fakes.js';

type Harness = ReturnType<typeof run>;

const answer = (status: string, balance: number | null = null) => ({
  id: 'STX_NEW',
  status,
  took: classifyStatus(status),
  receipt: RECEIPT,
  balance,
});
const readBackOf = (status: string) => ({ took: classifyStatus(status), result: answer(status) });

async function payWith200(h: Harness) {
  await h.press('amount1', 'ok', 'ok');
  await h.coins(200);
}

function screen(h: Harness): string[] {
  return screenFor(h.snapshot, { cols: 20, rows: 4, lang: 'de' }).map((l) => l.trim());
}

/** Paid receipts (job `<session>:receipt:<n>`), not a credit's receipt or a voucher. */
function receiptsPrinted(h: Harness): number {
  return h.stubs.print.getCalls().filter((c) => /^S1:receipt:/.test((c.args[0] as { jobId: string }).jobId))
    .length;
}

/** Drives the session to its farewell (voucher shown, then thanks) and returns that screen. */
async function farewellScreen(h: Harness): Promise<string[]> {
  for (let i = 0; i < 10 && h.value() !== 'farewell'; i++) {
    await h.press('ok');
    await h.flushAll();
  }
  assert.equal(h.value(), 'farewell');
  return screen(h);
}

/** The outcome part of `transaction_finished` (the amount and the rest: one test below). */
function finished(h: Harness) {
  return h.events
    .filter((e) => e.type === 'transaction_finished')
    .map((e) => ({
      type: e.type,
      id: e.id,
      outcome: e.outcome,
      ...(e.status !== undefined ? { status: e.status } : {}),
    }));
}

const PAID = ['ok', 'received', 'shipped', 'collection', 'collected'];
const NOT_PAID = ['failed', 'cancelled'];

describe('payment status: the answer to start', () => {
  for (const status of PAID) {
    it(`200 with status ${status}: paid, receipt printed, status journaled`, async () => {
      const h = run(checkoutMachine);
      h.stubs.startPayment.resolves(answer(status, 1234));
      await payWith200(h);
      assert.equal(h.context.outcome, 'paid');
      await h.flushAll();
      assert.equal(receiptsPrinted(h), 1);
      // The receipt is printed once the money is settled, so after the voucher for the overpay.
      const receipt = h.stubs.print
        .getCalls()
        .map((c) => c.args[0] as { kind: string; lines?: unknown })
        .find((p) => p.kind === 'receipt');
      assert.deepEqual(receipt?.lines, RECEIPT);
      assert.deepEqual(finished(h), [
        { type: 'transaction_finished', id: 'STX_NEW', outcome: 'paid', status },
      ]);
      // Everything the fleet's transaction event needs comes with it: nothing read from the machine.
      const event = h.events.find((e) => e.type === 'transaction_finished');
      assert.ok(event?.type === 'transaction_finished');
      assert.deepEqual(
        { amount: event.amount, method: event.method, itemCount: event.itemCount },
        { amount: 150, method: 'cash', itemCount: 1 },
      );
      const bye = await farewellScreen(h);
      assert.equal(bye[0], 'Vielen Dank!');
      assert.ok(bye.includes('Guthaben 12,34 EUR'), bye.join('|'));
      assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
      assert.equal(h.stubs.readBack.callCount, 0);
    });
  }

  for (const status of NOT_PAID) {
    it(`200 with status ${status}: not paid, no paid receipt, the money settled`, async () => {
      const h = run(checkoutMachine);
      h.stubs.startPayment.resolves(answer(status));
      await payWith200(h);
      assert.equal(h.value(), 'payFailed');
      assert.deepEqual(screen(h).slice(0, 2), ['Nicht bezahlt', 'Geld bleibt']);
      assert.deepEqual(finished(h), [
        { type: 'transaction_finished', id: 'STX_NEW', outcome: 'failed', status },
      ]);
      await h.press('ok');
      await h.flushAll();
      assert.equal(receiptsPrinted(h), 0, 'a paid receipt for money that never moved');
      assert.equal(h.stubs.readBack.callCount, 0);
      assert.equal(h.stubs.startPayment.callCount, 1);
      assert.deepEqual(money(h.context), { inserted: 200, paid: 0, credited: 0, unclaimed: 200 });
      assert.equal(h.context.outcome, 'failed');
      const bye = await farewellScreen(h);
      assert.equal(bye[0], 'Nicht bezahlt');
      assert.ok(!bye.some((l) => l.startsWith('Guthaben')), bye.join('|'));
    });
  }

  it('200 with status pending, read back ok: paid exactly once', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.resolves(answer('pending'));
    h.stubs.readBack.onFirstCall().resolves(readBackOf('pending'));
    h.stubs.readBack.onSecondCall().resolves(readBackOf('ok'));
    await payWith200(h);
    assert.equal(h.value(), 'pay.readBackWait');
    assert.equal(screen(h)[0]!.startsWith('Prüfe Zahlung'), true);
    await h.advance(1000);
    assert.equal(h.context.outcome, 'paid');
    await h.flushAll();
    await h.advance(9000);
    assert.equal(h.stubs.startPayment.callCount, 1);
    assert.equal(receiptsPrinted(h), 1);
    assert.deepEqual(finished(h), [
      { type: 'transaction_finished', id: 'STX_NEW', outcome: 'paid', status: 'ok' },
    ]);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 150, credited: 0, unclaimed: 50 });
  });

  it('200 with status pending for every read-back: unresolved, debt reported, never paid', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.resolves(answer('pending'));
    h.stubs.readBack.resolves(readBackOf('pending'));
    await payWith200(h);
    await h.advance(1000);
    await h.advance(2000);
    assert.equal(h.stubs.readBack.callCount, 3);
    assert.equal(h.value(), 'payUnresolved');
    assert.deepEqual(screen(h).slice(0, 2), ['Zahlung unklar', 'Betrag notiert']);
    assert.equal(
      h.events.some((e) => e.type === 'debt' && /status pending/.test(e.detail)),
      true,
    );
    assert.deepEqual(finished(h), [
      { type: 'transaction_finished', id: 'STX_NEW', outcome: 'unresolved', status: 'pending' },
    ]);
    await h.press('ok');
    await h.flushAll();
    assert.equal(receiptsPrinted(h), 0);
    assert.equal(h.context.paid, 0);
  });

  it('200 with status approved that stays so: the authorisation is cancelled, settled as failed', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.resolves(answer('approved'));
    h.stubs.readBack.resolves(readBackOf('approved'));
    await payWith200(h);
    await h.advance(1000);
    await h.advance(2000);
    assert.equal(h.stubs.readBack.callCount, 3);
    assert.equal(h.stubs.cancelTransaction.callCount, 1);
    assert.deepEqual(h.stubs.cancelTransaction.firstCall.args[0], { id: 'STX_NEW' });
    assert.equal(h.value(), 'payFailed');
    assert.deepEqual(finished(h), [
      { type: 'transaction_finished', id: 'STX_NEW', outcome: 'failed', status: 'cancelled' },
    ]);
    await h.press('ok');
    await h.flushAll();
    assert.equal(receiptsPrinted(h), 0);
    assert.deepEqual(money(h.context), { inserted: 200, paid: 0, credited: 0, unclaimed: 200 });
  });

  it('approved, then captured on a read-back: paid, never cancelled', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.resolves(answer('approved'));
    h.stubs.readBack.onFirstCall().resolves(readBackOf('approved'));
    h.stubs.readBack.onSecondCall().resolves(readBackOf('ok'));
    await payWith200(h);
    await h.advance(1000);
    assert.equal(h.context.outcome, 'paid');
    assert.equal(h.stubs.cancelTransaction.callCount, 0);
  });

  for (const [what, cancel] of [
    ['answers approved still', { resolves: { status: 'approved', took: 'approved' as Took } }],
    ['fails', { rejects: apiError('network', 'not_applied') }],
  ] as const) {
    it(`approved, and the cancel ${what}: unresolved (money recorded), never paid`, async () => {
      const h = run(checkoutMachine);
      h.stubs.startPayment.resolves(answer('approved'));
      h.stubs.readBack.resolves(readBackOf('approved'));
      if ('resolves' in cancel) h.stubs.cancelTransaction.resolves(cancel.resolves);
      else h.stubs.cancelTransaction.rejects(cancel.rejects);
      await payWith200(h);
      await h.advance(1000);
      await h.advance(2000);
      assert.equal(h.value(), 'payUnresolved');
      assert.equal(h.context.outcome, 'unresolved');
      assert.equal(h.context.paid, 0);
    });
  }

  it('200 with a status we do not know: read back, never paid, unresolved when it stays so', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.resolves(answer('refund_requested'));
    h.stubs.readBack.resolves(readBackOf('refund_requested'));
    await payWith200(h);
    assert.equal(h.value(), 'pay.readBackWait');
    await h.advance(1000);
    await h.advance(2000);
    assert.equal(h.value(), 'payUnresolved');
    assert.deepEqual(finished(h), [
      { type: 'transaction_finished', id: 'STX_NEW', outcome: 'unresolved', status: 'refund_requested' },
    ]);
    assert.equal(h.context.paid, 0);
    assert.equal(h.stubs.startPayment.callCount, 1);
  });

  it('200 with status created (the start did nothing): read back, started once more, then paid', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.onFirstCall().resolves(answer('created'));
    h.stubs.readBack.resolves(readBackOf('created'));
    await payWith200(h);
    // "Not started" is believed only after three more reads, spaced with back-off.
    await h.advance(1000);
    await h.advance(2000);
    assert.equal(h.stubs.startPayment.callCount, 1);
    await h.advance(4000);
    assert.equal(h.stubs.startPayment.callCount, 2);
    assert.equal(h.context.outcome, 'paid');
  });

  it('top-up: start/cash 200 failed says not paid and no balance; the money is not kept as loaded', async () => {
    const h = run(topupMachine);
    h.stubs.startPayment.resolves(answer('failed', 1500));
    await h.send({ type: 'SCAN', data: CARD });
    await h.press('amount1');
    await h.coins(500);
    assert.equal(h.value(), 'payFailed');
    assert.equal(h.context.balanceAfter, null);
    assert.equal(h.context.outcome, 'failed');
    await h.press('ok');
    await h.flushAll();
    assert.equal(receiptsPrinted(h), 0);
    // The card was accepted: the money goes onto it as a credit (its own transaction), not as "paid".
    assert.equal(h.stubs.creditCard.callCount, 1);
    assert.equal(h.context.paid, 0);
  });
});

describe('payment status: the read-back after an unknown outcome', () => {
  const cases: [string, string, { paid: number; unclaimed: number } | null][] = [
    ...PAID.map(
      (s) =>
        [s, 'paid', { paid: 150, unclaimed: 50 }] as [string, string, { paid: number; unclaimed: number }],
    ),
    ['failed', 'payFailed', { paid: 0, unclaimed: 200 }],
    ['cancelled', 'payFailed', { paid: 0, unclaimed: 200 }],
    ['pending', 'payUnresolved', null],
    ['approved', 'payFailed', { paid: 0, unclaimed: 200 }],
    ['no-such-status', 'payUnresolved', null],
  ];
  for (const [status, state, books] of cases) {
    it(`read back ${status} (every time): ${state}`, async () => {
      const h = run(checkoutMachine);
      h.stubs.startPayment.rejects(apiError('timeout', 'unknown'));
      h.stubs.readBack.resolves(readBackOf(status));
      await payWith200(h);
      if (h.value() === 'pay.readBackWait') {
        await h.advance(1000);
        await h.advance(2000);
      }
      if (state === 'paid') assert.equal(h.context.outcome, 'paid');
      else assert.equal(h.value(), state);
      assert.equal(h.stubs.startPayment.callCount, 1);
      assert.equal(h.stubs.cancelTransaction.callCount, status === 'approved' ? 1 : 0);
      const f = finished(h);
      assert.equal(f.length, 1);
      assert.equal(
        f[0]!.type === 'transaction_finished' && f[0]!.status,
        status === 'approved' ? 'cancelled' : status,
      );
      await h.press('ok');
      await h.flushAll();
      await h.advance(9000);
      assert.equal(receiptsPrinted(h), state === 'paid' ? 1 : 0);
      if (books) assert.deepEqual(money(h.context), { inserted: 200, credited: 0, ...books });
      else assert.equal(h.context.paid, 0);
    });
  }
});
