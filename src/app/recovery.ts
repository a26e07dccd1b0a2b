/**
 * Recovery: before the kiosk serves anyone, every session the journal still holds open (a crash,
 * a power cut, a payment whose outcome stayed unknown) is resolved against the API:
 *  - a payment in doubt is read back: done -> finished locally (receipt kept for reprint);
 *    not done -> repeated exactly once (the customer's cash is in the box);
 *  - money not used by a payment goes onto the card when one was scanned, else it is recorded as
 *    unclaimed with a voucher code for the operator;
 *  - when the API cannot be reached the session stays open and counts as unresolved.
 */
import { isApiError } from '../api/errors.js';
import { TOPUP_EAN, type Transaction } from '../api/schemas.js';
import type { SmartTransactionsApi } from '../api/types.js';
import { PAYMENT_STEPS, type ApiStep } from '../journal/entries.js';
import { interruptionOf, unsettledCents } from '../journal/interruption.js';
import type { Journal } from '../journal/journal.js';
import type { OpenSession } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { maskCard } from '../util/privacy.js';
import { newVoucherCode } from './session-journal.js';

export interface RecoveryOptions {
  journal: Journal;
  api: SmartTransactionsApi;
  logger: Logger;
  /** The session being served right now (never touched). */
  exclude?: string | null;
  /** `device_source.id` for credit transactions. */
  deviceId?: string;
}

export interface RecoveryReport {
  /** Sessions left open because the API could not tell or could not be reached. */
  unresolved: number;
  resolved: number;
  credited: number;
  unclaimed: number;
}

class Unreachable extends Error {}

export async function recoverOpenSessions(opts: RecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { unresolved: 0, resolved: 0, credited: 0, unclaimed: 0 };
  const open = Object.values(opts.journal.state.sessions).filter((s) => s.sessionId !== opts.exclude);
  for (const session of open) {
    try {
      await recoverOne(session, opts, report);
      report.resolved += 1;
    } catch (err) {
      report.unresolved += 1;
      opts.logger.warn(
        { sessionId: session.sessionId, err: (err as Error).message },
        'recovery: session left open, will retry',
      );
    }
  }
  if (open.length) opts.logger.info({ ...report }, 'recovery done');
  return report;
}

