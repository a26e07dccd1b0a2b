/**
 * The checkout machine's `releaseItem` and `payChange` actors (machines/vend-ports.ts) over the vend
 * slots and the hopper, journaled through `VendJournal`:
 *
 * - release: sold out or blocked -> `failed` without firing; otherwise intent (durable) -> fire once ->
 *   outcome. A failure blocks the slot (the journal does) and raises `slot_jammed`. When the intent
 *   cannot be written nothing fires (`failed`: the money goes back); when the outcome cannot be
 *   written the actor rejects: the machine records `unknown` (no refund, no second release), and the
 *   intent without an outcome becomes `unknown` at the next boot.
 * - change: the hopper's counters are journaled with the intent before the one dispense; the outcome
 *   is what its counters say it paid. Never dispensed again for the same job.
 * - reversal: a terminal payment none of whose goods came out goes back through the card terminal's
 *   duties (the one reversal path, shared with recovery and the operator: intent journaled before
 *   `cancelTrx`, outcome after, a lost answer read back). Without a terminal it is `refused`.
 */
import { fromPromise } from 'xstate';
import type { Hopper } from '../../hal/hopper/hopper.js';
import { MAX_COINS_PER_DISPENSE } from '../../hal/hopper/hopper.js';
import type { VendSlots } from '../../hal/vend-slot/vend-slot.js';
import type { VendJournal } from '../bookkeeping/vend-journal.js';
import type { Logger } from '../util/logger.js';
import type {
  PayChangeInput,
  PayChangeOutput,
  ReleaseItemInput,
  ReleaseItemOutput,
  ReverseTerminalInput,
  ReverseTerminalOutput,
} from '../../machines/vend-ports.js';
import type { TerminalService } from './terminal-service.js';

export interface VendActorDeps {
  book: VendJournal;
  slots: VendSlots | undefined;
  hopper: Hopper | undefined;
  logger: Logger;
  /** A slot failed (blocked until a technician counts it) or its stock changed. */
  onSlotChange: (slot: string, failure: string | null) => void;
  /** The hopper paid (or failed to pay) change. */
  onPayout: (result: PayChangeOutput & { fault?: string }) => void;
  /** The card terminal's duties (absent: no terminal, a reversal is refused and the money goes back as usual). */
  terminal?: Pick<TerminalService, 'enabled' | 'cancel'>;
}

export async function releaseOne(deps: VendActorDeps, input: ReleaseItemInput): Promise<ReleaseItemOutput> {
  const { book, slots, logger } = deps;
  const refused = book.blockedWhy(input.slot)
    ? 'blocked'
    : book.stockOf(input.slot) <= 0
      ? 'sold_out'
      : !slots || !slots.slots.includes(input.slot)
        ? 'unknown_slot'
        : null;
  if (refused !== null || !slots) {
    const reason = refused ?? 'unknown_slot';
    try {
      await book.releaseRefused(input, reason);
    } catch (err) {
      // Nothing fired, whatever the journal says: `failed` gives the customer the money back, where a
      // rejection would be read as `unknown` and keep it.
      logger.error({ err: (err as Error).message, slot: input.slot }, 'refused release not journaled');
    }
    if (reason === 'unknown_slot') deps.onSlotChange(input.slot, reason);
    return { outcome: 'failed', reason };
  }
  try {
    await book.releaseIntent(input);
  } catch (err) {
    // Nothing fired: the customer gets the money back (the machine settles `failed` units).
    logger.error(
      { err: (err as Error).message, slot: input.slot },
      'release intent not journaled: not fired',
    );
    return { outcome: 'failed', reason: 'journal' };
  }
  // The intent is durable from here on: a cut after this line leaves the unit in doubt, never refunded
  // and never fired again (tests and the operator's log tell the two sides of the line apart by it).
  logger.info({ slot: input.slot, jobId: input.jobId }, 'release intent journaled: firing');
  let result;
  try {
    result = await slots.release(input.slot);
  } catch (err) {
    // The driver broke mid-release: whether it fired is not known.
    await book.releaseOutcome(input.jobId, 'unknown', 'driver_error');
    deps.onSlotChange(input.slot, 'driver_error');
    throw err;
  }
  if (result.outcome === 'delivered') {
    await book.releaseOutcome(input.jobId, 'delivered');
    logger.info({ slot: input.slot, jobId: input.jobId }, 'product released');
    deps.onSlotChange(input.slot, null);
    return { outcome: 'delivered' };
  }
  await book.releaseOutcome(input.jobId, 'failed', result.reason, result.fired);
  logger.warn(
    { slot: input.slot, reason: result.reason, fired: result.fired },
    'release failed: money goes back',
  );
  deps.onSlotChange(input.slot, result.reason === 'busy' ? null : result.reason);
  return { outcome: 'failed', reason: result.reason };
}

