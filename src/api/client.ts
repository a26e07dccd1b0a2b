/**
 * The Smart Transactions API client the kiosk uses in the field. Every call has a deadline and
 * honours an AbortSignal, every answer is validated, and every failure is an ApiError that says
 * whether the call may have taken effect. On 401 (or 403 with code 2003) it authenticates once
 * more and retries; a mutating call is retried this way only because the server refused it.
 */
import type * as z from 'zod';
import { ApiError } from './errors.js';
import { httpExchange, type FetchLike } from './http.js';
import { nodeHttpFetch } from './node-http.js';
import {
  CreateTransactionSchema,
  MerchantCardListSchema,
  PreTransactionResultSchema,
  TerminalAnswerSchema,
  TransactionListSchema,
  TransactionSchema,
  describeZodError,
  type CreateTransaction,
  type MerchantCard,
  type PreTransactionResult,
  type TerminalAnswer,
  type Transaction,
} from './schemas.js';
import type { TokenManager } from './auth.js';
import {
  classifyStatus,
  type CallOptions,
  type ListQuery,
  type ReadBack,
  type SmartTransactionsApi,
  type StartMethod,
} from './types.js';
import { silentLogger, type Logger } from '../util/logger.js';

export interface ClientOptions {
  /** e.g. `https://connect-testing.secuconnect.com/api/v2` */
  baseUrl: string;
  tokens: Pick<TokenManager, 'token' | 'invalidate'>;
  fetch?: FetchLike;
  /** Default deadline per call (ms). */
  timeoutMs?: number;
  /** Deadline for `start/cashless`, which blocks while the customer uses the terminal. */
  cashlessTimeoutMs?: number;
  logger?: Logger;
}

