/**
 * The service menu: what a technician does at the kiosk with its display and buttons. The kiosk
 * invokes it (child id `menu`) only while in `maintenance`, so never while a customer pays.
 *
 * PIN first: `up`/`down` change the digit being entered, `ok` takes it, `cancel` takes the last one
 * back; `amount1`..`amount4` type the digits 1-4 directly (never shown). Entered digits show as `*`.
 * The provided `checkPin` actor compares (the machine does no crypto). After `maxTries` wrong PINs the
 * menu is locked for `lockoutMs`; the deadline lives in context and ends on a `TICK` past it. The
 * kiosk keeps the gate (failed tries, deadline) across menu restarts: every change is sent to the
 * parent as `SERVICE_STATUS`, and the next menu starts from it (`input.gate`).
 *
 * Then the menu: `up`/`down` move, `ok` selects, `cancel` logs out. Info, test print, device test,
 * cash collection, reprint of a recent receipt (newest first), slot stock (a blocked slot: key 2
 * unblocks it, after a confirmation, refused by the app while its sensor reads active), the releases
 * whose outcome is unknown
 * (settled `delivered` or `refunded` with a voucher, after a confirmation), the change hopper (coins
 * put in or taken out, journaled so the books' count follows), the open vouchers (one paid out in
 * cash after a confirmation, journaled before the cash is handed over), the card terminal, leave
 * maintenance (the machine finishes). Idle for
 * `idleMs` while logged in: logged out. Every action is reported: emitted as `service_report` (`report`).
 */
import {
  and,
  assign,
  enqueueActions,
  fromPromise,
  setup,
  type AnyActorRef,
  type DoneActorEvent,
} from 'xstate';
import { doneOutput } from './done-output.js';
import { emitUp, type EmitEnqueuer } from './emit-up.js';
import { formatCents, type Cents } from '../src/api/money.js';
import type { HardwareEvent, ServiceStatusEvent } from './events.js';
import type {
  CashStatusOutput,
  CheckPinInput,
  CheckPinOutput,
  CollectCashInput,
  CollectCashOutput,
  DeviceTestResult,
  HopperCountInput,
  HopperCountOutput,
  HopperStatusOutput,
  OpenVoucherItem,
  OpenVouchersOutput,
  PayOutVoucherInput,
  PayOutVoucherOutput,
  RecentReceipt,
  RecentReceiptsOutput,
  ReprintInput,
  ReprintOutput,
  ServiceInfo,
  ServiceReport,
  ServiceReportEvent,
  SetStockInput,
  SettleHow,
  SettleReleaseInput,
  SettleReleaseOutput,
  StockSlot,
  StockStatusOutput,
  TerminalDuty,
  TerminalDutyInput,
  TerminalDutyOutput,
  UnblockSlotInput,
  UnblockSlotOutput,
  UnsettledOutput,
  UnsettledRelease,
} from './ports.js';

export interface ServiceMenuConfig {
  pinLength: number;
  /** Wrong PINs in a row before the lock-out. */
  maxTries: number;
  lockoutMs: number;
  /** Logged in without a button press this long: logged out. */
  idleMs: number;
}

export const DEFAULT_SERVICE_CONFIG: ServiceMenuConfig = {
  pinLength: 4,
  maxTries: 3,
  lockoutMs: 300_000,
  idleMs: 300_000,
};

/** The PIN gate the kiosk keeps for the menu. */
export interface PinGate {
  failedTries: number;
  /** Epoch ms (the app's TICK clock) until which no PIN is accepted; null: not locked. */
  lockedUntil: number | null;
}

export interface ServiceMenuInput {
  config?: Partial<ServiceMenuConfig>;
  gate?: PinGate;
  /** The kiosk's clock at the start (its last TICK). */
  now?: number;
}

/** The menu entries, in display order. */
export const SERVICE_ENTRIES = [
  'info',
  'testPrint',
  'deviceTest',
  'cash',
  'reprint',
  'stock',
  'releases',
  'hopper',
  'vouchers',
  'terminal',
  'leave',
] as const;
export type ServiceEntry = (typeof SERVICE_ENTRIES)[number];

/** The terminal page: amount1..4 choose these. */
export const TERMINAL_DUTIES: readonly TerminalDuty[] = [
  'end_of_day',
  'diagnosis',
  'merchant_receipt',
  'cancel_last',
];

/** The counting steps the amount keys choose: 10 ct, 1 EUR, 10 EUR, 100 EUR. */
export const CASH_STEPS: readonly Cents[] = [10, 100, 1_000, 10_000];
/** More than any cash box holds: the counted amount cannot run away. */
export const MAX_COUNTED: Cents = 10_000_000;
/** The hopper page's steps (coins) the amount keys choose. */
export const HOPPER_STEPS: readonly number[] = [1, 10, 50, 100];
/** More coins than any hopper holds. */
export const MAX_HOPPER_COINS = 10_000;

/** One line of a scrollable page (Info, device test); `text` is shown as is (ids, addresses, codes). */
export type ServiceListItem =
  | { kind: 'id'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'ip'; text: string }
  | { kind: 'noIp' }
  | { kind: 'fleet'; state: ServiceInfo['fleet'] }
  | { kind: 'api'; ok: boolean }
  | { kind: 'device'; device: string; ok: boolean; status: string };

export type ServiceResult =
  | 'test_printed'
  | 'print_failed'
  | 'reprinted'
  | 'no_receipt'
  | 'collected'
  | 'collected_no_print'
  | 'collect_failed'
  | 'stock_set'
  | 'stock_failed'
  | 'slot_unblocked'
  | 'unblock_failed'
  | 'no_slots'
  | 'no_releases'
  | 'release_delivered'
  | 'release_refunded'
  | 'release_not_printed'
  | 'settle_failed'
  | 'no_hopper'
  | 'hopper_counted'
  | 'hopper_failed'
  | 'no_vouchers'
  | 'voucher_paid_out'
  | 'payout_refused'
  | 'load_failed'
  | 'terminal_done'
  | 'terminal_failed';

