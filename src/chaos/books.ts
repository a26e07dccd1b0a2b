/**
 * The three books of a kiosk and their reconciliation, as a pure function:
 *  - the acceptor's: every coin the simulated acceptor took (`accepted: true` on the control port);
 *  - the kiosk's journal (read offline with `Journal.read`): coins per session, credits, vouchers,
 *    sessions still open;
 *  - the API's ledger (the stand-in's file): every sale with the cash it collected, every card.
 *
 * Definitions (docs/reliability.md):
 *  - a session's money is ACCOUNTED when it is the cash part of a completed payment or a credit
 *    (both are sales in the API's ledger, `collected`, on transactions whose `merchantRef`
 *    names the session), or an unclaimed voucher in the journal that was not voided;
 *  - LOST cents: accepted by the acceptor and neither accounted for nor held by a session the
 *    journal still keeps open for recovery. Coins the acceptor took in the last moment before a
 *    power cut, before the journal's fsync returned, are reported apart (`inFlightAtKill`): the
 *    customer never saw them counted;
 *  - DOUBLE CHARGE: one session paid by two payment sales, or one transaction recorded twice;
 *  - OVER-BOOKED cents: a session accounts for more than was put in (a double credit, a voucher
 *    and a credit for the same coins): the kiosk's owner loses them.
 */
import type { JournalRecord, LedgerState } from '../journal/state.js';
import { VOID_BY } from '../bookkeeping/recover-session.js';
import { isCreditRef, sessionOfRef } from '../../machines/job-ref.js';

export interface LedgerFileView {
  cards: Record<string, { cardnumber: string; cash_balance: number; bonus_balance: number }>;
  transactions: Record<
    string,
    {
      id: string;
      status: string;
      merchantRef?: string | null;
      transactionRef: string | null;
      card: string | null;
    }
  >;
  sales: Array<{
    txId: string;
    method: string;
    collected: number;
    redeemed: number;
    loaded: number;
    cancelled: boolean;
  }>;
}

export interface AcceptorBook {
  /** Cents of every coin the acceptor took. */
  cents: number;
  coins: number;
  /**
   * Cents of coins taken shortly before a power cut whose journaling the harness did not see
   * confirmed: the most that may be missing from the journal without counting as lost.
   */
  unconfirmedAtKill: number;
  /** Cents of coins whose control-port answer was lost to a kill: the acceptor may or may not have taken them. */
  uncertainAtKill?: number;
}

export interface SessionBook {
  sessionId: string;
  inserted: number;
  collected: number;
  unclaimed: number;
  credited: number;
  /** Cash the ledger's credit sales of this session collected. */
  creditCollected: number;
  paymentSales: number;
  open: boolean;
}

export interface Reconciliation {
  acceptorCents: number;
  journalCashIn: number;
  /** Cents the acceptor took that the journal never saw (power cut before the fsync). */
  inFlightAtKill: number;
  paidCash: number;
  creditedCash: number;
  unclaimed: number;
  voided: number;
  openSessions: number;
  openCents: number;
  lostCents: number;
  doubleCharges: number;
  overBookedCents: number;
  sessions: number;
  /** Human-readable findings, one per discrepancy. */
  findings: string[];
}

