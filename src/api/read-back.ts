/**
 * When a read-back may be believed. Nothing public says how fresh `GET /Smart/Transactions/{id}`
 * is: a `start` that took effect may still read `created`/`processing` for a while (a replica, a
 * queue). Repeating the start on one such read charges or credits twice where the API executes a
 * second start. So "not started" is believed only after more reads, spaced with back-off, all
 * say so; and the answer to a repeated start is read back whenever the server refused it (a 4xx
 * there may mean "already paid", never "not charged").
 */
import { ApiError, isApiError } from './errors.js';
import type { Transaction } from './schemas.js';
import type { CallOptions, ReadBack, SmartTransactionsApi, StartMethod } from './types.js';

export interface NoEffectPolicy {
  /** Further reads that must all still say `no_effect` before a start is repeated (0: the first read suffices). */
  reads: number;
  /** Pause before the first confirming read (ms); doubled for each further one, at most 8x. */
  pauseMs: number;
}

export const DEFAULT_NO_EFFECT: NoEffectPolicy = { reads: 3, pauseMs: 1000 };

/** The pause before confirming read `n` (1-based): 1x, 2x, 4x, 8x, then 8x. */
export function noEffectPause(policy: NoEffectPolicy, n: number): number {
  return policy.pauseMs * 2 ** Math.min(3, Math.max(0, n - 1));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Reads the transaction again after a read that said `no_effect`, up to `policy.reads` times. The
 * first read that says anything else is returned at once (the caller judges it); when every read
 * still says `no_effect`, the last one is returned: only then is "not started" believed.
 */
export async function confirmNoEffect(
  api: Pick<SmartTransactionsApi, 'readBack'>,
  id: string,
  first: ReadBack,
  policy: NoEffectPolicy,
  opts: CallOptions = {},
): Promise<ReadBack & { reads: number }> {
  let rb = first;
  let reads = 1;
  for (let n = 1; n <= policy.reads && rb.took === 'no_effect'; n++) {
    await sleep(noEffectPause(policy, n), opts.signal);
    rb = await api.readBack(id, opts);
    reads += 1;
  }
  return { ...rb, reads };
}

/**
 * A start sent again after its first call's outcome was unknown. The server refusing it (any HTTP
 * error: 409 "already paid", 400, ...) is read back: paid -> that transaction; anything else -> an
 * `unknown` outcome, so the caller reads back later instead of settling the money elsewhere.
 */
export async function repeatStart(
  api: Pick<SmartTransactionsApi, 'start' | 'readBack'>,
  id: string,
  method: StartMethod,
  opts: CallOptions = {},
): Promise<Transaction> {
  try {
    return await api.start(id, method, opts);
  } catch (err) {
    if (!isApiError(err) || err.kind !== 'http') throw err;
    const rb = await api.readBack(id, { ...(opts.signal ? { signal: opts.signal } : {}) }).catch(() => null);
    if (rb?.took === 'effect') return rb.transaction;
    throw new ApiError({
      kind: 'http',
      outcome: 'unknown',
      operation: err.operation,
      ...(err.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
      ...(err.body !== undefined ? { body: err.body } : {}),
      message: `${err.message} (a repeated start: refused, read back ${rb ? rb.took : 'failed'}; outcome unknown)`,
      cause: err,
    });
  }
}
