/**
 * Pulse-type coin acceptor on GPIO, with an optional bill validator in pulse mode. Counting is done by
 * `PulseCounter`; this file owns the pins and the inhibit line.
 *
 * Inhibit: logical 1 = refuse money. The line is set to inhibit before anything else (at construction,
 * as the pin's initial level) and again on close, so the acceptor only takes money while the kiosk asks
 * for it. Wire a pull resistor that inhibits while the Pi boots or is off: software cannot cover that.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { GpioPin, GpioPinFactory } from '../io/gpio.js';
import type { CoinAcceptor, CoinAcceptorEvents, CoinEvent } from './coin-acceptor.js';
import type { PulseInputConfig } from './coin-pulse-counter.js';
import { PulseCounter } from './coin-pulse-counter.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface InhibitLineConfig {
  bcm: number;
  /** Inhibit is asserted by pulling the line low. Acceptors differ: check the manual. Default false. */
  activeLow?: boolean;
}

export interface CoinAcceptorConfig {
  coin: PulseInputConfig;
  /** Optional second pulse input: a bill validator in pulse mode. */
  bill?: PulseInputConfig;
  /** Inhibit line of the coin acceptor. Without one the acceptor takes coins at any time. */
  inhibit?: InhibitLineConfig;
  /** Inhibit line of the bill validator, if it has its own. */
  billInhibit?: InhibitLineConfig;
  required?: boolean;
}

interface PulseInput {
  pin: GpioPin;
  counter: PulseCounter;
  unwatch: (() => void) | undefined;
}

export class PulseCoinAcceptor extends EventEmitter<CoinAcceptorEvents> implements CoinAcceptor {
  private readonly inputs: PulseInput[] = [];
  private readonly inhibitPins: GpioPin[] = [];
  private accepted = false;
  private closed = false;

  constructor(
    gpio: GpioPinFactory,
    private readonly config: CoinAcceptorConfig,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    const opened: GpioPin[] = [];
    try {
      for (const line of [config.inhibit, config.billInhibit]) {
        if (!line) continue;
        const pin = gpio.output(line.bcm, { initial: 1, activeLow: line.activeLow ?? false });
        opened.push(pin);
        this.inhibitPins.push(pin);
      }
      for (const [source, input] of [
        ['coin', config.coin],
        ['bill', config.bill],
      ] as const) {
        if (!input) continue;
        const pin = gpio.input(input.bcm, { activeLow: input.activeLow ?? true });
        opened.push(pin);
        const counter = new PulseCounter(
          source,
          input,
          () => !this.accepted,
          (coin) => this.emitCoin(coin),
          (message) => this.emit('fault', message),
          logger,
        );
        this.inputs.push({ pin, counter, unwatch: undefined });
      }
    } catch (err) {
      for (const p of opened) p.unexport();
      throw err;
    }
  }

  get accepting(): boolean {
    return this.accepted;
  }

  async start(): Promise<void> {
    for (const input of this.inputs) {
      input.unwatch = input.pin.watch((edge) => input.counter.edge(edge));
    }
  }

  async setAccepting(accepting: boolean): Promise<void> {
    if (this.closed && accepting) throw new Error('coin acceptor is closed');
    // Count pulses as "while inhibited" from the moment we decide to refuse, before the line settles.
    if (!accepting) this.accepted = false;
    for (const pin of this.inhibitPins) await pin.write(accepting ? 0 : 1);
    this.accepted = accepting;
    this.logger.debug({ accepting }, 'coin acceptor inhibit line set');
  }

  private emitCoin(coin: CoinEvent): void {
    this.logger.info({ ...coin }, 'money counted');
    this.emit('coin', coin);
  }

  async probe(): Promise<ProbeResult> {
    const where = [
      `coin=BCM ${this.config.coin.bcm}`,
      ...(this.config.bill ? [`bill=BCM ${this.config.bill.bcm}`] : []),
      ...(this.config.inhibit ? [`inhibit=BCM ${this.config.inhibit.bcm}`] : []),
    ].join(', ');
    const base = { device: 'coin', driver: 'pulse-gpio', where, required: this.config.required ?? true };
    try {
      for (const p of [...this.inhibitPins, ...this.inputs.map((i) => i.pin)]) await p.read();
    } catch (err) {
      return {
        ...base,
        found: false,
        status: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
        hint: 'cannot read the GPIO value files: check permissions (group gpio)',
      };
    }
    const stuck = this.inputs.filter((i) => i.counter.stats.stuck);
    if (stuck.length) {
      return {
        ...base,
        found: true,
        status: 'stuck',
        hint: `pulse line stuck active (${stuck.map((s) => `BCM ${s.pin.bcm}`).join(', ')}): check the cable and the acceptor's power`,
      };
    }
    if (!this.config.inhibit) {
      return {
        ...base,
        found: true,
        status: 'no inhibit line',
        hint: 'without an inhibit line the acceptor takes coins when the kiosk does not want any',
      };
    }
    const noise = this.inputs.reduce((n, i) => n + i.counter.stats.noisePulses, 0);
    return {
      ...base,
      found: true,
      status: noise ? `ok (${noise} noise pulses ignored)` : 'ok',
      ...(noise > 10 ? { hint: 'many noise pulses: check the ground wire between acceptor and Pi' } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.setAccepting(false);
    this.closed = true;
    for (const input of this.inputs) {
      input.unwatch?.();
      // A coin still in its quiet gap is money taken: report it before letting go.
      input.counter.stop();
      input.pin.unexport();
    }
    for (const pin of this.inhibitPins) pin.unexport();
  }
}
