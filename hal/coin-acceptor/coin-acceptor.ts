/**
 * A pulse-type coin acceptor (and optionally a bill validator in pulse mode) as the flows see it:
 * money arrives as `coin` events in integer cents; the kiosk says when it wants money.
 *
 * Events:
 * - `coin` (CoinEvent): a coin or bill was counted. Always emitted for money the machine physically took,
 *   even when it arrived while inhibited (a coin already in the validator when the line went to inhibit
 *   still drops into the box): the flow must credit it or hand it to the operator, never ignore it.
 * - `fault` (text): something the operator should see: the pulse line stuck active, or a pulse train
 *   that does not match a coin the acceptor is programmed for. Money is still reported as `coin`.
 */
import type { EventEmitter } from 'node:events';
import type { Probeable } from '../../src/contracts/device.js';

export interface CoinEvent {
  /** Value in integer cents: pulses x value per pulse. */
  cents: number;
  pulses: number;
  /** Wall-clock time (epoch ms) when the coin was closed by the quiet gap. */
  at: number;
  source: 'coin' | 'bill';
  /** At least one pulse arrived while the acceptor was inhibited. The money is in the box all the same. */
  whileInhibited: boolean;
  /**
   * The pulse count is not one of the configured coins: probably two insertions whose pulse trains
   * merged. `cents` is their total, so no money is lost, but the split between coins is unknown.
   */
  combined: boolean;
}

export interface CoinAcceptorEvents {
  coin: [coin: CoinEvent];
  fault: [message: string];
}

export interface CoinAcceptor
  extends Probeable, Pick<EventEmitter<CoinAcceptorEvents>, 'on' | 'off' | 'once'> {
  /** True while the acceptor takes money (inhibit line released). False at start and after close. */
  readonly accepting: boolean;
  /** Opens (true) or blocks (false) the coin and bill paths. */
  setAccepting(accepting: boolean): Promise<void>;
  start(): Promise<void>;
  /** Inhibits, reports a coin still being counted, and releases the pins. */
  close(): Promise<void>;
}
