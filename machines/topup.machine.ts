/**
 * The top-up kiosk: scan the loyalty card, see card group and balance, choose a preset amount or
 * just insert money; the acceptor is enabled only while money is wanted and inhibited as soon as the
 * amount (or the kiosk's maximum) is reached. The whole amount inserted is loaded (a kiosk gives no
 * change): the top-up product with `priceOne` = money held, then start/cash, then the receipt.
 * Money inserted before the card, or after a cancel or walk-away, is settled like everywhere else.
 */
import { cardStates, endStates, payStates, voucherScan, voucherStates } from './session-states.js';
import { sessionSetup, topupBasket } from './session.setup.js';
import { created, isButton, sessionHead, transactionSteps, waitingForMoney } from './session-steps.js';
import { acceptorParams } from './accepted-coins.js';

export { topupBasket };

export const topupMachine = sessionSetup.createMachine({
  ...sessionHead('topup'),
  initial: 'session',
  states: {
    session: {
      initial: 'scanCard',
      // A voucher counts wherever money is taken (before the card too: it is loaded once the card is known).
      on: { SCAN: voucherScan('topup') },
      states: {
        scanCard: {
          after: { inactivity: '#stillThere' },
          on: {
            SCAN: [
              voucherScan('topup'),
              { guard: 'scannedCard', target: '#topup.lookingUp', actions: 'rememberScan' },
              { target: 'scanCard', reenter: true, actions: 'noticeUnreadable' },
            ],
            BUTTON: [
              { guard: isButton('cancel'), target: '#cancelling' },
              { target: 'scanCard', reenter: true, actions: 'clearNotice' },
            ],
            COIN: { target: 'scanCard', reenter: true, actions: 'acceptCoin' },
          },
        },
        // The balance screen takes money at once (open amount, as on the screen): no extra step.
        chooseAmount: {
          entry: { type: 'setAcceptor', params: acceptorParams },
          exit: { type: 'setAcceptor', params: { enabled: false } },
          // Storage offline (recorded at the root): settled as in collecting.
          always: { guard: 'storageBlocked', target: 'collecting' },
          after: { inactivity: '#stillThere' },
          on: {
            BUTTON: [
              { guard: isButton('cancel'), target: '#cancelling' },
              { guard: 'buttonHasAmount', target: 'collecting', actions: 'chooseTarget' },
              { guard: isButton('ok'), target: 'collecting' },
              { target: 'chooseAmount', reenter: true },
            ],
            COIN: { target: 'collecting', actions: 'acceptCoin' },
          },
        },
        collecting: {
          initial: 'check',
          states: {
            check: {
              always: [
                { guard: 'topupTargetReached', target: '#topup.loading' },
                // The journal cannot take more: load what is in (nothing in: end), then out of service.
                { guard: 'storageBlockedWithMoney', target: '#topup.loading', actions: 'settleForHeld' },
                { guard: 'storageBlocked', target: '#cancelling' },
                { target: 'waiting' },
              ],
            },
            waiting: waitingForMoney('topup', [
              // Less than the chosen amount, or an open amount: load what is in.
              { guard: isButton('ok'), target: 'check', actions: 'settleForHeld' },
            ]),
          },
        },
        hist: { type: 'history', history: 'shallow' },
      },
    },
    ...cardStates('topup', '#topup.session.chooseAmount'),
    ...voucherStates('topup'),
    loading: {
      entry: ['startWait', 'dueFromHeld'],
      initial: 'decide',
      states: transactionSteps(
        (context) => topupBasket(context.due),
        { target: '#topup.pay', actions: [created, { type: 'useMethod', params: { method: 'cash' } }] },
        { target: '#topup.pay', actions: { type: 'useMethod', params: { method: 'cash' } } },
      ),
    },
    ...payStates,
    ...endStates,
  },
});

export type TopupMachine = typeof topupMachine;