export type ServiceNotice = 'pin_wrong' | 'pin_not_configured' | 'pin_error';

export interface ServiceMenuContext {
  cfg: ServiceMenuConfig;
  now: number;
  ticks: number;
  failedTries: number;
  lockedUntil: number | null;
  loggedIn: boolean;
  /** Digits taken so far (never shown, cleared once checked). */
  digits: number[];
  /** The digit being chosen with up/down. */
  digit: number;
  notice: ServiceNotice | null;
  cursor: number;
  /** Last button press while logged in (for `idleMs`). */
  lastInput: number;
  list: ServiceListItem[];
  /** First list line shown. */
  top: number;
  expected: Cents;
  counted: Cents;
  step: Cents;
  result: ServiceResult | null;
  /** Vend slots as loaded for counting, the one chosen, and the count being entered. */
  slots: StockSlot[];
  slotAt: number;
  stockCount: number;
  /** For the screen of a failed action (short error text). */
  resultDetail: string | null;
  /** The terminal duty chosen (amount1..4 on the terminal page). */
  duty: TerminalDuty | null;
  /** Releases in doubt as loaded, the one chosen, and how the technician settles it. */
  releases: UnsettledRelease[];
  releaseAt: number;
  settleHow: SettleHow | null;
  /** The hopper as loaded, whether coins go in or out, how many, and the step of up/down. */
  hopper: { coinCents: Cents; coins: number | null } | null;
  hopperMode: 'fill' | 'empty' | null;
  hopperCount: number;
  hopperStep: number;
  /** Open vouchers as loaded (never their codes) and the one chosen. */
  vouchers: OpenVoucherItem[];
  voucherAt: number;
  /** The journal's recent receipts as loaded (newest first) and the one chosen for a reprint. */
  receipts: RecentReceipt[];
  receiptAt: number;
}

/** The pages that choose one of a loaded list with up/down: the list and where its cursor is kept. */
const PAGE_LISTS = {
  slots: 'slotAt',
  releases: 'releaseAt',
  vouchers: 'voucherAt',
  receipts: 'receiptAt',
} as const;
type PageList = keyof typeof PAGE_LISTS;

export interface ServiceMenuOutput {
  left: true;
}

function notProvided<O, I = unknown>(name: string) {
  return fromPromise<O, I>(async () => {
    throw new Error(`service actor ${name} not provided`);
  });
}

function button(event: unknown): string | null {
  const e = event as { type: string; name?: string };
  return e.type === 'BUTTON' ? (e.name ?? null) : null;
}

function errorText(event: unknown): string {
  const err = (event as { error?: unknown }).error;
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : 'error';
  return text.slice(0, 60);
}

export function infoItems(info: ServiceInfo): ServiceListItem[] {
  return [
    { kind: 'id', text: info.kioskId },
    { kind: 'version', text: info.version },
    ...(info.addresses.length > 0
      ? info.addresses.map((a): ServiceListItem => ({ kind: 'ip', text: a }))
      : [{ kind: 'noIp' } as const]),
    { kind: 'fleet', state: info.fleet },
    { kind: 'api', ok: info.apiReachable },
  ];
}

export function deviceItems(results: DeviceTestResult[]): ServiceListItem[] {
  return results.map((r) => ({ kind: 'device', device: r.device, ok: r.ok, status: r.status }));
}

/** A yes/no question: OK goes on, Cancel goes back, any other key only counts as activity. */
function okOrCancel<O extends string, C extends string>(ok: O, cancel: C) {
  return [
    { guard: { type: 'isButton', params: { names: ['ok'] } }, target: ok, actions: 'touch' },
    { guard: { type: 'isButton', params: { names: ['cancel'] } }, target: cancel, actions: 'touch' },
    { actions: 'touch' },
  ] as const;
}

/**
 * Loads a page's list with the actor `src`: on to `choose` when `has` finds something in it (`show`
 * keeps it), else the result `none`; a failure is `load_failed`.
 */
function loadingList<S extends string, G extends string, A extends string, R extends ServiceResult, T>(
  src: S,
  has: G,
  show: A,
  none: R,
  /** The list's answer, typed (doneOutput<T>()): `has` and `show` read it. */
  out: (args: { event: DoneActorEvent<T> }) => T,
) {
  return {
    on: { TICK: { actions: 'tick' } },
    invoke: {
      id: src,
      src,
      onDone: [
        { guard: { type: has, params: out }, target: 'choose', actions: { type: show, params: out } },
        {
          target: '#serviceMenu.menu.result',
          actions: { type: 'setResult', params: { result: none } },
        },
      ],
      onError: {
        target: '#serviceMenu.menu.result',
        actions: { type: 'failResult', params: { result: 'load_failed' } },
      },
    },
  } as const;
}

/** A list to read (Info, device test): up/down scroll it, OK or C back to the menu. */
const scrolling = {
  on: {
    BUTTON: [
      { guard: { type: 'isButton', params: { names: ['up'] } }, actions: ['touch', 'scrollUp'] },
      { guard: { type: 'isButton', params: { names: ['down'] } }, actions: ['touch', 'scrollDown'] },
      {
        guard: { type: 'isButton', params: { names: ['ok', 'cancel'] } },
        target: '#serviceMenu.menu.main',
        actions: 'touch',
      },
      { actions: 'touch' },
    ],
  },
} as const;

/**
 * One of a loaded list to choose (slots, releases, vouchers, receipts): up/down move through `list` (round),
 * OK goes on to `next` (with `onOk`), C back to the menu.
 */
function choosing<N extends string, O extends string = never>(list: PageList, next: N, onOk?: O) {
  const okActions = onOk ? (['touch', onOk] as const) : ('touch' as const);
  const move = (by: 1 | -1) => ({ type: 'moveIn', params: { list, by } }) as const;
  return {
    on: {
      BUTTON: [
        { guard: { type: 'isButton', params: { names: ['up'] } }, actions: ['touch', move(-1)] },
        { guard: { type: 'isButton', params: { names: ['down'] } }, actions: ['touch', move(1)] },
        { guard: { type: 'isButton', params: { names: ['ok'] } }, target: next, actions: okActions },
        {
          guard: { type: 'isButton', params: { names: ['cancel'] } },
          target: '#serviceMenu.menu.main',
          actions: 'touch',
        },
        { actions: 'touch' },
      ],
    },
  } as const;
}