export function reconcile(input: {
  acceptor?: AcceptorBook;
  journal: { records: readonly JournalRecord[]; state: LedgerState };
  ledger: LedgerFileView;
  /** Card balances (cash + bonus) before the run, to check the ledger's own consistency. */
  initialBalances?: Record<string, number>;
}): Reconciliation {
  const { journal, ledger } = input;
  const findings: string[] = [];
  const books = new Map<string, SessionBook>();
  const book = (sessionId: string) => {
    let b = books.get(sessionId);
    if (!b) {
      b = {
        sessionId,
        inserted: 0,
        collected: 0,
        unclaimed: 0,
        credited: 0,
        creditCollected: 0,
        paymentSales: 0,
        open: false,
      };
      books.set(sessionId, b);
    }
    return b;
  };
  const voucherOf = new Map<string, { sessionId: string; cents: number }>();
  let cashIn = 0;
  let voided = 0;
  for (const r of journal.records) {
    switch (r.type) {
      case 'coin_accepted':
        book(r.sessionId).inserted += r.cents;
        cashIn += r.cents;
        break;
      case 'unclaimed':
        book(r.sessionId).unclaimed += r.cents;
        voucherOf.set(r.voucher, { sessionId: r.sessionId, cents: r.cents });
        break;
      case 'unclaimed_settled': {
        const v = voucherOf.get(r.voucher);
        if (v && r.by === VOID_BY) {
          book(v.sessionId).unclaimed -= v.cents;
          voided += v.cents;
        }
        break;
      }
      case 'credited':
        book(r.sessionId).credited += r.cents;
        break;
      default:
        break;
    }
  }
  for (const id of Object.keys(journal.state.sessions)) book(id).open = true;

  const seenTx = new Map<string, number>();
  let paidCash = 0;
  let creditedCash = 0;
  for (const sale of ledger.sales) {
    seenTx.set(sale.txId, (seenTx.get(sale.txId) ?? 0) + 1);
    if (sale.cancelled) continue;
    // The kiosk's reference is `merchantRef`; `transactionRef` is read for ledgers of older versions.
    const t = ledger.transactions[sale.txId];
    const ref = t?.merchantRef ?? t?.transactionRef ?? '';
    const sessionId = sessionOfRef(ref);
    if (!sessionId || !books.has(sessionId)) {
      if (sale.collected > 0 || sale.loaded > 0)
        findings.push(`sale ${sale.txId} (ref ${ref || '-'}) belongs to no session in the journal`);
      continue;
    }
    const b = book(sessionId);
    b.collected += sale.collected;
    if (isCreditRef(ref)) {
      creditedCash += sale.collected;
      b.creditCollected += sale.collected;
    } else {
      paidCash += sale.collected;
      b.paymentSales += 1;
    }
  }
  let doubleCharges = 0;
  for (const [txId, n] of seenTx) {
    if (n > 1) {
      doubleCharges += n - 1;
      findings.push(`transaction ${txId} recorded ${n} times as a sale`);
    }
  }

  let lostCents = 0;
  let overBookedCents = 0;
  let openCents = 0;
  let openSessions = 0;
  let unclaimed = 0;
  for (const b of books.values()) {
    unclaimed += b.unclaimed;
    if (b.paymentSales > 1) {
      doubleCharges += b.paymentSales - 1;
      findings.push(`session ${b.sessionId} paid ${b.paymentSales} times`);
    }
    const accounted = b.collected + b.unclaimed;
    if (b.open) {
      openSessions += 1;
      openCents += Math.max(0, b.inserted - accounted);
      findings.push(
        `session ${b.sessionId} still open (${b.inserted} ct inserted, ${accounted} ct accounted)`,
      );
      continue;
    }
    if (accounted < b.inserted) {
      lostCents += b.inserted - accounted;
      findings.push(
        `session ${b.sessionId}: ${b.inserted - accounted} ct lost (inserted ${b.inserted}, collected ${b.collected}, unclaimed ${b.unclaimed})`,
      );
    } else if (accounted > b.inserted) {
      overBookedCents += accounted - b.inserted;
      findings.push(
        `session ${b.sessionId}: ${accounted - b.inserted} ct over-booked (inserted ${b.inserted}, collected ${b.collected}, unclaimed ${b.unclaimed})`,
      );
    }
    if (b.credited !== b.creditCollected) {
      findings.push(
        `session ${b.sessionId}: journal says ${b.credited} ct credited, the ledger's credits collected ${b.creditCollected} ct`,
      );
    }
  }

  let inFlightAtKill = 0;
  let acceptorCents = input.acceptor?.cents ?? cashIn;
  if (input.acceptor) {
    const missing = input.acceptor.cents - cashIn;
    // A coin whose answer a kill cut off was taken if the journal has it.
    if (missing < 0 && -missing <= (input.acceptor.uncertainAtKill ?? 0)) acceptorCents = cashIn;
    else if (missing < 0) findings.push(`journal has ${-missing} ct more coins than the acceptor took`);
    else if (missing > input.acceptor.unconfirmedAtKill) {
      inFlightAtKill = input.acceptor.unconfirmedAtKill;
      lostCents += missing - input.acceptor.unconfirmedAtKill;
      findings.push(`${missing - input.acceptor.unconfirmedAtKill} ct accepted but never journaled`);
    } else inFlightAtKill = missing;
  }

  if (input.initialBalances) {
    const delta = new Map<string, number>();
    for (const sale of ledger.sales) {
      if (sale.cancelled) continue;
      const card = ledger.transactions[sale.txId]?.card;
      if (card) delta.set(card, (delta.get(card) ?? 0) + sale.loaded - sale.redeemed);
    }
    for (const [card, initial] of Object.entries(input.initialBalances)) {
      const c = ledger.cards[card];
      if (!c) continue;
      const expected = initial + (delta.get(card) ?? 0);
      if (c.cash_balance + c.bonus_balance !== expected)
        findings.push(
          `card ${card.slice(-4)}: balance ${c.cash_balance + c.bonus_balance}, sales say ${expected}`,
        );
    }
  }

  return {
    acceptorCents,
    journalCashIn: cashIn,
    inFlightAtKill,
    paidCash,
    creditedCash,
    unclaimed,
    voided,
    openSessions,
    openCents,
    lostCents,
    doubleCharges,
    overBookedCents,
    sessions: books.size,
    findings,
  };
}
