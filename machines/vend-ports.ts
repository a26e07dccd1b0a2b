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
