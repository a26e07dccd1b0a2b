/**
 * The live flow's terminal reversal (issue 15), on a real journal and the real API stand-in: a
 * vending sale paid at the card terminal none of whose goods came out goes back through the app's
 * `reverseTerminal` actor (src/app/vend-actors.ts `reverseOne`, over TerminalService and
 * TerminalDuties, the one reversal path). What the checkout machine does with each outcome is done
 * here by hand (its own tests: test/machines/checkout-reversal.test.ts): `ok` nothing more, `refused`
 * a voucher, `unknown` nothing (held). Each case ends with the books of the chaos harness: no cent
 * lost, none refunded twice, nothing left open.
 */
import assert from 'node:assert/strict';
import { recoverOpenSessions } from '../../src/bookkeeping/recovery.js';
import { TerminalDuties } from '../../src/bookkeeping/terminal-duties.js';
import { TerminalService } from '../../src/app/terminal-service.js';
import { reverseOne } from '../../src/app/vend-actors.js';
import type { SmartTransactionsApi } from '../../src/api/types.js';
import { Journal } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/util/logger.js';
import { World, assertNothingLost } from '../recovery/world.js';

const TWO_COFFEES = {
  basket: {
    type: 'default',
    products: [{ id: 1, desc: 'Kaffee', ean: '', quantity: 2, priceOne: 180, tax: 7, item_type: 'article' }],
  },
  basket_info: { sum: 360, currency: 'EUR' },
  intent: 'sale',
};

