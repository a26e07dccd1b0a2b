/**
 * The card terminal's duties (SmartZVT, only with `kiosk.cardTerminal`; issue 12 item 8):
 *  - `cancelTrx` reverses a terminal payment by its receipt number, for a customer charged but not
 *    served. Only a payment of the open batch can be reversed: after an end-of-day the terminal has
 *    cleared it, so the kiosk refuses (journaled) and the money goes back another way (voucher).
 *  - `endOfDay` clears the terminal's batch (girocard is paid out only after it).
 *  - `diagnosis` is the terminal's extended self-test; it moves no money and is not journaled.
 *
 * Reversal and end-of-day are money steps: the intent is durable before the call, the outcome after
 * (`terminal_intent` / `terminal_outcome`), with the merchant's copy of the terminal's receipt.
 * A reversal whose answer was lost is read back (`GET` the transaction: `cancelled` means it took
 * effect); it is never sent twice blind, and the API refuses a second one anyway (not `ok` any more).
 */
import { isApiError } from '../api/errors.js';
import {
  merchantReceiptOf,
  receiptNumberOf,
  type ReceiptLine,
  type TerminalAnswer,
  type Transaction,
} from '../api/schemas.js';
import type { SmartTransactionsApi } from '../api/types.js';
import { classifyStatus } from '../api/transaction-status.js';
import type { TerminalResult } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import type { MerchantReceipt, TerminalPaymentState } from '../journal/state.js';
import type { Logger } from '../util/logger.js';

/** What a duty came to: `refused` was never sent. */
export interface DutyResult {
  result: TerminalResult;
  detail?: string;
  status?: string;
  /** The merchant's receipt the terminal gave (also journaled). */
  merchantLines: ReceiptLine[];
}

export interface EndOfDayResult extends DutyResult {
  /** Terminal payments of the batch it cleared (not reversed), from the journal. */
  count: number;
  cents: number;
}

export interface DiagnosisResult {
  ok: boolean;
  detail: string;
  status?: string;
  merchantLines: ReceiptLine[];
}

/** Which payment to reverse: the transaction (recovery, vending) or the receipt number (the operator). */
export type ReversalTarget = { apiId: string } | { receiptNumber: string };

/**
 * A terminal payment that took effect, journaled with its receipt number and merchant copy, so it
 * can be reversed and reprinted. Written by the session journal and by recovery.
 */
export async function journalTerminalPayment(
  journal: Journal,
  sessionId: string,
  tx: Transaction,
  cents: number,
): Promise<void> {
  if (journal.state.terminal.batch[tx.id]) return;
  const receiptNumber = receiptNumberOf(tx);
  await journal.append({
    type: 'terminal_payment',
    sessionId,
    apiId: tx.id,
    ...(receiptNumber ? { receiptNumber: receiptNumber.slice(0, 40) } : {}),
    cents,
    merchantLines: merchantReceiptOf(tx),
  });
}

export interface TerminalDutiesDeps {
  journal: Journal;
  /** The raw client (the duties journal themselves). */
  api: SmartTransactionsApi;
  logger: Logger;
  /** `kiosk.cardTerminal`: without a terminal every duty is refused. */
  enabled: boolean;
  /**
   * Reads that must all still say "paid" before a reversal in doubt counts as not taken (reads may lag
   * a change: a stale one shows the payment as before), and the pause between them. Default 3, 1 s.
   */
  confirmReads?: number;
  readPauseMs?: number;
}

export class TerminalDuties {
  private seq = 0;

  constructor(private readonly deps: TerminalDutiesDeps) {}

  get enabled(): boolean {
    return this.deps.enabled;
  }

  private job(action: string): string {
    return `terminal:${action}:${Date.now().toString(36)}${++this.seq}`;
  }

  /** The payment of the open batch, or why it cannot be reversed. */
  reversible(target: ReversalTarget): { payment: TerminalPaymentState } | { refused: string } {
    if (!this.deps.enabled) return { refused: 'no card terminal configured' };
    const batch = Object.values(this.deps.journal.state.terminal.batch);
    const payment =
      'apiId' in target
        ? batch.find((p) => p.apiId === target.apiId)
        : batch.find((p) => p.receiptNumber === target.receiptNumber);
    if (!payment) return { refused: 'not in the open terminal batch (cleared by end-of-day, or unknown)' };
    if (payment.reversed) return { refused: 'already reversed' };
    if (!payment.receiptNumber) return { refused: 'the terminal gave no receipt number' };
    if (Object.values(this.deps.journal.state.terminal.inDoubt).some((i) => i.apiId === payment.apiId))
      return { refused: 'a reversal of it is in doubt: the operator checks' };
    return { payment };
  }