/**
 * Counting with the buttons: up/down run `up`/`down`, amount1..4 `step` (choose the step), OK goes
 * to `next` when `okGuard` allows, C back to `back`.
 */
function countingKeys<
  U extends string,
  D extends string,
  S extends string,
  G extends string,
  N extends string,
  B extends string,
>(up: U, down: D, step: S, okGuard: G, next: N, back: B) {
  return [
    { guard: { type: 'isButton', params: { names: ['up'] } }, actions: ['touch', up] },
    { guard: { type: 'isButton', params: { names: ['down'] } }, actions: ['touch', down] },
    {
      guard: { type: 'isButton', params: { names: ['amount1', 'amount2', 'amount3', 'amount4'] } },
      actions: ['touch', step],
    },
    { guard: okGuard, target: next, actions: 'touch' },
    { guard: { type: 'isButton', params: { names: ['cancel'] } }, target: back, actions: 'touch' },
    { actions: 'touch' },
  ] as const;
}

/** Two choices on keys 1 and 2 (each with its target and action), C back to `back`. */
function twoChoices<T1 extends string, A1, T2 extends string, A2, B extends string>(
  one: { target: T1; action: A1 },
  two: { target: T2; action: A2 },
  back: B,
) {
  return [
    {
      guard: { type: 'isButton', params: { names: ['amount1'] } },
      target: one.target,
      actions: ['touch', one.action],
    },
    {
      guard: { type: 'isButton', params: { names: ['amount2'] } },
      target: two.target,
      actions: ['touch', two.action],
    },
    { guard: { type: 'isButton', params: { names: ['cancel'] } }, target: back, actions: 'touch' },
    { actions: 'touch' },
  ] as const;
}

/** The `report` action with its params, for the machine's transitions. */
function reporting(params: ServiceReport) {
  return { type: 'report' as const, params };
}

/** A report emitted, and sent up to the kiosk when it runs the menu (machines/emit-up.ts). */
function reportUp(
  enqueue: EmitEnqueuer<ServiceReportEvent>,
  self: Pick<AnyActorRef, '_parent'>,
  report: ServiceReport,
) {
  emitUp(enqueue, self, { type: 'service_report', report });
}

