/**
 * The named effects, guards, actors and delays that the checkout and top-up machines share. The
 * actors here are placeholders that fail loudly: the app gives the real ones with `provide`
 * (src/flows/api-actors.ts over the API client; printing and unclaimed records from the app).
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { StartMethod } from '../src/api/types.js';
import { isInDoubt, isNotPaid } from '../src/api/transaction-status.js';
import { isBackendFault, isOutcomeUnknown, isRetryable } from './api-failure.js';
import { cardProblem } from './card-check.js';
import { jobRef, type FlowStep } from './job-ref.js';
import { emitUp } from './emit-up.js';
import { heldCoinsOf, type HardwareEvent, type StockEvent } from './events.js';
import type {
  CancelOutput,
  CreateTransactionInput,
  CreditCardInput,
  CreditCardOutput,
  FlowEvent,
  LookupCardInput,
  LookupCardOutput,
  PaymentResult,
  PreTransactionInput,
  PreTransactionOutput,
  PrintInput,
  PrintFailure,
  PrintOutput,
  ReadBackInput,
  ReceiptSale,
  ReadBackOutput,
  RecordUnclaimedInput,
  RecordUnclaimedOutput,
  RedeemVoucherInput,
  RedeemVoucherOutput,
  SetAcceptorParams,
  StartPaymentInput,
  TransactionIdInput,
  TransactionRef,
  UpdateTransactionInput,
} from './ports.js';
import { classifyScan, type CardRule } from './scan.js';
import type {
  PayChangeInput,
  PayChangeOutput,
  ReleaseItemInput,
  ReleaseItemOutput,
  ReverseTerminalInput,
  ReverseTerminalOutput,
} from './vend-ports.js';
import {
  basketSum,
  held,
  type SessionContext,
  type SessionInput,
  type SessionOutcome,
  type SessionOutput,
} from './session-context.js';
import { maskCard } from '../src/util/privacy.js';
import { basketTotal, type Cents } from '../src/api/money.js';
import { TOPUP_EAN } from '../src/api/schemas.js';
import type { BasketLine } from './ports.js';

/** Actor error events as the machine sees them (the error only where the state expects one). */
type ErrorEvent = { type: `xstate.error.actor.${string}`; error: unknown };

/** The devices' events, and STOCK: a running session follows whether the hopper pays change. */
export type SessionEvent = HardwareEvent | StockEvent;

/** A session's outgoing event: emitted, and sent up to the kiosk when it runs the session. */
const emitFlow = emitUp<FlowEvent>;

function notProvided<I, O>(name: string) {
  return fromPromise<O, I>(async () => {
    throw new Error(`actor ${name} not provided`);
  });
}

/** An answer of `startPayment`, `readBack` or `cancelTransaction`, or none (the call failed). */
type PayAnswer = PaymentResult | ReadBackOutput | CancelOutput | undefined;
/**
 * The transaction status an answer carries (undefined without one): the status the machine acted on,
 * for the journal and the fleet.
 */
function statusOf(out: PayAnswer): string | null | undefined {
  if (!out || typeof out !== 'object') return undefined;
  if ('result' in out && out.result && typeof out.result === 'object') return out.result.status ?? null;
  return 'status' in out ? (out.status ?? null) : undefined;
}
function withStatus(out: PayAnswer): { status?: string | null } {
  const status = statusOf(out);
  return status === undefined ? {} : { status };
}
function errorOf(event: unknown): unknown {
  return (event as ErrorEvent).error;
}
function scanOf(event: unknown, pattern: CardRule) {
  const e = event as { type: string; data?: string };
  return e.type === 'SCAN' ? classifyScan(e.data ?? '', pattern) : null;
}
function buttonOf(event: unknown): string | null {
  const e = event as { type: string; name?: string };
  return e.type === 'BUTTON' ? (e.name ?? null) : null;
}
function amountIndex(name: string | null): number {
  return name?.startsWith('amount') ? Number(name.slice(6)) - 1 : -1;
}

