/**
 * The states that checkout and top-up share: paying (with retry and read-back), cancelling,
 * settling the money the kiosk still holds, the "are you still there?" warning and the farewell.
 * Plain config objects over the named effects of session.setup.ts; both machines spread them in.
 *
 * The rules for `start` (never repeated blind):
 *  - rejected, certainly not applied, retryable -> wait and send again (bounded);
 *  - outcome unknown (or the terminal's time is up) -> read the transaction back;
 *    `effect` -> paid; `no_effect` -> read again `noEffectReads` times (backing off), and only if
 *    every read says so, start again exactly once; a refusal of that repeat (a 4xx, which may
 *    mean "already paid") is read back, never "not paid"; `pending`, `approved` or a status
 *    we do not know -> read again (bounded, backing off); `failed`/`cancelled` -> not paid;
 *    still `approved` after that -> cancel the authorisation, then not paid; anything else ->
 *    unresolved: money recorded, debt reported.
 *  - an answer to `start` (HTTP 2xx) is judged by its `status` the same way (never "paid" by the
 *    HTTP status): `effect` -> paid; `failed`/`cancelled` -> not paid; anything else -> read back.
 */
import { and, type ErrorActorEvent } from 'xstate';
import type { SessionContext } from './session-context.js';
import type {
  CancelOutput,
  CreditCardOutput,
  LookupCardOutput,
  PaymentResult,
  PrintOutput,
  ReadBackOutput,
  RecordUnclaimedOutput,
  RedeemVoucherOutput,
} from './ports.js';
import { doneOutput } from './done-output.js';
import { retryOrFail } from './session-steps.js';
import { jobId, receiptSale, startJobId } from './session.setup.js';

type Ctx = { context: SessionContext };

const lookedUp = doneOutput<LookupCardOutput>();
const redeemed = doneOutput<RedeemVoucherOutput>();
const started = doneOutput<PaymentResult>();
const readBack = doneOutput<ReadBackOutput>();
const cancelled = doneOutput<CancelOutput>();
const credited = doneOutput<CreditCardOutput>();

/**
 * The card terminal's own time limit, for flows that offer `start/cashless` (merged into
 * `pay.starting`): `after` for a live actor, the deadline in context (checked on TICK) for a
 * restored snapshot, whose `after` timers are gone.
 */
export const terminalLimit = {
  after: { cashlessLimit: { guard: 'isCashless', target: 'readingBack' } },
  on: {
    TICK: [{ guard: 'pastDeadline', target: 'readingBack', actions: 'tick' }, { actions: 'tick' }],
  },
} as const;

/**
 * Looking the scanned card up and refusing a card, alike in both flows: only where a found card
 * leads differs (the basket in checkout, the amount choice in top-up).
 */
export function cardStates(flow: 'checkout' | 'topup', foundTarget: string) {
  return {
    lookingUp: {
      entry: 'startWait',
      initial: 'call',
      states: {
        call: {
          invoke: {
            id: 'lookupCard',
            src: 'lookupCard',
            input: ({ context }: Ctx) => ({
              cardNumber: context.scanned ?? '',
              basket: flow === 'checkout' ? context.basket : [],
              flow,
              jobId: jobId(context, 'lookup'),
            }),
            onDone: [
              {
                guard: { type: 'lookupRefused', params: lookedUp },
                target: `#${flow}.cardRefused`,
                actions: [
                  { type: 'acceptLookup', params: lookedUp },
                  { type: 'emitLookupCreated', params: lookedUp },
                ],
              },
              {
                target: foundTarget,
                actions: [
                  { type: 'acceptLookup', params: lookedUp },
                  { type: 'emitLookupCreated', params: lookedUp },
                  'nextJob',
                ],
              },
            ],
            onError: retryOrFail('wait', 'lookup'),
          },
        },
        wait: { after: { retry: 'call' } },
      },
    },
    cardRefused: {
      entry: { type: 'markOutcome', params: { outcome: 'card_refused' } },
      after: { message: 'cancelling' },
      on: { BUTTON: 'cancelling' },
    },
  } as const;
}

/**
 * A voucher scanned while the session takes money (before the card, in the basket, while paying
 * cash): the app checks it and journals the redemption, then the session goes back where it was
 * (shallow history) and its checks run again with the value held. A refusal is said on its own
 * screen (forged, expired, used) and nothing is counted.
 */
