/**
 * The real pin factory on `onoff` (sysfs GPIO). BCM numbers go through the header chip's base
 * (`sysfs-gpio-base.ts`). Debouncing is left to the drivers: onoff's own debounce would swallow
 * short coin pulses and hide edge timestamps.
 */
import { performance } from 'node:perf_hooks';
import type { Gpio as OnoffGpio } from 'onoff';
import type { GpioPin, GpioPinFactory, InputPinOptions, Level, OutputPinOptions, PinEdge } from './gpio.js';
import type { GpioNumbering } from './sysfs-gpio-base.js';
import { DEFAULT_SYSFS_GPIO_ROOT, readGpioNumbering } from './sysfs-gpio-base.js';

/** sysfs GPIO is not there (a PC, or a kernel built without it): the message says so. */
export class GpioUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpioUnavailableError';
  }
}

type GpioClass = typeof OnoffGpio;

class OnoffPin implements GpioPin {
  constructor(
    readonly bcm: number,
    readonly gpio: number,
    private readonly pin: OnoffGpio,
    private readonly now: () => number,
  ) {}

  async read(): Promise<Level> {
    return this.pin.read();
  }

  async write(value: Level): Promise<void> {
    await this.pin.write(value);
  }

  watch(listener: (edge: PinEdge) => void): () => void {
    const callback = (err: Error | null | undefined, value: Level): void => {
      // An epoll error has no level to report; the next edge carries the truth.
      if (!err) listener({ value, at: this.now() });
    };
    this.pin.watch(callback);
    return () => this.pin.unwatch(callback);
  }

  unexport(): void {
    this.pin.unexport();
  }
}

export function onoffPinFactory(
  Gpio: GpioClass,
  numbering: GpioNumbering,
  now: () => number = () => performance.now(),
): GpioPinFactory {
  return {
    input(bcm: number, options: InputPinOptions = {}): GpioPin {
      const gpio = numbering.toGlobal(bcm);
      return new OnoffPin(bcm, gpio, new Gpio(gpio, 'in', 'both', { activeLow: !!options.activeLow }), now);
    },
    output(bcm: number, options: OutputPinOptions): GpioPin {
      const gpio = numbering.toGlobal(bcm);
      // sysfs "high"/"low" set the raw level glitch-free, before active_low applies, so invert here.
      const physical = options.activeLow ? 1 - options.initial : options.initial;
      const direction = physical ? 'high' : 'low';
      return new OnoffPin(
        bcm,
        gpio,
        new Gpio(gpio, direction, 'none', { activeLow: !!options.activeLow }),
        now,
      );
    },
  };
}

/**
 * Loads onoff lazily (its native epoll module must not break a doctor run on a machine without it),
 * checks that sysfs GPIO is usable and reads the header chip's base.
 */
export async function openOnoffPinFactory(
  sysfsRoot: string = DEFAULT_SYSFS_GPIO_ROOT,
): Promise<{ factory: GpioPinFactory; numbering: GpioNumbering }> {
  const { Gpio } = await import('onoff');
  if (!Gpio.accessible) throw new GpioUnavailableError(`sysfs GPIO not accessible (${sysfsRoot})`);
  const numbering = await readGpioNumbering(sysfsRoot);
  return { factory: onoffPinFactory(Gpio, numbering), numbering };
}
