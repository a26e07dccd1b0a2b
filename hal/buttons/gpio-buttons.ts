/**
 * Buttons on GPIO pins (onoff through the `GpioPin` interface). Debouncing is trailing-edge: a level
 * counts once it has been stable for `debounceMs`, so a spike from a coin motor or a static discharge
 * does not become a press. The cost is `debounceMs` of latency, which nobody notices at 30 ms.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { GpioPin, GpioPinFactory, Level, PinEdge } from '../io/gpio.js';
import type { ButtonEvents, ButtonName, Buttons } from './buttons.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface ButtonsConfig {
  /** Button name -> BCM pin number. */
  pins: Partial<Record<ButtonName, number>>;
  /** Buttons wired to ground with a pull-up read low when pressed (the usual wiring). Default true. */
  activeLow?: boolean;
  /** How long a level must be stable to count. Default 30 ms. */
  debounceMs?: number;
  /** Hold time for `longpress`. Default 2000 ms. */
  longPressMs?: number;
  /** Buttons that distinguish a long press. Default `['service']`. */
  longPressButtons?: ButtonName[];
  /** Whether the doctor should fail when the buttons are missing. Default true. */
  required?: boolean;
}

interface ButtonState {
  name: ButtonName;
  pin: GpioPin;
  /** Debounced logical level: 1 = pressed. */
  stable: Level;
  /** Last raw level seen, committed when the debounce timer fires. */
  raw: Level;
  debounce: ReturnType<typeof setTimeout> | undefined;
  longTimer: ReturnType<typeof setTimeout> | undefined;
  longFired: boolean;
  /** Held at start (or stuck): ignored until released once. */
  blocked: boolean;
  unwatch: (() => void) | undefined;
  hasLongPress: boolean;
}

export class GpioButtons extends EventEmitter<ButtonEvents> implements Buttons {
  private readonly states: ButtonState[];
  private readonly debounceMs: number;
  private readonly longPressMs: number;
  private closed = false;

  /** Opens the pins at once; throws like `GpioPinFactory` when one cannot be exported. */
  constructor(
    gpio: GpioPinFactory,
    private readonly config: ButtonsConfig,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.debounceMs = config.debounceMs ?? 30;
    this.longPressMs = config.longPressMs ?? 2000;
    const longNames = new Set(config.longPressButtons ?? ['service']);
    const activeLow = config.activeLow ?? true;
    const opened: GpioPin[] = [];
    try {
      const wired = Object.entries(config.pins) as [ButtonName, number][];
      this.states = wired.map(([name, bcm]) => {
        const pin = gpio.input(bcm, { activeLow });
        opened.push(pin);
        return {
          name,
          pin,
          stable: 0,
          raw: 0,
          debounce: undefined,
          longTimer: undefined,
          longFired: false,
          blocked: false,
          unwatch: undefined,
          hasLongPress: longNames.has(name),
        };
      });
    } catch (err) {
      // Half-opened pins would stay exported and block the next attempt with EBUSY.
      for (const p of opened) p.unexport();
      throw err;
    }
  }

  get names(): readonly ButtonName[] {
    return this.states.map((s) => s.name);
  }

  async start(): Promise<void> {
    for (const s of this.states) {
      s.raw = s.stable = await s.pin.read();
      if (s.stable === 1) {
        s.blocked = true;
        this.logger.warn({ button: s.name, bcm: s.pin.bcm }, 'button held at start; ignored until released');
      }
      s.unwatch = s.pin.watch((edge) => this.onEdge(s, edge));
    }
  }

  private onEdge(s: ButtonState, edge: PinEdge): void {
    if (this.closed) return;
    s.raw = edge.value;
    clearTimeout(s.debounce);
    s.debounce = setTimeout(() => this.commit(s), this.debounceMs);
  }

  private commit(s: ButtonState): void {
    s.debounce = undefined;
    if (s.raw === s.stable) return;
    s.stable = s.raw;
    if (s.blocked) {
      if (s.stable === 0) s.blocked = false;
      return;
    }
    if (s.stable === 1) {
      if (!s.hasLongPress) {
        this.emit('press', s.name);
        return;
      }
      s.longFired = false;
      s.longTimer = setTimeout(() => {
        s.longTimer = undefined;
        s.longFired = true;
        this.emit('longpress', s.name);
      }, this.longPressMs);
      return;
    }
    if (s.hasLongPress) {
      clearTimeout(s.longTimer);
      s.longTimer = undefined;
      if (!s.longFired) this.emit('press', s.name);
    }
  }

  async probe(): Promise<ProbeResult> {
    const where = this.states.map((s) => `${s.name}=BCM ${s.pin.bcm} (gpio ${s.pin.gpio})`).join(', ');
    try {
      const stuck: string[] = [];
      for (const s of this.states) if ((await s.pin.read()) === 1) stuck.push(s.name);
      return {
        device: 'buttons',
        driver: 'gpio-onoff',
        found: true,
        where,
        status: stuck.length ? `stuck: ${stuck.join(', ')}` : 'ok',
        ...(stuck.length
          ? { hint: 'a button reads pressed: check wiring and the activeLow setting (pull-up to 3.3 V)' }
          : {}),
        required: this.config.required ?? true,
      };
    } catch (err) {
      return {
        device: 'buttons',
        driver: 'gpio-onoff',
        found: false,
        where,
        status: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
        hint: 'cannot read the GPIO value files: check permissions (group gpio)',
        required: this.config.required ?? true,
      };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.states) {
      clearTimeout(s.debounce);
      clearTimeout(s.longTimer);
      s.unwatch?.();
      s.pin.unexport();
    }
    this.removeAllListeners();
  }
}
