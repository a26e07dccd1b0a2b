/**
 * Recovery: before the kiosk serves anyone, every session the journal still holds open (a crash,
 * a power cut, a payment whose outcome stayed unknown) is resolved against the API:
 *  - a payment or credit in doubt is read back: done -> finished locally (receipt kept for
 *    reprint); not done -> a payment is repeated exactly once, if the customer's money is still
 *    unsettled (not already handed out as a voucher);
 *  - money not used by a payment goes onto the card when one was scanned, else it is recorded as
 *    unclaimed with a voucher code for the operator;
 *  - a voucher the flow printed while a payment was in doubt is voided when the payment turns out
 *    to have taken effect (the money is on the card: it must not be paid out twice);
 *  - every answer is judged by the transaction's `status` (src/api/transaction-status.ts), never by
 *    the HTTP status: `approved` (authorised, not captured) is cancelled, then settled as not paid;
 *    `pending` or a status we do not know leaves the session open (read again later);
 *  - when the API cannot be reached the session stays open and counts as unresolved.
 *
 * Recovery journals its own steps (intent, outcome) and must be given the raw API client, not the
 * one `SessionJournal.wrapApi` returns (that would journal every call a second time).
 *
 * The books of a session: `inserted = paid cash + credited + unclaimed`. "Paid cash" is what the
 * session's successful `start/cash` collected (the `cents` of its intent); it is read from the
 * journal's records because the folded state keeps only the last step.
 */
import { isApiError } from '../api/errors.js';
import { SMART_DEVICE_ID, TOPUP_EAN, type Transaction } from '../api/schemas.js';
import type { SmartTransactionsApi } from '../api/types.js';
import { classifyStatus, isNotPaid } from '../api/transaction-status.js';
import { PAYMENT_STEPS, type ApiStep } from '../journal/entries.js';
import { interruptionOf, type Interruption } from '../journal/interruption.js';
import type { Journal } from '../journal/journal.js';
import type { OpenSession } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { maskCard } from '../util/privacy.js';
import { newVoucherCode } from './session-journal.js';
import { journaledCall, judgeTransaction } from './journaled-call.js';
import { isJobRef, jobRef } from '../../machines/job-ref.js';

export interface RecoveryOptions {
  journal: Journal;
  /** The raw client (see the file comment). */
  api: SmartTransactionsApi;
  logger: Logger;
  /** The session being served right now (never touched). */
  exclude?: string | null;
  /** A Smart Device id (`SDV_...`) for `device_source` of credit transactions; anything else is not sent. */
  deviceId?: string;
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

/** Who voids a voucher whose payment took effect: the harness and the operator read it. */
export const VOID_BY = 'recovery:payment-took-effect';

class Unreachable extends Error {}

/** What the journal's records say about an open session's payments (the fold keeps only the last step). */
interface PaymentHistory {
  /** Cash collected by successful `start/cash` steps. */
  paidCash: number;
  /** The transaction of the last successful payment (for its receipt). */
  paidApiId?: string;
  /** voucher -> cents, of this session, not settled yet. */
  vouchers: Map<string, number>;
}

async function paymentHistories(journal: Journal, ids: Set<string>): Promise<Map<string, PaymentHistory>> {
  const out = new Map<string, PaymentHistory>();
  const of = (id: string) => {
    let h = out.get(id);
    if (!h) out.set(id, (h = { paidCash: 0, vouchers: new Map() }));
    return h;
  };
  const intents = new Map<string, { sessionId: string; step: ApiStep; cents?: number; apiId: string }>();
  const amounts = new Map<string, number>();
  const voucherSession = new Map<string, string>();
  for await (const r of journal.entries()) {
    if (r.type === 'snapshot') continue;
    if (r.type === 'tx_created' && ids.has(r.sessionId)) amounts.set(r.sessionId, r.amount);
    else if (r.type === 'api_intent' && ids.has(r.sessionId)) {
      intents.set(r.jobId, {
        sessionId: r.sessionId,
        step: r.step,
        apiId: r.apiId,
        ...(r.cents !== undefined ? { cents: r.cents } : {}),
      });
    } else if (r.type === 'api_outcome' && r.result === 'ok') {
      const intent = intents.get(r.jobId);
      if (!intent) continue;
      const h = of(intent.sessionId);
      if (intent.step === 'start/cash') {
        h.paidCash += intent.cents ?? amounts.get(intent.sessionId) ?? 0;
        h.paidApiId = r.apiId ?? intent.apiId;
      } else if (PAYMENT_STEPS.includes(intent.step)) {
        h.paidApiId = r.apiId ?? intent.apiId;
      } else if (intent.step === 'cancel') {
        h.paidCash = 0;
      }
    } else if (r.type === 'unclaimed' && ids.has(r.sessionId)) {
      of(r.sessionId).vouchers.set(r.voucher, r.cents);
      voucherSession.set(r.voucher, r.sessionId);
    } else if (r.type === 'unclaimed_settled') {
      const sessionId = voucherSession.get(r.voucher);
      if (sessionId) out.get(sessionId)?.vouchers.delete(r.voucher);
    }
  }
  return out;
}

export async function recoverOpenSessions(opts: RecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { unresolved: 0, resolved: 0, credited: 0, unclaimed: 0, voided: 0 };
  const open = Object.values(opts.journal.state.sessions).filter((s) => s.sessionId !== opts.exclude);
  if (open.length === 0) return report;
  const histories = await paymentHistories(opts.journal, new Set(open.map((s) => s.sessionId)));
  for (const session of open) {
    try {
      await recoverOne(
        session,
        histories.get(session.sessionId) ?? { paidCash: 0, vouchers: new Map() },
        opts,
        report,
      );
      report.resolved += 1;
    } catch (err) {
      report.unresolved += 1;
      opts.logger.warn(
        { sessionId: session.sessionId, err: (err as Error).message },
        'recovery: session left open, will retry',
      );
    }
  }
  opts.logger.info({ ...report }, 'recovery done');
  return report;
}

/**
 * One recovery at a time: the boot recovery, a recheck and the background retry must never work
 * on the same session concurrently (two credits for one coin).
 */
export class SessionRecovery {
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: Omit<RecoveryOptions, 'exclude'>) {}

