/**
 * The recovery of one open session, step by step (recovery.ts runs it for every session the
 * journal holds open; its file comment gives the rules):
 *  1. a payment or credit in doubt is read back and settled by what the server says;
 *  2. a paid session's goods never released are recorded not served (vending); a terminal payment
 *     whose goods were not served at all is reversed (`cancelTrx`, before end-of-day);
 *  3. vouchers printed for a payment that took effect after all are voided;
 *  4. money still not accounted for goes onto the card, or is recorded as unclaimed;
 *  5. a paid session without a journaled receipt gets its receipt, printed for the customer: its
 *     vending units not handed out given back on it, and where the rest of the money went (change,
 *     onto the card, a voucher's reference), as on the live receipt. After step 4, so that it can say
 *     so; made from the journal's state, so a cut between 4 and 5 prints the same receipt at the next
 *     round (step 4 finds nothing left), and once: a journaled receipt is never printed again;
 *  6. an unpaid transaction is abandoned on the server and the session closed.
 * Any step may throw: the session then stays open and is tried again later. `Unreachable` means
 * "the API could not say": nothing was settled on a guess.
 */
import { isApiError } from '../api/errors.js';
import {
  SMART_DEVICE_ID,
  TOPUP_EAN,
  receiptNumberOf,
  type ReceiptLine,
  type Transaction,
} from '../api/schemas.js';
import type { ReadBack, SmartTransactionsApi } from '../api/types.js';
import { classifyStatus, isNotPaid } from '../api/transaction-status.js';
import type { ApiStep } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import { notServed, signedVoucherParts, type OpenSession } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { maskCard } from '../util/privacy.js';
import { isCreditRef, isJobRef, jobRef, parseJobRef } from '../../machines/job-ref.js';
import type { BasketLine, ReceiptSale } from '../../machines/ports.js';
import { journaledCall, judgeTransaction, movesMoney, writeOutcome } from './journaled-call.js';
import { saleLines } from './receipt-jobs.js';
import { journalTerminalPayment, type TerminalDuties } from './terminal-duties.js';
import { plainVouchers } from './session-journal.js';
import type { IssuesVouchers } from './voucher-code.js';

/** How a sale was paid, by the start step that paid it (the receipt says it). */
const METHOD_OF_STEP: Partial<Record<ApiStep, 'cash' | 'loyalty' | 'cashless'>> = {
  'start/cash': 'cash',
  'start/loyalty': 'loyalty',
  'start/cashless': 'cashless',
};

/** Who voids a voucher whose payment took effect: the harness and the operator read it. */
export const VOID_BY = 'recovery:payment-took-effect';

export class Unreachable extends Error {}

/** What the journal's records say about an open session's payments (the fold keeps only the last step). */
export interface PaymentHistory {
  /** Cash collected by successful `start/cash` steps. */
  paidCash: number;
  /** The transaction of the last successful payment (for its receipt). */
  paidApiId?: string;
  /** voucher -> cents, of this session, not settled yet. */
  vouchers: Map<string, number>;
  /**
   * A receipt other than a credit's was journaled for the session (the state keeps only the last
   * receipt, and recovery's credit of the leftover journals one too).
   */
  receipt?: boolean;
}

/** A receipt of money loaded onto the card (the flow's or recovery's credit), not the sale's. */
export function isCreditReceipt(jobId: string): boolean {
  const step = parseJobRef(jobId)?.step;
  return isCreditRef(jobId) || step === 'credit-receipt' || step === 'recovery-credit-receipt';
}

export interface RecoveryReport {
  /** Sessions left open because the API could not tell or could not be reached. */
  unresolved: number;
  resolved: number;
  /** Cents booked onto cards. */
  credited: number;
  /** Cents recorded as unclaimed. */
  unclaimed: number;
  /** Cents of vouchers voided because the payment they stood for took effect after all. */
  voided: number;
}

