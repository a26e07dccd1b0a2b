/**
 * The doors between the pure flow machines and the world. Every actor a machine invokes and every
 * action it fires is named here with its input and output; the app implements them (over the API
 * client, the printer, the journal) and hands them in with `machine.provide(...)`.
 *
 * Failures: an actor rejects with an `ApiError` (src/api/errors.ts) or anything shaped like one
 * (`kind`, `outcome`, optional `httpStatus`/`code`): the machines read only those fields, so an
 * error that crossed a process boundary as plain JSON is still understood. Any other rejection is
 * treated as "not applied, not retryable".
 */
import type { Cents } from '../src/api/money.js';
import type { DeviceHealth } from '../src/contracts/device.js';
import type { ReceiptLine } from '../src/api/schemas.js';
import type { ReadBack, StartMethod, Took } from '../src/api/types.js';

/** One basket line as the kiosk sends it (a product of the configured catalogue, or the top-up product). */
export interface BasketLine {
  id: number;
  desc: string;
  ean: string | null;
  quantity: number;
  priceOne: Cents;
  tax: number;
}

/** What the kiosk needs to know about a loyalty card (from the ident's `merchantcard`). */
export interface CardInfo {
  /** The ident's `valid`: false means the card is not accepted at this merchant. */
  valid: boolean;
  lockStatus: 'locked' | 'unlocked';
  stockStatus: 'active' | 'inactive' | 'stored';
  /** 0 none; 1 always; 2 before discharge; 3 before charge; 4 before sale; 5/6 points. */
  passcode: number;
  balance: Cents;
  cashBalance: Cents;
  bonusBalance: Cents;
  /** `cardgroup.display_name`, shown to the customer; null when the API gave none. */
  groupName: string | null;
}

export interface LookupCardInput {
  cardNumber: string;
  /** The basket to open the lookup transaction with; empty: a zero-priced lookup line. */
  basket: BasketLine[];
  flow: 'checkout' | 'topup';
  jobId: string;
}

/**
 * `found`: the card exists (it may still be unusable: check `card`); `transactionId` is the
 * transaction the lookup created, which the flow keeps for the payment (PUT) or aborts.
 * `unknown`: neither the create answer nor this merchant's loyalty cards know the card; `transactionId`
 * is the look-up's transaction (to abort). A failed look-up (1016 and other backend codes) is an error.
 */
export type LookupCardOutput =
  | { kind: 'found'; card: CardInfo; transactionId: string | null }
  | { kind: 'unknown'; transactionId: string | null };

export interface CreateTransactionInput {
  basket: BasketLine[];
  cardNumber: string | null;
  jobId: string;
}
export interface UpdateTransactionInput extends CreateTransactionInput {
  id: string;
}
/** The transaction as created/replaced: its id and the sum the API took. */
export interface TransactionRef {
  id: string;
  sum: Cents;
}

export interface PreTransactionInput {
  id: string;
}
export interface PreTransactionOutput {
  missingSum: Cents;
  /** The API's bonus lines (negative `priceOne`, one per VAT rate), for the receipt's VAT after discounts. */
  bonusProducts?: BasketLine[];
}

export interface StartPaymentInput {
  id: string;
  method: StartMethod;
  /** Same job id = same start: an adapter that already sent it reads the transaction back instead. */
  jobId: string;
  /** Upper limit for `start/cashless` (ms), the terminal's time at the kiosk. */
  timeoutMs?: number;
}
export interface PaymentResult {
  id: string;
  /** The transaction's `status` as the API sent it (journaled and logged: the status acted on). */
  status: string | null;
  /** What that status says (src/api/transaction-status.ts): only `effect` is paid. */
  took: Took;
  receipt: ReceiptLine[];
  /**
   * Card balance after the payment, from the receipt's "Aktuelles Guthaben" of the operation's
   * section (src/api/receipt-balance.ts), never from `idents[]` (read before the operation).
   */
  balance: Cents | null;
}

export interface ReadBackInput {
  id: string;
}
export interface ReadBackOutput {
  took: ReadBack['took'];
  result: PaymentResult;
}

export interface TransactionIdInput {
  id: string;
}
/** The answer to `cancel`: its status decides whether the authorisation is void. */
export interface CancelOutput {
  status: string | null;
  took: Took;
}

export interface CreditCardInput {
  cardNumber: string;
  cents: Cents;
  jobId: string;
  /** The session's transaction this money belonged to, for the operator. */
  relatedTransactionId: string | null;
}
export interface CreditCardOutput {
  transactionId: string;
  receipt: ReceiptLine[];
  balance: Cents | null;
}