/** The job reference of a flow effect (machines/job-ref.ts): unique per session, step and job seq. */
/** The session's `transaction_finished` event: everything the fleet reports about it (no card number). */
function finished(
  context: SessionContext,
  id: string,
  outcome: 'paid' | 'failed' | 'unresolved' | 'aborted',
  answer?: PayAnswer,
): FlowEvent {
  return {
    type: 'transaction_finished',
    id,
    outcome,
    ...withStatus(answer),
    // A vending unit given back (`returned`) was not sold: the fleet hears of the goods delivered.
    amount: context.basket.length > 0 ? basketTotal(context.basket) - context.returned : context.due,
    method: context.method,
    cardMasked: context.cardNumber ? maskCard(context.cardNumber) : null,
    itemCount:
      context.basket.reduce((n, l) => n + l.quantity, 0) -
      context.releases.filter((u) => u.outcome === 'failed').length,
    // The payment parts and releases are settled by now: the bonus split is the receipt's.
    ...(outcome === 'paid' && context.flow !== 'topup' ? { sale: receiptSale(context) } : {}),
  };
}

export function jobId(context: SessionContext, what: FlowStep): string {
  return jobRef(context.sessionId, what, context.jobSeq);
}

export const sessionSetup = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
    output: {} as SessionOutput,
    /** For the journal and the fleet: the app hears them on the kiosk (machines/emit-up.ts). */
    emitted: {} as FlowEvent,
  },
  actors: {
    lookupCard: notProvided<LookupCardInput, LookupCardOutput>('lookupCard'),
    createTransaction: notProvided<CreateTransactionInput, TransactionRef>('createTransaction'),
    updateTransaction: notProvided<UpdateTransactionInput, TransactionRef>('updateTransaction'),
    preTransaction: notProvided<PreTransactionInput, PreTransactionOutput>('preTransaction'),
    startPayment: notProvided<StartPaymentInput, PaymentResult>('startPayment'),
    readBack: notProvided<ReadBackInput, ReadBackOutput>('readBack'),
    abortTransaction: notProvided<TransactionIdInput, unknown>('abortTransaction'),
    cancelTransaction: notProvided<TransactionIdInput, CancelOutput>('cancelTransaction'),
    creditCard: notProvided<CreditCardInput, CreditCardOutput>('creditCard'),
    recordUnclaimed: notProvided<RecordUnclaimedInput, RecordUnclaimedOutput>('recordUnclaimed'),
    redeemVoucher: notProvided<RedeemVoucherInput, RedeemVoucherOutput>('redeemVoucher'),
    print: notProvided<PrintInput, PrintOutput | undefined>('print'),
    releaseItem: notProvided<ReleaseItemInput, ReleaseItemOutput>('releaseItem'),
    payChange: notProvided<PayChangeInput, PayChangeOutput>('payChange'),
    reverseTerminal: notProvided<ReverseTerminalInput, ReverseTerminalOutput>('reverseTerminal'),
  },
  delays: {
    inactivity: ({ context }) => context.cfg.inactivityMs,
    warning: ({ context }) => context.cfg.warningMs,
    message: ({ context }) => context.cfg.messageMs,
    cashlessLimit: ({ context }) => context.cfg.cashlessLimitMs,
    retry: ({ context }) => context.cfg.retryMs,
    /** Read-backs back off: 1x, 2x, 4x, 8x the retry pause (then 8x), counted by `readBacks`. */
    readBackPause: ({ context }) =>
      context.cfg.retryMs * 2 ** Math.min(3, Math.max(0, context.readBacks - 1)),
    /** Reads confirming "not started" back off the same way, counted by `noEffectSeen`. */
    noEffectPause: ({ context }) =>
      context.cfg.retryMs * 2 ** Math.min(3, Math.max(0, (context.noEffectSeen ?? 0) - 1)),
    voucher: ({ context }) => context.cfg.messageMs * 3,
  },
  actions: {
    /** Enable the acceptor only while money is wanted (the app drives the inhibit line). */
    setAcceptor: (_, _params: SetAcceptorParams) => {},

    replayFirstEvent: enqueueActions(({ context, enqueue }) => {
      if (context.pendingEvent) enqueue.raise(context.pendingEvent);
      enqueue.assign({ pendingEvent: null });
    }),
    tick: assign(({ context, event }) =>
      event.type === 'TICK' ? { now: event.now, ticks: context.ticks + 1 } : {},
    ),
    acceptCoin: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'COIN' || !Number.isSafeInteger(event.cents) || event.cents <= 0) return;
      enqueue.assign({ inserted: context.inserted + event.cents, notice: null });
      emitFlow(enqueue, self, { type: 'coin_accepted', cents: event.cents });
    }),
    /**
     * The device facts a session keeps, wherever it is: the storage (no more money once offline) and
     * the printer (with paper low or out the money screens say there may be no receipt).
     */
    recordDevice: assign(({ event }) => {
      if (event.type !== 'DEVICE') return {};
      if (event.device === 'storage') return { storageDown: event.health === 'offline' };
      if (event.device === 'printer') return { printerOk: event.health === 'ok' };
      return {};
    }),
    recordHeldCoins: assign(({ event }) => {
      const cents = heldCoinsOf(event);
      return cents === null ? {} : { unwrittenCents: cents };
    }),
    /** Whether the hopper can pay change now (STOCK, sent by the app on every hopper status change). */
    recordChangeHealth: assign(({ context, event }) =>
      event.type === 'STOCK' && typeof event.givesChange === 'boolean'
        ? { cfg: { ...context.cfg, givesChange: event.givesChange } }
        : {},
    ),
    startWait: assign(({ context }) => ({ waitSince: context.now, attempts: 0 })),
    resetPay: assign({ attempts: 0, readBacks: 0, noEffectSeen: 0, repeatedStart: false }),
    countAttempt: assign(({ context }) => ({ attempts: context.attempts + 1 })),
    nextJob: assign(({ context }) => ({ jobSeq: context.jobSeq + 1 })),
    clearNotice: assign({ notice: null }),
    noticeUnreadable: assign({ notice: 'unreadable' }),
    noticeUnknownProduct: assign({ notice: 'unknown_product' }),
    noticeCardAlready: assign({ notice: 'card_already' }),

    rememberVoucher: assign(({ context, event }) => {
      const s = scanOf(event, context.cfg.cardPattern);
      return s?.kind === 'voucher' ? { scannedVoucher: s.code, voucherRefused: null, notice: null } : {};
    }),
    /** The app journaled the redemption before answering: the value is the session's money now. */
    acceptVoucher: enqueueActions(({ context, enqueue, self }, out: RedeemVoucherOutput) => {
      if (!out.ok || !Number.isSafeInteger(out.cents) || out.cents <= 0) return;
      enqueue.assign({ redeemed: context.redeemed + out.cents, scannedVoucher: null, voucherRefused: null });
      emitFlow(enqueue, self, { type: 'voucher_redeemed', cents: out.cents, ref: out.ref });
    }),
    /** The redemption's refusal, or none (the call failed). */
    refuseVoucher: assign((_, out: RedeemVoucherOutput | undefined) => {
      return { scannedVoucher: null, voucherRefused: out && !out.ok ? out.reason : ('error' as const) };
    }),
    rememberScan: assign(({ context, event }) => {
      const s = scanOf(event, context.cfg.cardPattern);
      return s?.kind === 'card' ? { scanned: s.cardNumber, notice: null } : {};
    }),
    addScannedProduct: assign(({ context, event }) => {
      const s = scanOf(event, context.cfg.cardPattern);
      const item = s?.kind === 'ean' ? context.cfg.catalogue.find((p) => p.ean === s.ean) : undefined;
      if (item && soldOut(context, item.id)) return { notice: 'sold_out' as const };
      return item ? { basket: addItem(context, item.id), notice: null } : {};
    }),
    addButtonProduct: assign(({ context, event }) => {
      const item = context.cfg.catalogue[amountIndex(buttonOf(event))];
      if (item && soldOut(context, item.id)) return { notice: 'sold_out' as const };
      return item ? { basket: addItem(context, item.id), notice: null } : {};
    }),
    addCursorProduct: assign(({ context }) => {
      const item = context.cfg.catalogue[context.cursor];
      if (item && soldOut(context, item.id)) return { notice: 'sold_out' as const };
      return item ? { basket: addItem(context, item.id) } : {};
    }),
    cursorUp: assign(({ context }) => ({
      cursor: (context.cursor + context.cfg.catalogue.length - 1) % Math.max(1, context.cfg.catalogue.length),
    })),
    cursorDown: assign(({ context }) => ({
      cursor: (context.cursor + 1) % Math.max(1, context.cfg.catalogue.length),
    })),

    acceptLookup: assign(({ context }, out: LookupCardOutput) => {
      if (out.kind === 'unknown')
        return { problem: 'unknown' as const, txId: out.transactionId ?? context.txId };
      const problem = cardProblem(out.card, context.flow);
      if (problem) return { problem, txId: out.transactionId ?? context.txId };
      return {
        card: out.card,
        cardNumber: context.scanned,
        problem: null,
        txId: out.transactionId ?? context.txId,
      };
    }),
    emitLookupCreated: enqueueActions(({ enqueue, self }, out: LookupCardOutput) => {
      if (out.transactionId) emitFlow(enqueue, self, { type: 'transaction_created', id: out.transactionId });
    }),
    acceptTransaction: enqueueActions(({ enqueue, self }, ref: TransactionRef) => {
      enqueue.assign({ txId: ref.id });
      emitFlow(enqueue, self, { type: 'transaction_created', id: ref.id });
    }),
    dueFromBasket: assign(({ context }) => ({ due: basketSum(context.basket) })),
    dueFromPreTransaction: assign((_, out: PreTransactionOutput) => ({
      due: out.missingSum,
      bonusProducts: out.bonusProducts ?? [],
    })),
    dueFromHeld: assign(({ context }) => ({ due: held(context) })),
    /** The customer settles for what is in: that becomes the amount (open amount or less than chosen). */
    settleForHeld: assign(({ context }) => ({ target: held(context) > 0 ? held(context) : context.target })),
    chooseTarget: assign(({ context, event }) => ({
      target: context.cfg.topupAmounts[amountIndex(buttonOf(event))] ?? null,
    })),

    useMethod: assign((_, params: { method: StartMethod }) => ({ method: params.method })),
    beginStart: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({
        startSeq: context.startSeq + 1,
        waitSince: context.now,
        payDeadline: context.method === 'cashless' ? context.now + context.cfg.cashlessLimitMs : null,
      });
    }),
    emitStarted: enqueueActions(({ context, enqueue, self }) => {
      if (!context.txId || !context.method) return;
      emitFlow(enqueue, self, {
        type: 'transaction_started',
        id: context.txId,
        method: context.method,
        jobId: startJobId(context),
      });
    }),
    repeatStartOnce: assign({ repeatedStart: true }),
    countReadBack: assign(({ context }) => ({ readBacks: context.readBacks + 1 })),
    countNoEffect: assign(({ context }) => ({ noEffectSeen: (context.noEffectSeen ?? 0) + 1 })),
    /** The answer to `start`, or the read-back that found the payment. */
    recordPaid: enqueueActions(({ context, enqueue }, answer: PaymentResult | ReadBackOutput) => {
      const out = 'result' in answer ? answer.result : answer;
      // Only cash the kiosk holds counts as `paid`: the terminal and the card balance are not in the box.
      const cash = context.method === 'cash' ? context.due : 0;
      const decided = withStatus(answer);
      enqueue.assign({
        paid: context.paid + cash,
        receipt: out.receipt,
        balanceAfter: out.balance,
        outcome: 'paid',
        payDeadline: null,
        // Printed once the money is settled: one receipt that also says where a coin too many went.
        receiptDue: true,
        // The fleet hears of it when the goods are out (`emitPaid`), with the status decided on.
        ...('status' in decided ? { paidStatus: decided.status } : {}),
      });
    }),
    /**
     * A paid sale or top-up, told on leaving `#paid` (after a vending counter's releases): its amount
     * is what was delivered, not the units whose price goes back in `#settling`.
     */
    emitPaid: enqueueActions(({ context, enqueue, self }) => {
      if (!context.txId) return;
      const status = context.paidStatus === undefined ? {} : { status: context.paidStatus };
      emitFlow(enqueue, self, { ...finished(context, context.txId, 'paid'), ...status });
    }),
    /** The answer that said "not paid", or none (the call failed). */
    recordPayFailed: enqueueActions(({ context, enqueue, self }, answer: PayAnswer) => {
      enqueue.assign({ outcome: 'failed', unclaimedReason: 'failed', payDeadline: null });
      if (context.txId) {
        emitFlow(enqueue, self, finished(context, context.txId, 'failed', answer));
      }
    }),
    /** The last answer read, or none (the call failed). */
    recordUnresolved: enqueueActions(({ context, enqueue, self }, answer: PayAnswer) => {
      enqueue.assign({ outcome: 'unresolved', unclaimedReason: 'unresolved', payDeadline: null });
      emitFlow(enqueue, self, {
        type: 'debt',
        transactionId: context.txId,
        cents: held(context),
        detail: `start/${context.method ?? '?'} outcome unknown after read-back${
          statusOf(answer) ? ` (status ${statusOf(answer)})` : ''
        }`,
      });
      if (context.txId) {
        emitFlow(enqueue, self, finished(context, context.txId, 'unresolved', answer));
      }
    }),
    markOutcome: assign(({ context }, params: { outcome: SessionOutcome }) => ({
      outcome: context.outcome ?? params.outcome,
      unclaimedReason: params.outcome === 'walked_away' ? ('walked_away' as const) : context.unclaimedReason,
    })),
    markAborted: enqueueActions(({ context, enqueue, self }) => {
      if (context.txId) {
        emitFlow(enqueue, self, finished(context, context.txId, 'aborted'));
      }
      enqueue.assign({ txId: null });
    }),
    /** The amount being settled is fixed when the call starts: a coin landing meanwhile is settled next round. */
    fixSettleAmount: assign(({ context }) => ({ settling: held(context) })),
    recordCredited: enqueueActions(({ context, enqueue, self }, out: CreditCardOutput) => {
      const cents = context.settling;
      // A sale's change: its receipt (still to print) keeps the sale's API lines and adds the credit's.
      const receipt = context.receiptDue ? [...(context.receipt ?? []), ...out.receipt] : out.receipt;
      enqueue.assign({ credited: context.credited + cents, receipt, balanceAfter: out.balance });
      emitFlow(enqueue, self, {
        type: 'credited',
        cents,
        transactionId: out.transactionId,
        cardMasked: maskCard(context.cardNumber ?? ''),
      });
    }),
    recordUnclaimed: enqueueActions(({ context, enqueue, self }, out: RecordUnclaimedOutput) => {
      const cents = context.settling;
      enqueue.assign({
        unclaimed: context.unclaimed + cents,
        voucherCode: out.voucherCode,
        voucherToShow: true,
      });
      emitFlow(enqueue, self, {
        type: 'unclaimed',
        cents,
        voucherCode: out.voucherCode,
        reason: unclaimedReasonOf(context),
      });
    }),
    voucherShown: assign({ voucherToShow: false }),
    /**
     * After the receipt's print, done or failed: its number from the answer, or from a failure that
     * says the receipt is in the journal (`PrintFailure`), which the farewell then offers to reprint.
     */
    receiptPrinted: assign(({ context }, params: { printed?: PrintOutput; failed?: unknown }) => {
      const out = params.printed;
      const failed = params.failed as PrintFailure | undefined;
      const kept = typeof failed === 'object' && failed !== null && failed.kept === true;
      const given = out?.receiptNo ?? (kept ? failed.receiptNo : undefined);
      const no = typeof given === 'string' ? given : context.receiptNo;
      return { receiptDue: false, receiptNo: no, ...(kept ? { receiptUnprinted: true } : {}) };
    }),
    planReleases: assign(({ context }) => ({ releases: releaseUnits(context), releaseAt: 0 })),
    recordRelease: assign(({ context }, out: ReleaseItemOutput) => {
      const unit = context.releases[context.releaseAt];
      const outcome = out.outcome === 'delivered' ? ('delivered' as const) : ('failed' as const);
      return {
        releases: context.releases.map((u, i) => (i === context.releaseAt ? { ...u, outcome } : u)),
        returned: context.returned + (outcome === 'failed' ? (unit?.cents ?? 0) : 0),
        releaseAt: context.releaseAt + 1,
      };
    }),
    /** Outcome unknown: never repeated, not refunded (the operator settles it); the rest is not fired. */
    recordReleaseUnknown: assign(({ context }) => {
      const at = context.releaseAt;
      const rest = context.releases.slice(at + 1).reduce((sum, u) => sum + u.cents, 0);
      return {
        releases: context.releases.map((u, i) =>
          i === at
            ? { ...u, outcome: 'unknown' as const }
            : i > at
              ? { ...u, outcome: 'failed' as const }
              : u,
        ),
        returned: context.returned + rest,
        releaseAt: context.releases.length,
      };
    }),
    recordChange: assign(({ context }, out: PayChangeOutput) => ({
      changed: context.changed + Math.max(0, out.paidCents),
      changeTried: true,
    })),
    changeFailed: assign({ changeTried: true }),
    /**
     * The reversal's answer. `ok`: the whole transaction went back through the API (the terminal's
     * charge and the card's part), so it leaves `#settling`; `unknown`: held, never paid back a second
     * way (recovery reads the reversal back, the session stays open until it does); `refused`/`failed`:
     * certainly not reversed, the price goes back the usual way.
     */
    recordReversal: enqueueActions(({ context, enqueue, self }, out: ReverseTerminalOutput) => {
      const outcome = out.outcome === 'ok' || out.outcome === 'unknown' ? out.outcome : ('refused' as const);
      enqueue.assign({
        reversal: outcome,
        reversed: (context.reversed ?? 0) + (outcome === 'refused' ? 0 : reversalCents(context)),
      });
      if (outcome === 'unknown')
        emitFlow(enqueue, self, { type: 'fault', what: 'reversal', detail: out.detail ?? 'outcome unknown' });
    }),
    /** The actor itself failed: whether the reversal was sent is not known, so it is held like `unknown`. */
    reversalUnknown: assign(({ context }) => ({
      reversal: 'unknown' as const,
      reversed: (context.reversed ?? 0) + reversalCents(context),
    })),
    reportFault: enqueueActions(({ event, enqueue, self }, params: { what: string }) => {
      const e = errorOf(event) as { message?: string } | undefined;
      emitFlow(enqueue, self, { type: 'fault', what: params.what, detail: e?.message ?? '' });
    }),
  },
  guards: {
    scannedCard: ({ context, event }) => scanOf(event, context.cfg.cardPattern)?.kind === 'card',
    scannedVoucher: ({ context, event }) => scanOf(event, context.cfg.cardPattern)?.kind === 'voucher',
    voucherAccepted: (_, out: RedeemVoucherOutput) => out.ok,
    scannedKnownProduct: ({ context, event }) => {
      const s = scanOf(event, context.cfg.cardPattern);
      return s?.kind === 'ean' && context.cfg.catalogue.some((p) => p.ean === s.ean);
    },
    scannedOtherEan: ({ context, event }) => scanOf(event, context.cfg.cardPattern)?.kind === 'ean',
    cancelPressed: ({ event }) => event.type === 'BUTTON' && event.name === 'cancel',
    hasCard: ({ context }) => context.card !== null,
    hasTx: ({ context }) => context.txId !== null,
    basketEmpty: ({ context }) => context.basket.length === 0,
    catalogueEmpty: ({ context }) => context.cfg.catalogue.length === 0,
    buttonHasProduct: ({ context, event }) =>
      context.cfg.catalogue[amountIndex(buttonOf(event))] !== undefined,
    buttonHasAmount: ({ context, event }) =>
      context.cfg.topupAmounts[amountIndex(buttonOf(event))] !== undefined,
    lookupRefused: ({ context }, out: LookupCardOutput) => {
      return out.kind === 'unknown' || cardProblem(out.card, context.flow) !== null;
    },
    /** Create/update/preTransaction/lookup: a second try cannot charge anyone. */
    mayRetryCall: ({ context, event }) => {
      const e = errorOf(event);
      return (
        context.attempts < context.cfg.maxRetries &&
        (isRetryable(e) || isOutcomeUnknown(e) || isBackendFault(e))
      );
    },
    /** `start`: only where it certainly did not take effect. */
    mayRetryStart: ({ context, event }) =>
      context.attempts < context.cfg.maxRetries && isRetryable(errorOf(event)),
    outcomeUnknown: ({ event }) => isOutcomeUnknown(errorOf(event)),
    missingZero: (_, out: PreTransactionOutput) => out.missingSum === 0,
    heldCoversDue: ({ context }) => held(context) >= context.due,
    heldPositive: ({ context }) => held(context) > 0,
    heldZero: ({ context }) => held(context) === 0,
    receiptDue: ({ context }) => context.receiptDue,
    voucherToShow: ({ context }) => context.voucherToShow,
    nothingToSay: ({ context }) =>
      context.outcome === 'card_refused' && context.credited === 0 && context.unclaimed === 0,
    terminalOffered: ({ context }) => context.cfg.terminal && held(context) === 0,
    isCashless: ({ context }) => context.method === 'cashless',
    pastDeadline: ({ context, event }) =>
      event.type === 'TICK' && context.payDeadline !== null && event.now >= context.payDeadline,
    /** The answer to `start`: its status decides, not the HTTP status (src/api/transaction-status.ts). */
    answerPaid: (_, out: PaymentResult) => out.took === 'effect',
    answerNotPaid: (_, out: PaymentResult) => out.took !== undefined && isNotPaid(out.took),
    tookEffect: (_, out: ReadBackOutput) => out.took === 'effect',
    /** "Not started", but fewer reads than `noEffectReads` confirm it yet: read again before any repeat. */
    noEffectUnconfirmed: ({ context }, out: ReadBackOutput) =>
      out.took === 'no_effect' &&
      !context.repeatedStart &&
      (context.noEffectSeen ?? 0) < context.cfg.noEffectReads,
    noEffectFirstTime: ({ context }, out: ReadBackOutput) =>
      out.took === 'no_effect' && !context.repeatedStart,
    /**
     * The repeated start refused by the server (any HTTP error, or an outcome unknown): a 409 may say
     * "already paid" by the first call. Read back, never taken as "not charged".
     */
    repeatRefused: ({ context, event }) => {
      const e = errorOf(event) as { kind?: string } | undefined;
      return context.repeatedStart && (e?.kind === 'http' || isOutcomeUnknown(e));
    },
    /** `pending`, `approved` or a status we do not know: the API may still move on; read again (bounded). */
    stillPending: ({ context }, out: ReadBackOutput) =>
      isInDoubt(out.took) && context.readBacks < context.cfg.maxReadBacks,
    definitelyNotPaid: (_, out: ReadBackOutput) => isNotPaid(out.took),
    /** Authorised and never captured after every read-back: the authorisation is cancelled. */
    stillApproved: (_, out: ReadBackOutput) => out.took === 'approved',
    cancelConfirmed: (_, out: CancelOutput) => isNotPaid(out.took),
    mayReadBackAgain: ({ context }) => context.readBacks < context.cfg.maxReadBacks,
    /** Leftover goes to the card only when one was accepted and the payment is not in doubt. */
    mayCredit: ({ context }) =>
      context.card !== null && context.cardNumber !== null && context.outcome !== 'unresolved',
    topupTargetReached: ({ context }) =>
      held(context) > 0 &&
      ((context.target !== null && held(context) >= context.target) || held(context) >= context.cfg.maxTopup),
    openAmountWithMoney: ({ context }) => context.target === null && held(context) > 0,
    moreReleases: ({ context }) => context.releaseAt < context.releases.length,
    /**
     * A terminal payment none of whose goods came out: every slotted unit failed (none delivered, none
     * in doubt) and their prices are the whole basket (no staff-handed product, which a reversal would
     * take back too). Tried once; a partial failure goes back the usual way (a reversal takes it all).
     */
    mayReverse: ({ context }) =>
      context.flow === 'checkout' &&
      context.method === 'cashless' &&
      context.outcome === 'paid' &&
      context.txId !== null &&
      (context.reversal ?? null) === null &&
      context.releases.length > 0 &&
      context.releases.every((u) => u.outcome === 'failed') &&
      reversalCents(context) > 0 &&
      context.returned >= reversalCents(context),
    /** Checkout only (a top-up's leftover goes on the card): coins first, a voucher for the rest. */
    mayPayChange: ({ context }) =>
      context.flow === 'checkout' &&
      context.cfg.changeCoin !== null &&
      // An empty, jammed or offline hopper is not asked (it would pay nothing, or run against a jam).
      context.cfg.givesChange &&
      !context.changeTried &&
      held(context) >= context.cfg.changeCoin,
    /** Storage offline and no coin held unwritten: settle the session now (no more money is taken). */
    storageBlocked: ({ context }) => context.storageDown === true && (context.unwrittenCents ?? 0) === 0,
    /** A held coin is the customer's too: the session does not end (OK, cancel) before it is written. */
    storageBlockedWithMoney: ({ context }) =>
      context.storageDown === true && (context.unwrittenCents ?? 0) === 0 && held(context) > 0,
    coinsUnwritten: ({ context }) => (context.unwrittenCents ?? 0) > 0,
    changeHealthChanged: ({ context, event }) =>
      event.type === 'STOCK' &&
      typeof event.givesChange === 'boolean' &&
      event.givesChange !== context.cfg.givesChange,
    printerReport: ({ event }) => event.type === 'DEVICE' && event.device === 'printer',
    acceptorDown: ({ event }) =>
      event.type === 'DEVICE' && event.device === 'acceptor' && event.health === 'offline',
  },
});