export const serviceMenuMachine = setup({
  types: {
    context: {} as ServiceMenuContext,
    events: {} as HardwareEvent,
    input: {} as ServiceMenuInput,
    output: {} as ServiceMenuOutput,
    emitted: {} as ServiceReportEvent,
  },
  actors: {
    checkPin: notProvided<CheckPinOutput, CheckPinInput>('checkPin'),
    info: notProvided<ServiceInfo>('info'),
    testPrint: notProvided<void>('testPrint'),
    deviceTest: notProvided<DeviceTestResult[]>('deviceTest'),
    cashStatus: notProvided<CashStatusOutput>('cashStatus'),
    collectCash: notProvided<CollectCashOutput, CollectCashInput>('collectCash'),
    recentReceipts: notProvided<RecentReceiptsOutput>('recentReceipts'),
    reprint: notProvided<ReprintOutput, ReprintInput>('reprint'),
    stockStatus: notProvided<StockStatusOutput>('stockStatus'),
    setStock: notProvided<void, SetStockInput>('setStock'),
    unblockSlot: notProvided<UnblockSlotOutput, UnblockSlotInput>('unblockSlot'),
    terminalDuty: notProvided<TerminalDutyOutput, TerminalDutyInput>('terminalDuty'),
    unsettled: notProvided<UnsettledOutput>('unsettled'),
    settleRelease: notProvided<SettleReleaseOutput, SettleReleaseInput>('settleRelease'),
    hopperStatus: notProvided<HopperStatusOutput>('hopperStatus'),
    hopperCount: notProvided<HopperCountOutput, HopperCountInput>('hopperCount'),
    openVouchers: notProvided<OpenVouchersOutput>('openVouchers'),
    payOutVoucher: notProvided<PayOutVoucherOutput, PayOutVoucherInput>('payOutVoucher'),
  },
  actions: {
    /** Every technician's action: the app logs it, journals it and tells the fleet. */
    report: enqueueActions(({ enqueue, self }, report: ServiceReport) => reportUp(enqueue, self, report)),
    /** Tell the kiosk the gate; a menu run alone (tests) has no parent. */
    tellParent: enqueueActions(({ context, self, enqueue }) => {
      const parent = self._parent;
      if (!parent) return;
      const status: ServiceStatusEvent = {
        type: 'SERVICE_STATUS',
        loggedIn: context.loggedIn,
        failedTries: context.failedTries,
        lockedUntil: context.lockedUntil,
      };
      enqueue.sendTo(parent, status);
    }),
    tick: assign(({ context, event }) =>
      event.type === 'TICK' ? { now: event.now, ticks: context.ticks + 1 } : {},
    ),
    touch: assign(({ context }) => ({ lastInput: context.now })),
    clearNotice: assign({ notice: null }),
    resetDigits: assign({ digits: [], digit: 0 }),
    digitUp: assign(({ context }) => ({ digit: (context.digit + 1) % 10 })),
    digitDown: assign(({ context }) => ({ digit: (context.digit + 9) % 10 })),
    takeDigit: assign(({ context, event }) => {
      const name = button(event) ?? '';
      const typed = name.startsWith('amount') ? Number(name.slice(6)) : context.digit;
      return { digits: [...context.digits, typed], digit: 0 };
    }),
    dropDigit: assign(({ context }) => ({ digits: context.digits.slice(0, -1), digit: 0 })),
    login: assign(({ context }) => ({
      loggedIn: true,
      failedTries: 0,
      lockedUntil: null,
      cursor: 0,
      lastInput: context.now,
      notice: null,
    })),
    logout: assign({ loggedIn: false }),
    wrongPin: assign(({ context }) => ({
      failedTries: context.failedTries + 1,
      notice: 'pin_wrong' as const,
    })),
    lockOut: assign(({ context }) => ({
      failedTries: context.failedTries + 1,
      lockedUntil: context.now + context.cfg.lockoutMs,
      notice: null,
    })),
    unlock: assign({ failedTries: 0, lockedUntil: null }),
    setNotice: assign((_, params: { notice: ServiceNotice }) => ({ notice: params.notice })),
    cursorUp: assign(({ context }) => ({
      cursor: (context.cursor + SERVICE_ENTRIES.length - 1) % SERVICE_ENTRIES.length,
    })),
    cursorDown: assign(({ context }) => ({ cursor: (context.cursor + 1) % SERVICE_ENTRIES.length })),
    showInfo: assign((_, info: ServiceInfo) => ({ list: infoItems(info), top: 0 })),
    showDevices: assign((_, results: DeviceTestResult[]) => ({
      list: deviceItems(results),
      top: 0,
    })),
    scrollUp: assign(({ context }) => ({ top: Math.max(0, context.top - 1) })),
    scrollDown: assign(({ context }) => ({
      top: Math.min(Math.max(0, context.list.length - 1), context.top + 1),
    })),
    startCounting: assign((_, out: CashStatusOutput) => {
      const expected = out.expected;
      // The journal's figure is the likely count: the technician only corrects a difference.
      return { expected, counted: Math.max(0, expected), step: CASH_STEPS[1] ?? 100 };
    }),
    countUp: assign(({ context }) => ({ counted: Math.min(MAX_COUNTED, context.counted + context.step) })),
    countDown: assign(({ context }) => ({ counted: Math.max(0, context.counted - context.step) })),
    chooseStep: assign(({ context, event }) => {
      const name = button(event) ?? '';
      return { step: CASH_STEPS[Number(name.slice(6)) - 1] ?? context.step };
    }),
    setResult: assign((_, params: { result: ServiceResult }) => ({
      result: params.result,
      resultDetail: null,
    })),
    reportCollected: enqueueActions(({ context, enqueue, self }) =>
      reportUp(enqueue, self, {
        action: 'cash_collected',
        ok: true,
        counted: context.counted,
        expected: context.expected,
      }),
    ),
    showStock: assign((_, out: StockStatusOutput) => ({ slots: out.slots, slotAt: 0 })),
    /** Up/down in a page's list, round. */
    moveIn: assign(({ context }, params: { list: PageList; by: 1 | -1 }) => {
      const at = PAGE_LISTS[params.list];
      const n = Math.max(1, context[params.list].length);
      return { [at]: (context[at] + n + params.by) % n } as Partial<ServiceMenuContext>;
    }),
    // The journal's figure is the likely count: the technician corrects it, or fills up (`amount1`).
    startStockCount: assign(({ context }) => ({ stockCount: context.slots[context.slotAt]?.stock ?? 0 })),
    stockUp: assign(({ context }) => ({
      stockCount: Math.min(context.slots[context.slotAt]?.capacity ?? 0, context.stockCount + 1),
    })),
    stockDown: assign(({ context }) => ({ stockCount: Math.max(0, context.stockCount - 1) })),
    stockFull: assign(({ context }) => ({ stockCount: context.slots[context.slotAt]?.capacity ?? 0 })),
    chooseDuty: assign(({ event }) => ({
      duty: TERMINAL_DUTIES[Number((button(event) ?? '').slice(6)) - 1] ?? null,
    })),
    dutyResult: assign((_, out: TerminalDutyOutput) => {
      return { result: out.ok ? 'terminal_done' : 'terminal_failed', resultDetail: out.detail } as const;
    }),
    /** After the duty's answer, or its error (then reported failed with the error's text). */
    reportDuty: enqueueActions(
      ({ context, enqueue, self }, answer: { out: TerminalDutyOutput } | { error: unknown }) => {
        const out = ('out' in answer ? answer.out : undefined) ?? {
          ok: false,
          detail: errorText(answer),
        };
        reportUp(enqueue, self, {
          action: `terminal_${context.duty ?? 'diagnosis'}`,
          ok: out.ok,
          detail: out.detail,
        });
      },
    ),
    showReleases: assign((_, out: UnsettledOutput) => ({
      releases: out.releases,
      releaseAt: 0,
      settleHow: null,
    })),
    chooseHow: assign((_, params: { how: SettleHow }) => ({ settleHow: params.how })),
    settled: enqueueActions(({ context, enqueue, self }, out: SettleReleaseOutput) => {
      const r = context.releases[context.releaseAt];
      const result: ServiceResult =
        context.settleHow !== 'refunded'
          ? 'release_delivered'
          : out.printed
            ? 'release_refunded'
            : 'release_not_printed';
      const blocked = out.slotBlocked ?? null;
      // Delivered: the detail is why the slot stays blocked (null: it works again; the screen says which).
      enqueue.assign({ result, resultDetail: result === 'release_delivered' ? blocked : out.voucher });
      // The voucher's short id only (what is printed under its QR): the code itself pays.
      reportUp(enqueue, self, {
        action: 'release_settled',
        ok: true,
        detail: [
          r?.jobId,
          context.settleHow,
          out.voucher,
          context.settleHow === 'refunded' && !out.printed ? 'not printed' : null,
          blocked ? `slot blocked: ${blocked}` : null,
        ]
          .filter(Boolean)
          .join(' '),
      });
    }),
    showHopper: assign((_, out: HopperStatusOutput) => ({ hopper: out.hopper })),
    hopperMode: assign((_, params: { mode: 'fill' | 'empty' }) => ({
      hopperMode: params.mode,
      hopperCount: 0,
      hopperStep: HOPPER_STEPS[1] ?? 10,
    })),
    hopperUp: assign(({ context }) => ({
      // Never more out than the books hold (when they know).
      hopperCount: Math.min(
        context.hopperMode === 'empty' && context.hopper?.coins != null
          ? context.hopper.coins
          : MAX_HOPPER_COINS,
        context.hopperCount + context.hopperStep,
      ),
    })),
    hopperDown: assign(({ context }) => ({
      hopperCount: Math.max(0, context.hopperCount - context.hopperStep),
    })),
    hopperChooseStep: assign(({ context, event }) => ({
      hopperStep: HOPPER_STEPS[Number((button(event) ?? '').slice(6)) - 1] ?? context.hopperStep,
    })),
    hopperCounted: enqueueActions(({ context, enqueue, self }, out: HopperCountOutput) => {
      enqueue.assign({
        result: 'hopper_counted',
        resultDetail: null,
        hopper: context.hopper ? { ...context.hopper, coins: out.coins } : null,
      });
      reportUp(enqueue, self, {
        action: context.hopperMode === 'empty' ? 'hopper_emptied' : 'hopper_filled',
        ok: true,
        detail: `${context.hopperMode === 'empty' ? '-' : '+'}${context.hopperCount} -> ${out.coins}`,
      });
    }),
    /** After the reprint, or its error (then reported failed with the error's text). */
    reportReprint: enqueueActions(({ context, enqueue, self }, failure: { error: unknown } | undefined) => {
      const r = context.receipts[context.receiptAt];
      const failed = failure !== undefined && failure.error !== undefined;
      const detail = [r?.no ?? r?.jobId, failed ? errorText(failure) : null].filter(Boolean).join(' ');
      reportUp(enqueue, self, { action: 'reprint', ok: !failed, ...(detail ? { detail } : {}) });
    }),
    showReceipts: assign((_, out: RecentReceiptsOutput) => ({
      receipts: out.receipts,
      receiptAt: 0,
    })),
    showVouchers: assign((_, out: OpenVouchersOutput) => ({
      vouchers: out.vouchers,
      voucherAt: 0,
    })),
    paidOut: enqueueActions(({ enqueue, self }, out: PayOutVoucherOutput) => {
      enqueue.assign({ result: 'voucher_paid_out', resultDetail: formatCents(out.cents) });
      // The label only (short id under the QR, or an old code masked): the code itself pays.
      reportUp(enqueue, self, {
        action: 'voucher_paid_out',
        ok: true,
        detail: `${out.label} ${formatCents(out.cents)}`,
      });
    }),
    failResult: assign(({ event }, params: { result: ServiceResult }) => ({
      result: params.result,
      resultDetail: errorText(event),
    })),
  },
  guards: {
    stillLocked: ({ context }) => context.lockedUntil !== null && context.now < context.lockedUntil,
    lockExpired: ({ context, event }) =>
      event.type === 'TICK' && context.lockedUntil !== null && event.now >= context.lockedUntil,
    lockStale: ({ context }) => context.lockedUntil !== null && context.now >= context.lockedUntil,
    pinComplete: ({ context }) => context.digits.length >= context.cfg.pinLength,
    pinOk: (_, out: CheckPinOutput) => out.result === 'ok',
    pinNotConfigured: (_, out: CheckPinOutput) => out.result === 'not_configured',
    lastTry: ({ context }) => context.failedTries + 1 >= context.cfg.maxTries,
    idleExpired: ({ context, event }) =>
      event.type === 'TICK' && event.now - context.lastInput >= context.cfg.idleMs,
    isEntry: ({ context }, params: { entry: ServiceEntry }) =>
      SERVICE_ENTRIES[context.cursor] === params.entry,
    reprinted: (_, out: ReprintOutput) => out.reprinted,
    reportPrinted: (_, out: CollectCashOutput) => out.printed,
    hasSlots: (_, out: StockStatusOutput) => out.slots.length > 0,
    chosenSlotBlocked: ({ context }) => (context.slots[context.slotAt]?.blocked ?? null) !== null,
    hasReleases: (_, out: UnsettledOutput) => out.releases.length > 0,
    hasHopper: (_, out: HopperStatusOutput) => out.hopper !== null,
    hasVouchers: (_, out: OpenVouchersOutput) => out.vouchers.length > 0,
    hasReceipts: (_, out: RecentReceiptsOutput) => out.receipts.length > 0,
    okWithCoins: ({ context, event }) => button(event) === 'ok' && context.hopperCount > 0,
    okPressed: ({ event }) => button(event) === 'ok',
    isCancelDuty: ({ context }) => context.duty === 'cancel_last',
    isButton: ({ event }, params: { names: readonly string[] }) => params.names.includes(button(event) ?? ''),
  },
}).createMachine({
  id: 'serviceMenu',
  context: ({ input }) => ({
    cfg: { ...DEFAULT_SERVICE_CONFIG, ...input.config },
    now: input.now ?? 0,
    ticks: 0,
    failedTries: input.gate?.failedTries ?? 0,
    lockedUntil: input.gate?.lockedUntil ?? null,
    loggedIn: false,
    digits: [],
    digit: 0,
    notice: null,
    cursor: 0,
    lastInput: input.now ?? 0,
    list: [],
    top: 0,
    expected: 0,
    counted: 0,
    step: 100,
    result: null,
    slots: [],
    slotAt: 0,
    stockCount: 0,
    resultDetail: null,
    duty: null,
    releases: [],
    releaseAt: 0,
    settleHow: null,
    hopper: null,
    hopperMode: null,
    hopperCount: 0,
    hopperStep: 10,
    vouchers: [],
    voucherAt: 0,
    receipts: [],
    receiptAt: 0,
  }),
  on: { TICK: { actions: 'tick' } },
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: 'stillLocked', target: 'lockedOut' },
        // Locked while nobody looked: the time is served, the tries start again.
        {
          guard: 'lockStale',
          target: 'pin',
          actions: ['unlock', 'tellParent', reporting({ action: 'pin_lockout_ended', ok: true })],
        },
        { target: 'pin' },
      ],
    },
    pin: {
      entry: 'resetDigits',
      on: {
        BUTTON: [
          { guard: { type: 'isButton', params: { names: ['up'] } }, actions: ['clearNotice', 'digitUp'] },
          { guard: { type: 'isButton', params: { names: ['down'] } }, actions: ['clearNotice', 'digitDown'] },
          {
            guard: { type: 'isButton', params: { names: ['cancel'] } },
            actions: ['clearNotice', 'dropDigit'],
          },
          {
            guard: {
              type: 'isButton',
              params: { names: ['ok', 'amount1', 'amount2', 'amount3', 'amount4'] },
            },
            actions: ['clearNotice', 'takeDigit'],
          },
        ],
      },
      always: { guard: 'pinComplete', target: 'checking' },
    },
    checking: {
      invoke: {
        id: 'checkPin',
        src: 'checkPin',
        input: ({ context }) => ({ pin: context.digits.join('') }),
        onDone: [
          {
            guard: { type: 'pinOk', params: ({ event }) => event.output },
            target: 'menu',
            actions: ['login', 'tellParent', reporting({ action: 'login', ok: true })],
          },
          {
            guard: { type: 'pinNotConfigured', params: ({ event }) => event.output },
            target: 'pin',
            actions: [{ type: 'setNotice', params: { notice: 'pin_not_configured' } }],
          },
          {
            guard: 'lastTry',
            target: 'lockedOut',
            actions: ['lockOut', 'tellParent', reporting({ action: 'pin_lockout', ok: false })],
          },
          {
            target: 'pin',
            actions: ['wrongPin', 'tellParent', reporting({ action: 'pin_wrong', ok: false })],
          },
        ],
        onError: { target: 'pin', actions: { type: 'setNotice', params: { notice: 'pin_error' } } },
      },
      // The digits are needed only for the check's input.
      exit: 'resetDigits',
    },
    lockedOut: {
      on: {
        TICK: [
          {
            guard: 'lockExpired',
            target: 'pin',
            actions: ['tick', 'unlock', 'tellParent', reporting({ action: 'pin_lockout_ended', ok: true })],
          },
          { actions: 'tick' },
        ],
      },
    },
    menu: {
      initial: 'main',
      on: {
        TICK: [
          {
            guard: 'idleExpired',
            target: 'pin',
            actions: ['tick', 'logout', 'tellParent', reporting({ action: 'idle_logout', ok: true })],
          },
          { actions: 'tick' },
        ],
        BUTTON: { actions: 'touch' },
      },
      states: {
        main: {
          on: {
            BUTTON: [
              { guard: { type: 'isButton', params: { names: ['up'] } }, actions: ['touch', 'cursorUp'] },
              { guard: { type: 'isButton', params: { names: ['down'] } }, actions: ['touch', 'cursorDown'] },
              {
                guard: { type: 'isButton', params: { names: ['cancel'] } },
                target: '#serviceMenu.pin',
                actions: ['logout', 'tellParent', reporting({ action: 'logout', ok: true })],
              },
              {
                guard: { type: 'isButton', params: { names: ['ok'] } },
                actions: 'touch',
                target: 'selected',
              },
              { actions: 'touch' },
            ],
          },
        },
        selected: {
          always: [
            { guard: { type: 'isEntry', params: { entry: 'info' } }, target: 'info' },
            { guard: { type: 'isEntry', params: { entry: 'testPrint' } }, target: 'testPrint' },
            { guard: { type: 'isEntry', params: { entry: 'deviceTest' } }, target: 'deviceTest' },
            { guard: { type: 'isEntry', params: { entry: 'cash' } }, target: 'cash' },
            { guard: { type: 'isEntry', params: { entry: 'reprint' } }, target: 'reprint' },
            { guard: { type: 'isEntry', params: { entry: 'stock' } }, target: 'stock' },
            { guard: { type: 'isEntry', params: { entry: 'releases' } }, target: 'releases' },
            { guard: { type: 'isEntry', params: { entry: 'hopper' } }, target: 'hopper' },
            { guard: { type: 'isEntry', params: { entry: 'vouchers' } }, target: 'vouchers' },
            { guard: { type: 'isEntry', params: { entry: 'terminal' } }, target: 'terminal' },
            {
              target: '#serviceMenu.left',
              actions: ['logout', 'tellParent', reporting({ action: 'leave', ok: true })],
            },
          ],
        },
        info: {
          initial: 'loading',
          states: {
            loading: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'info',
                src: 'info',
                onDone: {
                  target: 'show',
                  actions: [
                    { type: 'showInfo', params: ({ event }) => event.output },
                    reporting({ action: 'info', ok: true }),
                  ],
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: { type: 'failResult', params: { result: 'load_failed' } },
                },
              },
            },
            show: scrolling,
          },
        },
        testPrint: {
          on: { TICK: { actions: 'tick' } },
          invoke: {
            id: 'testPrint',
            src: 'testPrint',
            onDone: {
              target: 'result',
              actions: [
                { type: 'setResult', params: { result: 'test_printed' } },
                reporting({ action: 'test_print', ok: true }),
              ],
            },
            onError: {
              target: 'result',
              actions: [
                { type: 'failResult', params: { result: 'print_failed' } },
                enqueueActions(({ event, enqueue }) =>
                  enqueue(reporting({ action: 'test_print', ok: false, detail: errorText(event) })),
                ),
              ],
            },
          },
        },
        deviceTest: {
          initial: 'running',
          states: {
            running: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'deviceTest',
                src: 'deviceTest',
                onDone: {
                  target: 'show',
                  actions: [
                    { type: 'showDevices', params: ({ event }) => event.output },
                    enqueueActions(({ event, enqueue }) => {
                      const results = event.output;
                      enqueue(
                        reporting({
                          action: 'device_test',
                          ok: results.every((r) => r.ok),
                          detail: results.map((r) => `${r.device}:${r.status}`).join(' '),
                        }),
                      );
                    }),
                  ],
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: { type: 'failResult', params: { result: 'load_failed' } },
                },
              },
            },
            show: scrolling,
          },
        },
        cash: {
          initial: 'loading',
          states: {
            loading: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'cashStatus',
                src: 'cashStatus',
                onDone: {
                  target: 'counting',
                  actions: { type: 'startCounting', params: ({ event }) => event.output },
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: { type: 'failResult', params: { result: 'load_failed' } },
                },
              },
            },
            counting: {
              on: {
                BUTTON: countingKeys(
                  'countUp',
                  'countDown',
                  'chooseStep',
                  'okPressed',
                  'confirm',
                  '#serviceMenu.menu.main',
                ),
              },
            },
            confirm: { on: { BUTTON: okOrCancel('collecting', 'counting') } },
            collecting: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'collectCash',
                src: 'collectCash',
                input: ({ context }) => ({ counted: context.counted, expected: context.expected }),
                onDone: [
                  {
                    guard: { type: 'reportPrinted', params: ({ event }) => event.output },
                    target: '#serviceMenu.menu.result',
                    actions: [{ type: 'setResult', params: { result: 'collected' } }, 'reportCollected'],
                  },
                  {
                    target: '#serviceMenu.menu.result',
                    actions: [
                      { type: 'setResult', params: { result: 'collected_no_print' } },
                      'reportCollected',
                    ],
                  },
                ],
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'collect_failed' } },
                    enqueueActions(({ context, event, enqueue }) =>
                      enqueue(
                        reporting({
                          action: 'cash_collected',
                          ok: false,
                          counted: context.counted,
                          expected: context.expected,
                          detail: errorText(event),
                        }),
                      ),
                    ),
                  ],
                },
              },
            },
          },
        },
        reprint: {
          initial: 'loading',
          states: {
            loading: loadingList(
              'recentReceipts',
              'hasReceipts',
              'showReceipts',
              'no_receipt',
              doneOutput<RecentReceiptsOutput>(),
            ),
            // Newest first: the receipt a customer was told to ask for (paper out) need not be the last.
            choose: choosing('receipts', 'printing'),
            printing: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'reprint',
                src: 'reprint',
                input: ({ context }) => ({ jobId: context.receipts[context.receiptAt]?.jobId ?? '' }),
                onDone: [
                  {
                    guard: { type: 'reprinted', params: ({ event }) => event.output },
                    target: '#serviceMenu.menu.result',
                    actions: [{ type: 'setResult', params: { result: 'reprinted' } }, 'reportReprint'],
                  },
                  {
                    target: '#serviceMenu.menu.result',
                    actions: [
                      { type: 'setResult', params: { result: 'no_receipt' } },
                      reporting({ action: 'reprint', ok: false, detail: 'no receipt' }),
                    ],
                  },
                ],
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'print_failed' } },
                    { type: 'reportReprint', params: ({ event }) => ({ error: event.error }) },
                  ],
                },
              },
            },
          },
        },
        stock: {
          initial: 'loading',
          states: {
            loading: loadingList(
              'stockStatus',
              'hasSlots',
              'showStock',
              'no_slots',
              doneOutput<StockStatusOutput>(),
            ),
            choose: {
              on: {
                BUTTON: [
                  // 2 on a blocked slot: the technician cleared it (no count; refused while its sensor is active).
                  {
                    guard: and([{ type: 'isButton', params: { names: ['amount2'] } }, 'chosenSlotBlocked']),
                    target: 'unblockConfirm',
                    actions: 'touch',
                  },
                  ...choosing('slots', 'count', 'startStockCount').on.BUTTON,
                ],
              },
            },
            unblockConfirm: { on: { BUTTON: okOrCancel('unblocking', 'choose') } },
            unblocking: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'unblockSlot',
                src: 'unblockSlot',
                input: ({ context }) => ({ slot: context.slots[context.slotAt]?.id ?? '' }),
                onDone: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'setResult', params: { result: 'slot_unblocked' } },
                    enqueueActions(({ context, enqueue }) =>
                      enqueue(
                        reporting({
                          action: 'slot_unblocked',
                          ok: true,
                          detail: context.slots[context.slotAt]?.id ?? '',
                        }),
                      ),
                    ),
                  ],
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'unblock_failed' } },
                    enqueueActions(({ event, enqueue }) =>
                      enqueue(reporting({ action: 'slot_unblocked', ok: false, detail: errorText(event) })),
                    ),
                  ],
                },
              },
            },
            count: {
              on: {
                BUTTON: [
                  { guard: { type: 'isButton', params: { names: ['up'] } }, actions: ['touch', 'stockUp'] },
                  {
                    guard: { type: 'isButton', params: { names: ['down'] } },
                    actions: ['touch', 'stockDown'],
                  },
                  {
                    guard: { type: 'isButton', params: { names: ['amount1'] } },
                    actions: ['touch', 'stockFull'],
                  },
                  {
                    guard: { type: 'isButton', params: { names: ['ok'] } },
                    target: 'saving',
                    actions: 'touch',
                  },
                  {
                    guard: { type: 'isButton', params: { names: ['cancel'] } },
                    target: 'choose',
                    actions: 'touch',
                  },
                  { actions: 'touch' },
                ],
              },
            },
            saving: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'setStock',
                src: 'setStock',
                input: ({ context }) => ({
                  slot: context.slots[context.slotAt]?.id ?? '',
                  count: context.stockCount,
                }),
                onDone: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'setResult', params: { result: 'stock_set' } },
                    enqueueActions(({ context, enqueue }) =>
                      enqueue(
                        reporting({
                          action: 'stock_set',
                          ok: true,
                          detail: `${context.slots[context.slotAt]?.id ?? ''}=${context.stockCount}`,
                        }),
                      ),
                    ),
                  ],
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'stock_failed' } },
                    enqueueActions(({ event, enqueue }) =>
                      enqueue(reporting({ action: 'stock_set', ok: false, detail: errorText(event) })),
                    ),
                  ],
                },
              },
            },
          },
        },
        releases: {
          initial: 'loading',
          states: {
            loading: loadingList(
              'unsettled',
              'hasReleases',
              'showReleases',
              'no_releases',
              doneOutput<UnsettledOutput>(),
            ),
            choose: choosing('releases', 'decide'),
            // 1: the goods were given (the technician found them gone); 2: not given, a voucher.
            decide: {
              on: {
                BUTTON: twoChoices(
                  { target: 'confirm', action: { type: 'chooseHow', params: { how: 'delivered' } } as const },
                  { target: 'confirm', action: { type: 'chooseHow', params: { how: 'refunded' } } as const },
                  'choose',
                ),
              },
            },
            // Money either way (a price kept or given back): asked once more.
            confirm: { on: { BUTTON: okOrCancel('settling', 'decide') } },
            settling: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'settleRelease',
                src: 'settleRelease',
                input: ({ context }) => ({
                  jobId: context.releases[context.releaseAt]?.jobId ?? '',
                  how: context.settleHow ?? 'delivered',
                }),
                onDone: {
                  target: '#serviceMenu.menu.result',
                  actions: { type: 'settled', params: ({ event }) => event.output },
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'settle_failed' } },
                    enqueueActions(({ context, event, enqueue }) =>
                      enqueue(
                        reporting({
                          action: 'release_settled',
                          ok: false,
                          detail: `${context.releases[context.releaseAt]?.jobId ?? ''} ${errorText(event)}`,
                        }),
                      ),
                    ),
                  ],
                },
              },
            },
          },
        },
        hopper: {
          initial: 'loading',
          states: {
            loading: loadingList(
              'hopperStatus',
              'hasHopper',
              'showHopper',
              'no_hopper',
              doneOutput<HopperStatusOutput>(),
            ),
            // 1: coins put in; 2: coins taken out.
            choose: {
              on: {
                BUTTON: twoChoices(
                  { target: 'count', action: { type: 'hopperMode', params: { mode: 'fill' } } as const },
                  { target: 'count', action: { type: 'hopperMode', params: { mode: 'empty' } } as const },
                  '#serviceMenu.menu.main',
                ),
              },
            },
            // OK only once there is something to book.
            count: {
              on: {
                BUTTON: countingKeys(
                  'hopperUp',
                  'hopperDown',
                  'hopperChooseStep',
                  'okWithCoins',
                  'confirm',
                  'choose',
                ),
              },
            },
            confirm: { on: { BUTTON: okOrCancel('saving', 'count') } },
            saving: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'hopperCount',
                src: 'hopperCount',
                input: ({ context }) => ({
                  coins: context.hopperMode === 'empty' ? -context.hopperCount : context.hopperCount,
                }),
                onDone: {
                  target: '#serviceMenu.menu.result',
                  actions: { type: 'hopperCounted', params: ({ event }) => event.output },
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'hopper_failed' } },
                    enqueueActions(({ context, event, enqueue }) =>
                      enqueue(
                        reporting({
                          action: context.hopperMode === 'empty' ? 'hopper_emptied' : 'hopper_filled',
                          ok: false,
                          detail: errorText(event),
                        }),
                      ),
                    ),
                  ],
                },
              },
            },
          },
        },
        vouchers: {
          initial: 'loading',
          states: {
            loading: loadingList(
              'openVouchers',
              'hasVouchers',
              'showVouchers',
              'no_vouchers',
              doneOutput<OpenVouchersOutput>(),
            ),
            choose: choosing('vouchers', 'confirm'),
            // Cash leaves the kiosk: asked once more, with the amount.
            confirm: { on: { BUTTON: okOrCancel('paying', 'choose') } },
            paying: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'payOutVoucher',
                src: 'payOutVoucher',
                input: ({ context }) => ({ key: context.vouchers[context.voucherAt]?.key ?? '' }),
                onDone: {
                  target: '#serviceMenu.menu.result',
                  actions: { type: 'paidOut', params: ({ event }) => event.output },
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'payout_refused' } },
                    enqueueActions(({ context, event, enqueue }) =>
                      enqueue(
                        reporting({
                          action: 'voucher_paid_out',
                          ok: false,
                          detail: `${context.vouchers[context.voucherAt]?.label ?? ''} ${errorText(event)}`,
                        }),
                      ),
                    ),
                  ],
                },
              },
            },
          },
        },
        terminal: {
          initial: 'choose',
          states: {
            choose: {
              on: {
                BUTTON: [
                  {
                    guard: { type: 'isButton', params: { names: ['cancel'] } },
                    target: '#serviceMenu.menu.main',
                    actions: 'touch',
                  },
                  {
                    guard: {
                      type: 'isButton',
                      params: { names: ['amount1', 'amount2', 'amount3', 'amount4'] },
                    },
                    actions: ['touch', 'chooseDuty'],
                    target: 'chosen',
                  },
                  { actions: 'touch' },
                ],
              },
            },
            chosen: {
              always: [
                // A reversal gives money back: asked once more (amount1..4 always name a duty).
                { guard: 'isCancelDuty', target: 'confirm' },
                { target: 'running' },
              ],
            },
            confirm: { on: { BUTTON: okOrCancel('running', 'choose') } },
            running: {
              on: { TICK: { actions: 'tick' } },
              invoke: {
                id: 'terminalDuty',
                src: 'terminalDuty',
                input: ({ context }) => ({ duty: context.duty ?? 'diagnosis' }),
                onDone: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'dutyResult', params: ({ event }) => event.output },
                    { type: 'reportDuty', params: ({ event }) => ({ out: event.output }) },
                  ],
                },
                onError: {
                  target: '#serviceMenu.menu.result',
                  actions: [
                    { type: 'failResult', params: { result: 'terminal_failed' } },
                    { type: 'reportDuty', params: ({ event }) => ({ error: event.error }) },
                  ],
                },
              },
            },
          },
        },
        result: {
          on: {
            BUTTON: [
              {
                guard: { type: 'isButton', params: { names: ['ok', 'cancel'] } },
                target: 'main',
                actions: 'touch',
              },
              { actions: 'touch' },
            ],
          },
        },
      },
    },
    left: { type: 'final' },
  },
  output: () => ({ left: true }),
});

export type ServiceMenuMachine = typeof serviceMenuMachine;
