/**
 * Simulated buttons with the same interface as `GpioButtons`, for the simulator and flow tests:
 * `press(name)` and `longPress(name)` emit what a debounced real press would.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { ButtonEvents, ButtonName, Buttons } from './buttons.js';
import { STANDARD_BUTTONS } from './buttons.js';

export class SimulatedButtons extends EventEmitter<ButtonEvents> implements Buttons {
  private running = false;

  constructor(
    readonly names: readonly ButtonName[] = STANDARD_BUTTONS,
    private readonly longPressButtons: readonly ButtonName[] = ['service'],
  ) {
    super();
  }

  async start(): Promise<void> {
    this.running = true;
  }

  /** A short press. Throws for a name that is not configured, which is a test's typo, not a user's. */
  press(name: ButtonName): void {
    this.check(name);
    if (this.running) this.emit('press', name);
  }

  /** A hold past the long-press time. Buttons without long-press see an ordinary press, as on the real kiosk. */
  longPress(name: ButtonName): void {
    this.check(name);
    if (!this.running) return;
    if (this.longPressButtons.includes(name)) this.emit('longpress', name);
    else this.emit('press', name);
  }

  private check(name: ButtonName): void {
    if (!this.names.includes(name))
      throw new Error(`no button named "${name}" (have ${this.names.join(', ')})`);
  }

  async probe(): Promise<ProbeResult> {
    return {
      device: 'buttons',
      driver: 'simulated',
      found: true,
      where: 'simulated',
      status: 'ok',
      required: false,
    };
  }

  async close(): Promise<void> {
    this.running = false;
    this.removeAllListeners();
  }
}