export async function payOut(deps: VendActorDeps, input: PayChangeInput): Promise<PayChangeOutput> {
  const { book, hopper, logger } = deps;
  if (!hopper) return { paidCents: 0, outcome: 'not_sent' };
  const coins = Math.min(MAX_COINS_PER_DISPENSE, Math.floor(input.cents / hopper.coinCents));
  if (coins < 1) return { paidCents: 0, outcome: 'not_sent' };
  let intentWritten = false;
  let result;
  try {
    result = await hopper.dispense(coins, async (intent) => {
      await book.payoutIntent(input.sessionId, input.jobId, intent.coins, intent.coinCents, intent.before);
      intentWritten = true;
    });
  } catch (err) {
    // Nothing was sent (the hopper could not be asked, or the intent could not be written).
    logger.warn({ err: (err as Error).message, cents: input.cents }, 'change not paid: hopper not asked');
    // The driver rejects only before it sends; a rejection after the intent breaks that promise, so the
    // payout is journaled in doubt for the operator to count, not as surely unpaid.
    if (intentWritten) await book.payoutOutcome(input.jobId, 'unknown', 0, { fault: 'offline' });
    const out = { paidCents: 0, outcome: 'not_sent' as const, fault: 'offline' };
    deps.onPayout(out);
    return { paidCents: 0, outcome: 'not_sent' };
  }
  await book.payoutOutcome(input.jobId, result.outcome, result.paidCents, {
    ...(result.fault ? { fault: result.fault } : {}),
    ...(result.after ? { after: result.after } : {}),
  });
  if (result.outcome !== 'complete')
    logger.warn(
      {
        outcome: result.outcome,
        paidCents: result.paidCents,
        unpaidCents: result.unpaidCents,
        fault: result.fault,
      },
      'change payout short: the rest goes on a voucher',
    );
  const out = { paidCents: result.paidCents, outcome: result.outcome };
  deps.onPayout({ ...out, ...(result.fault ? { fault: result.fault } : {}) });
  return out;
}

export async function reverseOne(
  deps: Pick<VendActorDeps, 'terminal' | 'logger'>,
  input: ReverseTerminalInput,
): Promise<ReverseTerminalOutput> {
  const { terminal, logger } = deps;
  if (!terminal?.enabled || !input.transactionId)
    return { outcome: 'refused', detail: 'no card terminal configured' };
  // Rejects only when the journal cannot be written: the machine then holds the money as in doubt.
  const r = await terminal.cancel({ apiId: input.transactionId }, 'vending');
  logger.info(
    { sessionId: input.sessionId, result: r.result, cents: input.cents, detail: r.detail },
    r.result === 'ok' ? 'terminal payment reversed: no goods came out' : 'terminal payment not reversed',
  );
  return { outcome: r.result, ...(r.detail ? { detail: r.detail.slice(0, 200) } : {}) };
}

export function createVendActors(deps: VendActorDeps) {
  return {
    releaseItem: fromPromise<ReleaseItemOutput, ReleaseItemInput>(async ({ input }) =>
      releaseOne(deps, input),
    ),
    payChange: fromPromise<PayChangeOutput, PayChangeInput>(async ({ input }) => payOut(deps, input)),
    reverseTerminal: fromPromise<ReverseTerminalOutput, ReverseTerminalInput>(async ({ input }) =>
      reverseOne(deps, input),
    ),
  };
}
