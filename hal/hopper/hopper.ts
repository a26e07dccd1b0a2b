/**
 * A coin hopper that pays change, as the flows see it. One hopper holds one coin value.
 *
 * Money rule: a payout is known to the cent from the hopper's own counters, never from what the kiosk
 * asked for. `dispense` reads the counters, lets the caller journal the intent with them (`beforeSend`),
 * sends the dispense once (never again, whatever happens), and reads the counters back until the
 * payout ended. After a power cut `settle` compares the counters with the journaled ones.
 *
 * Events:
 * - `status` (HopperStatus): on every change.
 */
import type { EventEmitter } from 'node:events';
import type { Probeable } from '../../src/contracts/device.js';

/** `empty`: the last payout ran out of coins; `jammed`: it stopped on a blocked coin path or a motor fault. */
export type HopperStatus = 'ok' | 'empty' | 'jammed' | 'offline';

/** What the hopper reports about itself (ccTalk 166, and 168 where the hopper has it). */
export interface HopperCounters {
  /** Dispense event counter: +1 per accepted dispense, 0 after a reset or power-up, wraps 255 -> 1. */
  event: number;
  /** Coins of the current payout still to pay (non-zero while the motor runs). */
  remaining: number;
  /** Coins paid by the last payout. */
  paid: number;
  /** Coins the last payout could not pay (empty, jammed). */
  unpaid: number;
  /** Coins paid in the hopper's life (non-volatile, survives power cuts), when the hopper reports it. */
  lifetime?: number;
}

/** What the caller journals before the dispense command goes out. */
export interface DispenseIntent {
  coins: number;
  coinCents: number;
  before: HopperCounters;
}

/**
 * - `complete`: all coins paid.
 * - `short`: the payout ended with `unpaid` coins (empty or jammed; see `fault`).
 * - `not_sent`: nothing was paid and the hopper never took the command (refused, offline).
 * - `unknown`: the hopper stopped answering during the payout; `paid` is the least that was paid.
 *   Never dispense again for it: `settle` it when the hopper answers again, or let the operator count.
 */
export type PayoutOutcome = 'complete' | 'short' | 'not_sent' | 'unknown';

export interface PayoutResult {
  outcome: PayoutOutcome;
  requested: number;
  paid: number;
  unpaid: number;
  coinCents: number;
  paidCents: number;
  unpaidCents: number;
  fault?: 'empty' | 'jammed' | 'refused' | 'offline' | 'fault';
  after?: HopperCounters;
}

export interface HopperEvents {
  status: [status: HopperStatus];
}

export class HopperError extends Error {
  override readonly name = 'HopperError';
  constructor(
    message: string,
    readonly reason: 'offline' | 'invalid' | 'busy',
  ) {
    super(message);
  }
}

/** ccTalk hoppers take one byte of coin count per dispense. */
export const MAX_COINS_PER_DISPENSE = 255;

export interface Hopper extends Probeable, Pick<EventEmitter<HopperEvents>, 'on' | 'off' | 'once'> {
  /** Value of the hopper's coin in cents. */
  readonly coinCents: number;
  readonly status: HopperStatus;
  start(): void;
  counters(): Promise<HopperCounters>;
  /**
   * Pays `coins` (1..255). `beforeSend` is awaited with the counters before the command goes out; when it
   * rejects, nothing is sent and `dispense` rejects with its error. Rejects with `HopperError` when the
   * hopper cannot be asked at all (nothing sent); otherwise resolves, also for short and unknown payouts.
   */
  dispense(coins: number, beforeSend?: (intent: DispenseIntent) => Promise<void>): Promise<PayoutResult>;
  /**
   * A technician put coins in (the service menu's "Wechselgeld"): an `empty` or `jammed` hopper is
   * worth asking again (the flows ask only a hopper that is `ok`; a ccTalk hopper can see neither its
   * level nor a cleared jam itself).
   */
  refilled(): void;
  /** What became of a journaled dispense whose result was never journaled (after a restart). */
  settle(intent: DispenseIntent): Promise<PayoutResult>;
  close(): Promise<void>;
}

/** The event counter after one more dispense (0 is only ever "just reset"). */
export function nextEvent(event: number): number {
  return event >= 255 ? 1 : event + 1;
}

export function payoutResult(
  outcome: PayoutOutcome,
  requested: number,
  paid: number,
  coinCents: number,
  extra: Pick<PayoutResult, 'fault' | 'after'> = {},
): PayoutResult {
  const unpaid = Math.max(0, requested - paid);
  return {
    outcome,
    requested,
    paid,
    unpaid,
    coinCents,
    paidCents: paid * coinCents,
    unpaidCents: unpaid * coinCents,
    ...extra,
  };
}

/**
 * Settling a dispense from the counters journaled before it (`before`) and those read now (`now`):
 * - the lifetime counter, where both have it, says exactly how many coins went out (it survives the
 *   hopper's own power cut);
 * - otherwise an event counter one past `before` means the hopper kept its memory and `paid` is this
 *   dispense's; an unchanged counter means the command never arrived (nothing paid);
 * - a counter that went back to 0 (the hopper lost power too) without a lifetime counter is `unknown`.
 */
export function settleFromCounters(intent: DispenseIntent, now: HopperCounters): PayoutResult {
  const { coins, coinCents, before } = intent;
  if (before.lifetime !== undefined && now.lifetime !== undefined) {
    const paid = Math.min(coins, Math.max(0, now.lifetime - before.lifetime));
    const ran = paid > 0 || now.event === nextEvent(before.event);
    const outcome: PayoutOutcome = paid === coins ? 'complete' : ran ? 'short' : 'not_sent';
    return payoutResult(outcome, coins, paid, coinCents, { after: now });
  }
  if (now.event === nextEvent(before.event)) {
    const paid = Math.min(coins, now.paid);
    return payoutResult(paid === coins ? 'complete' : 'short', coins, paid, coinCents, { after: now });
  }
  if (now.event === before.event && before.event !== 0) {
    return payoutResult('not_sent', coins, 0, coinCents, { after: now });
  }
  return payoutResult('unknown', coins, 0, coinCents, { after: now });
}
