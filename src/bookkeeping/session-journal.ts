/**
 * The running kiosk's bookkeeping: every coin, every API step (intent before, outcome after),
 * every receipt, credit and unclaimed amount goes into the journal, durable before it is acted on.
 * It wraps the API client and the flows' start ledger, so the machines stay pure and the money
 * trail is written in one place.
 *
 * The money rule it keeps: a session is closed only when its books balance, i.e. the cash put in
 * equals the cash part of its payment + what was credited to a card + what was recorded as
 * unclaimed. Whatever a session still holds when it ends (a coin that landed while the flow was
 * already saying goodbye) is recorded as unclaimed before `session_closed` is written.
 *
 * Which session an API call belongs to is read from the call itself (every job id and
 * `merchantRef` is a job reference naming its session, machines/job-ref.ts; later calls name a
 * transaction created in that session), not from "the current session": the first call of a session is made before the
 * app has noticed that a session began.
 */
import { randomBytes } from 'node:crypto';
import { isApiError } from '../api/errors.js';
import { basketTotal } from '../api/money.js';
import type { CreateTransaction, Transaction } from '../api/schemas.js';
import type { CallOptions, ReadBack, SmartTransactionsApi, StartMethod } from '../api/types.js';
import { classifyStatus, isNotPaid } from '../api/transaction-status.js';
import { repeatStart } from '../api/read-back.js';
import type { StartLedger } from '../flows/api-actors.js';
import type { SaleFigures } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import { mayHaveRun, notServed, sessionOfTransaction, type StartState } from '../journal/state.js';
import type { ApiStep, SessionMode, SessionOutcome as JournalOutcome } from '../journal/entries.js';
import type { SessionOutcome } from '../../machines/session-context.js';
import type { Logger } from '../util/logger.js';
import type { IssuesVouchers } from './voucher-code.js';
import { maskCard } from '../util/privacy.js';
import {
  failedCallResult,
  journaledCall,
  type Judged,
  movesMoney,
  resultOfStatus,
  writeOutcome,
} from './journaled-call.js';
import { journalTerminalPayment } from './terminal-duties.js';
import {
  isRecoveryRef,
  jobRef,
  parseJobRef,
  sessionOfRef,
  type JournalStep,
} from '../../machines/job-ref.js';

const OUTCOMES: Record<SessionOutcome, JournalOutcome | null> = {
  paid: 'completed',
  cancelled: 'cancelled',
  walked_away: 'aborted',
  card_refused: 'aborted',
  failed: 'failed',
  device_fault: 'failed',
  // Left open on purpose: recovery resolves it (read back, then credit or record as unclaimed).
  unresolved: null,
};

/** Validator results lost unread (`acceptor_lost`), and the sessions around them. */
export interface ResultsLost {
  results: number;
  ev: number;
  /** Served when the loss was read (null: nobody). */
  servedSession: string | null;
  /** Served when the read before the loss was (null: nobody; undefined: before this start). */
  readSession?: string | null;
  /** The session served throughout from that read to the loss read, else `unknown` (LOST_IN_UNKNOWN). */
  lostIn: string;
}

/**
 * Plain voucher codes a customer can read out (no 0/O or 1/I), unsigned: what tests and tools get
 * by default. The kiosk issues signed codes (voucher-code.ts) that its reader can redeem.
 */
export function newVoucherCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(10);
  let code = '';
  for (let i = 0; i < 10; i++) code += alphabet[bytes[i]! % alphabet.length];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

export const plainVouchers: IssuesVouchers = { issue: () => newVoucherCode() };