export interface RecoverSessionDeps {
  journal: Journal;
  /** The raw client: recovery journals its own steps. */
  api: SmartTransactionsApi;
  logger: Logger;
  /** A Smart Device id (`SDV_...`) for `device_source` of credit transactions; anything else is not sent. */
  deviceId?: string;
  /** The card terminal's duties (only with `kiosk.cardTerminal`): reverses a payment not served. */
  terminal?: TerminalDuties;
  /**
   * A session found paid: the goods it never got (vending units never released) are recorded as
   * not served (`returnedCents`), so they are paid back. Absent: nothing to hand out.
   */
  servePaid?: (sessionId: string) => Promise<void>;
  /**
   * Prints the customer's receipt of a session found paid (journals it first, then `printed`); the
   * app formats it like any receipt. Absent: the receipt is only journaled, for a reprint.
   */
  printReceipt?: (r: RecoveredReceipt) => Promise<void>;
  /** Makes the codes of the vouchers recovery records (signed in the kiosk; plain by default). */
  vouchers?: IssuesVouchers;
}

/** The receipt of a sale recovery found paid: the kiosk's part from the journal, the API's lines as read back. */
export interface RecoveredReceipt {
  sessionId: string;
  jobId: string;
  /** The paid API transaction (the fleet's `evt/transaction` names it). */
  transactionId: string;
  kind: 'sale' | 'topup';
  basket: BasketLine[];
  method: 'cash' | 'loyalty' | 'cashless' | null;
  /** The transaction total; of it, the terminal's charge. */
  total: number;
  terminal: number;
  cashIn: number;
  cardMasked: string | null;
  /**
   * Vending units of the sale not handed out, from its release records (a cut during the releases):
   * `failed` ones are given back (not in the receipt's total), `unknown` ones the operator settles.
   */
  undelivered?: NonNullable<ReceiptSale['undelivered']>;
  /** Where the money not used went, as the journal has it: coins the hopper paid, onto the card. */
  changed: number;
  credited: number;
  /** Vouchers scanned into the session. */
  voucherIn: number;
  /** The session's open vouchers (its leftover, kept for the operator): reference (null: a plain code) and value. */
  vouchersOut: { ref: string | null; cents: number }[];
  apiLines: ReceiptLine[];
  /** What a printer without the app's formatting prints: never empty. */
  lines: ReceiptLine[];
}

/** Transport trouble means "try later"; everything else the API says is an answer we act on. */
export function unreachable(err: unknown): boolean {
  return (
    err instanceof Unreachable ||
    (isApiError(err) &&
      (err.kind === 'network' ||
        err.kind === 'timeout' ||
        err.kind === 'aborted' ||
        err.kind === 'auth' ||
        (err.kind === 'http' && (err.httpStatus ?? 0) >= 500) ||
        err.kind === 'bad_response' ||
        err.outcome === 'unknown'))
  );
}

/** A read (GET, read-back) whose transport failed is `Unreachable`. */
async function read<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (unreachable(err)) throw new Unreachable(`API not reachable: ${(err as Error).message}`);
    throw err;
  }
}

/** The payment or credit whose outcome the journal does not know. */
interface Doubt {
  step: ApiStep;
  jobId: string;
  apiId: string;
  cents: number | undefined;
}

export class RecoverSession {
  private readonly id: string;
  /**
   * The session's sale transaction when recovery began. Read once: the journal's fold updates the
   * session in place, and recovery's own credit transaction becomes its `apiId`.
   */
  private readonly saleApiId: string | undefined;
  private paidCash: number;
  private paidApiId: string | undefined;
  /** The paid transaction as read back (its receipt lines), and the step that paid it. */
  private paidTx: Transaction | undefined;
  private paidStep: ApiStep | undefined;
  private jobSeq = 0;
  /**
   * The sale transaction as read back by `terminalPaymentLostToDamage` when it changed nothing: what
   * `damagedButPaidOnServer` asks again later in the same round (no write to the server in between).
   */
  private unchangedSaleReadBack: ReadBack | undefined;

  constructor(
    /** The session in the journal's state (the fold updates it as recovery writes). */
    private readonly s: OpenSession,
    private readonly history: PaymentHistory,
    private readonly deps: RecoverSessionDeps,
    private readonly report: RecoveryReport,
  ) {
    this.id = s.sessionId;
    this.saleApiId = s.apiId;
    this.paidCash = history.paidCash;
    this.paidApiId = history.paidApiId;
  }

  async run(): Promise<void> {
    const doubt = this.doubt() ?? (await this.terminalPaymentLostToDamage());
    if (doubt) await this.resolveDoubt(doubt);
    if (this.live().paid) await this.deps.servePaid?.(this.id);
    await this.reverseIfNotServed();
    await this.voidVouchersOfTakenPayment();
    await this.settleLeftover();
    await this.keepMissingReceipt();
    await this.close();
  }

  // --- the session's books ---------------------------------------------------------------------

