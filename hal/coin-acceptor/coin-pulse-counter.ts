/**
 * Turns edges on one pulse line into coins. Pulse widths are measured with the edges' own timestamps
 * (timers are too coarse for 20 ms pulses); the quiet gap that closes a coin is a timer.
 *
 * Why each rule:
 * - Pulses shorter than `minPulseMs` are ground noise (a motor, a relay, a long cable), not money.
 * - A coin is closed after `quietGapMs` without a pulse. Two coins inserted in quick succession can send
 *   trains so close that they merge; the merged train is reported as one coin with the total value, so
 *   the sum of money is always right even when the split is not (`combined` flags it when the count is
 *   not a programmed coin).
 * - A line that stays active longer than `stuckMs` is a fault (cable, jammed sensor); pulses counted so
 *   far are reported at once so they cannot wait forever.
 */
import type { PinEdge } from '../io/gpio.js';
import type { CoinEvent } from './coin-acceptor.js';
import type { Logger } from '../../src/util/logger.js';

export interface PulseInputConfig {
  /** BCM pin of the pulse output. */
  bcm: number;
  centsPerPulse: number;
  /** Pulse output pulls the line low (open collector with pull-up): the usual wiring. Default true. */
  activeLow?: boolean;
  /** Quiet time after the last pulse that closes a coin. Must exceed the gap inside a train. Default 300. */
  quietGapMs?: number;
  /** Shorter pulses are noise. Must be below the acceptor's shortest pulse (20 ms in fast mode). Default 10. */
  minPulseMs?: number;
  /** Active for longer than this is a stuck line. Default 1000. */
  stuckMs?: number;
  /** Pulse counts of the programmed coins, e.g. [1, 2, 5, 10, 20] at 10 cents per pulse. Optional. */
  coinPulses?: number[];
}

export interface PulseCounterStats {
  coins: number;
  noisePulses: number;
  stuck: boolean;
}

export class PulseCounter {
  private activeSince: number | undefined;
  private activeWhileInhibited = false;
  private pulses = 0;
  private inhibitedSeen = false;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private stuckTimer: ReturnType<typeof setTimeout> | undefined;
  readonly stats: PulseCounterStats = { coins: 0, noisePulses: 0, stuck: false };
  private readonly quietGapMs: number;
  private readonly minPulseMs: number;
  private readonly stuckMs: number;

  constructor(
    private readonly source: CoinEvent['source'],
    private readonly config: PulseInputConfig,
    private readonly isInhibited: () => boolean,
    private readonly onCoin: (coin: CoinEvent) => void,
    private readonly onFault: (message: string) => void,
    private readonly logger: Logger,
  ) {
    this.quietGapMs = config.quietGapMs ?? 300;
    this.minPulseMs = config.minPulseMs ?? 10;
    this.stuckMs = config.stuckMs ?? 1000;
  }

  edge(edge: PinEdge): void {
    if (edge.value === 1) this.leading(edge.at);
    else this.trailing(edge.at);
  }

  private leading(at: number): void {
    // A repeated level means the opposite edge was too short to see; keep the first start.
    if (this.activeSince !== undefined) return;
    this.activeSince = at;
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    this.activeWhileInhibited = this.isInhibited();
    this.stuckTimer = setTimeout(() => this.stuck(), this.stuckMs);
  }

  private trailing(at: number): void {
    if (this.activeSince === undefined) return;
    const width = at - this.activeSince;
    this.activeSince = undefined;
    clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
    if (this.stats.stuck) {
      this.stats.stuck = false;
      this.logger.info({ source: this.source, bcm: this.config.bcm }, 'pulse line released');
      return;
    }
    if (width < this.minPulseMs) {
      this.stats.noisePulses++;
      this.logger.debug({ source: this.source, widthMs: width }, 'noise pulse ignored');
    } else {
      this.pulses++;
      if (this.activeWhileInhibited) this.inhibitedSeen = true;
    }
    if (this.pulses > 0) this.gapTimer = setTimeout(() => this.closeCoin(), this.quietGapMs);
  }

  private stuck(): void {
    this.stuckTimer = undefined;
    this.stats.stuck = true;
    const message = `${this.source} pulse line BCM ${this.config.bcm} stuck active for ${this.stuckMs} ms`;
    this.logger.error({ source: this.source, bcm: this.config.bcm }, message);
    this.onFault(message);
    this.closeCoin();
  }

  /** Reports the coin being counted, if any. Used by the quiet gap, a stuck line and close(). */
  closeCoin(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (this.pulses === 0) return;
    const pulses = this.pulses;
    const known = this.config.coinPulses;
    const combined = known !== undefined && known.length > 0 && !known.includes(pulses);
    const coin: CoinEvent = {
      cents: pulses * this.config.centsPerPulse,
      pulses,
      at: Date.now(),
      source: this.source,
      whileInhibited: this.inhibitedSeen,
      combined,
    };
    this.pulses = 0;
    this.inhibitedSeen = false;
    this.stats.coins++;
    if (combined) {
      const message = `${this.source}: ${pulses} pulses match no programmed coin; reported as ${coin.cents} cents in one`;
      this.logger.warn({ source: this.source, pulses }, message);
      this.onFault(message);
    }
    if (coin.whileInhibited) this.logger.warn({ ...coin }, 'money arrived while inhibited');
    this.onCoin(coin);
  }

  stop(): void {
    clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
    this.activeSince = undefined;
    this.closeCoin();
  }
}