const TX_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class SmartTransactionsClient implements SmartTransactionsApi {
  private readonly base: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly cashlessTimeoutMs: number;
  private readonly logger: Logger;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? nodeHttpFetch;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.cashlessTimeoutMs = opts.cashlessTimeoutMs ?? 180_000;
    this.logger = opts.logger ?? silentLogger;
  }

  async create(body: CreateTransaction, opts?: CallOptions): Promise<Transaction> {
    return this.call(
      'create',
      'POST',
      '/Smart/Transactions',
      TransactionSchema,
      validBody(body, 'create'),
      opts,
    );
  }

  async get(id: string, opts?: CallOptions): Promise<Transaction> {
    return this.call(
      'get',
      'GET',
      `/Smart/Transactions/${txId(id, 'get')}`,
      TransactionSchema,
      undefined,
      opts,
    );
  }

  async update(id: string, body: CreateTransaction, opts?: CallOptions): Promise<Transaction> {
    return this.call(
      'update',
      'PUT',
      `/Smart/Transactions/${txId(id, 'update')}`,
      TransactionSchema,
      validBody(body, 'update'),
      opts,
    );
  }

  async preTransaction(id: string, opts?: CallOptions): Promise<PreTransactionResult> {
    return this.call(
      'preTransaction',
      'POST',
      `/Smart/Transactions/${txId(id, 'preTransaction')}/preTransaction`,
      PreTransactionResultSchema,
      {},
      opts,
    );
  }

  async start(id: string, method: StartMethod, opts?: CallOptions): Promise<Transaction> {
    const timeoutMs = opts?.timeoutMs ?? (method === 'cashless' ? this.cashlessTimeoutMs : this.timeoutMs);
    return this.call(
      `start/${method}`,
      'POST',
      `/Smart/Transactions/${txId(id, 'start')}/start/${method}`,
      TransactionSchema,
      {},
      { ...opts, timeoutMs },
    );
  }

  async cancel(id: string, opts?: CallOptions): Promise<Transaction> {
    return this.call(
      'cancel',
      'POST',
      `/Smart/Transactions/${txId(id, 'cancel')}/cancel`,
      TransactionSchema,
      {},
      opts,
    );
  }

  async abort(id: string, opts?: CallOptions): Promise<Transaction> {
    return this.call(
      'abort',
      'POST',
      `/Smart/Transactions/${txId(id, 'abort')}/abort`,
      TransactionSchema,
      {},
      opts,
    );
  }

  async cancelTrx(receiptNumber: string, opts?: CallOptions): Promise<Transaction> {
    return this.terminalCall(
      'cancelTrx',
      `/Smart/Transactions/${txId(receiptNumber, 'cancelTrx')}/cancelTrx`,
      TransactionSchema,
      opts,
    );
  }

  async endOfDay(opts?: CallOptions): Promise<TerminalAnswer> {
    return this.terminalCall('endOfDay', '/Smart/Transactions/me/EndOfDay', TerminalAnswerSchema, opts);
  }

  async diagnosis(opts?: CallOptions): Promise<TerminalAnswer> {
    return this.terminalCall('diagnosis', '/Smart/Transactions/me/diagnosis', TerminalAnswerSchema, opts);
  }

  /**
   * A terminal duty: the call blocks while the terminal works (end-of-day transmits its batch), so
   * its deadline is the terminal's (`cashlessTimeoutMs`), not an API call's.
   */
  private terminalCall<S extends z.ZodType>(
    operation: string,
    path: string,
    schema: S,
    opts: CallOptions | undefined,
  ): Promise<z.infer<S>> {
    return this.call(
      operation,
      'POST',
      path,
      schema,
      {},
      {
        ...opts,
        timeoutMs: opts?.timeoutMs ?? this.cashlessTimeoutMs,
      },
    );
  }

  async list(query: ListQuery, opts?: CallOptions): Promise<Transaction[]> {
    const list = await this.call(
      'list',
      'GET',
      `/Smart/Transactions${queryString(query)}`,
      TransactionListSchema,
      undefined,
      opts,
    );
    return list.data;
  }

  async merchantCards(query: ListQuery, opts?: CallOptions): Promise<MerchantCard[]> {
    const list = await this.call(
      'merchantCards',
      'GET',
      `/Loyalty/MerchantCards${queryString(query)}`,
      MerchantCardListSchema,
      undefined,
      opts,
    );
    return list.data;
  }

  async readBack(id: string, opts?: CallOptions): Promise<ReadBack> {
    const transaction = await this.get(id, opts);
    return { transaction, took: classifyStatus(transaction.status) };
  }

  private async call<S extends z.ZodType>(
    operation: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    schema: S,
    body: unknown,
    opts: CallOptions | undefined,
  ): Promise<z.infer<S>> {
    const mutating = method !== 'GET';
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const token = await this.opts.tokens.token(opts?.signal);
      try {
        const result = await httpExchange(this.fetchImpl, {
          method,
          url: `${this.base}${path}`,
          operation,
          mutating,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          timeoutMs: opts?.timeoutMs ?? this.timeoutMs,
          signal: opts?.signal,
        });
        const parsed = schema.safeParse(result.json);
        if (!parsed.success) {
          throw new ApiError({
            kind: 'bad_response',
            outcome: mutating ? 'unknown' : 'not_applied',
            operation,
            httpStatus: result.status,
            message: `${operation}: answer breaks the schema: ${describeZodError(parsed.error)}`,
          });
        }
        this.logger.debug({ operation, ms: Date.now() - started, attempt }, 'api call ok');
        return parsed.data;
      } catch (err) {
        if (attempt === 1 && err instanceof ApiError && isExpiredToken(err)) {
          this.logger.info(
            { operation, httpStatus: err.httpStatus },
            'api token refused, authenticating again',
          );
          this.opts.tokens.invalidate(token);
          continue;
        }
        if (err instanceof ApiError && err.kind === 'http' && isExpiredToken(err)) {
          throw new ApiError({
            kind: 'auth',
            outcome: 'not_applied',
            operation,
            httpStatus: err.httpStatus,
            body: err.body,
            message: `${operation}: still unauthorised after a fresh token`,
          });
        }
        this.logger.warn(
          {
            operation,
            kind: (err as ApiError).kind,
            outcome: (err as ApiError).outcome,
            httpStatus: (err as ApiError).httpStatus,
            code: (err as ApiError).code,
          },
          'api call failed',
        );
        throw err;
      }
    }
  }
}

/** `getAll(count, offset, fields, q, sort)` as query parameters, as the SDKs send them. */
function queryString(query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.count !== undefined) params.set('count', String(query.count));
  if (query.offset !== undefined) params.set('offset', String(query.offset));
  if (query.fields) params.set('fields', query.fields);
  if (query.q) params.set('q', query.q);
  if (query.sort) params.set('sort', query.sort);
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

function isExpiredToken(err: ApiError): boolean {
  return err.kind === 'http' && (err.httpStatus === 401 || (err.httpStatus === 403 && err.code === 2003));
}

function txId(id: string, operation: string): string {
  if (!TX_ID.test(id)) {
    throw new ApiError({
      kind: 'invalid_request',
      outcome: 'not_applied',
      operation,
      message: `${operation}: invalid transaction id`,
    });
  }
  return encodeURIComponent(id);
}

function validBody(body: CreateTransaction, operation: string): unknown {
  const parsed = CreateTransactionSchema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError({
      kind: 'invalid_request',
      outcome: 'not_applied',
      operation,
      message: `${operation}: ${describeZodError(parsed.error)}`,
    });
  }
  return parsed.data;
}