export function voucherStates(flow: 'checkout' | 'topup') {
  return {
    redeemingVoucher: {
      entry: 'startWait',
      invoke: {
        id: 'redeemVoucher',
        src: 'redeemVoucher',
        input: ({ context }: Ctx) => ({
          code: context.scannedVoucher ?? '',
          sessionId: context.sessionId,
          jobId: jobId(context, 'redeem'),
        }),
        onDone: [
          {
            guard: { type: 'voucherAccepted', params: redeemed },
            target: `#${flow}.session.hist`,
            actions: [{ type: 'acceptVoucher', params: redeemed }, 'nextJob'],
          },
          { target: 'voucherRefused', actions: [{ type: 'refuseVoucher', params: redeemed }, 'nextJob'] },
        ],
        onError: {
          target: 'voucherRefused',
          actions: [
            { type: 'refuseVoucher', params: undefined },
            'nextJob',
            { type: 'reportFault', params: { what: 'voucher' } },
          ],
        },
      },
    },
    voucherRefused: {
      after: { message: `#${flow}.session.hist` },
      on: { BUTTON: `#${flow}.session.hist` },
    },
  } as const;
}

/** The transition a money-taking state puts first on SCAN: a voucher code is redeemed, never looked up. */
export function voucherScan(flow: 'checkout' | 'topup') {
  return {
    guard: 'scannedVoucher',
    target: `#${flow}.redeemingVoucher`,
    actions: 'rememberVoucher',
  } as const;
}

export const payStates = {
  pay: {
    initial: 'starting',
    entry: [{ type: 'setAcceptor', params: { enabled: false } }, 'resetPay'],
    states: {
      starting: {
        entry: ['beginStart', 'emitStarted'],
        invoke: {
          id: 'startPayment',
          src: 'startPayment',
          input: ({ context }: Ctx) => ({
            id: context.txId ?? '',
            method: context.method ?? 'cash',
            jobId: startJobId(context),
            ...(context.method === 'cashless' ? { timeoutMs: context.cfg.cashlessLimitMs } : {}),
          }),
          onDone: [
            {
              guard: { type: 'answerPaid', params: started },
              target: '#paid',
              actions: { type: 'recordPaid', params: started },
            },
            {
              guard: { type: 'answerNotPaid', params: started },
              target: '#payFailed',
              actions: { type: 'recordPayFailed', params: started },
            },
            // `pending`, `approved`, still `created`, or a status we do not know: read it back.
            { target: 'readingBack' },
          ],
          onError: [
            { guard: 'repeatRefused', target: 'readingBack' },
            { guard: 'mayRetryStart', target: 'retryWait', actions: 'countAttempt' },
            { guard: 'outcomeUnknown', target: 'readingBack' },
            { target: '#payFailed', actions: { type: 'recordPayFailed', params: undefined } },
          ],
        },
      },
      retryWait: { after: { retry: 'starting' } },
      readingBack: {
        invoke: {
          id: 'readBack',
          src: 'readBack',
          input: ({ context }: Ctx) => ({ id: context.txId ?? '' }),
          onDone: [
            {
              guard: { type: 'tookEffect', params: readBack },
              target: '#paid',
              actions: { type: 'recordPaid', params: readBack },
            },
            {
              guard: { type: 'noEffectUnconfirmed', params: readBack },
              target: 'confirmingNoEffect',
              actions: 'countNoEffect',
            },
            {
              guard: { type: 'noEffectFirstTime', params: readBack },
              target: 'starting',
              actions: 'repeatStartOnce',
            },
            { guard: { type: 'stillPending', params: readBack }, target: 'readBackWait' },
            {
              guard: { type: 'definitelyNotPaid', params: readBack },
              target: '#payFailed',
              actions: { type: 'recordPayFailed', params: readBack },
            },
            { guard: { type: 'stillApproved', params: readBack }, target: 'voiding' },
            { target: '#payUnresolved', actions: { type: 'recordUnresolved', params: readBack } },
          ],
          onError: [
            { guard: 'mayReadBackAgain', target: 'readBackWait' },
            { target: '#payUnresolved', actions: { type: 'recordUnresolved', params: undefined } },
          ],
        },
      },
      readBackWait: { entry: 'countReadBack', after: { readBackPause: 'readingBack' } },
      // One read saying "not started" is not believed (reads may lag a start that took effect).
      confirmingNoEffect: { after: { noEffectPause: 'readingBack' } },
      // Authorised but never captured: cancel the authorisation so it can never be captured later,
      // then the money is settled as for a failed payment. A cancel in doubt stays unresolved.
      voiding: {
        invoke: {
          id: 'cancelTransaction',
          src: 'cancelTransaction',
          input: ({ context }: Ctx) => ({ id: context.txId ?? '' }),
          onDone: [
            {
              guard: { type: 'cancelConfirmed', params: cancelled },
              target: '#payFailed',
              actions: { type: 'recordPayFailed', params: cancelled },
            },
            { target: '#payUnresolved', actions: { type: 'recordUnresolved', params: cancelled } },
          ],
          onError: {
            target: '#payUnresolved',
            actions: [
              { type: 'recordUnresolved', params: undefined },
              { type: 'reportFault', params: { what: 'cancel' } },
            ],
          },
        },
      },
    },
  },
  // Paid: the money left over is settled first, then the one receipt says it all (settling.printingReceipt).
  paid: {
    id: 'paid',
    always: { target: 'settling', actions: 'emitPaid' },
  },
  payFailed: {
    id: 'payFailed',
    after: { message: 'cancelling' },
    on: { BUTTON: 'cancelling' },
  },
  payUnresolved: {
    id: 'payUnresolved',
    after: { message: 'settling' },
    on: { BUTTON: 'settling' },
  },
  apiFailed: {
    id: 'apiFailed',
    entry: { type: 'markOutcome', params: { outcome: 'failed' } },
    after: { message: 'cancelling' },
    on: { BUTTON: 'cancelling' },
  },
} as const;

