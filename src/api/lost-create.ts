/**
 * A `create` never leaves an orphan behind. No idempotency key is documented, so a create whose
 * answer was lost (timeout, reset after sending, 5xx: outcome `unknown`) may or may not exist. The
 * kiosk's `merchantRef` is unique per create and stable across its retries; this wrapper looks it
 * up with `GET /Smart/Transactions?q=merchantRef:"..."` (the SDK's `getAll(count, offset, fields, q,
 * sort)`) and reuses what it finds:
 *  - after an `unknown` create: search once; found -> that transaction is the answer;
 *  - a create repeated with a `merchantRef` already sent: search first, create only if none exists;
 *  - several unpaid copies (a create repeated before its first answer was found): the oldest is
 *    kept, the others are aborted, so nothing is left open.
 * Placed under the session journal (src/bookkeeping/session-journal.ts), so a transaction found
 * again is journaled like one created.
 */
import { isApiError } from './errors.js';
import type { CreateTransaction, Transaction } from './schemas.js';
import type { CallOptions, SmartTransactionsApi } from './types.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** How many references to remember; the few of the current sessions are what matters. */
const REMEMBERED = 256;

export function findingLostCreates(
  api: SmartTransactionsApi,
  logger: Logger = silentLogger,
): SmartTransactionsApi {
  const sent = new Set<string>();
  const remember = (ref: string) => {
    sent.add(ref);
    if (sent.size > REMEMBERED) sent.delete(sent.values().next().value!);
  };

  async function find(ref: string, opts?: CallOptions): Promise<Transaction | undefined> {
    if (!api.list) return undefined;
    const found = await api.list(
      { q: `merchantRef:${JSON.stringify(ref)}`, count: 10, sort: 'created:asc' },
      opts,
    );
    // The search may be broader than asked: only an exact reference counts.
    const mine = found
      .filter((t) => t.merchantRef === ref)
      .sort((a, b) => String(a.created ?? '').localeCompare(String(b.created ?? '')));
    const open = mine.filter((t) => t.status === 'created');
    for (const extra of open.slice(1)) {
      await api.abort(extra.id, opts).catch((err: unknown) => {
        logger.warn({ transactionId: extra.id, err: String(err) }, 'duplicate create: abort failed');
      });
    }
    if (open[0]) logger.info({ transactionId: open[0].id, copies: open.length }, 'lost create found again');
    else if (mine.length > 0)
      logger.warn({ statuses: mine.map((t) => t.status) }, 'lost create found, but no longer open');
    return open[0];
  }

  async function create(body: CreateTransaction, opts?: CallOptions): Promise<Transaction> {
    const ref = body.merchantRef;
    if (!ref) return api.create(body, opts);
    if (sent.has(ref)) {
      const found = await find(ref, opts);
      if (found) return found;
    }
    remember(ref);
    try {
      return await api.create(body, opts);
    } catch (err) {
      if (!isApiError(err) || err.outcome !== 'unknown') throw err;
      const found = await find(ref, opts).catch(() => undefined);
      if (found) return found;
      // Not (yet) visible: the caller's retry searches again before it creates.
      throw err;
    }
  }

  // Every other call goes to `api` unchanged (whatever methods the interface grows).
  const wrapped = Object.create(api) as SmartTransactionsApi;
  wrapped.create = create;
  return wrapped;
}
