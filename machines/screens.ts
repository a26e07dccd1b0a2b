/**
 * The display is a pure function of a machine's snapshot: `screenFor(snapshot, {cols, rows, lang})`
 * gives exactly `rows` lines of at most `cols` characters, for the kiosk (which shows its session's
 * screen while serving) or a checkout/top-up session alone. Every state has an entry in the tables
 * below (a test checks it). Lines are listed most important first: a 2-row display shows the
 * first two, a 4-row display all four. While waiting on the API or the terminal, the first line
 * carries a moving indicator (from the TICK counter, or `now`), and past `slowMs` a line says why.
 */
import { formatCents, type Cents } from '../src/api/money.js';
import type { KioskContext } from './kiosk.machine.js';
import { t, type Lang, type MessageKey } from './messages.js';
import { basketSum, held, receiptPossible, type SessionContext } from './session-context.js';
import { voucherShortCode } from './scan.js';
import { largestAccepted } from './accepted-coins.js';
import { SERVICE_ENTRIES, type ServiceListItem, type ServiceMenuContext } from './service-menu.machine.js';

export interface ScreenOptions {
  cols: 16 | 20;
  rows: 2 | 4;
  lang?: Lang;
  /** Wall clock (ms); defaults to the machine's last TICK. */
  now?: number;
  /** Throw instead of clipping a line that is too long (tests: catalogue texts must fit). */
  strict?: boolean;
}

/** The parts of a snapshot the screens read (any machine snapshot of ours has them). */
export interface ScreenSnapshot {
  value: unknown;
  context: unknown;
  machine?: { id: string };
  children?: Record<string, { getSnapshot(): unknown } | undefined>;
}

type Lines = (string | null | undefined)[];
interface Screen {
  lines: Lines;
  /** Waiting on something outside: animate, and say why when it takes long. */
  busy?: { slow: MessageKey; slow2?: MessageKey };
}

interface Render {
  lang: Lang;
  cols: number;
  rows: number;
  /**
   * Alternates 0/1 every few seconds: where a 2-row display has no room for two important lines,
   * they take turns (the amount stays put; the hint around it changes).
   */
  phase: 0 | 1;
  /** Counts up every few seconds, for lines that take turns (see `pick`). */
  turn: number;
  /** Money that fits: "Guthaben 12,50 EUR", else without currency, else the amount alone. */
  money(key: MessageKey, cents: Cents): string;
  m(key: MessageKey, vars?: Record<string, string | number>): string;
}

type SessionScreen = (c: SessionContext, r: Render) => Screen;
type KioskScreen = (c: KioskContext, r: Render) => Screen;
type ServiceScreen = (c: ServiceMenuContext, r: Render) => Screen;

const busy = (lines: Lines, slow: MessageKey = 'slowServer', slow2: MessageKey = 'slowServer2'): Screen => ({
  lines,
  busy: { slow, slow2 },
});

function notice(c: SessionContext, r: Render): string | null {
  return c.notice ? r.m(`notice_${c.notice}`) : null;
}
function cardLine(c: SessionContext, r: Render): string | null {
  if (!c.card) return null;
  return c.card.groupName ? r.m('card', { name: c.card.groupName }) : r.m('cardNoName');
}

const waitApi: SessionScreen = (_c, r) => busy([r.m('working')]);
const checkingCard: SessionScreen = (_c, r) => busy([r.m('checkingCard')]);
const loading: SessionScreen = (c, r) => busy([r.m('loading'), r.money('inserted', held(c))]);
/** One of the lines that take turns on one row (nulls skipped), the first at the start. */
function pick(r: Render, ...options: (string | null)[]): string | null {
  const present = options.filter((o): o is string => o !== null);
  return present.length === 0 ? null : (present[r.turn % present.length] ?? null);
}
/** What a coin too many becomes, said before the first coin: this kiosk gives no change. */
function overpayLine(c: SessionContext, r: Render): string {
  return r.m(c.card ? 'overpayToCard' : 'overpayVoucher');
}
/**
 * Paper low or out (at the start, or since: DEVICE printer): the customer learns before paying that
 * there may be no receipt. Every screen that asks for money shows it (a 2-row display in turn).
 */
