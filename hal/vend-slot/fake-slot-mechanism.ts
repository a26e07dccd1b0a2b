/**
 * Plays a slot's mechanism on fake GPIO pins, edge by edge, for tests: when the driver switches the
 * output on, the product falls through the light barrier (or the door opens) `dropAfterMs` later and
 * the sensor is active for `widthMs`, with the edges' own timestamps. Modes play the faults:
 * `jam` (nothing drops), `stuck` (the sensor is active and stays so), `bounce` (noise blips shorter
 * than the debounce before the real drop), `late` (the product drops after the timeout).
 *
 * Edges are scheduled with setTimeout so that a test on sinon's fake clock drives them in order.
 */
import type { FakeGpio, FakeGpioPin } from '../io/fake-gpio-pin.js';
import type { Level } from '../io/gpio.js';

export type MechanismMode = 'ok' | 'jam' | 'stuck' | 'bounce' | 'late';

export class FakeSlotMechanism {
  mode: MechanismMode = 'ok';
  dropAfterMs = 200;
  widthMs = 15;
  /** For `late`: when the product finally drops. */
  lateMs = 10_000;
  /** Products that fell out. */
  dropped = 0;
  /** Output switch-ons seen. */
  fired = 0;
  private readonly output: FakeGpioPin;
  private readonly sensor: FakeGpioPin;

  constructor(
    gpio: FakeGpio,
    outputBcm: number,
    sensorBcm: number,
    private readonly now: () => number,
  ) {
    this.output = gpio.pin(outputBcm);
    this.sensor = gpio.pin(sensorBcm);
    this.output.writeListeners.add((value) => this.onOutput(value));
  }

  /** The sensor's active physical level (active-low sensors pull the line low). */
  private get activeLevel(): Level {
    return this.sensor.activeLow ? 0 : 1;
  }

  private drive(active: boolean): void {
    const level = active ? this.activeLevel : ((1 - this.activeLevel) as Level);
    this.sensor.drive(level, this.now());
  }

  /** Makes the sensor active now and keeps it so (broken sensor, product stuck in the beam). */
  stick(): void {
    this.mode = 'stuck';
    this.drive(true);
  }

  unstick(): void {
    this.mode = 'ok';
    this.drive(false);
  }

  private onOutput(value: Level): void {
    if (value !== 1) return;
    this.fired++;
    switch (this.mode) {
      case 'jam':
      case 'stuck':
        return;
      case 'bounce':
        setTimeout(() => this.drive(true), 20);
        setTimeout(() => this.drive(false), 21);
        setTimeout(() => this.drop(), this.dropAfterMs);
        return;
      case 'late':
        setTimeout(() => this.drop(), this.lateMs);
        return;
      default:
        setTimeout(() => this.drop(), this.dropAfterMs);
    }
  }

  private drop(): void {
    this.dropped++;
    this.drive(true);
    setTimeout(() => this.drive(false), this.widthMs);
  }
}