  /** Reverses a terminal payment of the open batch; a refusal is journaled too (the operator's audit). */
  async cancelTrx(target: ReversalTarget, by: string): Promise<DutyResult> {
    const { journal, api, logger } = this.deps;
    const jobId = this.job('cancel_trx');
    // An earlier reversal of it in doubt is read back first: it may have taken effect (then this one
    // is refused as "already reversed"), or certainly not (then this one is sent).
    const batch = Object.values(journal.state.terminal.batch);
    const known =
      'apiId' in target ? target.apiId : batch.find((p) => p.receiptNumber === target.receiptNumber)?.apiId;
    if (known) await this.resolveReversals(known);
    const check = this.reversible(target);
    if ('refused' in check) {
      await journal.append({
        type: 'terminal_intent',
        jobId,
        action: 'cancel_trx',
        by,
        ...('apiId' in target
          ? { apiId: target.apiId }
          : { receiptNumber: target.receiptNumber.slice(0, 40) }),
      });
      await journal.append({ type: 'terminal_outcome', jobId, result: 'refused', detail: check.refused });
      logger.warn({ by, reason: check.refused }, 'terminal reversal refused');
      return { result: 'refused', detail: check.refused, merchantLines: [] };
    }
    const p = check.payment;
    const receiptNumber = p.receiptNumber!;
    await journal.append({
      type: 'terminal_intent',
      jobId,
      action: 'cancel_trx',
      by,
      receiptNumber,
      apiId: p.apiId,
      ofSession: p.sessionId,
      cents: p.cents,
    });
    let outcome: DutyResult;
    try {
      if (!api.cancelTrx) throw new Error('the API client has no cancelTrx');
      const tx = await api.cancelTrx(receiptNumber);
      outcome = reversalJudged(tx);
    } catch (err) {
      outcome = await this.afterFailedReversal(p.apiId, err);
    }
    await writeDutyOutcome(journal, jobId, outcome);
    logger.info(
      { by, result: outcome.result, cents: p.cents, receiptNumber, sessionId: p.sessionId },
      'terminal reversal',
    );
    return outcome;
  }

  /**
   * The reversals of a payment that are in doubt (cut off by a power cut, or answered `unknown`),
   * settled by what the transaction says now: `cancelled` -> one of them took effect (journaled `ok`:
   * the session's money went back by it; any other `failed`, a payment is reversed once); still paid
   * -> none did (`failed`). Anything else, or no answer, leaves them in doubt: the money they are for
   * must then be neither reversed again nor paid back another way. Never sends a reversal.
   */
  async resolveReversals(apiId: string): Promise<'none' | 'reversed' | 'not_reversed' | 'in_doubt'> {
    const { journal, logger } = this.deps;
    const open = Object.values(journal.state.terminal.inDoubt)
      .filter((i) => i.action === 'cancel_trx' && i.apiId === apiId)
      .sort((a, b) => a.seq - b.seq);
    if (open.length === 0) return 'none';
    const { took, status } = await this.readReversal(apiId);
    if (took !== 'cancelled' && took !== 'effect') {
      logger.warn({ apiId, took }, 'terminal reversal still in doubt after read-back');
      return 'in_doubt';
    }
    for (const [n, i] of open.entries()) {
      const reversed = took === 'cancelled' && n === 0;
      await writeDutyOutcome(journal, i.jobId, {
        result: reversed ? 'ok' : 'failed',
        ...(status ? { status } : {}),
        detail: reversed
          ? 'read back: reversed'
          : took === 'cancelled'
            ? 'read back: reversed by an earlier reversal'
            : 'read back: still paid',
        merchantLines: [],
      });
    }
    logger.info({ apiId, took, count: open.length }, 'terminal reversal in doubt settled by read-back');
    return took === 'cancelled' ? 'reversed' : 'not_reversed';
  }