function receiptLine(c: SessionContext, r: Render): string | null {
  return receiptPossible(c) ? null : r.m('noReceipt');
}
/** What the loyalty card pays of the basket (the rest, `due`, is collected by cash or terminal). */
function cardPart(c: SessionContext): number {
  return c.card && c.flow === 'checkout' ? Math.max(0, basketSum(c.basket) - c.due) : 0;
}
/** The largest coin the acceptor takes now, when larger ones are refused (per-coin inhibit). */
function coinLimitLine(c: SessionContext, r: Render): string | null {
  const largest = largestAccepted(c);
  return largest === null ? null : r.money('coinsUpTo', largest);
}
const collectingCheckout: SessionScreen = (c, r) => {
  const rest = Math.max(0, c.due - held(c));
  const amount = notice(c, r) ?? r.money('remaining', rest);
  if (c.cfg.givesChange) {
    const paper = receiptLine(c, r);
    if (r.rows === 2) return { lines: [pick(r, r.m('insert'), paper), amount] };
    return {
      lines: [r.m('insert'), amount, r.money('inserted', held(c)), pick(r, paper, r.m('cancelHint'))],
    };
  }
  const limit = coinLimitLine(c, r);
  if (r.rows === 2)
    return { lines: [pick(r, r.m('insert'), r.m('noChange'), limit, receiptLine(c, r)), amount] };
  const last = receiptLine(c, r) ?? r.m('cancelHint');
  return {
    lines: [
      r.m('insert'),
      amount,
      // With money in and coins refused (the hopper may have dropped out since the first coin), the
      // amount in takes turns with "no change": said within one turn, before the next coin.
      held(c) > 0
        ? limit
          ? pick(r, r.money('inserted', held(c)), r.m('noChange'))
          : r.money('inserted', held(c))
        : r.m('noChange'),
      // A coin too large goes back: the customer reads which coins are taken, and what a coin too many becomes.
      limit ? pick(r, overpayLine(c, r), limit, last) : r.phase ? last : overpayLine(c, r),
    ],
  };
};
const collectingTopup: SessionScreen = (c, r) => {
  const paper = receiptLine(c, r);
  if (c.target === null) {
    if (r.rows === 2) return { lines: [pick(r, r.m('insertMoney'), paper), r.money('inserted', held(c))] };
    return {
      lines: [
        r.m('insertMoney'),
        r.money('inserted', held(c)),
        r.m('okToLoad'),
        pick(r, paper, r.m('cancelHint')),
      ],
    };
  }
  const rest = r.money('remaining', Math.max(0, c.target - held(c)));
  if (r.rows === 2) return { lines: [pick(r, r.m('insert'), paper), rest] };
  return {
    lines: [
      r.m('insert'),
      rest,
      r.money('inserted', held(c)),
      // Near the chosen amount larger coins are returned: say so in turn with the OK hint (and the paper).
      pick(r, r.m('okToLoad'), coinLimitLine(c, r), paper),
    ],
  };
};
const choosePayment: SessionScreen = (c, r) => ({
  lines: [
    r.money('toPay', c.due),
    r.rows === 2 ? pick(r, r.m('payChoice'), receiptLine(c, r)) : r.m('payChoice'),
    cardPart(c) > 0 ? r.money('cardPays', cardPart(c)) : cardLine(c, r),
    receiptLine(c, r) ?? (c.cfg.givesChange || r.phase ? r.m('cancelHint') : r.m('noChange')),
  ],
});
const problem: SessionScreen = (c, r) => {
  switch (c.problem) {
    case 'not_valid':
      return { lines: [r.m('problem_not_valid'), r.m('problem_not_valid2'), r.m('problemHint')] };
    case 'passcode':
      return { lines: [r.m('problem_passcode'), r.m('problem_passcode2'), r.m('problemHint')] };
    case 'locked':
    case 'inactive':
      return { lines: [r.m(`problem_${c.problem}`), r.m('problemHint')] };
    default:
      return { lines: [r.m('problem_unknown'), r.m('problemHint')] };
  }
};
const starting: SessionScreen = (c, r) =>
  c.method === 'cashless'
    ? busy(
        [
          r.money('terminalAmount', c.due),
          r.m('terminalHint'),
          r.m('terminal'),
          // 20x4 only: on 2 rows the line after 3 s says why the terminal takes long; the payment
          // choice said it before.
          receiptLine(c, r),
        ],
        'terminalSlow',
        'terminalHint',
      )
    : busy([r.m('paying')]);
const readingBack: SessionScreen = (_c, r) =>
  busy([r.m('checkingPayment'), null], 'checkingWhy', 'slowServer2');
/**
 * Where the customer's money went, in the words of the last step: credited to their card (which
 * one, masked), a voucher (its value; the code was shown before and is printed), or nothing held.
 */
