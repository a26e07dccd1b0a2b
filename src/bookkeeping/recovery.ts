/**
 * Recovery: before the kiosk serves anyone, every session the journal still holds open (a crash,
 * a power cut, a payment whose outcome stayed unknown) is resolved against the API:
 *  - a payment or credit in doubt is read back: done -> finished locally (receipt kept for
 *    reprint); "not started" -> never repeated on the word of one read (reads may lag): the
 *    transaction is aborted to find out (accepted: it never ran, the money is settled as below;
 *    refused: read back, paid -> done; anything else -> left open);
 *  - money not used by a payment goes onto the card when one was scanned, else it is recorded as
 *    unclaimed with a voucher code for the operator;
 *  - a voucher the flow printed while a payment was in doubt is voided when the payment turns out
 *    to have taken effect (the money is on the card: it must not be paid out twice);
 *  - every answer is judged by the transaction's `status` (src/api/transaction-status.ts), never by
 *    the HTTP status: `approved` (authorised, not captured) is cancelled, then settled as not paid;
 *    `pending` or a status we do not know leaves the session open (read again later);
 *  - when the API cannot be reached the session stays open and counts as unresolved.
 *
 * Each session is recovered step by step in recover-session.ts.
 *
 * Recovery journals its own steps (intent, outcome) and must be given the raw API client, not the
 * one `SessionJournal.wrapApi` returns (that would journal every call a second time).
 *
 * The books of a session: `inserted = paid cash + credited + unclaimed`. "Paid cash" is what the
 * session's successful `start/cash` collected (the `cents` of its intent); it is read from the
 * journal's records because the folded state keeps only the last step.
 */
import { PAYMENT_STEPS, type ApiStep } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import {
  isCreditReceipt,
  RecoverSession,
  type PaymentHistory,
  type RecoverSessionDeps,
  type RecoveryReport,
} from './recover-session.js';

export type { RecoveryReport } from './recover-session.js';

export interface RecoveryOptions extends RecoverSessionDeps {
  /** The session being served right now (never touched). */
  exclude?: string | null;
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
      // Its intent's record may be lost (damaged): the outcome of a payment or credit repeats it.
      const intent =
        intents.get(r.jobId) ??
        (r.ofSession !== undefined && r.step !== undefined && ids.has(r.ofSession)
          ? {
              sessionId: r.ofSession,
              step: r.step,
              apiId: r.apiId ?? '',
              ...(r.cents !== undefined ? { cents: r.cents } : {}),
            }
          : undefined);
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
    } else if (r.type === 'receipt' && ids.has(r.sessionId) && !isCreditReceipt(r.jobId)) {
      of(r.sessionId).receipt = true;
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
      const history = histories.get(session.sessionId) ?? { paidCash: 0, vouchers: new Map() };
      await new RecoverSession(session, history, opts, report).run();
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