  /** The session as the journal holds it now (each step's records fold into it). */
  private live(): OpenSession {
    return this.deps.journal.state.sessions[this.id] ?? this.s;
  }

  private vouchered(): number {
    return [...this.history.vouchers.values()].reduce((a, b) => a + b, 0);
  }

  /**
   * Cash not used by a payment, a credit or a voucher. Change the hopper paid left the kiosk; the
   * price of goods not released is owed back (issue 15).
   */
  private leftover(): number {
    const live = this.live();
    return (
      live.insertedCents +
      (live.redeemedCents ?? 0) -
      this.paidCash -
      live.creditedCents -
      this.vouchered() -
      (live.changedCents ?? 0) +
      notServed(live)
    );
  }

  /** The cash a `start/cash` of this session collects (none for other payments). */
  private dueOf(d: Doubt): number {
    return d.step === 'start/cash' ? (d.cents ?? this.s.tx?.amount ?? 0) : 0;
  }

  private job(what: string): string {
    return jobRef(this.id, `recovery-${what}`, `${Date.now().toString(36)}${++this.jobSeq}`);
  }

  /** The receipt of recovery's credit (its top-up transaction), kept for a reprint. */
  private async keepCreditReceipt(tx: Transaction): Promise<void> {
    await this.deps.journal.append({
      type: 'receipt',
      sessionId: this.id,
      jobId: this.job('credit-receipt'),
      lines: tx.receipt ?? [],
    });
  }

