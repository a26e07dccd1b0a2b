/**
 * The narrow door between the fleet reporter and the kiosk: everything a command or a desired config
 * may do to the kiosk, and what the reporter reads for `state`, `birth` and `health`. The app implements
 * it over its lifecycle machine and devices; tests use a fake.
 *
 * Errors: a method that cannot do what was asked rejects its promise with an Error whose message is
 * short and safe to send to the operator (it becomes the `failed` answer's reason). A `KioskBusyError`
 * means a customer is being served and nothing was changed (answered as `rejected` / `busy`).
 */
import type { ProbeResult } from '../contracts/device.js';
import type { ConfigDocument, DeviceStatus, LifetimeCounters } from './envelope.js';

/** The kiosk's own view of itself (`offline` and `lost` are the reporter's and the Will's business). */
export type KioskState = 'online' | 'degraded' | 'maintenance' | 'out_of_service';

export interface KioskStatus {
  state: KioskState;
  /** Why, when not `online` (e.g. `locked by operator`, `printer offline`). No customer data. */
  reason?: string;
}

export class KioskBusyError extends Error {
  constructor(message = 'serving a customer') {
    super(message);
    this.name = 'KioskBusyError';
  }
}

export interface ConfigApplyResult {
  /** True when some of it only takes effect after a restart (the kiosk does not restart by itself). */
  restartRequired: boolean;
}

export interface KioskPort {
  status(): KioskStatus;
  /** True from the first touch of a customer flow until the kiosk is idle again. */
  isServingCustomer(): boolean;
  setMaintenance(on: boolean, reason?: string): Promise<void>;
  /** Out of service on purpose until `unlock()`. */
  lock(reason: string): Promise<void>;
  unlock(): Promise<void>;
  /** Prints the last receipt again; `reprinted: false` when there is none. */
  reprintLast(): Promise<{ reprinted: boolean; receiptId?: string }>;
  /** Device self-test results (the same probes as `npm run doctor`; the card terminal's diagnosis with one). */
  diagnostics(): Promise<ProbeResult[]>;
  /**
   * Card terminal: end-of-day now (journaled, sent as `evt/terminal`). Rejects when there is no
   * terminal or the terminal did not clear its batch (the message says why).
   */
  endOfDay(): Promise<TerminalDutyReport>;
  /** Card terminal: reverses a payment of the open batch by its receipt number; rejects when refused or failed. */
  terminalCancel(receiptNumber: string, reason?: string): Promise<TerminalDutyReport>;
  /**
   * Vending counter: settles a release whose outcome is unknown (journaled; a refund is a voucher).
   * Rejects with `refused: ...` for an unknown job, one settled already, one still in flight or whose
   * session is still open, and without vend slots.
   */
  /** `cents`: the refund's amount where the kiosk does not know it (refused without it there). */
  settleRelease(
    jobId: string,
    how: 'delivered' | 'refunded',
    print: boolean,
    cents?: number,
  ): Promise<ReleaseSettleReport>;
  /**
   * Vending counter: unblocks a blocked slot (journaled `slot_unblocked`); resolves with its stock.
   * Rejects with `refused: ...` for no such slot, one not blocked, one with a release still in doubt,
   * one whose sensor reads active, and without vend slots.
   */
  unblockSlot(slot: string): Promise<{ slot: string; stock: number }>;
  /**
   * Back office: books an open voucher of this kiosk paid out at the office (journaled `unclaimed_settled`
   * `cash_refund` by `office <by>`). Rejects with `refused: redeemed` when a customer redeemed it
   * meanwhile, `refused: not_open` when it is not open (expired, paid out at the kiosk, unknown) and
   * `refused: not_ours` for another kiosk's reference. Paid out at the office already (a command sent
   * again after a lost answer): resolves with `already: true`, nothing booked twice.
   */
  settleVoucher(ref: string, by: string): Promise<VoucherSettleReport>;
  /**
   * Restarts the app (a clean shutdown, the service manager brings it back). Resolves when the
   * shutdown has begun; the caller has already answered the operator.
   */
  restart(reason: string): Promise<void>;
  /** The version of the config in effect, null before any versioned config. */
  appliedConfigVersion(): number | null;
  /** Applies an already validated config document (takes effect without restart where safe). */
  applyConfig(doc: ConfigDocument): Promise<ConfigApplyResult>;
}

/** A voucher booked paid out at the office: its reference (never the code), value and who. */
export interface VoucherSettleReport {
  ref: string;
  amountCents: number;
  by: string;
  already: boolean;
}

/** What a terminal duty came to (no customer data). */
export interface TerminalDutyReport {
  result: 'ok' | 'failed' | 'unknown' | 'refused';
  amountCents: number;
  /** Terminal payments an end-of-day cleared. */
  count?: number;
  detail?: string;
}

/**
 * What a settle came to. `voucher` is the refund voucher's reference `<issuer>.<id>`, never its code
 * (the code is what pays: it goes only to the kiosk's printer).
 */
export interface ReleaseSettleReport {
  jobId: string;
  how: 'delivered' | 'refunded';
  amountCents: number;
  voucher?: string;
  /** Whether the voucher printed at the kiosk (only when asked to print). */
  printed?: boolean;
  /** The release's slot and why it is still blocked after the settle (null: it releases again). */
  slot?: string;
  slotBlocked?: string | null;
}

/** What the reporter reads for `birth` (static facts, read again on every connect). */
export interface BirthFacts {
  firmware: string;
  hardware: { model: string; serial?: string | null };
  /** `bookedCoins`: a hopper's coins by the journal's books (null until the first booking). */
  devices: { device: string; driver: string; found: boolean; status: string; bookedCoins?: number | null }[];
  capabilities: string[];
  kioskName?: string | null;
  site?: string | null;
  tenant?: string | null;
  location?: string | null;
}

/** What the reporter reads for `health`, every heartbeat. Must be cheap and never throw. */
export interface HealthFacts {
  devices: Record<string, DeviceStatus>;
  counters: LifetimeCounters;
  cpuTempC?: number | null;
  disk?: { freeBytes: number; totalBytes: number } | null;
}

/** The result of the app's config schema check (the same one the config file goes through). */
/** `fields`: the names of the fields that made a document fail (reported in `config/reported`). */
export type ConfigValidation = { ok: true } | { ok: false; errors: string[]; fields?: string[] };
export type ValidateConfig = (doc: unknown) => ConfigValidation;
