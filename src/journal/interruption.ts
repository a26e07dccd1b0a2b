/**
 * Where an open session stood when the kiosk stopped: the question recovery asks first for every
 * session the journal still holds open at boot. Pure, from the folded state only.
 */
import { PAYMENT_STEPS, type ApiStep } from './entries.js';
import type { OpenSession } from './state.js';

export type Interruption =
  /** Money or a card, but no API call made yet: nothing happened on the server. */
  | { at: 'before_api' }
  /**
   * A call was sent (or about to be) and its effect is not known: no outcome written, or the
   * outcome was `unknown`. Read the transaction back (GET) before doing anything else; never
   * repeat a `start` blind.
   */
  | { at: 'step_in_doubt'; step: ApiStep; jobId: string; apiId: string }
  /** The last call certainly did not take effect (`not_applied` / `failed`): safe to retry it or give up. */
  | { at: 'step_not_applied'; step: ApiStep; jobId: string; apiId: string }
  /** The last call succeeded but was not a payment (create, update, preTransaction...): nothing charged yet. */
  | { at: 'before_payment'; step: ApiStep; apiId: string }
  /** Paid on the server; the receipt was not journaled (fetch it again from the transaction). */
  | { at: 'paid_without_receipt'; apiId: string | undefined }
  /** Paid and receipt journaled, but not known to be printed: offer a reprint. */
  | { at: 'receipt_not_printed'; jobId: string }
  /** Everything done except `session_closed`. */
  | { at: 'finished' };

export function interruptionOf(session: OpenSession): Interruption {
  const step = session.lastStep;
  // A payment or credit in doubt comes first, paid or not: a credit of the change after a paid sale
  // may have moved money too, and must be read back before anything else.
  if (
    step &&
    (step.outcome === undefined || step.outcome === 'unknown') &&
    (PAYMENT_STEPS.includes(step.step) || step.step === 'credit')
  ) {
    return { at: 'step_in_doubt', step: step.step, jobId: step.jobId, apiId: session.apiId ?? step.apiId };
  }
  if (session.paid) {
    if (!session.receipt) return { at: 'paid_without_receipt', apiId: session.apiId };
    if (!session.receipt.printed) return { at: 'receipt_not_printed', jobId: session.receipt.jobId };
    return { at: 'finished' };
  }
  if (!step) return { at: 'before_api' };
  const ids = { step: step.step, jobId: step.jobId, apiId: session.apiId ?? step.apiId };
  if (step.outcome === undefined || step.outcome === 'unknown') return { at: 'step_in_doubt', ...ids };
  if (step.outcome === 'not_applied' || step.outcome === 'failed') return { at: 'step_not_applied', ...ids };
  if (PAYMENT_STEPS.includes(step.step)) return { at: 'finished' }; // unreachable: an ok payment sets paid
  return { at: 'before_payment', step: step.step, apiId: ids.apiId };
}

/**
 * Cash the customer put in that is not yet accounted for by a payment, a credit or a voucher: what
 * recovery must credit to the card or record as unclaimed if the session cannot be completed.
 */
export function unsettledCents(session: OpenSession): number {
  if (session.paid) return 0;
  return Math.max(
    0,
    session.insertedCents + (session.redeemedCents ?? 0) - session.creditedCents - session.unclaimedCents,
  );
}
