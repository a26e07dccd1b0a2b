/**
 * Which coin values a session asks the acceptor for (per-coin inhibit, `SetAcceptorParams.accept`).
 * Only where it matters to the customer; everywhere else every coin is welcome (`undefined`):
 * - a checkout that cannot pay change (no hopper, or one that is empty, jammed or offline at the
 *   session's start: `givesChange` false) takes only coins up to what is still due, so a coin too
 *   large is returned by the acceptor instead of becoming a voucher or card credit;
 * - a top-up takes only coins up to the chosen amount still open, or, for an open amount, up to what
 *   the kiosk's maximum still allows (a kiosk gives no change: the whole amount inserted is loaded).
 * When no coin fits (0,05 still due and 0,10 the smallest coin), the smallest coin is taken: the
 * customer can always finish, and the screen said before the first coin what a coin too many becomes.
 * The acceptor's values are `coinValues`; unknown (empty): no list, every coin, as before.
 *
 * A list is a wish, not a guarantee: a pulse acceptor cannot refuse one value, a coin may already be
 * in the chute. The machines count every COIN that arrives, wanted or not.
 */
import type { Cents } from '../src/api/money.js';
import type { SetAcceptorParams } from './ports.js';
import { held, type SessionContext } from './session-context.js';

/** The coins up to `limit`, or the smallest one when none is that small. */
function upTo(values: readonly Cents[], limit: Cents): Cents[] {
  const fit = values.filter((v) => v <= limit);
  if (fit.length > 0) return fit;
  const smallest = Math.min(...values);
  return [smallest];
}

/** The values to accept now; `undefined`: all (no reason to refuse any, or the values are unknown). */
export function acceptedCoins(context: SessionContext): Cents[] | undefined {
  const values = context.cfg.coinValues ?? [];
  if (values.length === 0) return undefined;
  const inHand = held(context);
  let limit: Cents | null = null;
  if (context.flow === 'checkout') {
    if (!context.cfg.givesChange) limit = context.due - inHand;
  } else {
    const room = context.cfg.maxTopup - inHand;
    limit = context.target !== null ? Math.min(context.target - inHand, room) : room;
  }
  if (limit === null) return undefined;
  const list = upTo(values, Math.max(0, limit));
  // Every coin fits: no list (the acceptor takes all, and the screen has nothing to say).
  return list.length === values.length ? undefined : list;
}

/** The largest coin taken now, when some are refused: what the screen tells the customer. */
export function largestAccepted(context: SessionContext): Cents | null {
  const list = acceptedCoins(context);
  return list === undefined ? null : Math.max(...list);
}

/** The `setAcceptor` params of a state that takes money: open, with the list when there is one. */
export function acceptorParams({ context }: { context: SessionContext }): SetAcceptorParams {
  const accept = acceptedCoins(context);
  return accept === undefined ? { enabled: true } : { enabled: true, accept };
}
