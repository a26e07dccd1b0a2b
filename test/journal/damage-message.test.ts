/**
 * The operator's line for damaged journal records (`journal_damaged`): a paid cashless sale is named
 * with what it paid, or with its amount unknown, never as "0 ct"; a session closed since as closed.
 */
import assert from 'node:assert/strict';
import { damageMessage } from '../../src/journal/damage-message.js';
import { Journal, type JournalAlert } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/util/logger.js';
import { flipFirst, paidAtTerminal, saleOfTwo, tempDirs, topUpSession } from './helpers.js';

type Damaged = Extract<JournalAlert, { kind: 'damaged' }>;

/** A loyalty payment of `sessionId`'s sale, answered ok, as outcomes were written before they repeated the amount. */
async function paidByLoyalty(j: Journal, sessionId: string, apiId: string): Promise<void> {
  await j.append({
    type: 'api_intent',
    sessionId,
    apiId,
    step: 'start/loyalty',
    jobId: `${sessionId}:start:1`,
  });
  await j.append({ type: 'api_outcome', jobId: `${sessionId}:start:1`, result: 'ok', status: 'ok' });
}

describe('journal_damaged: the money the operator is told', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  /** Reopens `dir` after flipping the first record of `flip`: the alert `damaged` and its message. */
  async function reopenFlipped(dir: string, flip: string): Promise<{ alert: Damaged; message: string }> {
    flipFirst(dir, flip);
    const alerts: JournalAlert[] = [];
    const j = await Journal.open(dir, { logger: silentLogger, onAlert: (a) => alerts.push(a) });
    await j.close();
    const alert = alerts.find((a): a is Damaged => a.kind === 'damaged');
    assert.ok(alert, 'the damage is reported');
    return { alert, message: damageMessage(alert) };
  }

  it('a sale paid at the terminal, its basket record damaged: what it paid, from the payment outcome (not "0 ct")', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir, { logger: silentLogger });
    await saleOfTwo(j, 's10', 'STX10', 339);
    // The real writer: the outcome repeats the amount the payment took.
    await paidAtTerminal(j, 's10', 'STX10');
    await j.close();
    const { alert, message } = await reopenFlipped(dir, 'tx_created');
    assert.deepEqual(alert.sessions, ['s10']);
    assert.equal(alert.salePaidCents.s10, 678);
    assert.match(message, /sessions: s10 cash 0 ct, sale paid 678 ct;/);
    assert.doesNotMatch(message, /s10 0 ct/);
  });

  it('a paid sale whose records name no amount (an outcome written before outcomes repeated it): amount unknown', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir, { logger: silentLogger });
    await saleOfTwo(j, 's11', 'STX11', 339);
    await paidByLoyalty(j, 's11', 'STX11');
    await j.close();
    const { alert, message } = await reopenFlipped(dir, 'tx_created');
    assert.equal(alert.salePaidCents.s11, null);
    assert.match(message, /s11 cash 0 ct, sale paid \(amount unknown\)/);
  });

  it('a paid sale whose basket survived: its amount; an unpaid session: its cash only', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir, { logger: silentLogger });
    await saleOfTwo(j, 's12', 'STX12', 339);
    await paidByLoyalty(j, 's12', 'STX12');
    await j.append({ type: 'session_started', sessionId: 's13', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 's13', cents: 200, source: 'coin' });
    await j.append({ type: 'receipt', sessionId: 's13', jobId: 's13:x', lines: [] });
    await j.close();
    const { message } = await reopenFlipped(dir, 'receipt');
    assert.match(message, /s12 cash 0 ct, sale paid 678 ct/);
    assert.match(message, /s13 cash 200 ct(,|;)/);
    assert.doesNotMatch(message, /s13 cash 200 ct, sale/);
  });

  it('a session the damage touched and that closed after it: "closed", not "0 ct"', async () => {
    const dir = dirs.make();
    const j = await Journal.open(dir, { logger: silentLogger });
    for (const e of topUpSession('s14', 500, { close: true })) await j.append(e);
    await j.close();
    const { alert, message } = await reopenFlipped(dir, 'tx_created');
    assert.deepEqual(alert.sessions, ['s14']);
    assert.match(message, /sessions: s14 closed;/);
  });
});
