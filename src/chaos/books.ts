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
 *  - the ccTalk validator's own faults (validator-faults.ts): a coin it returned (no power, channel
 *    inhibited) is in the customer's hand, in no book. One it credited is the acceptor's: the journal
 *    must have it, except credits its 5-result buffer lost before the kiosk read them, which count as
 *    FOR THE OPERATOR (`forOperator`) when the journal records at least that many results lost
 *    (`acceptor_lost`), and as lost when it does not;
 *  - DOUBLE CHARGE: one session paid by two payment sales, or one transaction recorded twice;
 *  - OVER-BOOKED cents: a session accounts for more than was put in (a double credit, a voucher
 *    and a credit for the same coins): the kiosk's owner loses them.
 *  - A card-terminal (`cashless`) sale is a payment like the others (a second one for a session is a
 *    double charge), but its money is not in the cash box: coins of a terminal session are settled
 *    like any other (credit, voucher, change).
 *  - Vending counter (issue 15): a unit not delivered owes its price back (`returned`), change the
 *    hopper paid left the kiosk (`changed`), so a session balances as
 *    `inserted + returned = cash collected + credited + unclaimed + changed`. The fourth column,
 *    GOODS: a unit delivered in a session that paid nothing is goods without payment; a paid unit
 *    neither delivered, nor failed (its price back), nor in doubt for the operator (a release cut by
 *    a power cut: never repeated, slot blocked) is a payment without goods or money back.
 *  - FLEET (when a broker ran): every distinct money event (by `eventId`) the fleet received names a
 *    journaled fact, none twice; every coin the kiosk counted outside a power cut reached the fleet,
 *    and every sale recovery found paid (a receipt record's `paid`), power cuts or not.
 */
import type { JournalRecord, LedgerState } from '../journal/state.js';
import type { Product } from '../api/schemas.js';
import type { SaleRecord } from '../sim/ledger.js';
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
      products?: Product[];
    }
  >;
  sales: Omit<SaleRecord, 'at'>[];
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
  /**
   * Credits the ccTalk validator took that its 5-result buffer lost before the kiosk read them
   * (`validator_overflow`): in the cash box, never reported as coins. Accounted only as far as the
   * journal records the loss for the operator (`acceptor_lost`, at least one result per coin).
   */
  overflowCents?: number;
  overflowCoins?: number;
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
  /** Card-terminal payments: charged by the terminal, not from the cash box. */
  terminalSales: number;
  terminalCents: number;
  /** Vending: price of units not delivered (owed back) and change the hopper paid. */
  returned: number;
  changed: number;
  /** Terminal payments reversed (`cancelTrx`): their price went back through the terminal. */
  reversedSales: number;
  reversed: number;
  unitsReversed: number;
  /** Vending: units the payments bought, and what became of the releases. */
  unitsPaid: number;
  delivered: number;
  failed: number;
  inDoubt: number;
  /** A paid sale journaled `goods_unsettled` (its basket unknown): its units wait for the operator. */
  goodsUnsettled?: boolean;
  open: boolean;
}

/** A money event as the fleet received it (`evt/cash`, `evt/transaction`, unpacked from batches). */
export interface FleetEventView {
  eventId: string;
  type: string;
  action?: string;
  outcome?: string;
  amountCents?: number;
  transactionId?: string;
}

export interface FleetBook {
  /** Every message received, redeliveries of one `eventId` included. */
  events: FleetEventView[];
  /** Coins the harness saw counted in sessions without a power cut or a full disk: each must reach the fleet. */
  mustArrive: number[];
}

export interface FleetReconciliation {
  distinct: number;
  /** Messages that repeated an `eventId` already received (QoS 1 redelivery; de-duplicated). */
  redelivered: number;
  /** Counted coins whose `inserted` event never arrived. */
  missing: number;
  /** Distinct money events the journal cannot account for, or a fact reported twice. */
  extra: number;
}

export interface GoodsReconciliation {
  unitsPaid: number;
  delivered: number;
  /** Not delivered, price owed back (in the money books as `returned`). */
  failed: number;
  /** Cut by a power cut mid-release: never released again, the slot blocked, the operator settles. */
  inDoubt: number;
  releasedWithoutPayment: number;
  paidWithoutGoods: number;
}

