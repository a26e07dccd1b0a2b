/**
 * The card terminal's duties in the real kiosk program over a real Mosquitto (issue 12 item 8):
 * the scheduled end-of-day runs once the kiosk is idle after `kiosk.endOfDayAt`; the fleet's
 * `diagnostics` includes the terminal's diagnosis; `terminal-cancel` reverses a terminal payment by
 * its receipt number; `end-of-day` clears the batch; a reversal after it is refused. Every duty's
 * result arrives as `evt/terminal` (and `cmdres`), and the journal holds intent and outcome.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { simulatorCatalogue, startKiosk } from '../../src/harness/kiosk-process.js';
import { watchedKiosk, type Seen } from '../fleet/support/observer.js';

describe('e2e: card terminal duties (schedule, fleet commands, evt/terminal)', function () {
  this.timeout(60_000);
  const id = 'k-terminal-e2e-01';
  const watched = watchedKiosk(id);
  const { topic } = watched;
  const waitFor = (pred: (m: Seen) => boolean, what: string, timeoutMs = 20_000): Promise<Seen> =>
    watched.observer.message(pred, what, timeoutMs);
  const { command } = watched;
  const terminalEvents = () =>
    watched.observer.messages.filter((m) => m.topic === topic('evt/terminal')).map((m) => m.json!);

  it('scheduled end-of-day when idle; diagnostics with the terminal; terminal-cancel by receipt number; end-of-day; refused after it', async () => {
    const k = watched.keep(
      await startKiosk({
        keepDir: true,
        config: {
          kiosk: { id, mode: 'checkout', cardTerminal: true, endOfDayAt: '00:00' },
          catalogue: simulatorCatalogue(),
          fleet: { url: watched.brokerUrl, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
          timeouts: { resultMs: 500 },
        },
      }),
    );
    // 00:00 has always passed today: the first idle runs it, once.
    const scheduled = await waitFor(
      (m) => m.topic === topic('evt/terminal') && m.json?.action === 'end_of_day',
      'scheduled end-of-day',
    );
    assert.deepEqual(
      { result: scheduled.json?.result, by: scheduled.json?.by, count: scheduled.json?.count },
      { result: 'ok', by: 'schedule', count: 0 },
    );

    const diag = await command('diagnostics');
    assert.equal(diag.json?.status, 'succeeded');
    const probes = (diag.json?.result as { probes: { device: string; status: string }[] }).probes;
    assert.deepEqual(
      probes.find((p) => p.device === 'terminal'),
      {
        device: 'terminal',
        driver: 'smartzvt',
        found: true,
        where: 'API /Smart/Transactions/me/diagnosis',
        status: 'ok',
        required: false,
      },
    );

    // A customer pays a coffee at the terminal.
    await k.waitForIdle();
    await k.press('amount1');
    await k.waitForScreen(/Summe 1,80 EUR/);
    await k.press('ok');
    await k.waitForState(/serving/, /choosePayment\.choosing/);
    await k.press('amount2');
    await k.waitForScreen(/Vielen Dank!/);
    await k.waitForSettled();
    const receipt = (await k.receipts()).at(-1)!.join('\n');
    const receiptNumber = /Beleg-Nr\.:\s+(\d{4})/.exec(receipt)?.[1];
    assert.ok(receiptNumber, 'the terminal slip names its receipt number');

    const bad = await command('terminal-cancel', { receiptNumber: '../x' });
    assert.deepEqual([bad.json?.status, bad.json?.reason], ['rejected', 'bad_args']);

    const cancelled = await command('terminal-cancel', { receiptNumber });
    assert.equal(cancelled.json?.status, 'succeeded', JSON.stringify(cancelled.json));
    assert.deepEqual(cancelled.json?.result, { result: 'ok', amountCents: 180 });
    assert.equal((await k.ledger()).sales.at(-1)?.cancelled, true, 'reversed at the API');
    await waitFor(
      (m) => m.topic === topic('evt/terminal') && m.json?.action === 'reversal' && m.json?.result === 'ok',
      'evt/terminal reversal',
    );

    const eod = await command('end-of-day');
    assert.equal(eod.json?.status, 'succeeded');
    assert.deepEqual(
      eod.json?.result,
      { result: 'ok', amountCents: 0, count: 0 },
      'the reversed payment is not in it',
    );

    const late = await command('terminal-cancel', { receiptNumber });
    assert.equal(late.json?.status, 'failed');
    assert.match(
      String(late.json?.reason),
      /refused: already reversed|refused: not in the open terminal batch/,
    );

    assert.deepEqual(
      terminalEvents().map((e) => [e.action, e.result, e.by]),
      [
        ['end_of_day', 'ok', 'schedule'],
        ['reversal', 'ok', 'fleet'],
        ['end_of_day', 'ok', 'fleet'],
        ['reversal', 'refused', 'fleet'],
      ],
    );
    await k.stop();
    const { records, state } = await Journal.read(join(k.dir, 'journal'));
    const intents = records.filter((r) => r.type === 'terminal_intent');
    const outcomes = records.filter((r) => r.type === 'terminal_outcome');
    assert.equal(intents.length, 4);
    assert.equal(outcomes.length, 4, 'every intent has its outcome');
    assert.deepEqual(state.terminal.reversals, { count: 1, cents: 180 });
    assert.equal(state.terminal.endOfDays.count, 2);
  });
});
