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
 *
 * Per-coin inhibit (`setAccepting(true, accept)`): `accept` lists the coin values the kiosk wants now
 * (absent: every coin). How far a driver can honour it is `perCoinInhibit`:
 * - `true` (ccTalk validator, the simulated twin): a coin of another value is refused by the
 *   mechanism and goes back to the return cup; it never reaches the box and no `coin` is emitted.
 * - `false` (pulse acceptor: its inhibit input is one line for all coins): the line is open while any
 *   coin is wanted and closed only when `accept` is empty. A coin of another value still drops in; it
 *   is reported with `notAccepted: true` and is money like any other (the flow counts it).
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
  /**
   * Its value was not in the `accept` list in force, but the acceptor took it anyway (a pulse acceptor
   * cannot refuse one value). Money all the same; absent or false for a coin that was wanted.
   */
  notAccepted?: boolean;
  /**
   * The validator's event counter of this credit (ccTalk 229, 1..255), for acceptors that have one: the
   * app journals it with the coin and hands the last one back with `resumeFrom` at the next start.
   */
  event?: number;
}

export interface CoinAcceptorEvents {
  coin: [coin: CoinEvent];
  fault: [message: string];
  /**
   * Acceptors with an event counter (ccTalk): the counter is at `event` without a coin the journal
   * holds (the validator's power-up reset to 0, or the baseline of a start without a resume point).
   * The app journals it, after the coins before it, as the next start's `resumeFrom`.
   */
  counter: [event: number];
  /**
   * Acceptors with a result buffer (ccTalk: 5 results a read): `results` results up to `event` were
   * pushed out before they were read. Each may have been a coin in the cash box that no `coin` reports:
   * the app journals the loss for the operator (and resumes after `event`). `readAt`: when the read
   * before it was asked (Date.now()), so the results were lost after it, i.e. while whoever was served
   * from then to now; undefined when that read was before this start (the resume point's).
   */
  lost: [results: number, event: number, readAt: number | undefined];
}

export interface CoinAcceptor
  extends Probeable, Pick<EventEmitter<CoinAcceptorEvents>, 'on' | 'off' | 'once'> {
  /** True while the acceptor takes money (inhibit line released). False at start and after close. */
  readonly accepting: boolean;
  /** The coin values (cents) the acceptor is programmed for, smallest first; empty when unknown. */
  readonly coinValues: readonly number[];
  /** Whether a coin value left out of `accept` is refused by the mechanism (see the file's comment). */
  readonly perCoinInhibit: boolean;
  /**
   * Opens (true) or blocks (false) the coin and bill paths. `accept`: only these values (cents) while
   * open; absent: all. An empty list blocks like `false`.
   */
  setAccepting(accepting: boolean, accept?: readonly number[]): Promise<void>;
  /**
   * Acceptors with an event counter (ccTalk): the last `event` the journal holds with a coin, given
   * before `start`, so that credits after it are reported once and none before it again.
   */
  resumeFrom?(event: number | undefined): void;
  /**
   * Acceptors that learn their coins from the device (ccTalk 184): resolves true once they did (and
   * `coinValues` is filled), false after `ms` without an answer.
   */
  initialised?(ms: number): Promise<boolean>;
  start(): Promise<void>;
  /** Inhibits, reports a coin still being counted, and releases the pins. */
  close(): Promise<void>;
}

/** Whether `cents` is wanted under `accept` (absent: every value is). */
export function isAccepted(accept: readonly number[] | undefined, cents: number): boolean {
  return accept === undefined || accept.includes(cents);
}

/** The euro coins from 10 cents up: what the simulated twin and a typical 10-cent pulse acceptor take. */
export const DEFAULT_COIN_VALUES: readonly number[] = [10, 20, 50, 100, 200];