  run(exclude?: string | null): Promise<RecoveryReport> {
    const next = this.running.then(() => recoverOpenSessions({ ...this.opts, exclude }));
    this.running = next.catch(() => undefined);
    return next;
  }
}

/** Transport trouble means "try later"; everything else the API says is an answer we act on. */
function unreachable(err: unknown): boolean {
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

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (unreachable(err)) throw new Unreachable(`API not reachable: ${(err as Error).message}`);
    throw err;
  }
}

async function recoverOne(
  s: OpenSession,
  history: PaymentHistory,
  opts: RecoveryOptions,
  report: RecoveryReport,
): Promise<void> {
  const { journal, api, logger } = opts;
  const id = s.sessionId;
  // `interruptionOf` looks no further than `paid` once a payment succeeded; a credit of the change
  // after it can still be in doubt, so the last step is checked first.
  const step = s.lastStep;
  const at: Interruption =
    step && (step.outcome === undefined || step.outcome === 'unknown')
      ? { at: 'step_in_doubt', step: step.step, jobId: step.jobId, apiId: s.apiId ?? step.apiId }
      : interruptionOf(s);
  const saleApiId = s.apiId;
  let paidCash = history.paidCash;
  let paidApiId = history.paidApiId;
  let jobSeq = 0;
  const job = (what: string) => jobRef(id, `recovery-${what}`, `${Date.now().toString(36)}${++jobSeq}`);
  const live = () => journal.state.sessions[id] ?? s;
  const vouchered = () => [...history.vouchers.values()].reduce((a, b) => a + b, 0);
  // Change the hopper paid left the kiosk; the price of goods not released is owed back (issue 15).
  const leftover = () =>
    live().insertedCents -
    paidCash -
    live().creditedCents -
    vouchered() -
    (live().changedCents ?? 0) +
    (live().returnedCents ?? 0);

  const keepReceipt = async (tx: Transaction) => {
    await journal.append({ type: 'receipt', sessionId: id, jobId: job('receipt'), lines: tx.receipt ?? [] });
  };
  const journaledStep = async <T extends Transaction>(
    apiId: string,
    step: ApiStep,
    cents: number | undefined,
    fn: () => Promise<T>,
  ): Promise<T> => {
    try {
      const { answer } = await journaledCall(journal, {
        intent: {
          sessionId: id,
          apiId,
          step,
          jobId: job(step.replace('/', '-')),
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
  };

  // 1. A payment or credit whose outcome is unknown: read it back before anything else.
  if (at.at === 'step_in_doubt' && (PAYMENT_STEPS.includes(at.step) || at.step === 'credit')) {
    const rb = await call(() => api.readBack(at.apiId));
    const cents = s.lastStep?.cents;
    logger.info({ sessionId: id, step: at.step, took: rb.took }, 'recovery: read back');
    if (rb.took === 'effect') {
      const outcome = journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'ok',
        status: rb.transaction.status,
        apiId: rb.transaction.id,
      });
      if (at.step === 'credit') {
        const amount = cents ?? topupAmount(rb.transaction);
        await Promise.all([
          outcome,
          journal.append({ type: 'credited', sessionId: id, cents: amount, apiId: rb.transaction.id }),
        ]);
        report.credited += amount;
      } else {
        await outcome;
        if (at.step === 'start/cash') paidCash += cents ?? s.tx?.amount ?? 0;
        paidApiId = rb.transaction.id;
        await keepReceipt(rb.transaction);
      }
    } else if (rb.took === 'pending' || rb.took === 'unknown') {
      // The API may still move on (or says something we do not know): never settle money on a guess.
      throw new Error(`payment ${rb.took} on the server (status ${String(rb.transaction.status)})`);
    } else if (rb.took === 'approved') {
      // Authorised, never captured: cancel it so it can never be captured later, then read it back.
      await journaledStep(at.apiId, 'cancel', undefined, () => api.cancel(at.apiId));
      const again = await call(() => api.readBack(at.apiId));
      logger.info({ sessionId: id, step: at.step, took: again.took }, 'recovery: authorisation cancelled');
      if (!isNotPaid(again.took)) {
        // Still not void: the payment stays the step in doubt (a fresh intent for it, no outcome), so
        // the next round reads it back again instead of settling money that may still be captured.
        await journal.append({
          type: 'api_intent',
          sessionId: id,
          apiId: at.apiId,
          step: at.step,
          jobId: job('still-in-doubt'),
          ...(cents !== undefined ? { cents } : {}),
        });
        throw new Error(`authorisation not void after cancel (status ${String(again.transaction.status)})`);
      }
      await journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'failed',
        status: again.transaction.status,
      });
    } else if (rb.took === 'no_effect') {
      await journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'not_applied',
        status: rb.transaction.status,
      });
      const method = at.step.slice('start/'.length) as 'cash' | 'loyalty' | 'cashless';
      // Exactly one repeat, and only for money still in the session: a voucher already printed for it
      // (the flow gave up on the payment) stays the customer's claim; the terminal needs the customer.
      const due = at.step === 'start/cash' ? (cents ?? s.tx?.amount ?? 0) : 0;
      let settled = false;
      if (at.step !== 'credit' && method !== 'cashless' && leftover() >= due) {
        try {
          const tx = await journaledStep(at.apiId, at.step, cents, () => api.start(at.apiId, method));
          const took = classifyStatus(tx.status);
          if (took === 'effect') {
            if (method === 'cash') paidCash += due;
            paidApiId = tx.id;
            await keepReceipt(tx);
            settled = true;
          } else if (!isNotPaid(took)) {
            throw new Unreachable(`repeated start answered ${String(tx.status)}: left open`);
          }
        } catch (err) {
          if (err instanceof Unreachable) throw err;
          logger.warn({ sessionId: id, err: (err as Error).message }, 'recovery: repeated start refused');
        }
      }
      if (!settled) {
        // The first call may still be on its way through a slow server (the harness caught one that
        // committed after the read-back): abort the transaction so that it can never take effect
        // now, then read it back once more before settling the money elsewhere.
        await api.abort(at.apiId).catch((err: unknown) => {
          if (unreachable(err)) throw new Unreachable((err as Error).message);
        });
        const again = await call(() => api.readBack(at.apiId));
        if (again.took === 'effect') {
          logger.warn({ sessionId: id, step: at.step }, 'recovery: the first call took effect after all');
          const jobId = live().lastStep?.jobId ?? at.jobId;
          const ok = journal.append({
            type: 'api_outcome',
            jobId,
            result: 'ok',
            status: again.transaction.status,
            apiId: again.transaction.id,
          });
          if (at.step === 'credit') {
            const amount = cents ?? topupAmount(again.transaction);
            await Promise.all([
              ok,
              journal.append({ type: 'credited', sessionId: id, cents: amount, apiId: again.transaction.id }),
            ]);
            report.credited += amount;
          } else {
            await ok;
            paidCash += due;
            paidApiId = again.transaction.id;
            await keepReceipt(again.transaction);
          }
        }
      }
    } else {
      await journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'failed',
        status: rb.transaction.status,
      });
    }
  }

  // 2. Paid, but the receipt was never journaled: fetch it, for a reprint.
  if (live().paid && !live().receipt) {
    const txId = paidApiId ?? saleApiId;
    if (txId) await keepReceipt(await call(() => api.get(txId)));
  }

  // 3. A voucher printed while the payment was in doubt is void if the payment took effect.
  let over = -leftover();
  for (const [voucher, cents] of [...history.vouchers]) {
    if (over <= 0) break;
    if (cents > over) continue;
    await journal.append({ type: 'unclaimed_settled', voucher, how: 'credited', by: VOID_BY });
    history.vouchers.delete(voucher);
    over -= cents;
    report.voided += cents;
    logger.warn({ sessionId: id, cents, voucher }, 'recovery: voucher voided, the payment took effect');
  }

  // 4. Money not accounted for: onto the card, or recorded as unclaimed. A session touched by
  // journal damage may have lost the record of its payment: when the server says the transaction
  // took effect, the money is recorded as unclaimed for the operator (never credited a second time).
  let paidOnServer = false;
  if (s.damaged && !live().paid && saleApiId && !isJobRef(saleApiId) && leftover() > 0) {
    const rb = await call(() => api.readBack(saleApiId));
    paidOnServer = rb.took === 'effect';
    if (paidOnServer)
      logger.warn(
        { sessionId: id },
        'recovery: damaged session is paid on the server: unclaimed for the operator',
      );
  }
  const cents = leftover();
  const card = live().card;
  let credited = false;
  if (cents > 0 && card && !paidOnServer) {
    try {
      const created = await journaledStep(jobRef(id, 'recovery-credit'), 'create', undefined, () =>
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
          merchantRef: job('credit').slice(0, 64),
          ...(opts.deviceId && SMART_DEVICE_ID.test(opts.deviceId)
            ? { device_source: { id: opts.deviceId } }
            : {}),
        }),
      );
      const paid = await journaledStep(created.id, 'credit', cents, () => api.start(created.id, 'cash'));
      const took = classifyStatus(paid.status);
      if (took !== 'effect' && !isNotPaid(took))
        throw new Unreachable(`credit answered ${String(paid.status)}: left open, read back later`);
      if (took !== 'effect') throw new Error(`credit answered ${String(paid.status)}: not loaded`);
      await keepReceipt(paid);
      report.credited += cents;
      credited = true;
      logger.info({ sessionId: id, cents, card: maskCard(card) }, 'recovery: money credited to the card');
    } catch (err) {
      if (err instanceof Unreachable) throw err;
      // The API refused the card (locked, unknown, another merchant's): the money stays the customer's.
      logger.warn(
        { sessionId: id, err: (err as Error).message },
        'recovery: credit refused, recording as unclaimed',
      );
    }
  }
  if (cents > 0 && !credited) {
    const voucher = newVoucherCode();
    await journal.append({ type: 'unclaimed', sessionId: id, cents, voucher });
    report.unclaimed += cents;
    logger.warn(
      { sessionId: id, cents, voucher, damaged: s.damaged },
      'recovery: money recorded as unclaimed',
    );
  }

  // 5. An unpaid transaction left on the server is abandoned (best effort: it never charges anyone).
  const after = live();
  if (!after.paid && saleApiId && !isJobRef(saleApiId)) {
    await api.abort(saleApiId).catch(() => undefined);
  }
  const outcome = after.paid
    ? 'completed'
    : after.creditedCents > 0
      ? 'credited'
      : after.unclaimedCents > 0
        ? 'unclaimed'
        : 'aborted';
  await journal.append({ type: 'session_closed', sessionId: id, outcome });
}

function topupAmount(tx: Transaction): number {
  return (tx.basket?.products ?? [])
    .filter((p) => p.ean === TOPUP_EAN)
    .reduce((sum, p) => sum + (p.priceOne ?? 0) * (p.quantity ?? 0), 0);
}
