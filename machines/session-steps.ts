/**
 * The steps checkout and top-up write alike around their own states: the machine's head (context,
 * output, entry, what any state hears), the `collecting.waiting` state (money wanted, the acceptor
 * on) and the create/update of the API transaction, retried while a second try cannot charge anyone
 * (`mayRetryCall`), else `#apiFailed` with the fault reported.
 * Plain config pieces over the named effects of session.setup.ts; both machines spread them in.
 */
import type { BasketLine, TransactionRef } from './ports.js';
import { acceptorParams } from './accepted-coins.js';
import { doneOutput } from './done-output.js';
import { initialSessionContext, type SessionContext, type SessionInput } from './session-context.js';
import { jobId, sessionOutput } from './session.setup.js';

type Ctx = { context: SessionContext };
type Ev = { event: { type: string; name?: string } };

/**
 * What `collecting.waiting` hears from the devices, alike in both flows: the acceptor failing ends
 * the session; the printer is recorded where the customer is (the screen says there may be no
 * receipt); the storage (DEVICE storage) and coins held unwritten (COINS_HELD) are recorded and
 * checked again (`collecting.check` settles once the storage is offline and no coin is held); the
 * hopper's change (STOCK givesChange) narrows or widens the coins taken.
 */
const collectingDeviceEvents = {
  DEVICE: [
    {
      guard: 'acceptorDown',
      target: '#cancelling',
      actions: { type: 'markOutcome', params: { outcome: 'device_fault' } },
    },
    { guard: 'printerReport', actions: 'recordDevice' },
    { target: 'check', actions: 'recordDevice' },
  ],
  COINS_HELD: { target: 'check', actions: 'recordHeldCoins' },
  // The hopper stopped (or started again) paying change: the coin list and the screen follow before
  // the next coin ("Kein Wechselgeld", no coin larger than what is due).
  STOCK: { guard: 'changeHealthChanged', target: 'check', actions: 'recordChangeHealth' },
} as const;

/**
 * The head of both session machines: the context from the input, the output, the acceptor off and
 * the first event replayed on entry, and what is heard in any state (a coin can land in any state,
 * one already in the chute when the acceptor was inhibited: it is counted).
 */
export function sessionHead<const F extends 'checkout' | 'topup'>(flow: F) {
  return {
    id: flow,
    context: ({ input }: { input: SessionInput }) => initialSessionContext(flow, input),
    output: ({ context }: Ctx) => sessionOutput(context),
    entry: [{ type: 'setAcceptor', params: { enabled: false } }, 'replayFirstEvent'],
    on: {
      COIN: { actions: 'acceptCoin' },
      TICK: { actions: 'tick' },
      DEVICE: { actions: 'recordDevice' },
      COINS_HELD: { actions: 'recordHeldCoins' },
    },
  } as const;
}

/** Named, so that diagrams read `[button ok]`. */
export const isButton = (name: string) =>
  Object.defineProperty(({ event }: Ev) => event.type === 'BUTTON' && event.name === name, 'name', {
    value: `button ${name}`,
  });

/**
 * `collecting.waiting`: re-entered after every coin (the coin list follows what is still due); a
 * button waits for a coin held unwritten first, C cancels, `buttons` are the flow's own (top-up: OK
 * loads what is in), any other button only wakes the screen.
 */
export function waitingForMoney<const B extends readonly object[]>(flow: 'checkout' | 'topup', buttons: B) {
  return {
    entry: { type: 'setAcceptor', params: acceptorParams },
    exit: { type: 'setAcceptor', params: { enabled: false } },
    after: { inactivity: '#stillThere' },
    on: {
      COIN: { target: `#${flow}.session.collecting`, reenter: true, actions: 'acceptCoin' },
      ...collectingDeviceEvents,
      BUTTON: [
        { guard: 'coinsUnwritten', target: 'waiting', reenter: true },
        { guard: isButton('cancel'), target: '#cancelling' },
        ...buttons,
        { target: 'waiting', reenter: true },
      ],
    },
  } as const;
}

/** An API call's failure: try again after the `retry` pause (bounded), else the session's API failure. */
export function retryOrFail<W extends string>(wait: W, what: string) {
  return [
    { guard: 'mayRetryCall', target: wait, actions: 'countAttempt' },
    { target: '#apiFailed', actions: { type: 'reportFault', params: { what } } },
  ] as const;
}

/** The created transaction, typed: `acceptTransaction` keeps its id and tells the fleet. */
export const created = { type: 'acceptTransaction', params: doneOutput<TransactionRef>() } as const;

/**
 * `decide`, `creating`/`createWait` and `updating`/`updateWait`: the transaction with the flow's
 * basket, opened (POST) or, where the card's look-up opened it already, replaced (PUT). `onCreated`
 * and `onUpdated` are where each goes on.
 */
export function transactionSteps<const C, const U>(
  basket: (context: SessionContext) => BasketLine[],
  onCreated: C,
  onUpdated: U,
) {
  return {
    decide: { always: [{ guard: 'hasTx', target: 'updating' }, { target: 'creating' }] },
    creating: {
      invoke: {
        id: 'createTransaction',
        src: 'createTransaction',
        input: ({ context }: Ctx) => ({
          basket: basket(context),
          cardNumber: context.cardNumber,
          jobId: jobId(context, 'create'),
        }),
        onDone: onCreated,
        onError: retryOrFail('createWait', 'create'),
      },
    },
    createWait: { after: { retry: 'creating' } },
    updating: {
      invoke: {
        id: 'updateTransaction',
        src: 'updateTransaction',
        input: ({ context }: Ctx) => ({
          id: context.txId ?? '',
          basket: basket(context),
          cardNumber: context.cardNumber,
          jobId: jobId(context, 'update'),
        }),
        onDone: onUpdated,
        onError: retryOrFail('updateWait', 'update'),
      },
    },
    updateWait: { after: { retry: 'updating' } },
  } as const;
}
