/**
 * "Write the intent, make the call, write the outcome": the one way an API step that may move
 * money enters the journal, used by the running kiosk (session-journal.ts) and by recovery
 * (recovery.ts). An intent without an outcome is what a power cut mid-call leaves behind; recovery
 * reads such a step back before it settles any money.
 *
 * A credit's amount (`credited`) is written in the same group commit as its `ok` outcome, so a
 * credit never stands in the journal without its amount, nor an amount without its credit.
 */
import { isApiError } from '../api/errors.js';
import type { Transaction } from '../api/schemas.js';
import { classifyStatus } from '../api/transaction-status.js';
import { PAYMENT_STEPS, type ApiResult, type ApiStep } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import { isNotPaid, type Took } from '../api/transaction-status.js';

/**
 * The journal result of an answered payment or credit, from the transaction's status (not the HTTP
 * status): paid -> `ok`; `failed`/`cancelled` -> `failed`; `start` never ran -> `not_applied`;
 * `pending`, `approved` or a status we do not know -> `unknown` (in doubt until read back).
 */
export function resultOfStatus(took: Took): ApiResult {
  if (took === 'effect') return 'ok';
  if (isNotPaid(took)) return 'failed';
  if (took === 'no_effect') return 'not_applied';
  return 'unknown';
}

export interface StepIntent {
  sessionId: string;
  /** The transaction's API id; for `create` the kiosk's local id. */
  apiId: string;
  step: ApiStep;
  jobId: string;
  /** Cents the step moves (`credit`, `start/cash`). */
  cents?: number;
}

/** What an answer says: the journal result, and the status and id it reported. */
export interface Judged {
  result: ApiResult;
  status?: string;
  apiId?: string;
  /** What a `start/cash` on the transaction collects, as the answer set it (create, update, preTransaction). */
  dueCents?: number;
}

/** Whether a step's answer is judged by the transaction's status: payments and credits are. */
export function movesMoney(step: ApiStep): boolean {
  return PAYMENT_STEPS.includes(step) || step === 'credit';
}

/** An answered transaction as the journal records it; a payment's or credit's result by its status. */
export function judgeTransaction(step: ApiStep, tx: Pick<Transaction, 'status' | 'id'>): Judged {
  return {
    result: movesMoney(step) ? resultOfStatus(classifyStatus(tx.status)) : 'ok',
    status: tx.status,
    apiId: tx.id,
  };
}

/**
 * The outcome of a step whose intent is journaled (`jobId`), with the credited amount in the same
 * group commit when a credit is `ok` (`credit`: the caller has decided that it is one).
 */
export async function writeOutcome(
  journal: Journal,
  jobId: string,
  judged: Judged,
  credit?: { sessionId: string; cents: number; apiId: string },
): Promise<void> {
  const writes = [journal.append({ type: 'api_outcome', jobId, ...judged, ...intentOf(journal, jobId) })];
  if (credit && judged.result === 'ok') writes.push(journal.append({ type: 'credited', ...credit }));
  await Promise.all(writes);
}

/**
 * A payment's or credit's intent as the journal folded it (session, step, cents), repeated in its
 * outcome: the outcome then still counts when the intent's record is damaged. A payment whose intent
 * names no cents (`start/cashless`, `start/loyalty`) repeats the transaction's amount it pays, so
 * that what a paid sale cost is still known when its basket's record is damaged (chaos seed 31418
 * `--first 3`). Nothing for other steps.
 */
function intentOf(journal: Journal, jobId: string): { ofSession?: string; step?: ApiStep; cents?: number } {
  const sessionId = journal.state.jobs[jobId];
  const s = sessionId === undefined ? undefined : journal.state.sessions[sessionId];
  const start = s?.starts?.[jobId];
  if (!s || !start) return {};
  const cents = start.cents ?? (PAYMENT_STEPS.includes(start.step) ? s.tx?.amount : undefined);
  return { ofSession: s.sessionId, step: start.step, ...(cents !== undefined ? { cents } : {}) };
}

/** The live path's reading of a failed call: only a call that may have reached the server is in doubt. */
export function failedCallResult(err: unknown): ApiResult {
  if (!isApiError(err)) return 'not_applied';
  if (err.outcome === 'unknown') return 'unknown';
  return err.kind === 'http' ? 'failed' : 'not_applied';
}

export interface JournaledCall<T> {
  intent: StepIntent;
  call: () => Promise<T>;
  judge: (answer: T) => Judged;
  /** The result journaled when the call throws. */
  failed: (err: unknown) => ApiResult;
  /**
   * The call's error is what the caller must see, even when its outcome cannot be written (the
   * step then stays in doubt, which recovery reads back). Otherwise the journal's error is thrown.
   */
  keepCallError?: boolean;
}

/** Intent, call, outcome; resolves with the answer and how it was judged once both are durable. */
export async function journaledCall<T>(
  journal: Journal,
  c: JournaledCall<T>,
): Promise<{ answer: T; judged: Judged }> {
  const { intent } = c;
  await journal.append({
    type: 'api_intent',
    sessionId: intent.sessionId,
    apiId: intent.apiId,
    step: intent.step,
    jobId: intent.jobId,
    ...(intent.cents !== undefined ? { cents: intent.cents } : {}),
  });
  let answer: T;
  try {
    answer = await c.call();
  } catch (err) {
    const written = journal.append({
      type: 'api_outcome',
      jobId: intent.jobId,
      result: c.failed(err),
      ...intentOf(journal, intent.jobId),
    });
    await (c.keepCallError ? written.catch(() => undefined) : written);
    throw err;
  }
  const judged = c.judge(answer);
  await writeOutcome(
    journal,
    intent.jobId,
    judged,
    intent.step === 'credit' && intent.cents !== undefined && intent.cents > 0
      ? { sessionId: intent.sessionId, cents: intent.cents, apiId: intent.apiId }
      : undefined,
  );
  return { answer, judged };
}