function addItem(context: SessionContext, id: number) {
  const item = context.cfg.catalogue.find((p) => p.id === id);
  if (!item) return context.basket;
  const existing = context.basket.find((l) => l.id === id);
  if (existing) return context.basket.map((l) => (l.id === id ? { ...l, quantity: l.quantity + 1 } : l));
  return [
    ...context.basket,
    { id: item.id, desc: item.desc, ean: item.ean, quantity: 1, priceOne: item.priceOne, tax: item.tax },
  ];
}

/** What a terminal reversal gives back: the whole transaction, i.e. the basket as sent. */
export function reversalCents(context: SessionContext): Cents {
  return basketSum(context.basket);
}

/** The one customer receipt of a paid session, from what the machine knows once the money is settled. */
export function receiptSale(context: SessionContext): ReceiptSale {
  const topup = context.flow === 'topup';
  const basket = topup ? topupBasket(context.due) : context.basket;
  const cash = context.method === 'cash' ? context.due : 0;
  const terminal = context.method === 'cashless' ? context.due : 0;
  const card = !topup && context.card ? Math.max(0, basketSum(context.basket) - context.due) : 0;
  const voucher =
    context.unclaimed > 0 && context.voucherCode
      ? { code: context.voucherCode, cents: context.unclaimed }
      : null;
  const undelivered = context.releases.flatMap((u) =>
    u.outcome === 'failed' || u.outcome === 'unknown'
      ? [
          {
            desc: context.cfg.catalogue.find((p) => p.id === u.productId)?.desc ?? `#${u.productId}`,
            slot: u.slot,
            cents: u.cents,
            outcome: u.outcome,
            tax: context.basket.find((l) => l.id === u.productId)?.tax ?? 0,
            productId: u.productId,
          },
        ]
      : [],
  );
  return {
    kind: topup ? 'topup' : 'sale',
    basket,
    bonusProducts: context.bonusProducts,
    parts: { card, cash, terminal },
    cardBalance: context.card ? { cash: context.card.cashBalance, bonus: context.card.bonusBalance } : null,
    cashIn: context.inserted,
    ...(context.redeemed > 0 ? { voucherIn: context.redeemed } : {}),
    credited: context.credited,
    voucher,
    cardMasked: context.cardNumber ? `...${context.cardNumber.slice(-4)}` : null,
    balanceAfter: context.balanceAfter,
    ...(context.changed > 0 ? { changed: context.changed } : {}),
    ...(undelivered.length > 0 ? { undelivered } : {}),
    ...(context.reversal === 'ok' || context.reversal === 'unknown'
      ? { reversal: { outcome: context.reversal, cents: context.reversed ?? 0 } }
      : {}),
  };
}