function moneyWent(c: SessionContext, r: Render): Lines {
  const lines: Lines = [];
  // The terminal payment of goods that never came out: reversed, or its refund checked (keep the receipt).
  if (c.reversal === 'ok') lines.push(r.money('reversedAmount', c.reversed ?? 0));
  if (c.reversal === 'unknown') lines.push(r.m('refundInReview'));
  if (c.credited > 0) {
    lines.push(r.money('creditedAmount', c.credited));
    if (c.cardNumber) lines.push(r.m('creditedTo', { card: `...${c.cardNumber.slice(-4)}` }));
  }
  if (c.unclaimed > 0) {
    lines.push(r.money('voucherValue', c.unclaimed));
    if (c.voucherCode && r.rows > 2) lines.push(voucherShortCode(c.voucherCode));
  }
  return lines;
}
/** `line` if it fits, else `bare`, else the end of `bare` (a receipt number's sequence is at its end). */
function fitted(line: string, bare: string, r: Render): string {
  return line.length <= r.cols ? line : bare.length <= r.cols ? bare : bare.slice(-r.cols);
}
const farewell: SessionScreen = (c, r) => {
  const went = moneyWent(c, r);
  const receipt = c.receiptNo ? r.m('receiptNo', { no: c.receiptNo }) : null;
  switch (c.outcome) {
    case 'paid': {
      const balance = c.balanceAfter !== null ? r.money('newBalance', c.balanceAfter) : null;
      const told = [...went, balance].filter((l): l is string => typeof l === 'string' && l.length > 0);
      if (c.receiptUnprinted) {
        // Not printed, but kept in the journal: staff reprint it (service menu) by its number.
        const ask = r.m(r.cols >= 20 ? 'receiptAtStaffLong' : 'receiptAtStaff');
        const no = c.receiptNo ? fitted(r.m('receiptNoShort', { no: c.receiptNo }), c.receiptNo, r) : null;
        if (r.rows === 2) return { lines: [r.m('thanks'), pick(r, ask, no, ...told)] };
        return { lines: [r.m('thanks'), pick(r, ...told), ask, no] };
      }
      // The receipt number stays on screen (staff reprint by it); on 2 rows it takes turns.
      if (r.rows === 2) return { lines: [r.m('thanks'), pick(r, told[0] ?? null, receipt)] };
      return { lines: [r.m('thanks'), ...told.slice(0, receipt ? 2 : 3), receipt] };
    }
    case 'card_refused':
    case 'walked_away':
      return { lines: went.length > 0 ? [r.m('cancelled'), ...went, r.m('goodbye')] : [r.m('goodbye')] };
    case 'failed':
      return { lines: [r.m('payFailed'), ...went, r.m('goodbye')] };
    case 'unresolved':
      return { lines: [r.m('payUnresolved'), ...went, r.m('goodbye')] };
    case 'device_fault':
      return { lines: [r.m('deviceFault'), ...went, r.m('goodbye')] };
    default:
      return { lines: [r.m('cancelled'), ...went, r.m('goodbye')] };
  }
};

/** Screens of the states checkout and top-up share, by state path. */
const SHARED: Record<string, SessionScreen> = {
  'lookingUp.call': checkingCard,
  'lookingUp.wait': checkingCard,
  cardRefused: problem,
  'pay.starting': starting,
  'pay.retryWait': (_c, r) => busy([r.m('retrying')]),
  'pay.readingBack': readingBack,
  'pay.readBackWait': readingBack,
  'pay.confirmingNoEffect': readingBack,
  'pay.voiding': (_c, r) => busy([r.m('checkingPayment'), r.m('cancelling')], 'checkingWhy', 'slowServer2'),
  paid: (_c, r) => busy([r.m('paid'), r.m('printing'), r.m('printing2')]),
  'paid.releasing': (c, r) =>
    busy([r.m('releasing'), r.m('releasingItem', { n: c.releaseAt + 1, of: c.releases.length })]),
  'paid.next': (c, r) =>
    busy([r.m('releasing'), r.m('releasingItem', { n: c.releaseAt, of: c.releases.length })]),
  'settling.changing': (c, r) => busy([r.m('changePaying'), r.money('changeAmount', c.settling)]),
  'settling.reversing': (c, r) => busy([r.m('reversing'), r.money('reversingAmount', c.returned)]),
  payFailed: (_c, r) => ({ lines: [r.m('payFailed'), r.m('payFailedHint')] }),
  payUnresolved: (_c, r) => ({ lines: [r.m('payUnresolved'), r.m('payUnresolvedHint')] }),
  apiFailed: (_c, r) => ({ lines: [r.m('apiFailed'), r.m('apiFailedHint')] }),
  stillThere: (_c, r) => ({ lines: [r.m('stillThere'), r.m('stillThereHint')] }),
  'cancelling.check': (_c, r) => busy([r.m('cancelling')]),
  'cancelling.aborting': (_c, r) => busy([r.m('cancelling')]),
  'settling.decide': waitApi,
  'settling.crediting.call': (c, r) => busy([r.m('crediting'), r.money('creditingAmount', c.settling)]),
  'settling.crediting.wait': (c, r) => busy([r.m('crediting'), r.money('creditingAmount', c.settling)]),
  'settling.printingReceipt': (_c, r) => busy([r.m('paid'), r.m('printing'), r.m('printing2')]),
  'settling.printingCredit': (_c, r) => busy([r.m('printing'), r.m('printing2')]),
  'settling.recording': (_c, r) => busy([r.m('recording')]),
  'settling.recordWait': (_c, r) => busy([r.m('recording')]),
  'settling.printingVoucher': (_c, r) => busy([r.m('voucherPrinting')]),
  'settling.showVoucher': (c, r) => ({
    lines: [
      r.m('voucher'),
      r.m('voucherCode', { code: voucherShortCode(c.voucherCode ?? '') }),
      r.money('voucherAmount', c.settling),
      r.m('voucherHint'),
    ],
  }),
  redeemingVoucher: (_c, r) => busy([r.m('voucherChecking')]),
  voucherRefused: (c, r) => ({
    lines: [
      r.m('voucherRefused'),
      r.m(`voucherRefused_${c.voucherRefused ?? 'error'}`),
      r.m('voucherRefusedHint'),
      held(c) > 0 ? r.money('inserted', held(c)) : null,
    ],
  }),
  farewell,
  finished: farewell,
};