export class SessionJournal {
  private current: string | null = null;
  private jobSeq = 0;
  /** Money operations in order, each seeing the durable effect of the one before. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly journal: Journal,
    private readonly mode: SessionMode,
    private readonly logger: Logger,
    /** A session was left open for recovery (its payment or credit is in doubt): run recovery soon. */
    private readonly onLeftOpen: (sessionId: string) => void = () => {},
    /** Makes the code of every voucher this journal records (signed in the kiosk). */
    private readonly vouchers: IssuesVouchers = plainVouchers,
  ) {}

  get sessionId(): string | null {
    return this.current;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async ensureStarted(sessionId: string): Promise<void> {
    if (!this.journal.state.sessions[sessionId])
      await this.journal.append({ type: 'session_started', sessionId, mode: this.mode });
  }

  async beginSession(sessionId: string): Promise<void> {
    if (this.current === sessionId) return;
    this.current = sessionId;
    await this.serial(() => this.ensureStarted(sessionId));
  }

  /**
   * The session ended as the machine says. Money the journal still sees in it (inserted, not paid,
   * credited or recorded) is recorded as unclaimed first, so the books of a closed session balance.
   */
  closeSession(sessionId: string, outcome: SessionOutcome): Promise<void> {
    if (this.current === sessionId) this.current = null;
    const mapped = OUTCOMES[outcome];
    return this.serial(async () => {
      const s = this.journal.state.sessions[sessionId];
      if (!s) return;
      const step = s.lastStep;
      const inDoubt =
        step !== undefined &&
        (step.outcome === undefined || step.outcome === 'unknown') &&
        movesMoney(step.step);
      // A terminal reversal of its payment in doubt: the money it is for is held, recovery reads it back.
      const reversalInDoubt = Object.values(this.journal.state.terminal.inDoubt).some(
        (i) => i.action === 'cancel_trx' && i.ofSession === sessionId,
      );
      if (mapped === null || inDoubt || reversalInDoubt) {
        // Closing now would settle money a payment or credit may already have moved: recovery reads it back.
        this.logger.warn(
          { sessionId, step: step?.step },
          'session left open for recovery: an outcome is unknown',
        );
        this.onLeftOpen(sessionId);
        return;
      }
      const left = this.leftover(sessionId);
      if (left > 0) {
        const voucher = this.vouchers.issue(left);
        this.logger.warn(
          { sessionId, cents: left, voucher },
          'session ended holding money the flow did not settle: recorded as unclaimed',
        );
        await this.journal.append({ type: 'unclaimed', sessionId, cents: left, voucher });
      }
      await this.journal.append({ type: 'session_closed', sessionId, outcome: mapped });
    });
  }

  /** Cash in the session not accounted for by a payment, a credit or a voucher (the journal's books). */
  leftover(sessionId: string): number {
    const s = this.journal.state.sessions[sessionId];
    if (!s) return 0;
    return (
      s.insertedCents +
      (s.redeemedCents ?? 0) -
      (s.paidCashCents ?? 0) -
      s.creditedCents -
      s.unclaimedCents -
      (s.changedCents ?? 0) +
      notServed(s)
    );
  }

  /** The card is personal data: stored for crediting after a crash, logged only masked. */
  async cardScanned(sessionId: string, card: string): Promise<void> {
    const s = this.journal.state.sessions[sessionId];
    if (s?.card === card) return;
    await this.journal.append({
      type: 'session_started',
      sessionId,
      mode: this.mode,
      card,
      cardMasked: maskCard(card),
    });
  }

  /** Durable before the machine (and so the screen) counts it. */
  /** `ev`: the validator's event counter of this credit, where it has one (resumed from after a restart). */
  coin(sessionId: string, cents: number, source: string, ev?: number): Promise<void> {
    return this.serial(async () => {
      await this.ensureStarted(sessionId);
      await this.journal.append(coinEntry(sessionId, cents, source, ev));
    });
  }

  /** Where the coin validator's credits resume (its counter moved without a coin: reset, baseline). */
  acceptorCounter(ev: number): Promise<void> {
    return this.serial(async () => {
      if (this.journal.state.acceptorEvent === ev) return;
      await this.journal.append({ type: 'acceptor_counter', ev });
    });
  }

  /**
   * Validator results lost past its buffer, up to `ev`: the operator's to settle (`acceptor_lost`),
   * with the sessions served when they were read and when the read before them was, and whose they are.
   */
  acceptorLost(lost: ResultsLost): Promise<void> {
    const { results, ev, servedSession, readSession, lostIn } = lost;
    return this.serial(async () => {
      await this.journal.append({
        type: 'acceptor_lost',
        results,
        ev,
        ...(servedSession ? { servedSession } : {}),
        ...(readSession !== undefined ? { readSession } : {}),
        lostIn,
      });
    });
  }

  /**
   * A coin was journaled for `sessionId` but the machine will never count it (the session ended or
   * never began while the coin was being written). A session nobody serves is settled now; one that
   * is served or already closed is settled by `closeSession`, which runs after the coin.
   */
  coinNotCounted(sessionId: string): Promise<string | null> {
    return this.serial(async () => {
      if (sessionId === this.current || !this.journal.state.sessions[sessionId]) return null;
      const left = this.leftover(sessionId);
      let voucher: string | null = null;
      if (left > 0) {
        voucher = this.vouchers.issue(left);
        await this.journal.append({ type: 'unclaimed', sessionId, cents: left, voucher });
      }
      await this.journal.append({ type: 'session_closed', sessionId, outcome: 'unclaimed' });
      return voucher;
    });
  }

  /** Money nobody can be served for (out of service, maintenance): recorded as unclaimed with a voucher. */
  strayCoin(cents: number, source: string, ev?: number): Promise<string> {
    return this.serial(async () => {
      const sessionId = `stray-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const voucher = this.vouchers.issue(cents);
      await this.journal.append({ type: 'session_started', sessionId, mode: this.mode });
      await this.journal.append(coinEntry(sessionId, cents, source, ev));
      await this.journal.append({ type: 'unclaimed', sessionId, cents, voucher, reason: 'stray' });
      await this.journal.append({ type: 'session_closed', sessionId, outcome: 'unclaimed' });
      return voucher;
    });
  }

  /**
   * A scanned voucher's value joins the session: `decide` (the voucher book's check) runs in the
   * money chain, so two scans of one code cannot both pass, and `voucher_redeemed` is durable before
   * the machine counts the value.
   */
  redeem<R extends { ok: boolean; ref?: string; cents?: number }>(
    sessionId: string,
    decide: () => R,
  ): Promise<R> {
    return this.serial(async () => {
      const r = decide();
      if (!r.ok || !r.ref || !r.cents) return r;
      await this.ensureStarted(sessionId);
      await this.journal.append({ type: 'voucher_redeemed', sessionId, ref: r.ref, cents: r.cents });
      return r;
    });
  }

  /** The flow's report of a credit; already journaled with the credit's outcome, so normally a no-op. */
  credited(cents: number, apiId: string): Promise<void> {
    const sessionId = this.sessionOfTx(apiId) ?? this.current;
    return this.serial(async () => {
      if (!sessionId || cents <= 0 || this.creditJournaled(sessionId, apiId)) return;
      await this.journal.append({ type: 'credited', sessionId, cents, apiId });
    });
  }

  /** The open session whose journaled steps named this transaction (a later call carries no session). */
  private sessionOfTx(apiId: string): string | undefined {
    return sessionOfTransaction(this.journal.state, apiId);
  }

  /** A `credited` record of this transaction is in the session's books (the journal's, not a copy). */
  private creditJournaled(sessionId: string, apiId: string): boolean {
    return this.journal.state.sessions[sessionId]?.creditedIds?.includes(apiId) ?? false;
  }

  /**
   * The flow recorded money as unclaimed: durable before its code is shown. The session is the one
   * the job names (the app may not have noticed the session yet, or already its end); a record that
   * cannot be written rejects, so the flow tries again and never shows a code the books do not have.
   */
  unclaimed(cents: number, voucher: string, jobId?: string, reason?: string): Promise<void> {
    const sessionId = (jobId ? sessionOfRef(jobId) : undefined) ?? this.current;
    return this.serial(async () => {
      if (cents <= 0) return;
      if (!sessionId) throw new Error('unclaimed money without a session: not recorded');
      await this.journal.append({
        type: 'unclaimed',
        sessionId,
        cents,
        voucher,
        ...(reason ? { reason } : {}),
      });
    });
  }

  /** `sale`: the figures of a sale's or top-up's customer receipt (what the export books). */
  async receipt(jobId: string, lines: Transaction['receipt'], sale?: SaleFigures): Promise<void> {
    const sessionId = sessionOfRef(jobId) ?? this.current;
    if (!sessionId || !this.journal.state.sessions[sessionId]) return;
    await this.journal.append({
      type: 'receipt',
      sessionId,
      jobId,
      lines: lines ?? [],
      ...(sale ? { sale } : {}),
    });
  }

  async printed(jobId: string): Promise<void> {
    await this.journal.append({ type: 'printed', jobId });
  }

  /**
   * Start job ids survive a restart: an actor restarted with the same job reads back instead of
   * starting blind. The mark is the start's own intent, journaled under the job the actor passes
   * with the call (`CallOptions.jobId`) before the request goes out: a job is sent once the journal
   * says so, and for the transaction the journal names.
   */
  startLedger(): StartLedger {
    return {
      sentFor: (jobId) => this.startOf(jobId)?.apiId,
      markSent: () => {},
    };
  }

  /**
   * Recovery is making one of its own steps on this transaction: the session's last step is
   * recovery's, on it, with no outcome yet (recovery journals the intent before it calls). Such a
   * call passes through, or it would be journaled twice.
   */
  private recoveryCalling(apiId: string): boolean {
    const sessionId = this.sessionOfTx(apiId);
    const step = sessionId ? this.journal.state.sessions[sessionId]?.lastStep : undefined;
    return step?.apiId === apiId && step.outcome === undefined && isRecoveryRef(step.jobId);
  }

  /** What a `start/cash` on the transaction collects, as the journaled answers of its session set it. */
  private cashDue(sessionId: string | null, apiId: string): number | undefined {
    return sessionId ? this.journal.state.sessions[sessionId]?.cashDue?.[apiId] : undefined;
  }

  /** A payment or credit step journaled under this job, while its session is open. */
  private startOf(jobId: string): StartState | undefined {
    const sessionId = sessionOfRef(jobId);
    return sessionId ? this.journal.state.sessions[sessionId]?.starts?.[jobId] : undefined;
  }

  /** Another start (or credit) on this transaction, journaled in its session, may have run at the server. */
  private startedBefore(sessionId: string | null, apiId: string, jobId: string): boolean {
    const starts = sessionId ? this.journal.state.sessions[sessionId]?.starts : undefined;
    return Object.entries(starts ?? {}).some(
      ([j, st]) => j !== jobId && st.apiId === apiId && mayHaveRun(st),
    );
  }

  private async step<T>(
    sessionId: string | null,
    apiId: string,
    step: ApiStep,
    jobId: string,
    call: () => Promise<T>,
    describe: (r: T) => Partial<Judged>,
    cents?: number,
  ): Promise<T> {
    if (!sessionId) return call();
    await this.ensureStarted(sessionId);
    const { answer, judged } = await journaledCall(this.journal, {
      intent: { sessionId, apiId, step, jobId, ...(cents !== undefined ? { cents } : {}) },
      call,
      judge: (r) => {
        const { result = 'ok', ...described } = describe(r);
        return { result, ...described };
      },
      failed: failedCallResult,
      keepCallError: true,
    });
    if (judged.result !== 'ok') {
      // The answer came, but its status says the money did not move (or not yet): nothing is
      // counted as paid or credited; an `unknown` stays in doubt until a read-back resolves it.
      this.logger.warn({ sessionId, step, status: judged.status, result: judged.result }, 'answer not paid');
      return answer;
    }
    // journaledCall wrote the credited amount with the outcome, and the fold counts a `start/cash`
    // that is `ok` as paid cash: the journal's state has both (the flow's `credited` report is then a no-op).
    return answer;
  }

  /**
   * The flows read a payment or credit in doubt back themselves: what they learn closes the doubt in
   * the journal too (else the session would stay open and recovery would count the money again).
   */
  private async resolvedByReadBack(id: string, rb: ReadBack): Promise<void> {
    const sessionId = this.sessionOfTx(id);
    const s = sessionId ? this.journal.state.sessions[sessionId] : undefined;
    const step = s?.lastStep;
    if (!sessionId || !step || step.apiId !== id) return;
    if (step.outcome !== undefined && step.outcome !== 'unknown') return;
    if (!movesMoney(step.step)) return;
    if (rb.took === 'effect') {
      // The credit's amount, unless the flow's report of it is journaled already.
      const cents = step.step === 'credit' && !this.creditJournaled(sessionId, id) ? step.cents : undefined;
      await writeOutcome(
        this.journal,
        step.jobId,
        { result: 'ok', status: rb.transaction.status, apiId: rb.transaction.id },
        cents ? { sessionId, cents, apiId: id } : undefined,
      );
      if (step.step === 'start/cashless') await this.terminalPaid(sessionId, rb.transaction);
    } else if (isNotPaid(rb.took)) {
      await writeOutcome(this.journal, step.jobId, { result: 'failed', status: rb.transaction.status });
    }
    // "Not started" closes nothing: reads may lag a start that took effect (src/api/read-back.ts).
    // The step stays in doubt until a repeat's answer or recovery's abort settles it.
  }

  /** A terminal payment that took effect: its receipt number and merchant copy, for a reversal and a reprint. */
  private async terminalPaid(sessionId: string | null, t: Transaction): Promise<Transaction> {
    if (sessionId && classifyStatus(t.status) === 'effect')
      await journalTerminalPayment(
        this.journal,
        sessionId,
        t,
        this.journal.state.sessions[sessionId]?.tx?.amount ?? 0,
      );
    return t;
  }

  /** The API client with every mutating call journaled: intent first, outcome after. */
  wrapApi(api: SmartTransactionsApi): SmartTransactionsApi {
    const job = (sessionId: string | null, step: JournalStep) =>
      jobRef(sessionId ?? this.current ?? 'none', step, `k${++this.jobSeq}`);
    const tx = (t: Transaction) => ({ status: t.status, apiId: t.id });
    // A payment's or credit's answer is judged by its status: a 2xx `failed` is not paid.
    const judged = (t: Transaction) => ({ ...tx(t), result: resultOfStatus(classifyStatus(t.status)) });
    const sessionOfTx = (id: string) => this.sessionOfTx(id) ?? this.current;
    const passThrough = (id: string) => this.recoveryCalling(id);
    return {
      get: (id, opts) => api.get(id, opts),
      // A search changes nothing; the transaction it finds is journaled by the create that used it.
      ...(api.list ? { list: api.list.bind(api) } : {}),
      readBack: async (id, opts) => {
        const rb = await api.readBack(id, opts);
        await this.serial(() => this.resolvedByReadBack(id, rb));
        return rb;
      },
      create: async (body: CreateTransaction, opts?: CallOptions) => {
        // The kiosk's reference travels in `merchantRef` (older journals' calls used `transactionRef`).
        const ref = body.merchantRef ?? body.transactionRef;
        // Recovery journals its own steps (bookkeeping/recovery.ts): its create passes through.
        if (isRecoveryRef(ref)) return api.create(body, opts);
        const sessionId = sessionOfRef(ref) ?? this.current;
        const localId = ref ?? job(sessionId, 'create');
        const jobId = job(sessionId, 'create');
        if (sessionId) {
          await this.ensureStarted(sessionId);
          await this.journal.append({
            type: 'tx_created',
            sessionId,
            localId,
            basket: body.basket as never,
            amount: basketTotal(body.basket.products),
          });
          const card = body.idents?.[0]?.value;
          if (card) await this.cardScanned(sessionId, card);
        }
        const created = await this.step(
          sessionId,
          localId,
          'create',
          jobId,
          () => api.create(body, opts),
          (t) => ({ ...tx(t), ...dueCentsOf(basketTotal(body.basket.products)) }),
        );
        return created;
      },
      update: async (id, body, opts) => {
        if (passThrough(id)) return api.update(id, body, opts);
        const sessionId = sessionOfRef(body.merchantRef ?? body.transactionRef) ?? sessionOfTx(id);
        const updated = await this.step(
          sessionId,
          id,
          'update',
          job(sessionId, 'update'),
          () => api.update(id, body, opts),
          (t) => ({ ...tx(t), ...dueCentsOf(basketTotal(body.basket.products)) }),
        );
        return updated;
      },
      preTransaction: async (id, opts) => {
        if (passThrough(id)) return api.preTransaction(id, opts);
        const sessionId = sessionOfTx(id);
        const pre = await this.step(
          sessionId,
          id,
          'preTransaction',
          job(sessionId, 'pre'),
          () => api.preTransaction(id, opts),
          (r) => ({ status: 'processing', apiId: id, ...dueCentsOf(r.missing_sum) }),
        );
        return pre;
      },
      start: (id, method: StartMethod, opts) => {
        if (passThrough(id)) return api.start(id, method, opts);
        // The flow's job names the session too, where the transaction is not in the journal yet.
        const sessionId = this.sessionOfTx(id) ?? sessionOfRef(opts?.jobId) ?? this.current;
        const jobId = opts?.jobId ?? job(sessionId, `start/${method}`);
        // Leftover money loaded onto the card is a credit, not the session's payment.
        const step: ApiStep = parseJobRef(jobId)?.step === 'credit' ? 'credit' : `start/${method}`;
        const cents = method === 'cash' ? this.cashDue(sessionId, id) : undefined;
        const startOrReadBack = async () => {
          // A second start on this transaction (read when this one's intent is durable, so a
          // concurrent one is seen too): its refusal is read back and, unless paid, is an unknown
          // outcome (a 409 may mean "the first one took effect", src/api/read-back.ts).
          if (this.startedBefore(sessionId, id, jobId)) return repeatStart(api, id, method, opts);
          try {
            return await api.start(id, method, opts);
          } catch (err) {
            // 409: the transaction is not startable any more. Only this kiosk starts it, so if it is
            // paid, an earlier call of ours took effect (a slow server, a lost answer): that is success.
            if (!isApiError(err) || err.kind !== 'http' || err.httpStatus !== 409) throw err;
            const rb = await api.readBack(id, opts).catch(() => null);
            if (rb?.took === 'effect') return rb.transaction;
            throw err;
          }
        };
        // A first start the server certainly never ran leaves nothing to be careful about: its
        // outcome says so (mayHaveRun), and a later start on the transaction is a first one again.
        const started = this.step(sessionId, id, step, jobId, startOrReadBack, judged, cents);
        return method === 'cashless' ? started.then((t) => this.terminalPaid(sessionId, t)) : started;
      },
      cancel: (id, opts) => {
        if (passThrough(id)) return api.cancel(id, opts);
        const sessionId = sessionOfTx(id);
        return this.step(sessionId, id, 'cancel', job(sessionId, 'cancel'), () => api.cancel(id, opts), tx);
      },
      abort: (id, opts) => {
        if (passThrough(id)) return api.abort(id, opts);
        const sessionId = sessionOfTx(id);
        return this.step(sessionId, id, 'abort', job(sessionId, 'abort'), () => api.abort(id, opts), tx);
      },
    };
  }
}

/**
 * The cash a `start/cash` will collect, for the outcome of the answer that set it (the basket total,
 * or `missing_sum`): integer cents only, so a record that cannot be written never fails the step.
 */
function dueCentsOf(cents: number): { dueCents?: number } {
  return Number.isSafeInteger(cents) ? { dueCents: cents } : {};
}

/** A coin's record; `ev` only where the acceptor has an event counter (ccTalk). */
function coinEntry(sessionId: string, cents: number, source: string, ev: number | undefined) {
  return { type: 'coin_accepted' as const, sessionId, cents, source, ...(ev !== undefined ? { ev } : {}) };
}
