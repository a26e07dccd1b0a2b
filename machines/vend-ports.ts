/**
 * What the checkout machine asks of the vending hardware, as actors the app provides (the machines
 * stay pure): release one unit from a slot, and pay change from the hopper. Both journal themselves
 * (intent before the output fires or the hopper is asked, outcome after).
 */
import type { Cents } from '../src/api/money.js';

export interface ReleaseItemInput {
  sessionId: string;
  jobId: string;
  productId: number;
  slot: string;
  cents: Cents;
  transactionId: string | null;
  /**
   * The units planned after this one. Journaled with the intent, so that the units a paid session
   * still owes never depend on one record (the basket's `tx_created` may be the damaged one).
   */
  later: readonly { productId: number; slot: string; cents: Cents }[];
}

/**
 * `delivered`: the slot's sensor confirmed it. `failed`: nothing was handed out as far as the kiosk
 * can tell (no drop, sensor stuck, slot blocked or sold out): the money for it goes back. A release
 * whose outcome cannot be known rejects instead: the machine records it `unknown` (no refund, no
 * second release; the operator settles it).
 */
export interface ReleaseItemOutput {
  outcome: 'delivered' | 'failed';
  reason?: string;
}

export interface PayChangeInput {
  sessionId: string;
  jobId: string;
  /** A multiple of the hopper's coin. */
  cents: Cents;
}

export interface PayChangeOutput {
  /** What the hopper's own counters say it paid (the least it paid when its outcome is unknown). */
  paidCents: Cents;
  outcome: 'complete' | 'short' | 'not_sent' | 'unknown';
}

/**
 * Reverse the terminal payment of a vending sale none of whose goods came out (`cancelTrx`, issue 15):
 * the app journals the intent before the call and the outcome after (src/bookkeeping/terminal-duties.ts).
 */
export interface ReverseTerminalInput {
  sessionId: string;
  transactionId: string;
  /** What the reversal gives back: the whole transaction (the terminal's charge and the card's part). */
  cents: Cents;
  jobId: string;
}

/**
 * `ok`: reversed, nothing of it is owed any more. `refused` (never sent: the batch was cleared by
 * end-of-day, no receipt number, no terminal) and `failed` (certainly not reversed: still paid): the
 * money goes back the usual way. `unknown`: it may have taken effect; the money is held for recovery
 * and the operator (never paid back a second way). An actor that rejects counts as `unknown`.
 */
export interface ReverseTerminalOutput {
  outcome: 'ok' | 'refused' | 'failed' | 'unknown';
  detail?: string;
}