export const CHECKOUT_SCREENS: Record<string, SessionScreen> = {
  ...SHARED,
  'session.basket.browsing': (c, r) =>
    c.basket.length === 0
      ? {
          lines: [
            r.m('basketEmpty'),
            notice(c, r) ?? r.m('basketEmptyHint'),
            cardLine(c, r),
            r.money('inserted', held(c)),
          ],
        }
      : {
          lines: [
            r.money(
              'basketSum',
              c.basket.reduce((s, l) => s + l.priceOne * l.quantity, 0),
            ),
            notice(c, r) ?? r.m('okToPay'),
            cardLine(c, r) ?? r.m('basketItems', { n: c.basket.reduce((s, l) => s + l.quantity, 0) }),
            held(c) > 0 ? r.money('inserted', held(c)) : r.m('cancelHint'),
          ],
        },
  'session.basket.choosing': (c, r) => {
    const item = c.cfg.catalogue[c.cursor];
    return { lines: [item?.desc ?? '', item ? formatCents(item.priceOne) : '', r.m('choosingHint')] };
  },
  'session.confirmLoyalty': (c, r) => ({
    lines: [
      r.money('cardPays', cardPart(c)),
      r.rows === 2 ? pick(r, r.m('confirmHint'), receiptLine(c, r)) : r.m('confirmHint'),
      c.card ? r.money('cardBalance', c.card.balance) : null,
      receiptLine(c, r) ?? cardLine(c, r),
    ],
  }),
  'session.choosePayment.check': choosePayment,
  'session.choosePayment.choosing': choosePayment,
  'session.collecting.check': collectingCheckout,
  'session.collecting.waiting': collectingCheckout,
  'preparing.decide': waitApi,
  'preparing.creating': waitApi,
  'preparing.createWait': waitApi,
  'preparing.updating': waitApi,
  'preparing.updateWait': waitApi,
  'applyingCard.call': checkingCard,
  'applyingCard.wait': checkingCard,
};

export const TOPUP_SCREENS: Record<string, SessionScreen> = {
  ...SHARED,
  'session.scanCard': (c, r) => ({
    lines: [
      r.m('scanCard'),
      notice(c, r) ?? (r.rows === 2 ? pick(r, r.m('scanCardHint'), receiptLine(c, r)) : r.m('scanCardHint')),
      held(c) > 0 ? r.money('inserted', held(c)) : receiptLine(c, r),
      r.m('cancelHint'),
    ],
  }),
  'session.chooseAmount': (c, r) => ({
    lines: [
      r.money('balance', c.card?.balance ?? 0),
      // Money can simply be inserted here (open amount): the acceptor is on.
      r.rows === 2 ? pick(r, r.m('chooseAmount'), r.m('orInsert'), receiptLine(c, r)) : r.m('chooseAmount'),
      r.rows === 2
        ? null
        : (receiptLine(c, r) ?? (r.phase ? r.m('orInsert') : (cardLine(c, r) ?? r.m('orInsert')))),
      c.cfg.topupAmounts
        .slice(0, 4)
        .map((a, i) => `${i + 1}=${Math.floor(a / 100)}`)
        .join(' '),
    ],
  }),
  'session.collecting.check': collectingTopup,
  'session.collecting.waiting': collectingTopup,
  'loading.decide': loading,
  'loading.creating': loading,
  'loading.createWait': loading,
  'loading.updating': loading,
  'loading.updateWait': loading,
};