  /** Recovery's own API step, journaled (intent, outcome); transport trouble is `Unreachable`. */
  private async journaledStep<T extends Transaction>(
    apiId: string,
    step: ApiStep,
    cents: number | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      const { answer } = await journaledCall(this.deps.journal, {
        intent: {
          sessionId: this.id,
          apiId,
          step,
          jobId: this.job(step.replace('/', '-')),
          ...(cents !== undefined ? { cents } : {}),
        },
        call: fn,
        judge: (tx) => judgeTransaction(step, tx),
        failed: (err) =>
          isApiError(err) && err.outcome === 'unknown'
            ? 'unknown'
            : unreachable(err)
              ? 'not_applied'
              : 'failed',
      });
      return answer;
    } catch (err) {
      if (unreachable(err)) throw new Unreachable((err as Error).message);
      throw err;
    }
  }

  // --- 1. a payment or credit in doubt ---------------------------------------------------------

  /**
   * The last step, when it is a payment or credit without a known outcome. Checked on the last step
   * itself: a credit of the change after a paid sale can be in doubt too.
   */
  private doubt(): Doubt | null {
    const step = this.s.lastStep;
    if (!step || (step.outcome !== undefined && step.outcome !== 'unknown') || !movesMoney(step.step))
      return null;
    return { step: step.step, jobId: step.jobId, apiId: this.s.apiId ?? step.apiId, cents: step.cents };
  }

  /**
   * A session touched by journal damage whose records show no payment may have lost the record of
   * one: the `start/cashless` intent written before the terminal paid (chaos seed 49002 run 0: its
   * api_intent damaged, the power cut before its outcome; the sale was closed `aborted` and the
   * customer's 1,98 EUR stayed charged). The sale transaction is read back: one the terminal paid (it
   * carries the terminal's receipt number) is journaled again as a payment in doubt, intent first,
   * and settled as any cut during `start/cashless` (served, or reversed when nothing was released).
   * Cash and loyalty payments lost this way are left to the money check and the leftover's read-back
   * (damagedButPaidOnServer).
   */
  private async terminalPaymentLostToDamage(): Promise<Doubt | null> {
    const saleApiId = this.saleApiId;
    if (!this.s.damaged || this.live().paid || !saleApiId || isJobRef(saleApiId)) return null;
    const rb = await read(() => this.deps.api.readBack(saleApiId));
    if (rb.took === 'no_effect' || !receiptNumberOf(rb.transaction)) {
      this.unchangedSaleReadBack = rb;
      return null;
    }
    this.deps.logger.error(
      { sessionId: this.id, took: rb.took, status: rb.transaction.status },
      'recovery: damaged session paid at the terminal on the server, its payment record lost: settled as a payment in doubt',
    );
    const jobId = this.job('payment-lost');
    await this.deps.journal.append({
      type: 'api_intent',
      sessionId: this.id,
      apiId: saleApiId,
      step: 'start/cashless',
      jobId,
    });
    return { step: 'start/cashless', jobId, apiId: saleApiId, cents: undefined };
  }

  /** Read it back before anything else, and act on what the server says. */
  private async resolveDoubt(d: Doubt): Promise<void> {
    const rb = await read(() => this.deps.api.readBack(d.apiId));
    this.deps.logger.info({ sessionId: this.id, step: d.step, took: rb.took }, 'recovery: read back');
    if (rb.took === 'effect') {
      await this.tookEffect(d, d.jobId, rb.transaction);
    } else if (rb.took === 'pending' || rb.took === 'unknown') {
      if (d.step === 'start/cashless' && (await this.reverseInDoubt(d, rb.transaction))) return;
      // The API may still move on (or says something we do not know): never settle money on a guess.
      throw new Error(`payment ${rb.took} on the server (status ${String(rb.transaction.status)})`);
    } else if (rb.took === 'approved') {
      await this.cancelAuthorisation(d);
    } else if (rb.took === 'no_effect') {
      await this.abortToFindOut(d);
    } else {
      await writeOutcome(this.deps.journal, d.jobId, { result: 'failed', status: rb.transaction.status });
    }
  }

  /** The step took effect on the server: journaled as `ok` (a credit with its amount), the receipt kept. */
  private async tookEffect(d: Doubt, jobId: string, tx: Transaction): Promise<void> {
    const judged = { result: 'ok' as const, status: tx.status, apiId: tx.id };
    if (d.step === 'credit') {
      const amount = d.cents ?? topupAmount(tx);
      await writeOutcome(this.deps.journal, jobId, judged, {
        sessionId: this.id,
        cents: amount,
        apiId: tx.id,
      });
      this.report.credited += amount;
      return;
    }
    await writeOutcome(this.deps.journal, jobId, judged);
    this.paidCash += this.dueOf(d);
    this.paid(tx, d.step);
  }

  /** Paid by `step`: a terminal payment is journaled with its receipt number (reversible, reprintable). */
  private paid(tx: Transaction, step: ApiStep): void {
    this.paidApiId = tx.id;
    this.paidTx = tx;
    this.paidStep = step;
  }

  /** Authorised, never captured: cancel it so it can never be captured later, then read it back. */
  private async cancelAuthorisation(d: Doubt): Promise<void> {
    const { journal, api, logger } = this.deps;
    await this.journaledStep(d.apiId, 'cancel', undefined, () => api.cancel(d.apiId));
    const again = await read(() => api.readBack(d.apiId));
    logger.info({ sessionId: this.id, step: d.step, took: again.took }, 'recovery: authorisation cancelled');
    if (!isNotPaid(again.took)) {
      // Still not void: the payment stays the step in doubt (a fresh intent for it, no outcome), so
      // the next round reads it back again instead of settling money that may still be captured.
      await journal.append({
        type: 'api_intent',
        sessionId: this.id,
        apiId: d.apiId,
        step: d.step,
        jobId: this.job('still-in-doubt'),
        ...(d.cents !== undefined ? { cents: d.cents } : {}),
      });
      throw new Error(`authorisation not void after cancel (status ${String(again.transaction.status)})`);
    }
    await writeOutcome(journal, d.jobId, { result: 'failed', status: again.transaction.status });
  }

  /**
   * One read saying "not started" is not believed: reads may lag a start that took effect, and a
   * repeated start may be executed a second time (nothing public says otherwise). The transaction is
   * aborted instead, a write the server judges on its own books, and the money is settled below
   * (onto the card, or unclaimed). Abort accepted (`cancelled`): the start never ran and never can
   * now, journaled `not_applied` with that status. Abort refused: read back; paid -> it did take
   * effect; failed or cancelled -> not paid; anything else -> left open, the step still in doubt.
   */
  private async abortToFindOut(d: Doubt): Promise<void> {
    const { journal, api, logger } = this.deps;
    let aborted: Transaction | undefined;
    let refusal: string | undefined;
    try {
      // Not journaled as a step: an abort never moves money, and the step in doubt must stay the last.
      aborted = await api.abort(d.apiId);
    } catch (err) {
      if (unreachable(err)) throw new Unreachable((err as Error).message);
      refusal = (err as Error).message;
    }
    const took = aborted ? classifyStatus(aborted.status) : undefined;
    logger.info(
      { sessionId: this.id, step: d.step, abort: aborted ? aborted.status : 'refused', err: refusal },
      'recovery: "not started" read back, aborted to find out',
    );
    if (aborted && took && isNotPaid(took)) {
      await writeOutcome(journal, d.jobId, { result: 'not_applied', status: aborted.status });
      return;
    }
    if (aborted && took === 'effect') return this.tookEffect(d, d.jobId, aborted);
    const again = await read(() => api.readBack(d.apiId));
    if (again.took === 'effect') {
      logger.warn({ sessionId: this.id, step: d.step }, 'recovery: abort refused, the call took effect');
      return this.tookEffect(d, d.jobId, again.transaction);
    }
    if (isNotPaid(again.took)) {
      await writeOutcome(journal, d.jobId, { result: 'failed', status: again.transaction.status });
      return;
    }
    throw new Error(
      `abort ${aborted ? `answered ${String(aborted.status)}` : 'refused'}, read back ${again.took}: left open`,
    );
  }

  /**
   * A terminal payment whose outcome stays unknown (`pending`, a status we do not know) while the
   * customer is long gone: reversed by its receipt number, then read back. True when it is void now.
   */
  private async reverseInDoubt(d: Doubt, tx: Transaction): Promise<boolean> {
    const terminal = this.deps.terminal;
    if (!terminal?.enabled || !receiptNumberOf(tx)) return false;
    // Journaled with nothing: a payment in doubt was never counted, so its reversal gives nothing back twice.
    await journalTerminalPayment(this.deps.journal, this.id, tx, 0);
    const r = await terminal.cancelTrx({ apiId: tx.id }, 'recovery');
    if (r.result !== 'ok') return false;
    const again = await read(() => this.deps.api.readBack(d.apiId));
    if (!isNotPaid(again.took)) return false;
    await writeOutcome(this.deps.journal, d.jobId, { result: 'failed', status: again.transaction.status });
    return true;
  }

  // --- 2. goods not served ---------------------------------------------------------------------

  /**
   * A terminal payment of a session that got none of its goods (a cut during `start/cashless`
   * before any release, every release failed) is reversed through the API (issue 15), as long as
   * the batch is open. Part served: the rest goes back the usual way (a reversal takes it all).
   */
  private async reverseIfNotServed(): Promise<void> {
    const terminal = this.deps.terminal;
    // A reversal of it in doubt (the live flow's answered `unknown`, or cut off by a power cut) is read
    // back first: took effect -> the money went back by it; did not -> as if never sent. Still in doubt:
    // nothing is settled (paying back, or reversing again, could refund twice).
    const apiId = this.live().apiId;
    if (terminal && apiId && (await terminal.resolveReversals(apiId)) === 'in_doubt')
      throw new Unreachable('terminal reversal in doubt: read back later');
    const live = this.live();
    if (!terminal?.enabled || !live.paid || !live.apiId) return;
    // What is still owed for the goods, not what was returned: the live flow may have paid some of it
    // back already (hopper change, a voucher, a credit) before the cut; reversing the whole payment
    // then pays twice. Coins in the session are owed too, but are no reason to reverse: counting them
    // here reversed a payment whose other unit was in doubt (possibly handed out; chaos seed 8181).
    // Only when every unit's price is owed back is nothing handed out; an unknown total never reverses.
    const owed = Math.min(notServed(live), this.leftover());
    const total = live.tx?.amount ?? 0;
    if (total <= 0 || owed < total) return;
    const paidTx = this.paidTx;
    if (paidTx && this.paidStep === 'start/cashless')
      await journalTerminalPayment(this.deps.journal, this.id, paidTx, total);
    if (!this.deps.journal.state.terminal.batch[live.apiId]) return;
    const r = await terminal.cancelTrx({ apiId: live.apiId }, 'recovery');
    if (r.result === 'unknown') throw new Unreachable(`terminal reversal in doubt: ${r.detail ?? ''}`);
    if (r.result === 'ok')
      this.deps.logger.warn(
        { sessionId: this.id, cents: total },
        'recovery: terminal payment reversed, goods not served',
      );
  }

  // --- 3. the receipt of a paid session --------------------------------------------------------

  /**
   * Paid, but the receipt was never journaled: made from the read-back transaction and printed. The
   * receipt step 4 may have kept is the credit's (its top-up transaction), not the sale's.
   */
  private async keepMissingReceipt(): Promise<void> {
    const live = this.live();
    if (!live.paid || this.history.receipt || (live.receipt && !isCreditReceipt(live.receipt.jobId))) return;
    const txId = this.paidApiId ?? this.saleApiId;
    if (!txId) return;
    const tx = this.paidTx?.id === txId ? this.paidTx : await read(() => this.deps.api.get(txId));
    if (this.paidStep === 'start/cashless')
      await journalTerminalPayment(this.deps.journal, this.id, tx, live.tx?.amount ?? 0);
    const r = this.recoveredReceipt(tx);
    // Step 2 has journaled every unit of the basket not released (never tried, cut in the release).
    if ((live.releaseIntents ?? 0) > 0) {
      const units = this.undelivered(r.basket);
      if (units.length > 0) r.undelivered = units;
    }
    if (!this.deps.printReceipt) {
      await this.deps.journal.append({ type: 'receipt', sessionId: this.id, jobId: r.jobId, lines: r.lines });
      return;
    }
    try {
      await this.deps.printReceipt(r);
    } catch (err) {
      // Journaled before printing: the receipt stays for a reprint.
      this.deps.logger.warn(
        { sessionId: this.id, err: (err as Error).message },
        'recovery: receipt not printed',
      );
    }
  }

  /** This session's units whose release failed or is in doubt, in release order (the journal's fold). */
  private undelivered(basket: readonly BasketLine[]): NonNullable<RecoveredReceipt['undelivered']> {
    return (this.live().undelivered ?? []).map((u) => {
      const line = basket.find((l) => l.id === u.productId);
      return { ...u, desc: line?.desc ?? `#${u.productId}`, tax: line?.tax ?? 0 };
    });
  }

  private recoveredReceipt(tx: Transaction): RecoveredReceipt {
    const live = this.live();
    const basket = (live.tx?.basket.products ?? []).map((p) => {
      const l = p as {
        id?: unknown;
        ean?: unknown;
        desc?: unknown;
        quantity?: unknown;
        priceOne?: unknown;
        tax?: unknown;
      };
      return {
        id: typeof l.id === 'number' ? l.id : 0,
        ean: typeof l.ean === 'string' ? l.ean : null,
        desc: typeof l.desc === 'string' ? l.desc : '?',
        quantity: typeof l.quantity === 'number' ? l.quantity : 1,
        priceOne: typeof l.priceOne === 'number' ? l.priceOne : 0,
        tax: typeof l.tax === 'number' ? l.tax : 0,
      };
    });
    const step = this.paidStep ?? (tx.payment_method ? (`start/${tx.payment_method}` as ApiStep) : undefined);
    const method = (step && METHOD_OF_STEP[step]) ?? null;
    const total = live.tx?.amount ?? 0;
    const apiLines = tx.receipt ?? [];
    return {
      sessionId: this.id,
      jobId: this.job('receipt'),
      transactionId: tx.id,
      kind: live.mode === 'topup' ? 'topup' : 'sale',
      basket,
      method,
      total,
      terminal: method === 'cashless' ? total : 0,
      cashIn: live.insertedCents,
      cardMasked: live.cardMasked ?? null,
      changed: live.changedCents ?? 0,
      credited: live.creditedCents,
      voucherIn: live.redeemedCents ?? 0,
      vouchersOut: this.deps.journal.state.unclaimedVouchers
        .filter((v) => v.sessionId === this.id)
        .map((v) => ({ ref: v.ref ?? null, cents: v.cents })),
      apiLines,
      lines: [...saleLines(basket, method, 'de'), ...apiLines],
    };
  }

  // --- 4. vouchers of a payment that took effect -----------------------------------------------

  /** A voucher printed while the payment was in doubt is void if the payment took effect. */
  private async voidVouchersOfTakenPayment(): Promise<void> {
    let over = -this.leftover();
    for (const [voucher, cents] of [...this.history.vouchers]) {
      if (over <= 0) break;
      if (cents > over) continue;
      await this.deps.journal.append({
        type: 'unclaimed_settled',
        voucher,
        how: 'credited',
        by: VOID_BY,
        cents,
      });
      this.history.vouchers.delete(voucher);
      over -= cents;
      this.report.voided += cents;
      this.deps.logger.warn(
        { sessionId: this.id, cents, voucher },
        'recovery: voucher voided, the payment took effect',
      );
    }
  }

  // --- 5. money not accounted for --------------------------------------------------------------

  /** Onto the card when one was scanned and the API takes it, else recorded as unclaimed. */
  private async settleLeftover(): Promise<void> {
    const paidOnServer = await this.damagedButPaidOnServer();
    const cents = this.leftover();
    if (cents <= 0) return;
    const card = this.live().card;
    if (card && !paidOnServer && (await this.creditToCard(cents, card))) return;
    const voucher = (this.deps.vouchers ?? plainVouchers).issue(cents);
    await this.deps.journal.append({ type: 'unclaimed', sessionId: this.id, cents, voucher });
    this.report.unclaimed += cents;
    // The reference only (the code pays; the log leaves the kiosk).
    this.deps.logger.warn(
      { sessionId: this.id, cents, voucher: signedVoucherParts(voucher).ref ?? '-', damaged: this.s.damaged },
      'recovery: money recorded as unclaimed',
    );
  }

  /**
   * A session touched by journal damage may have lost the record of its payment: when the server
   * says the transaction took effect, the money is recorded as unclaimed for the operator (never
   * credited a second time).
   */
  private async damagedButPaidOnServer(): Promise<boolean> {
    const saleApiId = this.saleApiId;
    if (!this.s.damaged || this.live().paid || !saleApiId || isJobRef(saleApiId) || this.leftover() <= 0)
      return false;
    const rb = this.unchangedSaleReadBack ?? (await read(() => this.deps.api.readBack(saleApiId)));
    const paid = rb.took === 'effect';
    if (paid)
      this.deps.logger.warn(
        { sessionId: this.id },
        'recovery: damaged session is paid on the server: unclaimed for the operator',
      );
    return paid;
  }

  /** A top-up transaction for the money, started with cash. False when the API refused the card. */
  private async creditToCard(cents: number, card: string): Promise<boolean> {
    const { api, logger, deviceId } = this.deps;
    try {
      const created = await this.journaledStep(jobRef(this.id, 'recovery-credit'), 'create', undefined, () =>
        api.create({
          basket: {
            products: [
              {
                id: 1,
                desc: 'Kartenaufladung',
                ean: TOPUP_EAN,
                quantity: 1,
                priceOne: cents,
                tax: 0,
                item_type: 'article',
              },
            ],
            type: 'default',
          },
          basket_info: { sum: cents, currency: 'EUR' },
          idents: [{ type: 'card', value: card }],
          intent: 'sale',
          merchantRef: this.job('credit').slice(0, 64),
          ...(deviceId && SMART_DEVICE_ID.test(deviceId) ? { device_source: { id: deviceId } } : {}),
        }),
      );
      const paid = await this.journaledStep(created.id, 'credit', cents, () => api.start(created.id, 'cash'));
      const took = classifyStatus(paid.status);
      if (took !== 'effect' && !isNotPaid(took))
        throw new Unreachable(`credit answered ${String(paid.status)}: left open, read back later`);
      if (took !== 'effect') throw new Error(`credit answered ${String(paid.status)}: not loaded`);
      await this.keepCreditReceipt(paid);
      this.report.credited += cents;
      logger.info(
        { sessionId: this.id, cents, card: maskCard(card) },
        'recovery: money credited to the card',
      );
      return true;
    } catch (err) {
      if (err instanceof Unreachable) throw err;
      // The API refused the card (locked, unknown, another merchant's): the money stays the customer's.
      logger.warn(
        { sessionId: this.id, err: (err as Error).message },
        'recovery: credit refused, recording as unclaimed',
      );
      return false;
    }
  }

  // --- 6. close --------------------------------------------------------------------------------

  /** An unpaid transaction left on the server is abandoned (best effort: it never charges anyone). */
  private async close(): Promise<void> {
    const after = this.live();
    const saleApiId = this.saleApiId;
    if (!after.paid && saleApiId && !isJobRef(saleApiId)) {
      await this.deps.api.abort(saleApiId).catch(() => undefined);
    }
    const outcome = after.paid
      ? 'completed'
      : after.creditedCents > 0
        ? 'credited'
        : after.unclaimedCents > 0
          ? 'unclaimed'
          : 'aborted';
    await this.deps.journal.append({ type: 'session_closed', sessionId: this.id, outcome });
  }
}

function topupAmount(tx: Transaction): number {
  return (tx.basket?.products ?? [])
    .filter((p) => p.ean === TOPUP_EAN)
    .reduce((sum, p) => sum + (p.priceOne ?? 0) * (p.quantity ?? 0), 0);
}