export const endStates = {
  stillThere: {
    id: 'stillThere',
    // No money is wanted while nobody may be there.
    entry: { type: 'setAcceptor', params: { enabled: false } },
    after: {
      warning: { target: 'cancelling', actions: { type: 'markOutcome', params: { outcome: 'walked_away' } } },
    },
    on: {
      BUTTON: [
        {
          guard: 'cancelPressed',
          target: 'cancelling',
          actions: { type: 'markOutcome', params: { outcome: 'cancelled' } },
        },
        { target: 'session.hist' },
      ],
      SCAN: 'session.hist',
      COIN: { target: 'session.hist', actions: 'acceptCoin' },
    },
  },
  cancelling: {
    id: 'cancelling',
    entry: [
      { type: 'setAcceptor', params: { enabled: false } },
      { type: 'markOutcome', params: { outcome: 'cancelled' } },
    ],
    initial: 'check',
    states: {
      check: { always: [{ guard: 'hasTx', target: 'aborting' }, { target: '#settling' }] },
      // Best effort: an unpaid transaction left `created` costs nothing; the money is settled either way.
      aborting: {
        // A wait of its own: the busy screen must not count from an earlier call's start.
        entry: 'startWait',
        invoke: {
          id: 'abortTransaction',
          src: 'abortTransaction',
          input: ({ context }: Ctx) => ({ id: context.txId ?? '' }),
          onDone: { target: '#settling', actions: 'markAborted' },
          onError: { target: '#settling', actions: { type: 'reportFault', params: { what: 'abort' } } },
        },
      },
    },
  },
  settling: {
    id: 'settling',
    entry: { type: 'setAcceptor', params: { enabled: false } },
    initial: 'decide',
    states: {
      decide: {
        always: [
          { guard: and(['heldZero', 'receiptDue']), target: 'printingReceipt' },
          { guard: and(['heldZero', 'voucherToShow']), target: 'showVoucher' },
          { guard: 'heldZero', target: '#farewell' },
          { guard: 'mayCredit', target: 'crediting' },
          { target: 'recording' },
        ],
      },
      crediting: {
        entry: ['startWait', 'fixSettleAmount'],
        initial: 'call',
        states: {
          call: {
            invoke: {
              id: 'creditCard',
              src: 'creditCard',
              input: ({ context }: Ctx) => ({
                cardNumber: context.cardNumber ?? '',
                cents: context.settling,
                jobId: jobId(context, 'credit'),
                relatedTransactionId: context.txId,
              }),
              onDone: [
                // A sale's coin too many: its receipt (still to come) says where it went, no second slip.
                {
                  guard: 'receiptDue',
                  target: '#settling.decide',
                  actions: { type: 'recordCredited', params: credited },
                },
                { target: '#settling.printingCredit', actions: { type: 'recordCredited', params: credited } },
              ],
              onError: [
                { guard: 'mayRetryStart', target: 'wait', actions: 'countAttempt' },
                // Not loaded (or in doubt): the voucher keeps the money visible to customer and operator.
                {
                  target: '#settling.recording',
                  actions: { type: 'reportFault', params: { what: 'credit' } },
                },
              ],
            },
          },
          wait: { after: { retry: 'call' } },
        },
      },
      printingCredit: {
        invoke: {
          id: 'print',
          src: 'print',
          input: ({ context }: Ctx) => ({
            jobId: jobId(context, 'credit-receipt'),
            kind: 'receipt' as const,
            lines: context.receipt ?? [],
            basket: context.basket,
            method: context.method,
          }),
          onDone: { target: 'decide', actions: 'nextJob' },
          onError: {
            target: 'decide',
            actions: ['nextJob', { type: 'reportFault', params: { what: 'print' } }],
          },
        },
      },
      recording: {
        entry: 'fixSettleAmount',
        invoke: {
          id: 'recordUnclaimed',
          src: 'recordUnclaimed',
          input: ({ context }: Ctx) => ({
            cents: context.settling,
            reason: context.outcome === 'paid' ? ('overpaid' as const) : context.unclaimedReason,
            transactionId: context.txId,
            jobId: jobId(context, 'unclaimed'),
          }),
          onDone: {
            target: 'printingVoucher',
            actions: { type: 'recordUnclaimed', params: doneOutput<RecordUnclaimedOutput>() },
          },
          // The record is local (the journal); keep trying, the money must not vanish.
          onError: { target: 'recordWait', actions: { type: 'reportFault', params: { what: 'unclaimed' } } },
        },
      },
      recordWait: { after: { retry: 'recording' } },
      printingVoucher: {
        invoke: {
          id: 'print',
          src: 'print',
          input: ({ context }: Ctx) => ({
            jobId: jobId(context, 'voucher'),
            kind: 'voucher' as const,
            voucherCode: context.voucherCode ?? '',
            cents: context.settling,
            transactionId: context.txId,
          }),
          onDone: { target: 'decide', actions: 'nextJob' },
          onError: {
            target: 'decide',
            actions: ['nextJob', { type: 'reportFault', params: { what: 'print' } }],
          },
        },
      },
      // One receipt for a paid sale or top-up: items, VAT, every payment part, a credit or voucher.
      printingReceipt: {
        invoke: {
          id: 'print',
          src: 'print',
          input: ({ context }: Ctx) => ({
            jobId: jobId(context, 'receipt'),
            kind: 'receipt' as const,
            lines: context.receipt ?? [],
            basket: context.basket,
            method: context.method,
            sale: receiptSale(context),
          }),
          onDone: {
            target: 'decide',
            actions: [
              {
                type: 'receiptPrinted',
                params: ({ event }: { event: { output: PrintOutput | undefined } }) => ({
                  printed: event.output,
                }),
              },
              'nextJob',
            ],
          },
          // The receipt stays in the journal for a reprint; the customer is not kept waiting.
          onError: {
            target: 'decide',
            actions: [
              {
                type: 'receiptPrinted',
                params: ({ event }: { event: ErrorActorEvent }) => ({ failed: event.error }),
              },
              'nextJob',
              { type: 'reportFault', params: { what: 'print' } },
            ],
          },
        },
      },
      // The code also stays on screen, in case the printer failed.
      showVoucher: {
        entry: 'voucherShown',
        after: { voucher: 'decide' },
        on: { BUTTON: 'decide' },
      },
    },
  },
  farewell: {
    id: 'farewell',
    // A refused card already had its message; with no money to account for, nothing more to say.
    always: { guard: 'nothingToSay', target: 'finished' },
    after: { message: 'finished' },
    on: {
      BUTTON: 'finished',
      // A coin that lands after the money was settled (found by the model-based tests): settle it too.
      COIN: { target: 'settling', actions: 'acceptCoin' },
    },
  },
  finished: { type: 'final' },
} as const;
