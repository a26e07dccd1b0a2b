/**
 * Simulated coin acceptor with the real one's interface. `insert(cents)` behaves like the machine: an
 * inhibited acceptor returns the coin (the call returns false and nothing is counted).
 */
import { EventEmitter } from 'node:events';
import { simulatedProbe, type ProbeResult } from '../../src/contracts/device.js';
import type { CoinAcceptor, CoinAcceptorEvents, CoinEvent } from './coin-acceptor.js';

/** How many of the last coins `counted` keeps. */
const COUNTED_KEPT = 100;

export class SimulatedCoinAcceptor extends EventEmitter<CoinAcceptorEvents> implements CoinAcceptor {
  private accepted = false;
  /**
   * The last coins counted (newest last), for tests and the simulator's display. Bounded: the simulated
   * kiosk runs for weeks in demos and soak tests, and an unbounded list was the heap's steady growth
   * (~0.3 MB per 1,000 top-ups, found with bench/app-heap-growth.ts).
   */
  readonly counted: CoinEvent[] = [];

  constructor(private readonly centsPerPulse = 10) {
    super();
  }

  get accepting(): boolean {
    return this.accepted;
  }

  async start(): Promise<void> {}

  async setAccepting(accepting: boolean): Promise<void> {
    this.accepted = accepting;
  }

  /** Inserts a coin. Returns false when it was refused (inhibited), as the coin return cup would show. */
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
    if (!this.accepted && !late) return false;
    const coin: CoinEvent = {
      cents,
      pulses: cents / this.centsPerPulse,
      at: Date.now(),
      source,
      whileInhibited: !this.accepted,
      combined: false,
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
  }
}
