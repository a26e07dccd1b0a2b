/** The chaos summary's coins line is an equation that adds up with the figures it prints. */
import assert from 'node:assert/strict';
import { reconcile, type AcceptorBook } from '../../src/chaos/books.js';
import type { RunResult } from '../../src/chaos/run.js';
import { cashEquation, cashOf, summarize } from '../../src/chaos/summary.js';
import type { EntryInput } from '../../src/journal/entries.js';
import { foldRecords, type JournalRecord } from '../../src/journal/state.js';
import { ledgerOf, payout, reversal } from './ledger-fixture.js';

function journal(entries: EntryInput[]) {
  const records = entries.map((e, i) => ({ ...e, seq: i + 1, ts: i }) as JournalRecord);
  return { records, state: foldRecords(records) };
}
const started = (sessionId: string, mode = 'checkout'): EntryInput =>
  ({ type: 'session_started', sessionId, mode }) as EntryInput;
const coin = (sessionId: string, cents: number): EntryInput => ({
  type: 'coin_accepted',
  sessionId,
  cents,
  source: 'coin',
});
const closed = (sessionId: string): EntryInput => ({
  type: 'session_closed',
  sessionId,
  outcome: 'completed',
});
const release = (sessionId: string, n: number, result: 'delivered' | 'failed'): EntryInput[] => [
  {
    type: 'release_intent',
    sessionId,
    jobId: `${sessionId}:r:${n}`,
    slot: 'A1',
    productId: 1,
    cents: 180,
  },
  result === 'failed'
    ? { type: 'release_outcome', jobId: `${sessionId}:r:${n}`, result, reason: 'no_confirmation' }
    : { type: 'release_outcome', jobId: `${sessionId}:r:${n}`, result },
];

/**
 * A vending sale paid with coins (one unit failed, change and its price out of the hopper), a terminal
 * sale reversed (its unit failed), a top-up credited with a voucher for the rest, a coin in flight at a
 * cut and one the validator's buffer lost for the operator.
 */
function books(opts: { dropCredit?: boolean; extraVoucher?: boolean } = {}) {
  const acceptor: AcceptorBook = {
    cents: 1000,
    coins: 6,
    unconfirmedAtKill: 100,
    overflowCents: 100,
    overflowCoins: 1,
  };
  return reconcile({
    goods: true,
    acceptor,
    journal: journal([
      started('v'),
      coin('v', 500),
      ...release('v', 1, 'delivered'),
      ...release('v', 2, 'failed'),
      ...payout('v', 'v:p:1', 320),
      closed('v'),
      started('rv'),
      ...release('rv', 1, 'failed'),
      ...reversal('rv', 'rv:t:1', 180),
      closed('rv'),
      started('t', 'topup'),
      coin('t', 200),
      coin('t', 100),
      { type: 'credited', sessionId: 't', cents: 200, apiId: 'C' },
      { type: 'unclaimed', sessionId: 't', cents: 100, voucher: 'V1' },
      ...(opts.extraVoucher
        ? [{ type: 'unclaimed', sessionId: 't', cents: 50, voucher: 'V2' } as EntryInput]
        : []),
      closed('t'),
      { type: 'acceptor_lost', results: 1, ev: 7 },
    ]),
    ledger: ledgerOf([
      { id: 'P', ref: 'v:create:0', method: 'cash', collected: 360, units: 2 },
      { id: 'R', ref: 'rv:create:0', method: 'cashless', collected: 180, units: 1, cancelled: true },
      ...(opts.dropCredit ? [] : [{ id: 'C', ref: 't:credit:3', method: 'cash', collected: 200 }]),
    ]),
  });
}

function run(b: ReturnType<typeof reconcile>): RunResult {
  return {
    run: 0,
    seed: 1,
    mode: 'vending',
    dir: null,
    kinds: {},
    observed: {},
    notLanded: {},
    skipped: [],
    sessions: 3,
    kioskKills: 1,
    standInKills: 0,
    standInPauses: 0,
    faults: {},
    deviceFaults: 0,
    coinsAccepted: 6,
    coinsRefused: 0,
    coinPayers: 0,
    notIdleAfterRestart: 0,
    idleAtEnd: true,
    endScreen: [],
    books: b,
    ms: 1000,
  };
}

/** Left and right of a printed `a + b = c + d - e (note)` in cents, each term's first amount signed. */
function sides(equation: string): [number, number] {
  const sum = (side: string) =>
    side
      .replace(/\([^)]*\)/g, '')
      .split(/ (?=[+-] )/)
      .reduce((total, term) => {
        const m = /(\d[\d.]*),(\d\d) EUR/.exec(term);
        if (!m) return total;
        const cents = Number(m[1]!.replace(/\./g, '')) * 100 + Number(m[2]);
        return total + (term.trimStart().startsWith('- ') ? -cents : cents);
      }, 0);
  const [left, right, ...rest] = equation.split(' = ');
  assert.equal(rest.length, 0, equation);
  return [sum(left!), sum(right!)];
}
const coinsLine = (text: string) => {
  const line = text.split('\n').find((l) => l.startsWith('  coins accepted:'));
  assert.ok(line, text);
  return line.replace(/^ {2}coins accepted: \d+, /, '');
};

describe('chaos summary: the coins line', () => {
  it('adds up with the figures it prints: goods not delivered, hopper change, reversals, in flight, for the operator', () => {
    const b = books();
    assert.deepEqual([b.lostCents, b.overBookedCents, b.openSessions, b.findings], [0, 0, 0, []]);
    const s = summarize([run(b), run(b)], 2000);
    const line = coinsLine(s.text);
    // Twice: 10,00 EUR accepted + 3,60 EUR not delivered = 3,60 + 2,00 + 1,00 + 3,20 + 1,80 + 1,00 + 1,00.
    assert.deepEqual(sides(line), [2 * 1360, 2 * 1360], line);
    assert.equal(s.unbalanced, 0);
    assert.match(line, /^20,00 EUR \+ goods not delivered 7,20 EUR = paid 7,20 EUR \+ credited 4,00 EUR/);
    assert.match(line, /\+ hopper change 6,40 EUR \+ reversed 3,60 EUR \+ 2,00 EUR in flight at a power cut/);
    assert.match(line, /\+ 2,00 EUR lost by the validator's buffer, recorded for the operator/);
    assert.match(line, /\(0,00 EUR of vouchers voided\)$/);
    assert.doesNotMatch(line, /not accounted|over-booked/);
    // The per-run line of the CLI prints the same equation.
    assert.deepEqual(sides(cashEquation(cashOf(run(b)))), [1360, 1360]);
  });

  it('names what does not balance, so that the line still adds up: cents lost, cents over-booked', () => {
    const lost = books({ dropCredit: true });
    assert.equal(lost.lostCents, 200);
    const l = summarize([run(lost)], 1000);
    assert.equal(l.unbalanced, 200);
    assert.match(coinsLine(l.text), /\+ 2,00 EUR not accounted/);
    assert.deepEqual(sides(coinsLine(l.text)), [1360, 1360]);

    const over = books({ extraVoucher: true });
    assert.equal(over.overBookedCents, 50);
    const o = summarize([run(over)], 1000);
    assert.equal(o.unbalanced, -50);
    assert.match(coinsLine(o.text), / - 0,50 EUR over-booked/);
    assert.deepEqual(sides(coinsLine(o.text)), [1360, 1360]);
  });
});
