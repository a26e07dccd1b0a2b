/**
 * The vending counter: build a basket (buttons, browsing, or scanning a product's EAN), optionally
 * scan the loyalty card, pay. With a card: preTransaction; `missing_sum` 0 -> confirm and
 * start/loyalty, otherwise collect the rest by cash or terminal. Without a card: collect the whole
 * sum and start/cash (or start/cashless). Money inserted at any moment counts towards the payment;
 * whatever is left over is settled (card credit or unclaimed voucher) before the session ends.
 */
import { and, not } from 'xstate';
import {
  cardStates,
  endStates,
  payStates,
  terminalLimit,
  voucherScan,
  voucherStates,
} from './session-states.js';
import type { SessionContext } from './session-context.js';
import { sessionSetup } from './session.setup.js';
import {
  created,
  isButton,
  retryOrFail,
  sessionHead,
  transactionSteps,
  waitingForMoney,
} from './session-steps.js';
import { changeState, releasePaidState, reverseState } from './release-states.js';

type Ctx = { context: SessionContext };
type Ev = { event: { type: string; name?: string } };

const isUpDown = ({ event }: Ev) => event.type === 'BUTTON' && (event.name === 'up' || event.name === 'down');

const head = sessionHead('checkout');

export const checkoutMachine = sessionSetup.createMachine({
  ...head,
  on: {
    ...head.on,
    // The hopper dropped out (or came back) mid-session: settling and the screens follow at once.
    STOCK: { actions: 'recordChangeHealth' },
  },
  initial: 'session',
  states: {
    session: {
      initial: 'basket',
      // A voucher counts wherever money is taken (states with SCAN transitions of their own put it first).
      on: { SCAN: voucherScan('checkout') },
      states: {
        basket: {
          initial: 'browsing',
          on: {
            SCAN: [
              voucherScan('checkout'),
              { guard: 'scannedCard', target: '.browsing', reenter: true, actions: 'noticeCardAlready' },
              {
                guard: 'scannedKnownProduct',
                target: '.browsing',
                reenter: true,
                actions: 'addScannedProduct',
              },
              {
                guard: 'scannedOtherEan',
                target: '.browsing',
                reenter: true,
                actions: 'noticeUnknownProduct',
              },
              { target: '.browsing', reenter: true, actions: 'noticeUnreadable' },
            ],
            COIN: { target: '.browsing', reenter: true, actions: 'acceptCoin' },
          },
          states: {
            browsing: {
              after: { inactivity: '#stillThere' },
              on: {
                SCAN: {
                  guard: and(['scannedCard', not('hasCard')]),
                  target: '#checkout.lookingUp',
                  actions: 'rememberScan',
                },
                BUTTON: [
                  { guard: isButton('cancel'), target: '#cancelling' },
                  { guard: and([isButton('ok'), not('basketEmpty')]), target: '#checkout.preparing' },
                  {
                    guard: 'buttonHasProduct',
                    target: 'browsing',
                    reenter: true,
                    actions: 'addButtonProduct',
                  },
                  { guard: isUpDown, target: 'choosing' },
                  { target: 'browsing', reenter: true },
                ],
              },
            },
            choosing: {
              after: { inactivity: '#stillThere' },
              on: {
                BUTTON: [
                  { guard: isButton('up'), target: 'choosing', reenter: true, actions: 'cursorUp' },
                  { guard: isButton('down'), target: 'choosing', reenter: true, actions: 'cursorDown' },
                  { guard: isButton('ok'), target: 'browsing', actions: 'addCursorProduct' },
                  { guard: isButton('cancel'), target: 'browsing' },
                  { target: 'choosing', reenter: true },
                ],
              },
            },
          },
        },
        confirmLoyalty: {
          after: { inactivity: '#stillThere' },
          on: {
            BUTTON: [
              {
                guard: isButton('ok'),
                target: '#checkout.pay',
                actions: { type: 'useMethod', params: { method: 'loyalty' } },
              },
              { guard: isButton('cancel'), target: '#cancelling' },
              { target: 'confirmLoyalty', reenter: true },
            ],
            COIN: { target: 'confirmLoyalty', reenter: true, actions: 'acceptCoin' },
          },
        },
        choosePayment: {
          initial: 'check',
          states: {
            check: {
              always: [
                {
                  guard: 'heldCoversDue',
                  target: '#checkout.pay',
                  actions: { type: 'useMethod', params: { method: 'cash' } },
                },
                { guard: not('terminalOffered'), target: '#checkout.session.collecting' },
                { target: 'choosing' },
              ],
            },
            choosing: {
              after: { inactivity: '#stillThere' },
              on: {
                BUTTON: [
                  { guard: isButton('cancel'), target: '#cancelling' },
                  {
                    guard: isButton('amount2'),
                    target: '#checkout.pay',
                    actions: { type: 'useMethod', params: { method: 'cashless' } },
                  },
                  { guard: isButton('amount1'), target: '#checkout.session.collecting' },
                  { guard: isButton('ok'), target: '#checkout.session.collecting' },
                  { target: 'choosing', reenter: true },
                ],
                COIN: { target: '#checkout.session.collecting', actions: 'acceptCoin' },
              },
            },
          },
        },
        collecting: {
          initial: 'check',
          states: {
            check: {
              always: [
                {
                  guard: 'heldCoversDue',
                  target: '#checkout.pay',
                  actions: { type: 'useMethod', params: { method: 'cash' } },
                },
                // The journal cannot take more: the basket is not paid, what is in goes back.
                { guard: 'storageBlocked', target: '#cancelling' },
                { target: 'waiting' },
              ],
            },
            // Re-entered after every coin: the list follows what is still due (no change: no coin too large).
            waiting: waitingForMoney('checkout', []),
          },
        },
        // Shallow: coming back from "are you still there?" re-runs the checks of the state it left.
        hist: { type: 'history', history: 'shallow' },
      },
    },
    ...cardStates('checkout', '#checkout.session.basket'),
    ...voucherStates('checkout'),
    preparing: {
      entry: ['startWait', 'dueFromBasket'],
      initial: 'decide',
      // The lookup opened the transaction with the card; PUT replaces it with the final basket (only a
      // lookup opens a transaction early, so there is always a card when updating).
      states: transactionSteps(
        (context) => context.basket,
        [
          { guard: 'hasCard', target: '#checkout.applyingCard', actions: created },
          { target: '#checkout.session.choosePayment', actions: created },
        ],
        { target: '#checkout.applyingCard' },
      ),
    },
    applyingCard: {
      entry: 'startWait',
      initial: 'call',
      states: {
        call: {
          invoke: {
            id: 'preTransaction',
            src: 'preTransaction',
            input: ({ context }: Ctx) => ({ id: context.txId ?? '' }),
            onDone: [
              {
                guard: { type: 'missingZero', params: ({ event }) => event.output },
                target: '#checkout.session.confirmLoyalty',
                actions: { type: 'dueFromPreTransaction', params: ({ event }) => event.output },
              },
              {
                target: '#checkout.session.choosePayment',
                actions: { type: 'dueFromPreTransaction', params: ({ event }) => event.output },
              },
            ],
            onError: retryOrFail('wait', 'preTransaction'),
          },
        },
        wait: { after: { retry: 'call' } },
      },
    },
    ...payStates,
    pay: {
      ...payStates.pay,
      states: { ...payStates.pay.states, starting: { ...payStates.pay.states.starting, ...terminalLimit } },
    },
    // Payment confirmed, then the goods, item by item; what was not released goes back.
    paid: releasePaidState,
    ...endStates,
    // Change from the hopper before a voucher (checkout only: a top-up's leftover goes on the card).
    settling: {
      ...endStates.settling,
      states: {
        ...endStates.settling.states,
        // A terminal payment none of whose goods came out is reversed first; then the shared order,
        // with the hopper just before the last resort (the voucher).
        decide: {
          always: [
            { guard: 'mayReverse', target: 'reversing' },
            ...endStates.settling.states.decide.always.slice(0, -1),
            { guard: 'mayPayChange', target: 'changing' },
            ...endStates.settling.states.decide.always.slice(-1),
          ],
        },
        changing: changeState,
        reversing: reverseState,
      },
    },
  },
});

export type CheckoutMachine = typeof checkoutMachine;