export type UnclaimedReason = 'cancelled' | 'walked_away' | 'overpaid' | 'failed' | 'unresolved' | 'stray';
export interface RecordUnclaimedInput {
  cents: Cents;
  reason: UnclaimedReason;
  transactionId: string | null;
  jobId: string;
}
export interface RecordUnclaimedOutput {
  voucherCode: string;
}

/** A scanned voucher: the app checks its signature, day and use, and journals the redemption first. */
export interface RedeemVoucherInput {
  code: string;
  sessionId: string;
  jobId: string;
}
/** Why a voucher is refused: altered or made up, a key nobody here knows, past its day, used already. */
export type VoucherRefusal = 'malformed' | 'unknown_key' | 'forged' | 'expired' | 'used' | 'error';
export type RedeemVoucherOutput =
  { ok: true; cents: Cents; ref: string } | { ok: false; reason: VoucherRefusal };

/**
 * A paid sale or top-up as the one customer receipt shows it: what was bought, how each part was
 * paid, and where a coin too many went. The machine knows all of it when the session is settled.
 */
export interface ReceiptSale {
  kind: 'sale' | 'topup';
  /** The basket as sent (a top-up: the one top-up line). */
  basket: BasketLine[];
  /** The API's bonus lines from preTransaction (empty without a card or bonus). */
  bonusProducts: BasketLine[];
  /** What the loyalty card paid (cash balance and bonus together), the cash applied, the terminal's charge. */
  parts: { card: Cents; cash: Cents; terminal: Cents };
  /** The card's cash and bonus balance before paying (to tell bonus, a discount, from prepaid cash). */
  cardBalance: { cash: Cents; bonus: Cents } | null;
  /** Cash inserted in the session; of it, what went onto the card and what became a voucher. */
  cashIn: Cents;
  /** Value of the vouchers scanned into the session (counted like cash given). */
  voucherIn?: Cents;
  credited: Cents;
  voucher: { code: string; cents: Cents } | null;
  /** The card, masked (`...2845`), when one was used. */
  cardMasked: string | null;
  balanceAfter: Cents | null;
  /** Coins the change hopper paid out. */
  changed?: Cents;
  /**
   * Vending counter: units paid for but not handed out. `failed`: their price went back with the rest
   * of the money (card, change, voucher), so it is not in the receipt's total or VAT; `unknown`: the
   * operator settles it (not refunded here, so it stays charged). `tax` and `productId` are the unit's
   * basket line's (its VAT rate, and which bonus line it may have been part of).
   */
  undelivered?: {
    desc: string;
    slot: string;
    cents: Cents;
    outcome: 'failed' | 'unknown';
    tax: number;
    productId: number;
  }[];
  /**
   * Vending counter, none of the goods came out: the terminal payment was reversed (`ok`, the whole
   * transaction went back through the API) or its reversal is in doubt (`unknown`: held, checked by
   * recovery and the operator, not paid back another way). `cents`: what it was for.
   */
  reversal?: { outcome: 'ok' | 'unknown'; cents: Cents };
}

/** What to print: an API receipt as given (with the sale it belongs to), or a voucher for unclaimed money. */
export type PrintInput =
  | {
      jobId: string;
      kind: 'receipt';
      lines: ReceiptLine[];
      sale?: ReceiptSale;
      /** What was bought (empty for a top-up) and how it was paid: the printer lists it without a `sale`. */
      basket: BasketLine[];
      method: StartMethod | null;
    }
  | { jobId: string; kind: 'voucher'; voucherCode: string; cents: Cents; transactionId: string | null };
/** The kiosk's receipt number of what was printed (shown on screen so staff can reprint it). */
export interface PrintOutput {
  receiptNo?: string;
}
/**
 * What a failed `print` may say beside its message: `kept`, the receipt is in the journal (the
 * printer failed after it was recorded: staff reprint it), with its number when it has one.
 */
export interface PrintFailure {
  message?: string;
  kept?: boolean;
  receiptNo?: string;
}

/** For the journal and the fleet. Card numbers never appear here (only the masked form). */
export type FlowEvent =
  | { type: 'coin_accepted'; cents: Cents }
  | { type: 'transaction_created'; id: string }
  | { type: 'transaction_started'; id: string; method: StartMethod; jobId: string }
  | {
      type: 'transaction_finished';
      id: string;
      outcome: 'paid' | 'failed' | 'unresolved' | 'aborted';
      /** The basket's total, or the amount due for a top-up. */
      amount: Cents;
      method: StartMethod | null;
      cardMasked: string | null;
      /** Units in the basket (0 for a top-up). */
      itemCount: number;
      /** The transaction status this outcome was decided on, when the API gave one. */
      status?: string | null;
      /** A paid sale's receipt figures so far, for the bonus discount the receipt will show (app). */
      sale?: ReceiptSale;
    }
  | { type: 'credited'; cents: Cents; transactionId: string; cardMasked: string }
  | { type: 'unclaimed'; cents: Cents; voucherCode: string; reason: UnclaimedReason }
  /** Journaled already (the fleet hears of it from the journal); for the log. */
  | { type: 'voucher_redeemed'; cents: Cents; ref: string }
  | { type: 'debt'; transactionId: string | null; cents: Cents; detail: string }
  | { type: 'fault'; what: string; detail?: string };

