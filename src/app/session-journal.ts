/**
 * The running kiosk's bookkeeping: every coin, every API step (intent before, outcome after),
 * every receipt, credit and unclaimed amount goes into the journal, durable before it is acted on.
 * It wraps the API client and the flows' start ledger, so the machines stay pure and the money
 * trail is written in one place.
 */
import { randomBytes } from 'node:crypto';
import { isApiError } from '../api/errors.js';
import { basketTotal } from '../api/money.js';
import type { CreateTransaction, Transaction } from '../api/schemas.js';
import type { CallOptions, SmartTransactionsApi, StartMethod } from '../api/types.js';
import type { StartLedger } from '../flows/api-actors.js';
import type { Journal } from '../journal/journal.js';
import type {
  ApiResult,
  ApiStep,
  SessionMode,
  SessionOutcome as JournalOutcome,
} from '../journal/entries.js';
import type { SessionOutcome } from '../../machines/session-context.js';
import type { Logger } from '../util/logger.js';
import { maskCard } from '../util/privacy.js';

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

/** Voucher codes a customer can read out: no 0/O or 1/I. */
export function newVoucherCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(10);
  let code = '';
  for (let i = 0; i < 10; i++) code += alphabet[bytes[i]! % alphabet.length];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

export class SessionJournal {
  private current: string | null = null;
  private jobSeq = 0;
  /** start job id -> transaction id, for jobs sent in this process (the journal has them all). */
  private readonly sentStarts = new Map<string, string>();
  private readonly pendingStart = new Map<string, string>();

  constructor(
    private readonly journal: Journal,
    private readonly mode: SessionMode,
    private readonly logger: Logger,
  ) {
    for (const [jobId, sessionId] of Object.entries(journal.state.jobs)) {
      const s = journal.state.sessions[sessionId];
      if (s?.lastStep?.jobId === jobId && s.lastStep.step.startsWith('start/'))
        this.sentStarts.set(jobId, s.lastStep.apiId);
    }
  }

  get sessionId(): string | null {
    return this.current;
  }

  async beginSession(sessionId: string): Promise<void> {
    if (this.current === sessionId) return;
    this.current = sessionId;
    await this.journal.append({ type: 'session_started', sessionId, mode: this.mode });
  }

  async closeSession(sessionId: string, outcome: SessionOutcome): Promise<void> {
    if (this.current === sessionId) this.current = null;
    const mapped = OUTCOMES[outcome];
    if (mapped === null) {
      this.logger.warn({ sessionId }, 'session left open for recovery: a payment outcome is unknown');
      return;
    }
    if (!this.journal.state.sessions[sessionId]) return;
    await this.journal.append({ type: 'session_closed', sessionId, outcome: mapped });
  }

  /** The card is personal data: stored for crediting after a crash, logged only masked. */
  async cardScanned(sessionId: string, card: string): Promise<void> {
    await this.journal.append({
      type: 'session_started',
      sessionId,
      mode: this.mode,
      card,
      cardMasked: maskCard(card),
    });
  }

  /** Durable before the machine (and so the screen) counts it. */
  async coin(sessionId: string, cents: number, source: string): Promise<void> {
    if (!this.journal.state.sessions[sessionId])
      await this.journal.append({ type: 'session_started', sessionId, mode: this.mode });
    await this.journal.append({ type: 'coin_accepted', sessionId, cents, source });
  }

