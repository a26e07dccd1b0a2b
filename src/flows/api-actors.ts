/**
 * The flow machines' API actors (machines/ports.ts) implemented over the `SmartTransactionsApi`
 * interface, so the app plugs in the real client and tests a fake. Errors pass through as the
 * client's `ApiError` (the machines decide by `kind`/`outcome`). Error code 1016 ("Card validation
 * failed: Unknown value was returned by procedure call") is a backend fault like every 1xxx code,
 * never "card unknown": the card look-up reads the card from the create answer's `idents[]` and,
 * when the answer carries none, from this merchant's loyalty cards (docs: smart-transactions-api.md).
 *
 * The status decides, not HTTP: the answer to `start` (and every read-back) carries the
 * transaction's `status` and what it says (src/api/transaction-status.ts); the machines act on
 * that. The balance shown afterwards comes from the answer's receipt (src/api/receipt-balance.ts).
 *
 * Idempotence of `start`: every start carries a job id. The `StartLedger` remembers which job ids
 * were sent, for which transaction (the journal persists it); an actor restarted with the same job
 * id (a restored snapshot) reads the transaction back instead of starting it again blind.
 */
import { fromPromise } from 'xstate';
import { ApiError, isApiError } from '../api/errors.js';
import {
  SMART_DEVICE_ID,
  TOPUP_EAN,
  cardOf,
  type CreateTransaction,
  type MerchantCard,
  type Transaction,
} from '../api/schemas.js';
import type { CallOptions, SmartTransactionsApi, StartMethod } from '../api/types.js';
import { balanceFromReceipt, type BalanceOperation } from '../api/receipt-balance.js';
import { classifyStatus, isInDoubt, isNotPaid } from '../api/transaction-status.js';
import { DEFAULT_NO_EFFECT, confirmNoEffect, repeatStart, type NoEffectPolicy } from '../api/read-back.js';
import type {
  BasketLine,
  CancelOutput,
  CardInfo,
  CreateTransactionInput,
  CreditCardInput,
  CreditCardOutput,
  LookupCardInput,
  LookupCardOutput,
  PaymentResult,
  PreTransactionInput,
  PreTransactionOutput,
  ReadBackInput,
  ReadBackOutput,
  StartPaymentInput,
  TransactionIdInput,
  TransactionRef,
  UpdateTransactionInput,
} from '../../machines/ports.js';
import { topupBasket } from '../../machines/topup.machine.js';
import { maskCard } from '../util/privacy.js';
import { silentLogger, type Logger } from '../util/logger.js';

/**
 * Which start job ids were sent, and for which transaction. Must be durable to survive a restart.
 * Every start also carries its job in the call options (`jobId`): the session journal's ledger
 * needs no mark of its own, the start's journaled intent is it.
 */
export interface StartLedger {
  sentFor(jobId: string): Promise<string | undefined> | string | undefined;
  markSent(jobId: string, transactionId: string): Promise<void> | void;
}

/** In-memory ledger: enough within one process (and for tests); the journal provides a durable one. */
export function memoryStartLedger(): StartLedger & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    sentFor: (jobId) => entries.get(jobId),
    markSent: (jobId, id) => {
      entries.set(jobId, id);
    },
  };
}

export interface ApiActorOptions {
  /**
   * A Smart Device id (`SDV_...`) configured for this kiosk, sent as `device_source.id`. Anything else
   * (the kiosk's own name) is not sent: the field references a Smart Device in the API.
   */
  deviceId?: string;
  isDemo?: boolean;
  currency?: string;
  ledger?: StartLedger;
  logger?: Logger;
  /** How many further reads must confirm "not started" before a start is repeated (src/api/read-back.ts). */
  noEffect?: NoEffectPolicy;
}

/**
 * The kiosk's reference for one create, in `merchantRef`: the job id `<session>:<what>:<n>` (the
 * session journal reads the session from it), unique per create and stable across its retries.
 */
export function merchantRefOf(jobId: string): string {
  return jobId.slice(0, 64);
}

/**
 * The card as the kiosk may act on it. Values the docs do not list are read the safe way: a lock
 * status other than `unlocked` is locked, a stock status other than the documented ones inactive,
 * a missing `valid` not valid. Missing balances are 0 (the card is then offered nothing to spend).
 */
export function cardInfoOf(tx: Pick<Transaction, 'idents'>): CardInfo | null {
  const ident = cardOf(tx);
  if (!ident) return null;
  return cardInfoFrom(ident.merchantcard ?? undefined, ident.valid === true);
}