/** The basket of a top-up: one line of the top-up product, priced at the amount loaded (no VAT on a prepayment). */
export function topupBasket(cents: Cents): BasketLine[] {
  return [{ id: 1, desc: 'Kartenaufladung', ean: TOPUP_EAN, quantity: 1, priceOne: cents, tax: 0 }];
}

/** A product in a slot that has nothing left to release (sold out or blocked) cannot go in the basket. */
function soldOut(context: SessionContext, id: number): boolean {
  const slot = context.cfg.catalogue.find((p) => p.id === id)?.slot;
  if (slot === undefined) return false;
  const inBasket = context.basket.find((l) => l.id === id)?.quantity ?? 0;
  const sameSlot = context.basket
    .filter((l) => l.id !== id && context.cfg.catalogue.find((p) => p.id === l.id)?.slot === slot)
    .reduce((n, l) => n + l.quantity, 0);
  return inBasket + sameSlot >= (context.cfg.slotStock[slot] ?? 0);
}

/** The basket item by item, for the products that have a slot. */
export function releaseUnits(context: SessionContext): SessionContext['releases'] {
  const units: SessionContext['releases'] = [];
  for (const line of context.basket) {
    const slot = context.cfg.catalogue.find((p) => p.id === line.id)?.slot;
    if (slot === undefined) continue;
    for (let i = 0; i < line.quantity; i++) units.push({ productId: line.id, slot, cents: line.priceOne });
  }
  return units;
}

export function startJobId(context: SessionContext): string {
  return jobRef(context.sessionId, 'start', `${context.txId ?? '-'}:${context.startSeq}`);
}

function unclaimedReasonOf(context: SessionContext) {
  if (context.outcome === 'paid') return 'overpaid' as const;
  return context.unclaimedReason;
}

export function sessionOutput(context: SessionContext): SessionOutput {
  return {
    outcome: context.outcome ?? 'cancelled',
    inserted: context.inserted,
    redeemed: context.redeemed,
    paid: context.paid,
    credited: context.credited,
    unclaimed: context.unclaimed,
    transactionId: context.txId,
    voucherCode: context.voucherCode,
  };
}