export interface Reconciliation {
  acceptorCents: number;
  journalCashIn: number;
  /** Cents the acceptor took that the journal never saw (power cut before the fsync). */
  inFlightAtKill: number;
  /**
   * Cents the validator took and lost from its buffer unread, recorded in the journal for the operator
   * (`acceptor_lost`): no session counted them; the operator settles them from the cash box.
   */
  forOperator: number;
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
  /** Sessions paid at the card terminal, and those of them that also took coins. */
  terminalSessions: number;
  terminalWithCoins: number;
  terminalCents: number;
  returned: number;
  changed: number;
  /** Terminal payments reversed by the kiosk (goods not served), cents. */
  reversed: number;
  goods?: GoodsReconciliation;
  fleet?: FleetReconciliation;
  /** Journal records the harness damaged (byte flips) and gave back to the books. */
  restoredRecords: number;
  /** Human-readable findings, one per discrepancy. */
  findings: string[];
}

export function reconcile(input: {
  acceptor?: AcceptorBook;
  journal: { records: readonly JournalRecord[]; state: LedgerState };
  ledger: LedgerFileView;
  /** Card balances (cash + bonus) before the run, to check the ledger's own consistency. */
  initialBalances?: Record<string, number>;
  /**
   * Records as they were before the harness flipped a byte in them: the journal lost them (that is
   * the fault), the money they carried is what the kiosk must still account for.
   */
  damaged?: readonly JournalRecord[];
  /** A vending counter ran: check the goods column. */
  goods?: boolean;
  /**
   * What the change hopper itself counted out (its own lifetime counter, read from the simulated
   * hopper's state file): the journal's payouts must say the same, a power cut inside a payout too.
   */
  hopperPaidCents?: number;
  fleet?: FleetBook;
}): Reconciliation {
  const { ledger } = input;
  const findings: string[] = [];
  const known = new Set(input.journal.records.map((r) => r.seq));
  const restored = (input.damaged ?? []).filter((r) => !known.has(r.seq));
  const journal = {
    state: input.journal.state,
    records: [...input.journal.records, ...restored].sort((a, b) => a.seq - b.seq),
  };
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
        terminalSales: 0,
        terminalCents: 0,
        returned: 0,
        changed: 0,
        reversedSales: 0,
        reversed: 0,
        unitsReversed: 0,
        unitsPaid: 0,
        delivered: 0,
        failed: 0,
        inDoubt: 0,
        open: false,
      };
      books.set(sessionId, b);
    }
    return b;
  };
  const voucherOf = new Map<string, { sessionId: string; cents: number }>();
  const releases = new Map<string, { sessionId: string; cents: number; result?: string }>();
  const payouts = new Map<string, { sessionId: string; paid: number }>();
  const reversals = new Map<string, { sessionId: string; cents: number }>();
  const coinAmounts: number[] = [];
  let cashIn = 0;
  let voided = 0;
  let resultsLost = 0;
  for (const r of journal.records) {
    switch (r.type) {
      case 'session_started':
        book(r.sessionId);
        break;
      case 'release_intent':
        releases.set(r.jobId, { sessionId: r.sessionId, cents: r.cents });
        break;
      case 'release_outcome': {
        // Its intent's record may be lost (damaged): the outcome names the release itself.
        let rel = releases.get(r.jobId);
        if (!rel && r.ofSession !== undefined && r.cents !== undefined)
          releases.set(r.jobId, (rel = { sessionId: r.ofSession, cents: r.cents }));
        if (!rel) break;
        // An `unknown` outcome may be followed by the operator's settlement; a final one ends it.
        if (rel.result === undefined || rel.result === 'unknown') rel.result = r.result;
        if (r.result === 'failed') book(rel.sessionId).returned += rel.cents;
        break;
      }
      case 'release_settled': {
        const rel = releases.get(r.jobId);
        if (rel?.result === 'unknown') rel.result = r.how === 'delivered' ? 'delivered' : 'settled';
        break;
      }
      case 'payout_intent':
        payouts.set(r.jobId, { sessionId: r.sessionId, paid: 0 });
        break;
      case 'goods_unsettled':
        book(r.sessionId).goodsUnsettled = true;
        break;
      case 'terminal_intent':
        if (r.action === 'cancel_trx' && r.ofSession)
          reversals.set(r.jobId, { sessionId: r.ofSession, cents: r.cents ?? 0 });
        break;
      case 'terminal_outcome': {
        // A reversal gives the price of goods not served back through the terminal, not as cash.
        const rev = reversals.get(r.jobId);
        if (rev && r.result === 'ok') book(rev.sessionId).reversed += rev.cents;
        break;
      }
      case 'payout_outcome': {
        // The hopper's counters say what left it; a payout settled later counts only once (the most).
        // Its intent's record may be lost (damaged): the outcome names the session itself.
        let p = payouts.get(r.jobId);
        if (!p && r.ofSession) payouts.set(r.jobId, (p = { sessionId: r.ofSession, paid: 0 }));
        if (p) p.paid = Math.max(p.paid, r.paidCents);
        break;
      }
      case 'coin_accepted':
        book(r.sessionId).inserted += r.cents;
        cashIn += r.cents;
        coinAmounts.push(r.cents);
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
      case 'acceptor_lost':
        resultsLost += r.results;
        break;
      default:
        break;
    }
  }
  for (const id of Object.keys(journal.state.sessions)) book(id).open = true;
  for (const rel of releases.values()) {
    const b = book(rel.sessionId);
    if (rel.result === 'delivered') b.delivered += 1;
    else if (rel.result === 'failed' || rel.result === 'settled') b.failed += 1;
    else b.inDoubt += 1;
  }
  for (const p of payouts.values()) book(p.sessionId).changed += p.paid;

  const seenTx = new Map<string, number>();
  let paidCash = 0;
  let creditedCash = 0;
  const unitsOf = (t: LedgerFileView['transactions'][string] | undefined) =>
    (t?.products ?? []).filter((p) => p.item_type !== 'topup').reduce((n, p) => n + (p.quantity ?? 1), 0);
  for (const sale of ledger.sales) {
    seenTx.set(sale.txId, (seenTx.get(sale.txId) ?? 0) + 1);
    // The kiosk's reference is `merchantRef`; `transactionRef` is read for ledgers of older versions.
    const t = ledger.transactions[sale.txId];
    const ref = t?.merchantRef ?? t?.transactionRef ?? '';
    if (sale.cancelled) {
      // A terminal payment reversed: its goods were paid for and given back through the terminal.
      const sid = sessionOfRef(ref);
      if (sale.method === 'cashless' && sid && books.has(sid)) {
        const b = book(sid);
        b.reversedSales += 1;
        b.unitsPaid += unitsOf(t);
        b.unitsReversed += unitsOf(t);
      }
      continue;
    }
    const sessionId = sessionOfRef(ref);
    if (!sessionId || !books.has(sessionId)) {
      if (sale.collected > 0 || sale.loaded > 0)
        findings.push(`sale ${sale.txId} (ref ${ref || '-'}) belongs to no session in the journal`);
      continue;
    }
    const b = book(sessionId);
    if (isCreditRef(ref)) {
      b.collected += sale.collected;
      creditedCash += sale.collected;
      b.creditCollected += sale.collected;
      continue;
    }
    b.paymentSales += 1;
    b.unitsPaid += unitsOf(t);
    if (sale.method === 'cashless') {
      b.terminalSales += 1;
      b.terminalCents += sale.collected;
    } else {
      b.collected += sale.collected;
      paidCash += sale.collected;
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
  let terminalSessions = 0;
  let terminalWithCoins = 0;
  let terminalCents = 0;
  let returned = 0;
  let changed = 0;
  const goods: GoodsReconciliation = {
    unitsPaid: 0,
    delivered: 0,
    failed: 0,
    inDoubt: 0,
    releasedWithoutPayment: 0,
    paidWithoutGoods: 0,
  };
  for (const b of books.values()) {
    unclaimed += b.unclaimed;
    returned += b.returned;
    changed += b.changed;
    if (b.terminalSales > 0) {
      terminalSessions += 1;
      terminalCents += b.terminalCents;
      if (b.inserted > 0) terminalWithCoins += 1;
    }
    if (b.paymentSales > 1) {
      doubleCharges += b.paymentSales - 1;
      findings.push(
        `session ${b.sessionId} paid ${b.paymentSales} times (${b.terminalSales} at the card terminal)`,
      );
    }
    if (input.goods) {
      // Its units are the operator's to settle, like releases in doubt.
      if (b.goodsUnsettled) b.inDoubt += Math.max(0, b.unitsPaid - (b.delivered + b.failed + b.inDoubt));
      goods.unitsPaid += b.unitsPaid;
      goods.delivered += b.delivered;
      goods.failed += b.failed;
      goods.inDoubt += b.inDoubt;
      // Units of a reversed payment count as paid and given back; one released with it is free.
      const released = b.delivered + b.inDoubt;
      const free = b.paymentSales === 0 ? released : Math.max(0, released - (b.unitsPaid - b.unitsReversed));
      if (free > 0) {
        goods.releasedWithoutPayment += free;
        findings.push(`session ${b.sessionId}: ${free} unit(s) released without payment`);
      }
      const missingGoods = b.unitsPaid - (b.delivered + b.failed + b.inDoubt);
      if (b.paymentSales + b.reversedSales > 0 && missingGoods > 0 && !b.open) {
        goods.paidWithoutGoods += missingGoods;
        findings.push(
          `session ${b.sessionId}: ${missingGoods} unit(s) paid, neither released nor given back (${b.unitsPaid} paid, ${b.delivered} delivered, ${b.failed} failed, ${b.inDoubt} in doubt)`,
        );
      }
    }
    // Change paid out and the price of units not delivered are money too (issue 15).
    const accounted = b.collected + b.unclaimed + b.changed - Math.max(0, b.returned - b.reversed);
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
        `session ${b.sessionId}: ${b.inserted - accounted} ct lost (inserted ${b.inserted}, collected ${b.collected}, unclaimed ${b.unclaimed}, changed ${b.changed}, returned ${b.returned})`,
      );
    } else if (accounted > b.inserted) {
      overBookedCents += accounted - b.inserted;
      findings.push(
        `session ${b.sessionId}: ${accounted - b.inserted} ct over-booked (inserted ${b.inserted}, collected ${b.collected}, unclaimed ${b.unclaimed}, changed ${b.changed}, returned ${b.returned})`,
      );
    }
    if (b.credited !== b.creditCollected) {
      findings.push(
        `session ${b.sessionId}: journal says ${b.credited} ct credited, the ledger's credits collected ${b.creditCollected} ct`,
      );
    }
  }

  if (input.hopperPaidCents !== undefined && input.hopperPaidCents !== changed) {
    // More out of the hopper than booked: the customer had those coins twice (the owner pays);
    // less: the books gave change that never came out (the customer's loss).
    if (input.hopperPaidCents > changed) overBookedCents += input.hopperPaidCents - changed;
    else lostCents += changed - input.hopperPaidCents;
    findings.push(`hopper paid ${input.hopperPaidCents} ct, the journal's payouts say ${changed} ct`);
  }

  let inFlightAtKill = 0;
  let forOperator = 0;
  let acceptorCents = input.acceptor?.cents ?? cashIn;
  if (input.acceptor) {
    // Coins the validator's buffer lost are the operator's when the journal says so, else lost.
    const overflowCoins = input.acceptor.overflowCoins ?? 0;
    const overflowCents = input.acceptor.overflowCents ?? 0;
    if (overflowCoins > 0 && resultsLost >= overflowCoins) forOperator = overflowCents;
    else if (overflowCoins > 0) {
      lostCents += overflowCents;
      findings.push(
        `${overflowCents} ct in ${overflowCoins} credits lost from the validator's buffer, the journal records ${resultsLost} results lost`,
      );
    }
    const missing = input.acceptor.cents - overflowCents - cashIn;
    // A coin whose answer a kill cut off was taken if the journal has it (the buffer's lost credits
    // were taken too).
    if (missing < 0 && -missing <= (input.acceptor.uncertainAtKill ?? 0))
      acceptorCents = cashIn + overflowCents;
    else if (missing < 0) {
      // A coin journaled twice (or never taken) was paid or credited to the customer: the owner's loss.
      overBookedCents += -missing;
      findings.push(`journal has ${-missing} ct more coins than the acceptor took`);
    } else if (missing > input.acceptor.unconfirmedAtKill) {
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

  const reversed = [...books.values()].reduce((n, b) => n + b.reversed, 0);
  const fleet = input.fleet && reconcileFleet(input.fleet, journal.records, coinAmounts, findings);

  return {
    acceptorCents,
    journalCashIn: cashIn,
    inFlightAtKill,
    forOperator,
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
    terminalSessions,
    terminalWithCoins,
    terminalCents,
    returned,
    changed,
    reversed,
    ...(input.goods ? { goods } : {}),
    ...(fleet ? { fleet } : {}),
    restoredRecords: restored.length,
    findings,
  };
}

/** Takes one of `value` out of `bag` (a multiset as a count map); false when there is none left. */
function take(bag: Map<number, number>, value: number): boolean {
  const n = bag.get(value) ?? 0;
  if (n === 0) return false;
  bag.set(value, n - 1);
  return true;
}

function reconcileFleet(
  fleet: FleetBook,
  records: readonly JournalRecord[],
  coinAmounts: readonly number[],
  findings: string[],
): FleetReconciliation {
  const byId = new Map<string, FleetEventView>();
  let redelivered = 0;
  for (const e of fleet.events) {
    if (byId.has(e.eventId)) redelivered += 1;
    else byId.set(e.eventId, e);
  }
  const inserted = [...byId.values()].filter((e) => e.type === 'cash' && e.action === 'inserted');
  // Every distinct `inserted` event is a journaled coin: more of an amount than the journal has is a
  // coin reported twice (under two event ids) or one never taken.
  const journaled = new Map<number, number>();
  for (const c of coinAmounts) journaled.set(c, (journaled.get(c) ?? 0) + 1);
  let extra = 0;
  for (const e of inserted) {
    if (!take(journaled, e.amountCents ?? -1)) {
      extra += 1;
      findings.push(`fleet: an 'inserted' event of ${e.amountCents} ct the journal has no coin for`);
    }
  }
  const arrived = new Map<number, number>();
  for (const e of inserted) arrived.set(e.amountCents ?? -1, (arrived.get(e.amountCents ?? -1) ?? 0) + 1);
  let missing = 0;
  for (const c of fleet.mustArrive) {
    if (!take(arrived, c)) {
      missing += 1;
      findings.push(`fleet: a coin of ${c} ct counted outside any power cut never reached the fleet`);
    }
  }
  // Every sale recovery found paid reached the fleet: it is told from its receipt record's `paid`
  // (src/app/journal-fleet.ts), durable whenever the reporter comes up; the run ends with a clean
  // start and the broker up, so nothing of it may be left in the outbox.
  const completed = new Set(
    [...byId.values()].flatMap((e) =>
      e.type === 'transaction' && e.outcome === 'completed' && e.transactionId ? [e.transactionId] : [],
    ),
  );
  for (const r of records) {
    if (r.type !== 'receipt' || !r.paid || completed.has(r.paid.transactionId)) continue;
    missing += 1;
    findings.push(`fleet: the sale ${r.paid.transactionId} recovery found paid never reached the fleet`);
  }
  // A payment or a credit is reported once: two distinct events for one transaction are a double report.
  const perTx = new Map<string, number>();
  for (const e of byId.values()) {
    const fact =
      e.type === 'transaction' && e.outcome === 'completed'
        ? 'paid'
        : e.type === 'cash' && e.action === 'credited'
          ? 'credited'
          : null;
    if (!fact || !e.transactionId) continue;
    const key = `${fact} ${e.transactionId}`;
    perTx.set(key, (perTx.get(key) ?? 0) + 1);
  }
  const credits = new Set(records.flatMap((r) => (r.type === 'credited' ? [r.apiId] : [])));
  for (const [key, n] of perTx) {
    if (n > 1) {
      extra += n - 1;
      findings.push(`fleet: ${key} reported ${n} times`);
    }
    const [fact, tx] = key.split(' ');
    if (fact === 'credited' && tx && !credits.has(tx)) {
      extra += 1;
      findings.push(`fleet: a credit on ${tx} the journal does not record`);
    }
  }
  return { distinct: byId.size, redelivered, missing, extra };
}