/** The same reading for a merchant card on its own (`GET /Loyalty/MerchantCards`), or an ident's. */
export function cardInfoFrom(mc: MerchantCard | undefined, valid: boolean): CardInfo {
  const stock = mc?.stock_status ?? 'active';
  return {
    valid,
    lockStatus: (mc?.lock_status ?? 'unlocked') === 'unlocked' ? 'unlocked' : 'locked',
    stockStatus: stock === 'active' || stock === 'stored' ? stock : 'inactive',
    passcode: mc?.passcode ?? 0,
    balance: mc?.balance ?? 0,
    cashBalance: mc?.cash_balance ?? 0,
    bonusBalance: mc?.bonus_balance ?? 0,
    groupName: mc?.cardgroup?.display_name ?? null,
  };
}

/** A search value in the SDKs' query syntax, quoted so that nothing in it is read as an operator. */
const quoted = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** A transaction that loads the top-up product is a top-up; anything else is a payment. */
function operationOf(tx: Transaction): BalanceOperation {
  return (tx.basket?.products ?? []).some((p) => p.ean === TOPUP_EAN) ? 'topup' : 'payment';
}

/**
 * The balance after the operation: the receipt's, never `idents[].merchantcard.balance` (read before
 * the operation). Null when the receipt does not say: the kiosk shows none rather than a stale one.
 */
export function balanceAfter(tx: Transaction, operation: BalanceOperation = operationOf(tx)): number | null {
  return balanceFromReceipt(tx.receipt, operation);
}

export function paymentResult(tx: Transaction): PaymentResult {
  const status = typeof tx.status === 'string' ? tx.status : null;
  return {
    id: tx.id,
    status,
    took: classifyStatus(status),
    receipt: tx.receipt ?? [],
    balance: balanceAfter(tx),
  };
}

const basketSum = (basket: BasketLine[]) => basket.reduce((s, l) => s + l.priceOne * l.quantity, 0);