/**
 * `accept`: the coin values (cents) wanted while enabled; absent: every coin. A value left out is
 * refused by an acceptor that can (ccTalk, the simulated twin); a pulse acceptor takes it anyway and
 * the flow counts it like any coin (machines never assume a refused value cannot arrive).
 */
export interface SetAcceptorParams {
  enabled: boolean;
  accept?: readonly Cents[];
}

/** What the kiosk's self-test found; `blocking` reasons keep it out of service. */
export interface SelfTestOutput {
  apiReachable: boolean;
  /** OAuth refused the device session and its renewal: only a new pairing helps (not an outage). */
  pairingLost?: boolean;
  devices: Partial<Record<DeviceName, DeviceHealth>>;
}

export interface RecoverOutput {
  /** Transactions the journal could not resolve (the kiosk stays out of service when > 0 and configured so). */
  unresolved: number;
}

/** `storage`: the journal's disk (full, failing or read-only: no money may be taken). */
export type DeviceName = 'printer' | 'reader' | 'acceptor' | 'display' | 'storage';

// ---------------------------------------------------------------------------------------------------
// The service menu (machines/service-menu.machine.ts): a technician at the kiosk, in maintenance only.

/** The PIN as typed; the app compares it with the configured hash (the machine never sees the hash). */
export interface CheckPinInput {
  pin: string;
}
/** `not_configured`: no PIN hash in the config, the menu cannot be opened (not counted as a wrong try). */
export interface CheckPinOutput {
  result: 'ok' | 'wrong' | 'not_configured';
}

/** What the Info page shows. `fleet: 'off'` when no broker is configured. */
export interface ServiceInfo {
  kioskId: string;
  version: string;
  /** IPv4/IPv6 addresses of the non-internal interfaces; empty when the kiosk has no network. */
  addresses: string[];
  fleet: 'connected' | 'disconnected' | 'off';
  apiReachable: boolean;
}

/** One device as its probe found it (`status`: `ok`, `paper_out`, `ENOENT`, ...). */
export interface DeviceTestResult {
  device: string;
  ok: boolean;
  status: string;
}

/** What the journal expects in the cash box since the last collection. */
export interface CashStatusOutput {
  expected: Cents;
}

/**
 * The technician confirmed `counted`. The actor records the collection (journal `cash_collected`,
 * which resets the since-collection counters, never the lifetime ones), prints the collection report
 * with the totals from before the reset, and reports to the fleet. Rejects only when the collection
 * could not be recorded (nothing reset); a report that did not print is `printed: false`.
 */
export interface CollectCashInput {
  counted: Cents;
  expected: Cents;
}
export interface CollectCashOutput {
  printed: boolean;
}

/** A vend slot as the technician counts it (service menu, `stock`). */
export interface StockSlot {
  id: string;
  desc: string;
  stock: number;
  capacity: number;
  /** Why the slot is blocked (a failed or unknown release); a count lifts it. */
  blocked: string | null;
}
export interface StockStatusOutput {
  slots: StockSlot[];
}
/** Journals `stock_set` (the slot's stock from now on; lifts its block). Rejects when not recorded. */
export interface SetStockInput {
  slot: string;
  count: number;
}

/** A blocked slot the technician cleared (service menu): it releases again, its stock unchanged. */
export interface UnblockSlotInput {
  slot: string;
}
export interface UnblockSlotOutput {
  stock: number;
}

/**
 * A paid release whose outcome is unknown (power cut or driver fault mid-release): never released
 * again, its price not given back, until a technician settles it (service menu, `releases`). No card
 * data: the slot, the product, the price and when.
 */
