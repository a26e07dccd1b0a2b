/**
 * A fake pin factory for tests: the test drives physical edges with explicit timestamps and reads back
 * what the driver wrote. It applies `activeLow` like the kernel does, so a driver that forgets to pass it
 * sees inverted levels and fails its test.
 */
import type { GpioPin, GpioPinFactory, InputPinOptions, Level, OutputPinOptions, PinEdge } from './gpio.js';

export class FakeGpioPin implements GpioPin {
  private readonly listeners = new Set<(edge: PinEdge) => void>();
  /** Physical level on the wire. */
  private physical: Level;
  unexported = false;
  /** Every logical value the driver wrote, in order. */
  readonly writes: Level[] = [];
  /** Called after each write with the logical value (a fake mechanism reacts to an output). */
  readonly writeListeners = new Set<(value: Level) => void>();

  constructor(
    readonly bcm: number,
    readonly gpio: number,
    readonly direction: 'in' | 'out',
    readonly activeLow: boolean,
    initialLogical: Level,
  ) {
    this.physical = this.toPhysical(initialLogical);
  }

  private toPhysical(logical: Level): Level {
    return this.activeLow ? ((1 - logical) as Level) : logical;
  }

  /** Logical level as the driver sees it. */
  get value(): Level {
    return this.toPhysical(this.physical);
  }

  /** Physical level on the wire (what a multimeter would show). */
  get level(): Level {
    return this.physical;
  }

  async read(): Promise<Level> {
    this.assertUsable();
    return this.value;
  }

  async write(value: Level): Promise<void> {
    this.assertUsable();
    if (this.direction !== 'out') throw new Error(`BCM ${this.bcm} is an input`);
    this.writes.push(value);
    this.physical = this.toPhysical(value);
    for (const l of [...this.writeListeners]) l(value);
  }

  watch(listener: (edge: PinEdge) => void): () => void {
    this.assertUsable();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  unexport(): void {
    this.unexported = true;
    this.listeners.clear();
  }

  get watcherCount(): number {
    return this.listeners.size;
  }

  /** Sets the physical level at time `at` (ms) and reports the edge, as the kernel would. */
  drive(physical: Level, at: number): void {
    this.physical = physical;
    const edge: PinEdge = { value: this.value, at };
    for (const l of [...this.listeners]) l(edge);
  }

  /**
   * Drives a pulse to the active level for `widthMs` starting at `at`, for an active-low line a low
   * pulse. Returns the time the pulse ended.
   */
  pulse(at: number, widthMs: number): number {
    this.drive(this.toPhysical(1), at);
    this.drive(this.toPhysical(0), at + widthMs);
    return at + widthMs;
  }

  private assertUsable(): void {
    if (this.unexported) throw new Error(`BCM ${this.bcm} was unexported`);
  }
}

export class FakeGpio implements GpioPinFactory {
  readonly pins = new Map<number, FakeGpioPin>();

  /** `base` plays the header chip's base, so tests see global numbers like the kernel's. */
  constructor(private readonly base = 512) {}

  input(bcm: number, options: InputPinOptions = {}): GpioPin {
    return this.add(new FakeGpioPin(bcm, this.base + bcm, 'in', !!options.activeLow, 0));
  }

  output(bcm: number, options: OutputPinOptions): GpioPin {
    return this.add(new FakeGpioPin(bcm, this.base + bcm, 'out', !!options.activeLow, options.initial));
  }

  pin(bcm: number): FakeGpioPin {
    const p = this.pins.get(bcm);
    if (!p) throw new Error(`BCM ${bcm} was never opened`);
    return p;
  }

  private add(pin: FakeGpioPin): FakeGpioPin {
    if (this.pins.get(pin.bcm) && !this.pins.get(pin.bcm)?.unexported) {
      throw new Error(`EBUSY: BCM ${pin.bcm} already exported`);
    }
    this.pins.set(pin.bcm, pin);
    return pin;
  }
}