export function createApiActors(api: SmartTransactionsApi, opts: ApiActorOptions = {}) {
  const ledger = opts.ledger ?? memoryStartLedger();
  const log = opts.logger ?? silentLogger;
  const currency = opts.currency ?? 'EUR';
  const noEffect = opts.noEffect ?? DEFAULT_NO_EFFECT;
  const smartDevice = opts.deviceId && SMART_DEVICE_ID.test(opts.deviceId) ? opts.deviceId : undefined;
  /** The basket total of each transaction this process created or replaced: the bound of `missing_sum`. */
  const sums = new Map<string, number>();
  const rememberSum = (id: string, sum: number) => {
    sums.delete(id);
    sums.set(id, sum);
    // A handful of sessions' worth is plenty; older ones fall back to a read (below).
    if (sums.size > 64) sums.delete(sums.keys().next().value!);
  };

  /** `missing_sum` is money the kiosk will collect: never more than the basket (issue 12). */
  async function basketSumOf(id: string, signal: AbortSignal): Promise<number | undefined> {
    const known = sums.get(id);
    if (known !== undefined) return known;
    const tx = await api.get(id, { signal });
    const sum = tx.basket_info?.sum;
    if (typeof sum === 'number') return sum;
    const products = tx.basket?.products ?? [];
    return products.every((p) => typeof p.priceOne === 'number' && typeof p.quantity === 'number')
      ? products.reduce((s, p) => s + (p.priceOne ?? 0) * (p.quantity ?? 0), 0)
      : undefined;
  }

  const body = (basket: BasketLine[], cardNumber: string | null, ref: string): CreateTransaction => ({
    basket: {
      products: basket.map((l) => ({
        id: l.id,
        desc: l.desc,
        ean: l.ean,
        quantity: l.quantity,
        priceOne: l.priceOne,
        tax: l.tax,
        item_type: 'article',
      })),
      type: 'default',
    },
    basket_info: { sum: basketSum(basket), currency },
    ...(cardNumber ? { idents: [{ type: 'card' as const, value: cardNumber }] } : {}),
    intent: 'sale',
    // The merchant's order reference; `transactionRef` is bank-statement text and stays unset.
    merchantRef: merchantRefOf(ref),
    ...(smartDevice ? { device_source: { id: smartDevice } } : {}),
    ...(opts.isDemo !== undefined ? { is_demo: opts.isDemo } : {}),
  });

  /**
   * A start in doubt read back: "not started" is believed only once `noEffect.reads` further reads,
   * spaced with back-off, all say so (reads may lag a start that took effect).
   */
  async function readBackConfirmed(id: string, signal: AbortSignal) {
    const rb = await confirmNoEffect(api, id, await api.readBack(id, { signal }), noEffect, { signal });
    log.info({ transactionId: id, took: rb.took, reads: rb.reads }, 'start in doubt: read back');
    return rb;
  }

  /**
   * Start once per job id. A job already sent is read back: confirmed `no_effect` -> the single
   * permitted repeat (a refusal of it is read back, never "not charged"); anything else -> that
   * transaction, whose status the caller judges.
   */
  async function startOnce(
    id: string,
    method: StartMethod,
    jobId: string,
    signal: AbortSignal,
    timeoutMs?: number,
  ) {
    const call = { signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
    const sentFor = await ledger.sentFor(jobId);
    if (sentFor === undefined) {
      await ledger.markSent(jobId, id);
      return api.start(id, method, { ...call, jobId });
    }
    const rb = await readBackConfirmed(sentFor, signal);
    if (rb.took !== 'no_effect') return rb.transaction;
    return repeatOnce(id, method, jobId, rb.transaction, call);
  }

  /**
   * The one repeat a job may make, after reads confirmed "not started". A job that already repeated
   * (an actor re-invoked after the repeat's own outcome was lost) never sends a third start: reads
   * can lag longer than the confirming reads, and each start the API executes charges again.
   */
  async function repeatOnce(
    id: string,
    method: StartMethod,
    jobId: string,
    read: Transaction,
    call: CallOptions,
  ): Promise<Transaction> {
    const again = `${jobId}:again`;
    if ((await ledger.sentFor(again)) !== undefined)
      throw new ApiError({
        kind: 'declined',
        outcome: 'unknown',
        operation: `start/${method}`,
        status: read.status,
        message: `start ${id}: already repeated once and still reads ${String(read.status)}; left for recovery`,
      });
    // Journaled under this job's step (a credit stays a credit).
    await ledger.markSent(again, id);
    return repeatStart(api, id, method, { ...call, jobId: again });
  }

  return {
    /**
     * The card look-up as documented: a create with the card ident (the checkout's basket, or no
     * basket and `basket_info.sum: 0` for a top-up), whose answer's `idents[]` says `valid` and carries
     * the merchant card. An answer with `valid: false` is a card not accepted here. An answer without
     * the merchant card asks this merchant's loyalty cards by number; none found: unknown. Errors
     * (1016 and the other backend codes among them) pass through: the machine retries, then reports a
     * service fault; a customer is never told "unknown card" because the backend stumbled.
     */
    lookupCard: fromPromise<LookupCardOutput, LookupCardInput>(async ({ input, signal }) => {
      const tx = await api.create(body(input.basket, input.cardNumber, input.jobId), { signal });
      rememberSum(tx.id, basketSum(input.basket));
      const ident = cardOf(tx);
      if (ident?.merchantcard) return { kind: 'found', card: cardInfoOf(tx)!, transactionId: tx.id };
      if (ident?.valid === false)
        return { kind: 'found', card: cardInfoFrom(undefined, false), transactionId: tx.id };
      const found = api.merchantCards
        ? (
            await api.merchantCards(
              { q: `card.cardnumber:${quoted(input.cardNumber)}`, count: 2 },
              { signal },
            )
          ).filter((c) => c.card?.cardnumber === input.cardNumber)
        : [];
      if (found.length !== 1) {
        log.info({ card: maskCard(input.cardNumber), matches: found.length }, 'card not found');
        return { kind: 'unknown', transactionId: tx.id };
      }
      // A card among this merchant's own cards is accepted here.
      return { kind: 'found', card: cardInfoFrom(found[0], true), transactionId: tx.id };
    }),

    createTransaction: fromPromise<TransactionRef, CreateTransactionInput>(async ({ input, signal }) => {
      const tx = await api.create(body(input.basket, input.cardNumber, input.jobId), { signal });
      rememberSum(tx.id, basketSum(input.basket));
      return { id: tx.id, sum: tx.basket_info?.sum ?? basketSum(input.basket) };
    }),

    updateTransaction: fromPromise<TransactionRef, UpdateTransactionInput>(async ({ input, signal }) => {
      const tx = await api.update(input.id, body(input.basket, input.cardNumber, input.jobId), { signal });
      rememberSum(input.id, basketSum(input.basket));
      return { id: tx.id, sum: tx.basket_info?.sum ?? basketSum(input.basket) };
    }),

    preTransaction: fromPromise<PreTransactionOutput, PreTransactionInput>(async ({ input, signal }) => {
      const r = await api.preTransaction(input.id, { signal });
      // Integer and not negative is the schema's part; not above the basket is checked here, where
      // the basket is known. Either breach: the kiosk must not ask for (or take) that money.
      const max = await basketSumOf(input.id, signal);
      if (max === undefined || r.missing_sum > max) {
        throw new ApiError({
          kind: 'bad_response',
          outcome: 'unknown',
          operation: 'preTransaction',
          message: `preTransaction: missing_sum ${r.missing_sum} ${max === undefined ? 'cannot be checked (basket unknown)' : `is above the basket sum ${max}`}`,
        });
      }
      // Shown on the receipt only: a bonus line without an amount in cents is left out, not guessed.
      const bonusProducts = r.bonus_products.flatMap((p, i) =>
        typeof p.priceOne === 'number'
          ? [
              {
                id: typeof p.id === 'number' ? p.id : 1000 + i,
                desc: p.desc ?? 'Bonus',
                ean: p.ean ?? null,
                quantity: typeof p.quantity === 'number' && Number.isSafeInteger(p.quantity) ? p.quantity : 1,
                priceOne: p.priceOne,
                tax: p.tax ?? 0,
              },
            ]
          : [],
      );
      return { missingSum: r.missing_sum, bonusProducts };
    }),

    startPayment: fromPromise<PaymentResult, StartPaymentInput>(async ({ input, signal }) => {
      const result = paymentResult(
        await startOnce(input.id, input.method, input.jobId, signal, input.timeoutMs),
      );
      if (result.took !== 'effect')
        log.warn(
          { transactionId: result.id, method: input.method, status: result.status, took: result.took },
          'start answered without a paid status',
        );
      return result;
    }),

    readBack: fromPromise<ReadBackOutput, ReadBackInput>(async ({ input, signal }) => {
      const rb = await api.readBack(input.id, { signal });
      return { took: rb.took, result: paymentResult(rb.transaction) };
    }),

    cancelTransaction: fromPromise<CancelOutput, TransactionIdInput>(async ({ input, signal }) => {
      const tx = await api.cancel(input.id, { signal });
      const status = typeof tx.status === 'string' ? tx.status : null;
      return { status, took: classifyStatus(status) };
    }),

    abortTransaction: fromPromise<unknown, TransactionIdInput>(async ({ input, signal }) =>
      api.abort(input.id, { signal }),
    ),

    /** Leftover money onto the card: a top-up transaction, start/cash; an unknown start is resolved here. */
    creditCard: fromPromise<CreditCardOutput, CreditCardInput>(async ({ input, signal }) => {
      const known = await ledger.sentFor(input.jobId);
      const id =
        known ??
        (await api.create(body(topupBasket(input.cents), input.cardNumber, input.jobId), { signal })).id;
      let tx: Transaction;
      try {
        tx = await startOnce(id, 'cash', input.jobId, signal);
      } catch (e) {
        if (!isApiError(e) || e.outcome !== 'unknown') throw e;
        const rb = await readBackConfirmed(id, signal);
        // The repeat is this credit's too (journaled as a credit, never as the session's payment).
        if (rb.took === 'no_effect')
          tx = await repeatOnce(id, 'cash', input.jobId, rb.transaction, { signal });
        else if (rb.took === 'effect' || isNotPaid(rb.took)) tx = rb.transaction;
        else throw e;
      }
      // The status decides whether the money is on the card: a 2xx saying `failed` loaded nothing.
      const took = classifyStatus(tx.status);
      if (took !== 'effect') {
        log.warn({ transactionId: tx.id, status: tx.status, took }, 'credit answered without a paid status');
        throw new ApiError({
          kind: 'declined',
          outcome: isInDoubt(took) ? 'unknown' : 'not_applied',
          operation: 'credit',
          status: tx.status,
          message: `credit: transaction ${tx.id} is ${String(tx.status)}, not loaded`,
        });
      }
      log.info({ card: maskCard(input.cardNumber), cents: input.cents, transactionId: tx.id }, 'credited');
      return { transactionId: tx.id, receipt: tx.receipt ?? [], balance: balanceAfter(tx, 'topup') };
    }),
  };
}

export type ApiActors = ReturnType<typeof createApiActors>;
