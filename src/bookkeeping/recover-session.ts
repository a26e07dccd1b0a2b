/**
 * The recovery of one open session, step by step (recovery.ts runs it for every session the
 * journal holds open; its file comment gives the rules):
 *  1. a payment or credit in doubt is read back and settled by what the server says;
 *  2. a paid session without a journaled receipt gets its receipt fetched;
 *  3. vouchers printed for a payment that took effect after all are voided;
 *  4. money still not accounted for goes onto the card, or is recorded as unclaimed;
 *  5. an unpaid transaction is abandoned on the server and the session closed.
 * Any step may throw: the session then stays open and is tried again later. `Unreachable` means
 * "the API could not say": nothing was settled on a guess.
 */
import { isApiError } from '../api/errors.js';
import { SMART_DEVICE_ID, TOPUP_EAN, type Transaction } from '../api/schemas.js';
import type { SmartTransactionsApi } from '../api/types.js';
import { classifyStatus, isNotPaid } from '../api/transaction-status.js';
import type { ApiStep } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import type { OpenSession } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { maskCard } from '../util/privacy.js';
import { isJobRef, jobRef } from '../../machines/job-ref.js';
import { journaledCall, judgeTransaction, movesMoney, writeOutcome } from './journaled-call.js';
import { newVoucherCode } from './session-journal.js';

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
  private jobSeq = 0;

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
    const doubt = this.doubt();
    if (doubt) await this.resolveDoubt(doubt);
    await this.keepMissingReceipt();
    await this.voidVouchersOfTakenPayment();
    await this.settleLeftover();
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
      live.insertedCents -
      this.paidCash -
      live.creditedCents -
      this.vouchered() -
      (live.changedCents ?? 0) +
      (live.returnedCents ?? 0)
    );
  }

  /** The cash a `start/cash` of this session collects (none for other payments). */
  private dueOf(d: Doubt): number {
    return d.step === 'start/cash' ? (d.cents ?? this.s.tx?.amount ?? 0) : 0;
  }

  private job(what: string): string {
    return jobRef(this.id, `recovery-${what}`, `${Date.now().toString(36)}${++this.jobSeq}`);
  }

  private async keepReceipt(tx: Transaction): Promise<void> {
    await this.deps.journal.append({
      type: 'receipt',
      sessionId: this.id,
      jobId: this.job('receipt'),
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

  /** Read it back before anything else, and act on what the server says. */
  private async resolveDoubt(d: Doubt): Promise<void> {
    const rb = await read(() => this.deps.api.readBack(d.apiId));
    this.deps.logger.info({ sessionId: this.id, step: d.step, took: rb.took }, 'recovery: read back');
    if (rb.took === 'effect') {
      await this.tookEffect(d, d.jobId, rb.transaction);
    } else if (rb.took === 'pending' || rb.took === 'unknown') {
      // The API may still move on (or says something we do not know): never settle money on a guess.
      throw new Error(`payment ${rb.took} on the server (status ${String(rb.transaction.status)})`);
    } else if (rb.took === 'approved') {
      await this.cancelAuthorisation(d);
    } else if (rb.took === 'no_effect') {
      await writeOutcome(this.deps.journal, d.jobId, {
        result: 'not_applied',
        status: rb.transaction.status,
      });
      if (!(await this.repeatStartOnce(d))) await this.abortThenReadBack(d);
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
    this.paidApiId = tx.id;
    await this.keepReceipt(tx);
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
   * Not started on the server: exactly one repeat, and only for money still in the session (a voucher
   * already printed for it, the flow having given up, stays the customer's claim); never a credit,
   * never the terminal (it needs the customer). True when the repeat paid.
   */
  private async repeatStartOnce(d: Doubt): Promise<boolean> {
    const method = d.step.slice('start/'.length) as 'cash' | 'loyalty' | 'cashless';
    const due = this.dueOf(d);
    if (d.step === 'credit' || method === 'cashless' || this.leftover() < due) return false;
    try {
      const tx = await this.journaledStep(d.apiId, d.step, d.cents, () =>
        this.deps.api.start(d.apiId, method),
      );
      const took = classifyStatus(tx.status);
      if (took === 'effect') {
        if (method === 'cash') this.paidCash += due;
        this.paidApiId = tx.id;
        await this.keepReceipt(tx);
        return true;
      }
      if (!isNotPaid(took)) throw new Unreachable(`repeated start answered ${String(tx.status)}: left open`);
    } catch (err) {
      if (err instanceof Unreachable) throw err;
      this.deps.logger.warn(
        { sessionId: this.id, err: (err as Error).message },
        'recovery: repeated start refused',
      );
    }
    return false;
  }

  /**
   * The first call may still be on its way through a slow server (the harness caught one that
   * committed after the read-back): abort the transaction so that it can never take effect now,
   * then read it back once more before the money is settled elsewhere.
   */
  private async abortThenReadBack(d: Doubt): Promise<void> {
    const { api, logger } = this.deps;
    await api.abort(d.apiId).catch((err: unknown) => {
      if (unreachable(err)) throw new Unreachable((err as Error).message);
    });
    const again = await read(() => api.readBack(d.apiId));
    if (again.took !== 'effect') return;
    logger.warn({ sessionId: this.id, step: d.step }, 'recovery: the first call took effect after all');
    await this.tookEffect(d, this.live().lastStep?.jobId ?? d.jobId, again.transaction);
  }

  // --- 2. the receipt of a paid session --------------------------------------------------------

  /** Paid, but the receipt was never journaled: fetch it, for a reprint. */
  private async keepMissingReceipt(): Promise<void> {
    if (!this.live().paid || this.live().receipt) return;
    const txId = this.paidApiId ?? this.saleApiId;
    if (txId) await this.keepReceipt(await read(() => this.deps.api.get(txId)));
  }

  // --- 3. vouchers of a payment that took effect -----------------------------------------------

  /** A voucher printed while the payment was in doubt is void if the payment took effect. */
  private async voidVouchersOfTakenPayment(): Promise<void> {
    let over = -this.leftover();
    for (const [voucher, cents] of [...this.history.vouchers]) {
      if (over <= 0) break;
      if (cents > over) continue;
      await this.deps.journal.append({ type: 'unclaimed_settled', voucher, how: 'credited', by: VOID_BY });
      this.history.vouchers.delete(voucher);
      over -= cents;
      this.report.voided += cents;
      this.deps.logger.warn(
        { sessionId: this.id, cents, voucher },
        'recovery: voucher voided, the payment took effect',
      );
    }
  }

  // --- 4. money not accounted for --------------------------------------------------------------

  /** Onto the card when one was scanned and the API takes it, else recorded as unclaimed. */
  private async settleLeftover(): Promise<void> {
    const paidOnServer = await this.damagedButPaidOnServer();
    const cents = this.leftover();
    if (cents <= 0) return;
    const card = this.live().card;
    if (card && !paidOnServer && (await this.creditToCard(cents, card))) return;
    const voucher = newVoucherCode();
    await this.deps.journal.append({ type: 'unclaimed', sessionId: this.id, cents, voucher });
    this.report.unclaimed += cents;
    this.deps.logger.warn(
      { sessionId: this.id, cents, voucher, damaged: this.s.damaged },
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
    const rb = await read(() => this.deps.api.readBack(saleApiId));
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
      await this.keepReceipt(paid);
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

  // --- 5. close --------------------------------------------------------------------------------

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