  /** Money nobody can be served for (out of service, maintenance): recorded as unclaimed with a voucher. */
  async strayCoin(cents: number, source: string): Promise<string> {
    const sessionId = `stray-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const voucher = newVoucherCode();
    await this.journal.append({ type: 'session_started', sessionId, mode: this.mode });
    await this.journal.append({ type: 'coin_accepted', sessionId, cents, source });
    await this.journal.append({ type: 'unclaimed', sessionId, cents, voucher });
    await this.journal.append({ type: 'session_closed', sessionId, outcome: 'unclaimed' });
    return voucher;
  }

  async credited(cents: number, apiId: string): Promise<void> {
    if (!this.current || cents <= 0) return;
    await this.journal.append({ type: 'credited', sessionId: this.current, cents, apiId });
  }

  async unclaimed(cents: number, voucher: string): Promise<void> {
    if (!this.current || cents <= 0) return;
    await this.journal.append({ type: 'unclaimed', sessionId: this.current, cents, voucher });
  }

  async receipt(jobId: string, lines: Transaction['receipt']): Promise<void> {
    if (!this.current) return;
    await this.journal.append({ type: 'receipt', sessionId: this.current, jobId, lines: lines ?? [] });
  }

  async printed(jobId: string): Promise<void> {
    await this.journal.append({ type: 'printed', jobId });
  }

  /** Start job ids survive a restart: an actor restarted with the same job reads back instead of starting blind. */
  startLedger(): StartLedger {
    return {
      sentFor: (jobId) => this.sentStarts.get(jobId),
      markSent: (jobId, transactionId) => {
        this.sentStarts.set(jobId, transactionId);
        this.pendingStart.set(transactionId, jobId);
      },
    };
  }

  private async step<T>(
    apiId: string,
    step: ApiStep,
    jobId: string,
    call: () => Promise<T>,
    describe: (r: T) => { status?: string; apiId?: string },
    cents?: number,
  ): Promise<T> {
    const sessionId = this.current;
    if (sessionId)
      await this.journal.append({
        type: 'api_intent',
        sessionId,
        apiId,
        step,
        jobId,
        ...(cents !== undefined ? { cents } : {}),
      });
    try {
      const result = await call();
      if (sessionId)
        await this.journal.append({ type: 'api_outcome', jobId, result: 'ok', ...describe(result) });
      return result;
    } catch (err) {
      const result: ApiResult = !isApiError(err)
        ? 'not_applied'
        : err.outcome === 'unknown'
          ? 'unknown'
          : err.kind === 'http'
            ? 'failed'
            : 'not_applied';
      if (sessionId) await this.journal.append({ type: 'api_outcome', jobId, result }).catch(() => undefined);
      throw err;
    }
  }

  /** The API client with every mutating call journaled: intent first, outcome after. */
  wrapApi(api: SmartTransactionsApi): SmartTransactionsApi {
    const job = (what: string) => `${this.current ?? 'none'}:${what}:${++this.jobSeq}`;
    const tx = (t: Transaction) => ({ status: t.status, apiId: t.id });
    return {
      get: (id, opts) => api.get(id, opts),
      readBack: (id, opts) => api.readBack(id, opts),
      create: async (body: CreateTransaction, opts?: CallOptions) => {
        const localId = body.transactionRef ?? job('create');
        const jobId = job('create');
        if (this.current) {
          await this.journal.append({
            type: 'tx_created',
            sessionId: this.current,
            localId,
            basket: body.basket as never,
            amount: basketTotal(body.basket.products),
          });
          const card = body.idents?.[0]?.value;
          if (card) await this.cardScanned(this.current, card);
        }
        return this.step(localId, 'create', jobId, () => api.create(body, opts), tx);
      },
      update: (id, body, opts) =>
        this.step(id, 'update', job('update'), () => api.update(id, body, opts), tx),
      preTransaction: (id, opts) =>
        this.step(
          id,
          'preTransaction',
          job('pre'),
          () => api.preTransaction(id, opts),
          () => ({ status: 'processing' }),
        ),
      start: (id, method: StartMethod, opts) => {
        const jobId = this.pendingStart.get(id) ?? job(`start/${method}`);
        this.pendingStart.delete(id);
        // Leftover money loaded onto the card is a credit, not the session's payment.
        const step: ApiStep = jobId.includes(':credit:') ? 'credit' : `start/${method}`;
        return this.step(id, step, jobId, () => api.start(id, method, opts), tx);
      },
      cancel: (id, opts) => this.step(id, 'cancel', job('cancel'), () => api.cancel(id, opts), tx),
      abort: (id, opts) => this.step(id, 'abort', job('abort'), () => api.abort(id, opts), tx),
    };
  }
}