export interface UnsettledRelease {
  jobId: string;
  slot: string;
  desc: string;
  /** 0 with `amountUnknown`: a paid sale whose amount no record names (refunded only with an amount). */
  cents: Cents;
  amountUnknown?: boolean;
  /** When the release was asked for, as the kiosk's local time shows it (`03.12. 07:12`). */
  when: string;
}
export interface UnsettledOutput {
  releases: UnsettledRelease[];
}
/** `delivered`: the technician found the goods were given; `refunded`: a voucher for the price is printed. */
export type SettleHow = 'delivered' | 'refunded';
export interface SettleReleaseInput {
  jobId: string;
  how: SettleHow;
}
/**
 * Journals `release_settled` (and, refunded, the voucher as `unclaimed`), then prints the voucher.
 * `voucher`: its short id as printed (`ABCD-EFGH`, never the code); `printed: false`: recorded but not
 * printed (the voucher is open in the journal, staff pay it out by its id). Rejects when not recorded.
 */
export interface SettleReleaseOutput {
  voucher: string | null;
  printed: boolean;
  /** Why the release's slot is still blocked after the settle; null or absent: it releases again. */
  slotBlocked?: string | null;
}

/** An open voucher as the service menu lists it: never its code (which is what pays). */
export interface OpenVoucherItem {
  /** Names it to the payout: its reference `<issuer>.<id>` (an old plain code: a hash of it). */
  key: string;
  /** As shown: the short id printed under its QR (`QX7M-D2KA`), or an old code masked (`...D2KA`). */
  label: string;
  cents: Cents;
  /** When it was issued, as the kiosk's local time shows it (`03.12. 07:12`). */
  when: string;
}
export interface OpenVouchersOutput {
  vouchers: OpenVoucherItem[];
}
export interface PayOutVoucherInput {
  key: string;
}
/**
 * Journals the cash payout (`unclaimed_settled` `cash_refund`) before the technician hands the money
 * over. Rejects, with a short text to show, when not recorded: redeemed, no longer open, journal failed.
 */
export interface PayOutVoucherOutput {
  cents: Cents;
  label: string;
}

/**
 * The change hopper as the service menu shows it: its coin, and the coins in it by the books (null
 * before the first fill). `hopper: null`: the kiosk has none.
 */
export interface HopperStatusOutput {
  hopper: { coinCents: Cents; coins: number | null } | null;
}
/** Coins put in (> 0) or taken out (< 0); journals `hopper_filled`. Rejects when not recorded. */
export interface HopperCountInput {
  coins: number;
}
/** The coins in the hopper by the books afterwards. */
export interface HopperCountOutput {
  coins: number;
}

/** A customer receipt the journal keeps (the last 20), as the reprint page lists it. */
export interface RecentReceipt {
  jobId: string;
  /** The kiosk's receipt number (`k-0042-00017`) as printed on it; null for a receipt without one. */
  no: string | null;
  /** When it was recorded, as the kiosk's local time shows it (`03.12. 07:12`). */
  when: string;
  /** Whether it came out of the printer when it was recorded (paper out: not). */
  printed: boolean;
}
/** Newest first. */
export interface RecentReceiptsOutput {
  receipts: RecentReceipt[];
}
export interface ReprintInput {
  jobId: string;
}
/** `reprinted: false`: there is no such receipt (any more). A printer failure rejects. */
export interface ReprintOutput {
  reprinted: boolean;
}

/** What the technician did, for the log and the fleet (the menu's `report` action emits it). */
export type ServiceAction =
  | 'login'
  | 'pin_wrong'
  | 'pin_lockout'
  | 'pin_lockout_ended'
  | 'logout'
  | 'idle_logout'
  | 'info'
  | 'test_print'
  | 'device_test'
  | 'cash_collected'
  | 'reprint'
  | 'stock_set'
  | 'slot_unblocked'
  | 'release_settled'
  | 'hopper_filled'
  | 'hopper_emptied'
  | 'voucher_paid_out'
  | 'terminal_end_of_day'
  | 'terminal_diagnosis'
  | 'terminal_merchant_receipt'
  | 'terminal_cancel_last'
  | 'leave';

/**
 * The card terminal's duties in the service menu: end-of-day, diagnosis, reprint of the last
 * merchant receipt, reversal of the last terminal payment of the open batch.
 */
export type TerminalDuty = 'end_of_day' | 'diagnosis' | 'merchant_receipt' | 'cancel_last';
export interface TerminalDutyInput {
  duty: TerminalDuty;
}
/** `detail`: one short line for the technician (what came of it, or why not). */
export interface TerminalDutyOutput {
  ok: boolean;
  detail: string;
}
/** The service menu's report of a technician's action, as the menu (and the kiosk) emit it. */
export type ServiceReportEvent = { type: 'service_report'; report: ServiceReport };

export interface ServiceReport {
  action: ServiceAction;
  /** Whether it worked (a test print that failed is still reported). */
  ok: boolean;
  detail?: string;
  /** For `cash_collected`. */
  counted?: Cents;
  expected?: Cents;
}