  /**
   * What the transaction says about a reversal: `cancelled` at any read is believed (a read never runs
   * ahead of the truth); anything else only as the last of `confirmReads` reads, because a read may lag
   * the reversal and show the payment as it was, or older (profile `read-lag`). `unreadable`: no answer.
   */
  private async readReversal(apiId: string): Promise<{ took: string; status?: string }> {
    const reads = Math.max(1, this.deps.confirmReads ?? 3);
    let last: { took: string; status?: string } = { took: 'unreadable' };
    for (let i = 0; i < reads; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.deps.readPauseMs ?? 1000));
      try {
        const rb = await this.deps.api.readBack(apiId);
        last = { took: rb.took, ...(rb.transaction.status ? { status: rb.transaction.status } : {}) };
      } catch {
        return { took: 'unreadable' };
      }
      // Anything else may be a read behind the truth (even the payment before it was paid): read again.
      if (last.took === 'cancelled') return last;
    }
    return last;
  }

  /** The answer was lost or refused: what the transaction says now decides. */
  private async afterFailedReversal(apiId: string, err: unknown): Promise<DutyResult> {
    const message = (err as Error).message;
    // A 409 says the payment is not in a state to reverse: it may be reversed already (an earlier
    // reversal in doubt that took effect), so it is read back, and never taken for "still paid".
    const conflict = isApiError(err) && err.kind === 'http' && err.httpStatus === 409;
    if (isApiError(err) && err.outcome === 'not_applied' && !conflict)
      return { result: 'failed', detail: message, merchantLines: [] };
    const rb = await this.readReversal(apiId);
    const status = rb.status ? { status: rb.status } : {};
    if (rb.took === 'cancelled') return { result: 'ok', ...status, detail: 'read back', merchantLines: [] };
    if (rb.took === 'effect' && !conflict)
      return { result: 'failed', ...status, detail: message, merchantLines: [] };
    return { result: 'unknown', detail: message, merchantLines: [] };
  }

  /** Clears the terminal's batch. Refused without a terminal; the result goes to the journal. */
  async endOfDay(by: string): Promise<EndOfDayResult> {
    const { journal, api, logger } = this.deps;
    const open = Object.values(journal.state.terminal.batch).filter((p) => !p.reversed);
    const tally = { count: open.length, cents: open.reduce((sum, p) => sum + p.cents, 0) };
    if (!this.deps.enabled)
      return { result: 'refused', detail: 'no card terminal configured', merchantLines: [], ...tally };
    const jobId = this.job('end_of_day');
    await journal.append({ type: 'terminal_intent', jobId, action: 'end_of_day', by, cents: tally.cents });
    let outcome: DutyResult;
    try {
      if (!api.endOfDay) throw new Error('the API client has no endOfDay');
      outcome = dutyJudged(await api.endOfDay());
    } catch (err) {
      const message = (err as Error).message;
      outcome = {
        result: isApiError(err) && err.outcome === 'not_applied' ? 'failed' : 'unknown',
        detail: message,
        merchantLines: [],
      };
    }
    await writeDutyOutcome(journal, jobId, outcome);
    logger.info({ by, result: outcome.result, ...tally }, 'terminal end-of-day');
    return { ...outcome, ...tally };
  }

  /** The terminal's extended diagnosis (no money moves: not journaled). */
  async diagnosis(): Promise<DiagnosisResult> {
    if (!this.deps.enabled) return { ok: false, detail: 'no card terminal configured', merchantLines: [] };
    try {
      if (!this.deps.api.diagnosis) throw new Error('the API client has no diagnosis');
      const answer = await this.deps.api.diagnosis();
      const judged = dutyJudged(answer);
      return {
        ok: judged.result === 'ok',
        detail:
          judged.result === 'ok' ? 'terminal ready' : `terminal answered ${judged.status ?? 'no status'}`,
        ...(judged.status ? { status: judged.status } : {}),
        merchantLines: judged.merchantLines,
      };
    } catch (err) {
      return { ok: false, detail: (err as Error).message, merchantLines: [] };
    }
  }

  /** The newest payment of the open batch that can still be reversed. */
  lastReversible(): { receiptNumber: string; cents: number } | null {
    const open = Object.values(this.deps.journal.state.terminal.batch)
      .filter((p) => !p.reversed && p.receiptNumber)
      .sort((a, b) => b.seq - a.seq);
    const p = open[0];
    return p ? { receiptNumber: p.receiptNumber!, cents: p.cents } : null;
  }

  /** The merchant receipts the journal keeps, newest last (for a reprint). */
  merchantReceipts(): MerchantReceipt[] {
    return [...this.deps.journal.state.terminal.merchantReceipts];
  }
}

function writeDutyOutcome(journal: Journal, jobId: string, outcome: DutyResult): Promise<unknown> {
  return journal.append({
    type: 'terminal_outcome',
    jobId,
    result: outcome.result,
    ...(outcome.status ? { status: outcome.status.slice(0, 40) } : {}),
    ...(outcome.detail ? { detail: outcome.detail.slice(0, 300) } : {}),
    ...(outcome.merchantLines.length ? { merchantLines: outcome.merchantLines } : {}),
  });
}

/** A reversal's answer: `cancelled` took effect; still paid is a refusal; anything else is in doubt (read back later). */
function reversalJudged(tx: Transaction): DutyResult {
  const took = classifyStatus(tx.status);
  const merchantLines = merchantReceiptOf(tx);
  if (took === 'cancelled') return { result: 'ok', status: tx.status, merchantLines };
  if (took === 'effect')
    return { result: 'failed', status: tx.status, detail: 'still paid after cancelTrx', merchantLines };
  return { result: 'unknown', status: tx.status, merchantLines };
}

/** An end-of-day's or diagnosis's answer: `ok` (or no status: the call was taken) is done. */
function dutyJudged(answer: TerminalAnswer): DutyResult {
  const status = answer.status ?? undefined;
  const merchantLines = merchantReceiptOf(answer);
  const result: TerminalResult =
    status === undefined || status === 'ok'
      ? 'ok'
      : status === 'failed' || status === 'error'
        ? 'failed'
        : 'unknown';
  return { result, ...(status ? { status } : {}), merchantLines };
}
