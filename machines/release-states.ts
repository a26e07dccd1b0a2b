/**
 * The vending counter's release step: after the payment is confirmed (`#paid`), every unit of the
 * basket whose product has a slot is released one by one through the provided `releaseItem` actor.
 * A unit not delivered adds its price to `returned`: the money goes back through `#settling` like held
 * money (card credit, change from the hopper, voucher). A release whose outcome is unknown (the actor
 * failed) is never repeated and not refunded automatically; the units after it are not fired and are
 * refunded. Then the fleet hears of the sale (`emitPaid`: `transaction_finished` with the amount of
 * what was delivered) and the money is settled (and the receipt printed there, as for every sale).
 *
 * `changeState` is the hopper step of `#settling`: change first, a voucher only for the rest.
 *
 * `reverseState` is the first step of `#settling` after a card-terminal payment none of whose goods
 * came out (every unit failed or was not fired, none in doubt): the payment is reversed through the
 * API (`reverseTerminal`, `cancelTrx`) instead of paying its price back by credit, change or voucher.
 * Reversed: the price is no longer owed (coins in the session still go back the usual way). Refused
 * or failed (e.g. the batch was cleared by end-of-day): the usual way. In doubt: held, not paid back
 * (that would refund twice if it took effect); the session stays open for recovery.
 */
import type { SessionContext } from './session-context.js';
import type { PayChangeOutput, ReleaseItemOutput, ReverseTerminalOutput } from './vend-ports.js';
import { doneOutput } from './done-output.js';
import { jobId, reversalCents } from './session.setup.js';

type Ctx = { context: SessionContext };

export const releasePaidState = {
  id: 'paid',
  // A basket without slotted products plans nothing and goes straight to the receipt.
  entry: 'planReleases',
  initial: 'next',
  states: {
    releasing: {
      invoke: {
        id: 'releaseItem',
        src: 'releaseItem',
        input: ({ context }: Ctx) => {
          const unit = context.releases[context.releaseAt];
          return {
            sessionId: context.sessionId,
            jobId: jobId(context, `release-${context.releaseAt}`),
            productId: unit?.productId ?? 0,
            slot: unit?.slot ?? '',
            cents: unit?.cents ?? 0,
            transactionId: context.txId,
            later: context.releases
              .slice(context.releaseAt + 1)
              .map(({ productId, slot, cents }) => ({ productId, slot, cents })),
          };
        },
        onDone: {
          target: 'next',
          actions: { type: 'recordRelease', params: doneOutput<ReleaseItemOutput>() },
        },
        onError: {
          target: 'next',
          actions: ['recordReleaseUnknown', { type: 'reportFault', params: { what: 'release' } }],
        },
      },
    },
    // The fleet's `transaction_finished` only now: its amount leaves out the units given back.
    next: {
      always: [
        { guard: 'moreReleases', target: 'releasing' },
        { target: '#settling', actions: 'emitPaid' },
      ],
    },
  },
} as const;

export const changeState = {
  entry: ['startWait', 'fixSettleAmount'],
  invoke: {
    id: 'payChange',
    src: 'payChange',
    input: ({ context }: Ctx) => {
      const coin = context.cfg.changeCoin ?? 1;
      return {
        sessionId: context.sessionId,
        jobId: jobId(context, 'change'),
        cents: Math.floor(context.settling / coin) * coin,
      };
    },
    onDone: {
      target: 'decide',
      actions: [{ type: 'recordChange', params: doneOutput<PayChangeOutput>() }, 'nextJob'],
    },
    onError: {
      target: 'decide',
      actions: ['changeFailed', 'nextJob', { type: 'reportFault', params: { what: 'change' } }],
    },
  },
} as const;

export const reverseState = {
  entry: 'startWait',
  invoke: {
    id: 'reverseTerminal',
    src: 'reverseTerminal',
    input: ({ context }: Ctx) => ({
      sessionId: context.sessionId,
      transactionId: context.txId ?? '',
      cents: reversalCents(context),
      jobId: jobId(context, 'reversal'),
    }),
    onDone: {
      target: 'decide',
      actions: [{ type: 'recordReversal', params: doneOutput<ReverseTerminalOutput>() }, 'nextJob'],
    },
    onError: {
      target: 'decide',
      actions: ['reversalUnknown', 'nextJob', { type: 'reportFault', params: { what: 'reversal' } }],
    },
  },
} as const;
