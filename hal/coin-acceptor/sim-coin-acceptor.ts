/**
 * Simulated coin acceptor with the real one's interface. `insert(cents)` behaves like the machine: an
 * inhibited acceptor returns the coin (the call returns false and nothing is counted), and so does an
 * open one for a coin value the kiosk left out of `accept` (per-coin inhibit, as a ccTalk validator).
 */
import { EventEmitter } from 'node:events';
import { simulatedProbe, type ProbeResult } from '../../src/contracts/device.js';
import type { CoinAcceptor, CoinAcceptorEvents, CoinEvent } from './coin-acceptor.js';
import { DEFAULT_COIN_VALUES, isAccepted } from './coin-acceptor.js';

/** How many of the last coins `counted` keeps. */
const COUNTED_KEPT = 100;

export class SimulatedCoinAcceptor extends EventEmitter<CoinAcceptorEvents> implements CoinAcceptor {
  private accepted = false;
  private accept: readonly number[] | undefined;
  readonly perCoinInhibit = true;
  readonly coinValues: readonly number[];
  /**
   * The last coins counted (newest last), for tests and the simulator's display. Bounded: the simulated
   * kiosk runs for weeks in demos and soak tests, and an unbounded list was the heap's steady growth
   * (~0.3 MB per 1,000 top-ups, found with bench/app-heap-growth.ts).
   */
  readonly counted: CoinEvent[] = [];

  constructor(
    private readonly centsPerPulse = 10,
    coinValues: readonly number[] = DEFAULT_COIN_VALUES,
  ) {
    super();
    this.coinValues = [...coinValues].sort((a, b) => a - b);
  }

  get accepting(): boolean {
    return this.accepted;
  }

  async start(): Promise<void> {}

  async setAccepting(accepting: boolean, accept?: readonly number[]): Promise<void> {
    this.accepted = accepting && (accept === undefined || accept.length > 0);
    this.accept = accepting && accept !== undefined ? [...accept] : undefined;
  }

  /** The values wanted now (undefined: all, while accepting). */
  get accepts(): readonly number[] | undefined {
    return this.accept;
  }

  /**
   * Inserts a coin. Returns false when it was refused (inhibited, or its value not in `accept`), as the
   * coin return cup would show.
   */
  insert(cents: number): boolean {
    return this.feed('coin', cents, false);
  }

  /** Inserts a bill (pulse-mode validator). Refused when inhibited, like a coin. */
  insertBill(cents: number): boolean {
    return this.feed('bill', cents, false);
  }

  /**
   * A coin that was already in the validator when the line went to inhibit: it drops in the box
   * anyway. Lets flow tests check that late money is never lost.
   */
  insertLate(cents: number): void {
    this.feed('coin', cents, true);
  }

  private feed(source: CoinEvent['source'], cents: number, late: boolean): boolean {
    if (!Number.isInteger(cents) || cents <= 0 || cents % this.centsPerPulse !== 0) {
      throw new Error(`${cents} cents is not a multiple of ${this.centsPerPulse} cents per pulse`);
    }
    if (!late && (!this.accepted || !isAccepted(this.accept, cents))) return false;
    const coin: CoinEvent = {
      cents,
      pulses: cents / this.centsPerPulse,
      at: Date.now(),
      source,
      whileInhibited: !this.accepted,
      combined: false,
      // A late coin of a value the kiosk did not want (it was in the validator before the list changed).
      ...(this.accepted && !isAccepted(this.accept, cents) ? { notAccepted: true } : {}),
    };
    this.counted.push(coin);
    if (this.counted.length > COUNTED_KEPT) this.counted.splice(0, this.counted.length - COUNTED_KEPT);
    this.emit('coin', coin);
    return true;
  }

  async probe(): Promise<ProbeResult> {
    return simulatedProbe('coin');
  }

  async close(): Promise<void> {
    this.accepted = false;
    this.accept = undefined;
  }
}