for (const profile of ['default', 'read-lag'] as const)
  describe(`live terminal reversal of a vending sale whose goods all failed (stand-in ${profile}, journal, books)`, function () {
    this.timeout(30_000);
    let w: World;
    let n = 0;
    beforeEach(async () => {
      // `read-lag`: after the reversal, reads show the payment as it was for two reads (still paid).
      w = await World.create('checkout', { profile });
    });
    afterEach(async () => w.close());

    const duties = (api: SmartTransactionsApi = w.rig.client) =>
      new TerminalDuties({ journal: w.journal, api, logger: silentLogger, enabled: true, readPauseMs: 10 });
    const service = (d: TerminalDuties) =>
      new TerminalService({
        duties: d,
        fleet: () => undefined,
        logger: silentLogger,
        idle: () => false,
        lastEndOfDay: () => null,
      });

    /** Paid 3,60 at the terminal; both releases failed (what the vend actors journal). */
    async function paidNothingOut(): Promise<{ sessionId: string; apiId: string }> {
      const sessionId = `v${++n}`;
      await w.sj.beginSession(sessionId);
      const tx = await w.api.create({ ...TWO_COFFEES, merchantRef: `${sessionId}:create:1` });
      assert.equal((await w.api.start(tx.id, 'cashless')).status, 'ok');
      for (const i of [0, 1]) {
        const jobId = `${sessionId}:release-${i}:${i + 1}`;
        await w.journal.append({
          type: 'release_intent',
          sessionId,
          jobId,
          slot: 'A1',
          productId: 1,
          cents: 180,
        });
        await w.journal.append({
          type: 'release_outcome',
          jobId,
          result: 'failed',
          reason: 'no_confirmation',
        });
      }
      return { sessionId, apiId: tx.id };
    }

    const reverse = (d: TerminalDuties, sessionId: string, apiId: string) =>
      reverseOne(
        { terminal: service(d), logger: silentLogger },
        { sessionId, transactionId: apiId, cents: 360, jobId: `${sessionId}:reversal:3` },
      );

    async function unclaimedOf(sessionId: string): Promise<number> {
      return (await Journal.read(w.dir)).records
        .filter((r) => r.type === 'unclaimed' && r.sessionId === sessionId)
        .reduce((sum, r) => sum + (r as { cents: number }).cents, 0);
    }
    const cancelled = () => w.ledger().sales.filter((s) => s.cancelled).length;
    const recover = (d = duties()) =>
      recoverOpenSessions({ journal: w.journal, api: w.rig.client, logger: silentLogger, terminal: d });

    it('the answer lost after the API took it: read back (past a lagging read), ok, nothing else paid back', async () => {
      const { sessionId, apiId } = await paidNothingOut();
      w.rig.standIn.faults.add({ path: '/cancelTrx', fault: { type: 'drop_after_commit' } });
      // Before, one read was believed: under `read-lag` it shows the payment as it was before (not
      // cancelled), so a reversal that took effect came out `unknown` (or `failed`: paid back twice).
      assert.equal((await reverse(duties(), sessionId, apiId)).outcome, 'ok');
      await w.sj.closeSession(sessionId, 'paid');
      assert.equal(cancelled(), 1);
      assert.equal(await unclaimedOf(sessionId), 0);
      assertNothingLost(await w.books());
    });

    it('ok: reversed through the API, nothing else paid back, the session closes with balanced books', async () => {
      const { sessionId, apiId } = await paidNothingOut();
      const out = await reverse(duties(), sessionId, apiId);
      assert.equal(out.outcome, 'ok');
      await w.sj.closeSession(sessionId, 'paid');
      assert.equal(cancelled(), 1, 'the stand-in reversed the payment');
      assert.equal(await unclaimedOf(sessionId), 0, 'no voucher on top of the reversal');
      assert.equal(w.journal.state.sessions[sessionId], undefined, 'closed');
      assert.deepEqual(w.journal.state.terminal.reversals, { count: 1, cents: 360 });
      const intent = (await Journal.read(w.dir)).records.find((r) => r.type === 'terminal_intent');
      assert.equal(intent?.type === 'terminal_intent' && intent.by, 'vending');
      const books = await w.books();
      assert.equal(books.reversed, 360, 'the chaos books count the live reversal as money back');
      assertNothingLost(books);
    });

    it('refused after end-of-day: nothing sent, the price goes back the usual way (voucher), once', async () => {
      const { sessionId, apiId } = await paidNothingOut();
      const d = duties();
      assert.equal((await d.endOfDay('schedule')).result, 'ok');
      const out = await reverse(d, sessionId, apiId);
      assert.equal(out.outcome, 'refused');
      // The machine's usual way: no card, no hopper -> a voucher for the 3,60.
      await w.sj.unclaimed(360, 'ABCDE-FGHJK', `${sessionId}:unclaimed:4`);
      await w.sj.closeSession(sessionId, 'paid');
      assert.equal(cancelled(), 0, 'the payment stands');
      assert.equal(await unclaimedOf(sessionId), 360);
      assertNothingLost(await w.books());
    });

    it('unknown, and it had taken effect: held (no voucher), the session stays open; recovery reads it back', async () => {
      const { sessionId, apiId } = await paidNothingOut();
      // The answer is lost after the stand-in committed it, and the read-back cannot tell either.
      w.rig.standIn.faults.add({ path: '/cancelTrx', fault: { type: 'drop_after_commit' } });
      w.rig.standIn.faults.add({
        method: 'GET',
        path: '/Smart/Transactions/',
        fault: { type: 'status', status: 503 },
        times: 50,
      });
      const out = await reverse(duties(), sessionId, apiId);
      assert.equal(out.outcome, 'unknown');
      await w.sj.closeSession(sessionId, 'paid');
      assert.ok(w.journal.state.sessions[sessionId], 'left open: the reversal is in doubt');
      assert.equal(
        await unclaimedOf(sessionId),
        0,
        'nothing paid back while the reversal may have taken effect',
      );
      assert.equal(Object.values(w.journal.state.terminal.inDoubt).length, 1, 'journaled for the operator');
      // Before, the `unknown` left the books, and a second reversal would be refused as "not paid"
      // (409) or recovery would have paid it back by voucher: refunded twice.
      w.rig.standIn.faults.clear();
      const report = await recover();
      assert.equal(report.unresolved, 0);
      assert.equal(cancelled(), 1);
      assert.equal(await unclaimedOf(sessionId), 0, 'the reversal gave it back: no voucher as well');
      assert.equal(Object.values(w.journal.state.terminal.inDoubt).length, 0);
      assertNothingLost(await w.books());
    });

    it('unknown, and it had not reached the API: recovery finds it still paid and reverses it then, once', async () => {
      const { sessionId, apiId } = await paidNothingOut();
      w.rig.standIn.faults.add({ path: '/cancelTrx', fault: { type: 'drop_before_commit' } });
      w.rig.standIn.faults.add({
        method: 'GET',
        path: '/Smart/Transactions/',
        fault: { type: 'status', status: 503 },
        times: 50,
      });
      assert.equal((await reverse(duties(), sessionId, apiId)).outcome, 'unknown');
      await w.sj.closeSession(sessionId, 'paid');
      assert.equal(cancelled(), 0);
      // Still unreadable at the first recovery: nothing is settled on a guess.
      assert.equal((await recover()).unresolved, 1);
      assert.equal(await unclaimedOf(sessionId), 0);
      w.rig.standIn.faults.clear();
      assert.equal((await recover()).unresolved, 0);
      assert.equal(cancelled(), 1);
      assert.equal(await unclaimedOf(sessionId), 0);
      assertNothingLost(await w.books());
    });

    for (const reached of [true, false]) {
      it(`power cut during the live reversal (${reached ? 'after' : 'before'} the API took it): recovery settles it, never twice`, async () => {
        const { sessionId, apiId } = await paidNothingOut();
        // The call goes out (or not) and the kiosk dies before the answer: the intent is all the journal has.
        const dying = Object.assign(Object.create(w.rig.client) as SmartTransactionsApi, {
          cancelTrx: async (receiptNumber: string) => {
            if (reached) await w.rig.client.cancelTrx!(receiptNumber);
            return new Promise<never>(() => {});
          },
        });
        void reverse(duties(dying), sessionId, apiId);
        for (let i = 0; i < 50 && Object.keys(w.journal.state.terminal.inDoubt).length === 0; i++)
          await new Promise((r) => setTimeout(r, 10));
        if (reached)
          for (let i = 0; i < 50 && cancelled() === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(Object.keys(w.journal.state.terminal.inDoubt).length, 1, 'the intent was durable first');
        await w.crash();

        const report = await recover();
        assert.equal(report.unresolved, 0);
        assert.equal(cancelled(), 1, 'reversed exactly once');
        assert.equal(await unclaimedOf(sessionId), 0, 'and not paid back a second way');
        assert.equal(w.journal.state.sessions[sessionId], undefined, 'closed');
        assertNothingLost(await w.books());
      });
    }
  });