export const KIOSK_SCREENS: Record<string, KioskScreen> = {
  booting: (_c, r) => ({ lines: [r.m('booting')] }),
  selfTest: (_c, r) => busy([r.m('selfTest')]),
  recovering: (_c, r) => busy([r.m('recovering'), r.m('pleaseWait')], 'recoveringWhy'),
  evaluating: (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  afterSession: (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  idle: (c, r) => {
    // Before the first coin: a kiosk without change payout says so (and, with paper out, no receipt).
    const noChange = c.cfg.session.givesChange ? null : r.m('noChange');
    const paper = c.devices.printer === 'ok' ? null : r.m('noReceipt');
    if (r.rows === 2) {
      const hint = r.m(c.cfg.mode === 'topup' ? 'idleTopupHint' : 'idleCheckoutHint');
      return {
        lines: [r.m(c.cfg.mode === 'topup' ? 'idleTopup' : 'idleCheckout'), pick(r, hint, noChange, paper)],
      };
    }
    return c.cfg.mode === 'topup'
      ? { lines: [r.m('idleTopup'), r.m('idleTopupHint'), paper, noChange] }
      : {
          lines: [r.m('idleCheckout'), r.m('idleCheckoutHint'), r.m('idleCheckoutHint2'), paper ?? noChange],
        };
  },
  maintenance: (c, r) =>
    c.maintenanceByFleet && c.menuRunning
      ? { lines: [r.m('maintenance'), r.m('maintenanceHint')] }
      : {
          lines: [
            r.m('maintenance'),
            `P:${c.devices.printer} A:${c.devices.acceptor}`,
            `R:${c.devices.reader} D:${c.devices.display}`,
            c.apiReachable ? 'API ok' : 'API -',
          ],
        },
  outOfService: (c, r) => ({
    lines: [r.m('outOfService'), c.reason ? r.m(`reason_${c.reason}`) : null, r.m('sorry')],
  }),
  'serving.pick': (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  // While serving, the session's own screen is shown (see screenFor).
  'serving.topup': (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  'serving.checkout': (_c, r) => ({ lines: [r.m('pleaseWait')] }),
};

function pinLine(c: ServiceMenuContext): string {
  // Taken digits are never shown; the one being chosen with up/down has to be.
  const rest = Math.max(0, c.cfg.pinLength - c.digits.length - 1);
  return `${'*'.repeat(c.digits.length)}${c.digits.length < c.cfg.pinLength ? String(c.digit) : ''}${'_'.repeat(rest)}`;
}
function clockText(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
function itemLine(item: ServiceListItem, r: Render): string {
  switch (item.kind) {
    case 'id':
      return r.m('item_id', { v: item.text });
    case 'version':
      return r.m('item_version', { v: item.text });
    case 'ip':
      return item.text;
    case 'noIp':
      return r.m('item_noIp');
    case 'fleet':
      return r.m(`fleet_${item.state}`);
    case 'api':
      return r.m(item.ok ? 'api_ok' : 'api_down');
    case 'device': {
      // The acceptor's probe calls itself `coin`: the label is the catalogue's, in the kiosk's language.
      const device = item.device === 'coin' ? 'acceptor' : item.device;
      const known = ['printer', 'reader', 'buttons', 'acceptor', 'display'].includes(device);
      const name = known ? r.m(`dev_${device}` as MessageKey) : device;
      return `${item.ok ? '' : '!'}${name}: ${item.status}`;
    }
  }
}
const serviceList: ServiceScreen = (c, r) => ({ lines: c.list.slice(c.top).map((i) => itemLine(i, r)) });
const serviceResult: ServiceScreen = (c, r) => ({
  lines: [
    r.m(`result_${c.result ?? 'load_failed'}`),
    c.result === 'collected'
      ? r.m('svcReportPrinted')
      : c.result === 'collected_no_print'
        ? r.m('svcReportNotPrinted')
        : c.result === 'release_delivered'
          ? // Settled delivered: whether the slot works again (the detail: why it stays blocked).
            r.m(c.resultDetail ? 'svcSlotStillBlocked' : 'svcSlotFreed', {
              slot: c.releases[c.releaseAt]?.slot ?? '',
            })
          : c.resultDetail,
    r.m('svcContinue'),
  ],
});
/** The release being settled: its slot and when it was asked for (no card data is ever shown). */
function releaseLine(c: ServiceMenuContext, r: Render): string {
  const u = c.releases[c.releaseAt];
  return r.m('svcRelease', { slot: u?.slot ?? '', when: u?.when ?? '' });
}
/** The release's price, or that its amount is unknown (a paid sale of damaged records): never 0,00. */
function releasePrice(u: ServiceMenuContext['releases'][number] | undefined, r: Render): string {
  return u?.amountUnknown ? r.m('svcReleaseNoAmount') : r.money('svcReleasePrice', u?.cents ?? 0);
}
/** What the books say is in the hopper (unknown before its first fill). */
function hopperBook(c: ServiceMenuContext, r: Render): string {
  const n = c.hopper?.coins;
  return n === null || n === undefined ? r.m('svcHopperNoBook') : r.m('svcHopperBook', { n });
}
/** The coins being put in or taken out, and their value. */
const hopperLines = (c: ServiceMenuContext, r: Render): Lines => [
  r.m(c.hopperMode === 'empty' ? 'svcHopperOut' : 'svcHopperIn', { n: c.hopperCount }),
  r.money('svcHopperValue', c.hopperCount * (c.hopper?.coinCents ?? 0)),
];
/** The voucher chosen: its short id (never the code) and the day it was issued. */
function voucherLine(c: ServiceMenuContext, r: Render): string {
  const v = c.vouchers[c.voucherAt];
  return r.m('svcVoucher', { label: v?.label ?? '', day: (v?.when ?? '').slice(0, 6) });
}
const cashLines = (c: ServiceMenuContext, r: Render): Lines => [
  r.money('svcCounted', c.counted),
  r.money('svcExpected', c.expected),
];

export const SERVICE_SCREENS: Record<string, ServiceScreen> = {
  start: (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  pin: (c, r) => {
    const left = Math.max(0, c.cfg.maxTries - c.failedTries);
    return {
      lines: [
        r.m('svcPin'),
        c.notice === 'pin_wrong'
          ? r.m('svcTriesLeft', { n: left })
          : c.notice
            ? r.m(`notice_${c.notice}`)
            : r.m('svcPinLine', { pin: pinLine(c) }),
        c.notice ? r.m('svcPinLine', { pin: pinLine(c) }) : r.m('svcPinHint'),
        r.m('svcPinHint2'),
      ],
    };
  },
  checking: (_c, r) => busy([r.m('svcChecking')]),
  lockedOut: (c, r) => ({
    lines: [
      r.m('svcLocked'),
      r.m('svcLockedFor', { time: clockText((c.lockedUntil ?? 0) - c.now) }),
      r.m('svcLockedHint'),
    ],
  }),
  'menu.main': (c, r) => {
    const n = SERVICE_ENTRIES.length;
    const entry = (i: number) => r.m(`entry_${SERVICE_ENTRIES[(c.cursor + i) % n] ?? 'info'}`);
    return {
      lines: [
        r.m('svcTitle', { n: c.cursor + 1, total: n }),
        `>${entry(0)}`,
        c.cursor + 1 < n ? ` ${entry(1)}` : null,
        c.cursor + 2 < n ? ` ${entry(2)}` : null,
      ],
    };
  },
  'menu.selected': (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  'menu.info.loading': (_c, r) => busy([r.m('svcLoading')]),
  'menu.info.show': serviceList,
  'menu.testPrint': (_c, r) => busy([r.m('svcTestPrinting')]),
  'menu.deviceTest.running': (_c, r) => busy([r.m('svcDeviceTesting')]),
  'menu.deviceTest.show': serviceList,
  'menu.cash.loading': (_c, r) => busy([r.m('svcLoading')]),
  'menu.cash.counting': (c, r) => ({
    lines: [...cashLines(c, r), r.money('svcStep', c.step), r.m('svcCountHint')],
  }),
  'menu.cash.confirm': (c, r) => ({
    lines: [r.m('svcConfirm'), r.m('svcConfirmHint'), ...cashLines(c, r)],
  }),
  'menu.cash.collecting': (_c, r) => busy([r.m('svcCollecting')]),
  'menu.reprint.loading': (_c, r) => busy([r.m('svcLoading')]),
  // The number the customer was told (farewell), when it was recorded, and whether it printed then.
  'menu.reprint.choose': (c, r) => {
    const b = c.receipts[c.receiptAt];
    const no = b?.no ? fitted(r.m('receiptNoShort', { no: b.no }), b.no, r) : r.m('svcReceiptNoNumber');
    const when = b?.when ?? '';
    const unprinted = b && !b.printed ? r.m('svcReceiptUnprinted') : null;
    return {
      lines: [
        no,
        r.rows === 2 ? pick(r, when, unprinted) : when,
        unprinted ?? r.m('svcReceiptPrinted'),
        r.m('svcReceiptHint', { n: c.receiptAt + 1, total: c.receipts.length }),
      ],
    };
  },
  'menu.reprint.printing': (_c, r) => busy([r.m('svcReprinting')]),
  'menu.stock.loading': (_c, r) => busy([r.m('svcLoading')]),
  'menu.stock.choose': (c, r) => {
    const s = c.slots[c.slotAt];
    return {
      lines: [
        r.m('svcSlot', { slot: s?.id ?? '', n: s?.stock ?? 0, cap: s?.capacity ?? 0 }),
        s?.desc ?? '',
        s?.blocked ? r.m('svcSlotBlocked') : null,
        r.m('svcSlotHint'),
      ],
    };
  },
  'menu.stock.count': (c, r) => {
    const s = c.slots[c.slotAt];
    return {
      lines: [
        r.m('svcSlotCount', { slot: s?.id ?? '' }),
        r.m('svcSlotNew', { n: c.stockCount, cap: s?.capacity ?? 0 }),
        r.m('svcSlotKeys'),
        r.m('svcCountHint'),
      ],
    };
  },
  'menu.stock.saving': (_c, r) => busy([r.m('svcCollecting')]),
  'menu.stock.unblockConfirm': (c, r) => {
    const s = c.slots[c.slotAt];
    return {
      lines: [
        r.m('svcUnblock', { slot: s?.id ?? '' }),
        r.m('svcConfirmHint'),
        r.m('svcUnblockHint', { n: s?.stock ?? 0 }),
      ],
    };
  },
  'menu.stock.unblocking': (_c, r) => busy([r.m('svcCollecting')]),
  'menu.releases.loading': (_c, r) => busy([r.m('svcLoading')]),
  'menu.releases.choose': (c, r) => {
    const u = c.releases[c.releaseAt];
    return {
      lines: [
        releaseLine(c, r),
        releasePrice(u, r),
        u?.desc ?? '',
        r.m('svcReleaseHint', { n: c.releaseAt + 1, total: c.releases.length }),
      ],
    };
  },
  'menu.releases.decide': (c, r) => ({
    lines: [
      r.m('svcSettle1'),
      // No amount to give back at the kiosk: the fleet's settle-release takes the operator's amount.
      r.m(c.releases[c.releaseAt]?.amountUnknown ? 'svcSettle2Fleet' : 'svcSettle2'),
      releaseLine(c, r),
      r.m('svcSettleBack'),
    ],
  }),
  'menu.releases.confirm': (c, r) => ({
    lines: [
      r.m(c.settleHow === 'refunded' ? 'svcSettleRefund' : 'svcSettleDelivered'),
      r.m('svcConfirmHint'),
      releaseLine(c, r),
      releasePrice(c.releases[c.releaseAt], r),
    ],
  }),
  'menu.releases.settling': (_c, r) => busy([r.m('svcCollecting')]),
  'menu.hopper.loading': (_c, r) => busy([r.m('svcLoading')]),
  'menu.hopper.choose': (c, r) => ({
    lines: [
      r.m('svcHopperFill'),
      r.m('svcHopperTake'),
      hopperBook(c, r),
      r.money('svcHopperCoin', c.hopper?.coinCents ?? 0),
    ],
  }),
  'menu.hopper.count': (c, r) => ({
    lines: [...hopperLines(c, r), r.m('svcHopperStep', { n: c.hopperStep }), r.m('svcCountHint')],
  }),
  'menu.hopper.confirm': (c, r) => ({
    lines: [r.m('svcHopperConfirm'), r.m('svcConfirmHint'), ...hopperLines(c, r)],
  }),
  'menu.hopper.saving': (_c, r) => busy([r.m('svcCollecting')]),
  'menu.vouchers.loading': (_c, r) => busy([r.m('svcLoading')]),
  'menu.vouchers.choose': (c, r) => ({
    lines: [
      voucherLine(c, r),
      r.money('svcVoucherValue', c.vouchers[c.voucherAt]?.cents ?? 0),
      r.m('svcVoucherHint', { n: c.voucherAt + 1, total: c.vouchers.length }),
      r.m('svcVoucherIssued', { when: c.vouchers[c.voucherAt]?.when ?? '' }),
    ],
  }),
  // The amount on the first line: a 2-row display shows it with the question.
  'menu.vouchers.confirm': (c, r) => ({
    lines: [
      r.money('svcPayOutAsk', c.vouchers[c.voucherAt]?.cents ?? 0),
      r.m('svcConfirmHint'),
      voucherLine(c, r),
      r.m('svcPayOutCash'),
    ],
  }),
  'menu.vouchers.paying': (_c, r) => busy([r.m('svcCollecting')]),
  'menu.terminal.choose': (_c, r) => ({
    lines: [r.m('svcTerminal1'), r.m('svcTerminal2'), r.m('svcTerminal3'), r.m('svcTerminal4')],
  }),
  'menu.terminal.chosen': (_c, r) => ({ lines: [r.m('pleaseWait')] }),
  'menu.terminal.confirm': (_c, r) => ({
    lines: [r.m('svcCancelConfirm'), r.m('svcCancelConfirm2'), r.m('svcConfirmHint')],
  }),
  'menu.terminal.running': (_c, r) => busy([r.m('svcTerminalRunning')]),
  'menu.result': serviceResult,
  left: (_c, r) => ({ lines: [r.m('pleaseWait')] }),
};

/**
 * Coins taken whose journal write failed (the disk is full): whatever the state, the customer is told
 * that the money is held and will be booked, with the amount (a 2-row display alternates the first line).
 */
function heldScreen(cents: Cents, r: Render): Screen {
  const amount = r.money('heldMoney', cents);
  return r.rows === 2
    ? { lines: [pick(r, r.m('reason_storage'), r.m('heldBooked')), amount] }
    : { lines: [r.m('reason_storage'), amount, r.m('heldBooked'), r.m('heldWhen')] };
}

export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, sub] = Object.entries(value as Record<string, unknown>)[0] ?? ['', ''];
  const rest = statePath(sub);
  return rest ? `${key}.${rest}` : key;
}

const FRAMES = ['', '.', '..', '...'];
/** 12 frames of 250 ms: alternating lines stay 3 s each. */
const PHASE_FRAMES = 12;

function context0(snapshot: ScreenSnapshot): { ticks?: number } {
  return (snapshot.context ?? {}) as { ticks?: number };
}

export function screenFor(snapshot: ScreenSnapshot, opts: ScreenOptions): string[] {
  const lang = opts.lang ?? 'de';
  const id = snapshot.machine?.id ?? 'checkout';
  const path = statePath(snapshot.value);
  if (id === 'kiosk' && path.startsWith('serving.')) {
    const child = snapshot.children?.flow?.getSnapshot() as ScreenSnapshot | undefined;
    if (child && (child as { status?: string }).status === 'active') return screenFor(child, opts);
  }
  if (id === 'kiosk' && path === 'maintenance') {
    // The technician's menu while it runs; the device summary below if it crashed.
    const menu = snapshot.children?.menu?.getSnapshot() as ScreenSnapshot | undefined;
    // Switched on by the fleet, nobody has touched the kiosk yet: customers see "Wartung", not a PIN prompt.
    const byFleet = (snapshot.context as KioskContext).maintenanceByFleet;
    if (menu && (menu as { status?: string }).status === 'active' && !byFleet) return screenFor(menu, opts);
  }
  const frameNo = opts.now !== undefined ? Math.floor(opts.now / 250) : (context0(snapshot).ticks ?? 0);
  const render: Render = {
    lang,
    cols: opts.cols,
    rows: opts.rows,
    phase: Math.floor(frameNo / PHASE_FRAMES) % 2 === 0 ? 0 : 1,
    turn: Math.floor(frameNo / PHASE_FRAMES),
    m: (key, vars) => t(lang, key, vars),
    money: (key, cents) => fitMoney(lang, key, cents, opts.cols),
  };
  const context = snapshot.context as SessionContext & KioskContext;
  const held = id === 'kiosk' ? context.heldCents : id === 'serviceMenu' ? 0 : context.unwrittenCents;
  const screen: Screen =
    (held ?? 0) > 0
      ? heldScreen(held ?? 0, render)
      : (tableScreen(id, path, snapshot.context, render) ?? { lines: [path] });

  let lines = screen.lines.filter((l): l is string => typeof l === 'string' && l.length > 0);
  if (screen.busy) {
    const now = opts.now ?? context.now ?? 0;
    const slowMs = context.cfg && 'slowMs' in context.cfg ? context.cfg.slowMs : 3000;
    const since = context.waitSince ?? now;
    if (now - since >= slowMs) {
      // Why it takes long goes where a 2-row display still shows it.
      const why = [render.m(screen.busy.slow), screen.busy.slow2 ? render.m(screen.busy.slow2) : null].filter(
        (l): l is string => l !== null,
      );
      lines = opts.rows === 2 ? [lines[0] ?? '', why[0] ?? ''] : [lines[0] ?? '', ...why, ...lines.slice(1)];
    }
    // The dots use what room the title leaves (at least one column), so the text never jumps.
    const first = (lines[0] ?? '').slice(0, opts.cols - 1);
    const room = Math.min(3, opts.cols - first.length);
    const frame = (FRAMES[frameNo % FRAMES.length] ?? '').slice(0, room);
    lines[0] = `${first}${frame}`;
  }
  const out = lines.slice(0, opts.rows).map((l) => {
    if (opts.strict && l.length > opts.cols)
      throw new Error(`screen ${id}/${path}: "${l}" is longer than ${opts.cols}`);
    return clip(l, opts.cols);
  });
  while (out.length < opts.rows) out.push('');
  return out;
}

/** The screen of state `path` from the table of machine `id`, given that machine's context. */
function tableScreen(id: string, path: string, context: unknown, render: Render): Screen | undefined {
  switch (id) {
    case 'kiosk':
      return KIOSK_SCREENS[path]?.(context as KioskContext, render);
    case 'serviceMenu':
      return SERVICE_SCREENS[path]?.(context as ServiceMenuContext, render);
    case 'topup':
      return TOPUP_SCREENS[path]?.(context as SessionContext, render);
    default:
      return CHECKOUT_SCREENS[path]?.(context as SessionContext, render);
  }
}

function clip(line: string, cols: number): string {
  return line.length <= cols ? line : line.slice(0, cols);
}

function fitMoney(lang: Lang, key: MessageKey, cents: Cents, cols: number): string {
  const full = t(lang, key, { sum: formatCents(cents) });
  if (full.length <= cols) return full;
  const bare = t(lang, key, { sum: formatCents(cents, '') });
  if (bare.length <= cols) return bare;
  return formatCents(cents);
}