/** Transport trouble means "try later"; everything else the API says is an answer we act on. */
function unreachable(err: unknown): boolean {
  return (
    isApiError(err) &&
    (err.kind === 'network' ||
      err.kind === 'timeout' ||
      err.kind === 'aborted' ||
      err.kind === 'auth' ||
      (err.kind === 'http' && (err.httpStatus ?? 0) >= 500) ||
      err.kind === 'bad_response')
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

async function recoverOne(s: OpenSession, opts: RecoveryOptions, report: RecoveryReport): Promise<void> {
  const { journal, api, logger } = opts;
  const at = interruptionOf(s);
  const id = s.sessionId;
  let jobSeq = 0;
  const job = (what: string) => `${id}:recovery-${what}:${Date.now().toString(36)}${++jobSeq}`;

  const keepReceipt = async (tx: Transaction) => {
    await journal.append({ type: 'receipt', sessionId: id, jobId: job('receipt'), lines: tx.receipt ?? [] });
  };
  const journaledStep = async <T extends Transaction>(
    apiId: string,
    step: ApiStep,
    cents: number | undefined,
    fn: () => Promise<T>,
  ): Promise<T> => {
    const jobId = job(step.replace('/', '-'));
    await journal.append({
      type: 'api_intent',
      sessionId: id,
      apiId,
      step,
      jobId,
      ...(cents !== undefined ? { cents } : {}),
    });
    try {
      const tx = await fn();
      await journal.append({ type: 'api_outcome', jobId, result: 'ok', status: tx.status, apiId: tx.id });
      return tx;
    } catch (err) {
      await journal.append({
        type: 'api_outcome',
        jobId,
        result: isApiError(err) && err.outcome === 'unknown' ? 'unknown' : 'failed',
      });
      throw err;
    }
  };

  if (at.at === 'finished' || at.at === 'receipt_not_printed') {
    // The receipt stays in the journal's recent receipts for a reprint.
    await journal.append({ type: 'session_closed', sessionId: id, outcome: 'completed' });
    logger.info({ sessionId: id, at: at.at }, 'recovery: finished locally');
    return;
  }
  if (at.at === 'paid_without_receipt') {
    if (at.apiId) await keepReceipt(await call(() => api.get(at.apiId!)));
    await journal.append({ type: 'session_closed', sessionId: id, outcome: 'completed' });
    return;
  }

  if (at.at === 'step_in_doubt' && (PAYMENT_STEPS.includes(at.step) || at.step === 'credit')) {
    const rb = await call(() => api.readBack(at.apiId));
    logger.info({ sessionId: id, step: at.step, took: rb.took }, 'recovery: payment read back');
    if (rb.took === 'effect') {
      await journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'ok',
        status: rb.transaction.status,
        apiId: rb.transaction.id,
      });
      if (at.step === 'credit') {
        await journal.append({
          type: 'credited',
          sessionId: id,
          cents: s.lastStep?.cents ?? creditAmount(rb.transaction),
          apiId: rb.transaction.id,
        });
      } else {
        await keepReceipt(rb.transaction);
      }
    } else if (rb.took === 'no_effect' && at.step !== 'credit') {
      // Exactly one repeat: the customer's money is in the cash box for this payment.
      await journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'not_applied',
        status: rb.transaction.status,
      });
      const method = at.step.slice('start/'.length) as 'cash' | 'loyalty' | 'cashless';
      if (method !== 'cashless') {
        try {
          const tx = await journaledStep(at.apiId, at.step, s.lastStep?.cents, () =>
            api.start(at.apiId, method),
          );
          await keepReceipt(tx);
        } catch (err) {
          if (unreachable(err)) throw new Unreachable((err as Error).message);
          logger.warn({ sessionId: id, err: (err as Error).message }, 'recovery: repeated start refused');
        }
      }
    } else if (rb.took === 'pending') {
      throw new Error('payment still pending on the server');
    } else {
      await journal.append({
        type: 'api_outcome',
        jobId: at.jobId,
        result: 'failed',
        status: rb.transaction.status,
      });
    }
  }

  // Whatever the payment did, money not accounted for is settled now.
  const fresh = journal.state.sessions[id];
  if (!fresh) return;
  const cents = unsettledCents(fresh);
  if (cents > 0 && fresh.card) {
    const card = fresh.card;
    const created = await journaledStep(`${id}:credit`, 'create', undefined, () =>
      call(() =>
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
          transactionRef: `${id}:recovery-credit`.slice(0, 64),
          ...(opts.deviceId ? { device_source: { id: opts.deviceId } } : {}),
        }),
      ),
    );
    const paid = await journaledStep(created.id, 'credit', cents, () =>
      call(() => api.start(created.id, 'cash')),
    );
    await journal.append({ type: 'credited', sessionId: id, cents, apiId: paid.id });
    await keepReceipt(paid);
    report.credited += cents;
    logger.info({ sessionId: id, cents, card: maskCard(card) }, 'recovery: money credited to the card');
  } else if (cents > 0) {
    const voucher = newVoucherCode();
    await journal.append({ type: 'unclaimed', sessionId: id, cents, voucher });
    report.unclaimed += cents;
    logger.warn({ sessionId: id, cents, voucher }, 'recovery: money recorded as unclaimed');
  }
  const after = journal.state.sessions[id];
  if (!after) return;
  // An unpaid transaction left on the server is abandoned (best effort: it never charges anyone).
  if (!after.paid && after.apiId && !after.apiId.includes(':')) {
    await api.abort(after.apiId).catch(() => undefined);
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

function creditAmount(tx: Transaction): number {
  return (tx.basket?.products ?? [])
    .filter((p) => p.ean === TOPUP_EAN)
    .reduce((sum, p) => sum + p.priceOne * p.quantity, 0);
}
