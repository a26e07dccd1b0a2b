/**
 * The contract between the kiosk's flows and the Smart Transactions API. Machines and the app
 * depend on this interface only; `SmartTransactionsClient` implements it over HTTP, tests fake it.
 */
import type {
  CreateTransaction,
  MerchantCard,
  PreTransactionResult,
  TerminalAnswer,
  Transaction,
} from './schemas.js';
import type { Took } from './transaction-status.js';

export { classifyStatus, type Took } from './transaction-status.js';

export interface CallOptions {
  /** Cancels the call; the error then has kind `aborted`. */
  signal?: AbortSignal;
  /** Overrides the client's default timeout for this call (ms); `start/cashless` needs a long one. */
  timeoutMs?: number;
  /**
   * The job reference of a flow's `start` (machines/job-ref.ts): the session journal journals the
   * step under it, which is what makes the job's start durable. The HTTP client ignores it.
   */
  jobId?: string;
}

export type StartMethod = 'loyalty' | 'cash' | 'cashless';

/** What a GET after an unknown outcome tells about a `start`. */
export interface ReadBack {
  transaction: Transaction;
  /** What the status says (src/api/transaction-status.ts); `effect`: the start took effect, do not repeat it. */
  took: Took;
}

/** `GET /Smart/Transactions` as the SDK's `getAll(count, offset, fields, q, sort)`. */
export interface ListQuery {
  count?: number;
  offset?: number;
  fields?: string;
  /** Search expression, e.g. `merchantRef:"k-0042:s1:create:0"`. */
  q?: string;
  sort?: string;
}

export interface SmartTransactionsApi {
  create(body: CreateTransaction, opts?: CallOptions): Promise<Transaction>;
  get(id: string, opts?: CallOptions): Promise<Transaction>;
  update(id: string, body: CreateTransaction, opts?: CallOptions): Promise<Transaction>;
  preTransaction(id: string, opts?: CallOptions): Promise<PreTransactionResult>;
  start(id: string, method: StartMethod, opts?: CallOptions): Promise<Transaction>;
  cancel(id: string, opts?: CallOptions): Promise<Transaction>;
  abort(id: string, opts?: CallOptions): Promise<Transaction>;
  /** Searches transactions (used to find a `create` whose answer was lost, by `merchantRef`). */
  list?(query: ListQuery, opts?: CallOptions): Promise<Transaction[]>;
  /**
   * Searches this merchant's loyalty cards (`GET /Loyalty/MerchantCards?q=card.cardnumber:...`, the
   * SDK's `LoyaltyMerchantCardsApi.getAll`): the card look-up when a create answer carries no card.
   */
  merchantCards?(query: ListQuery, opts?: CallOptions): Promise<MerchantCard[]>;
  /**
   * Terminal (SmartZVT) duties, only with a card terminal: `cancelTrx` reverses a terminal payment by
   * its receipt number before end-of-day (status `cancelled`); `endOfDay` clears the terminal's batch
   * (girocard is only paid out after it); `diagnosis` is the terminal's extended self-test.
   */
  cancelTrx?(receiptNumber: string, opts?: CallOptions): Promise<Transaction>;
  endOfDay?(opts?: CallOptions): Promise<TerminalAnswer>;
  diagnosis?(opts?: CallOptions): Promise<TerminalAnswer>;
  /** Reads a transaction back to resolve an `unknown` outcome of `start`. */
  readBack(id: string, opts?: CallOptions): Promise<ReadBack>;
}
