/**
 * Pulse-type coin acceptor on GPIO, with an optional bill validator in pulse mode. Counting is done by
 * `PulseCounter`; this file owns the pins and the inhibit line.
 *
 * Inhibit: logical 1 = refuse money. The line is set to inhibit before anything else (at construction,
 * as the pin's initial level) and again on close, so the acceptor only takes money while the kiosk asks
 * for it. Wire a pull resistor that inhibits while the Pi boots or is off: software cannot cover that.
 *
 * Per-coin inhibit: a pulse acceptor has one inhibit input for all its coins (some have DIP switches
 * per coin, which software cannot reach), so `accept` cannot refuse one value. The line is open while
 * any wanted value is one of the input's coins (`coinPulses` x `centsPerPulse`; unknown coins: open
 * while the list is not empty) and closed when none is. A coin of another value that drops in is
 * counted and reported with `notAccepted: true`: it is in the box, so the flow counts it as money
 * (an overpay then goes to the card, the hopper or a voucher like any other). The bill validator's
 * own line (`billInhibit`) follows the bill values the same way; without one, the coin line opens for
 * either.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { GpioPin, GpioPinFactory } from '../io/gpio.js';
import type { CoinAcceptor, CoinAcceptorEvents, CoinEvent } from './coin-acceptor.js';
import { isAccepted } from './coin-acceptor.js';
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

/** The values (cents) an input's programmed coins are worth; undefined when `coinPulses` is not given. */
function valuesOf(input: PulseInputConfig | undefined): number[] | undefined {
  if (!input?.coinPulses?.length) return undefined;
  return input.coinPulses.map((p) => p * input.centsPerPulse);
}

/** Whether an input of these values should be open for `accept` (unknown values: any wanted coin opens it). */
function wanted(values: number[] | undefined, accept: readonly number[] | undefined): boolean {
  if (accept === undefined) return true;
  return values === undefined ? accept.length > 0 : values.some((v) => accept.includes(v));
}

export class PulseCoinAcceptor extends EventEmitter<CoinAcceptorEvents> implements CoinAcceptor {
  private readonly inputs: PulseInput[] = [];
  /** The inhibit pins with the input(s) each one gates. */
  private readonly inhibitPins: { pin: GpioPin; gates: ('coin' | 'bill')[] }[] = [];
  private accepted = false;
  private accept: readonly number[] | undefined;
  private closed = false;
  readonly perCoinInhibit = false;
  readonly coinValues: readonly number[];

  constructor(
    gpio: GpioPinFactory,
    private readonly config: CoinAcceptorConfig,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.coinValues = [...new Set([...(valuesOf(config.coin) ?? []), ...(valuesOf(config.bill) ?? [])])].sort(
      (a, b) => a - b,
    );
    const opened: GpioPin[] = [];
    try {
      const lines: [InhibitLineConfig | undefined, ('coin' | 'bill')[]][] = [
        // Without a line of its own the bill validator hangs off the coin acceptor's (or none).
        [config.inhibit, config.billInhibit ? ['coin'] : ['coin', 'bill']],
        [config.billInhibit, ['bill']],
      ];
      for (const [line, gates] of lines) {
        if (!line) continue;
        const pin = gpio.output(line.bcm, { initial: 1, activeLow: line.activeLow ?? false });
        opened.push(pin);
        this.inhibitPins.push({ pin, gates });
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

  async setAccepting(accepting: boolean, accept?: readonly number[]): Promise<void> {
    if (this.closed && accepting) throw new Error('coin acceptor is closed');
    const open = {
      coin: accepting && wanted(valuesOf(this.config.coin), accept),
      bill: accepting && this.config.bill !== undefined && wanted(valuesOf(this.config.bill), accept),
    };
    const any = open.coin || open.bill;
    // Count pulses as "while inhibited" from the moment we decide to refuse, before the line settles.
    if (!any) this.accepted = false;
    this.accept = accepting && accept !== undefined ? [...accept] : undefined;
    for (const { pin, gates } of this.inhibitPins) await pin.write(gates.some((g) => open[g]) ? 0 : 1);
    this.accepted = any;
    this.logger.debug({ accepting: any, accept }, 'coin acceptor inhibit line set');
  }

  private emitCoin(coin: CoinEvent): void {
    // The line is one for all coins: a value the kiosk did not want can drop in. It is money all the same.
    const out = this.accepted && !isAccepted(this.accept, coin.cents) ? { ...coin, notAccepted: true } : coin;
    if (out.notAccepted)
      this.logger.warn({ ...out, accept: this.accept }, 'coin of a value not wanted taken');
    else this.logger.info({ ...out }, 'money counted');
    this.emit('coin', out);
  }

  async probe(): Promise<ProbeResult> {
    const where = [
      `coin=BCM ${this.config.coin.bcm}`,
      ...(this.config.bill ? [`bill=BCM ${this.config.bill.bcm}`] : []),
      ...(this.config.inhibit ? [`inhibit=BCM ${this.config.inhibit.bcm}`] : []),
    ].join(', ');
    const base = { device: 'coin', driver: 'pulse-gpio', where, required: this.config.required ?? true };
    try {
      for (const p of [...this.inhibitPins.map((l) => l.pin), ...this.inputs.map((i) => i.pin)])
        await p.read();
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
    for (const { pin } of this.inhibitPins) pin.unexport();
  }
}
