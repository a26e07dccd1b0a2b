/**
 * Simulated buttons with the same interface as `GpioButtons`, for the simulator and flow tests:
 * `press(name)` and `longPress(name)` emit what a debounced real press would.
 */
import { EventEmitter } from 'node:events';
import { simulatedProbe, type ProbeResult } from '../../src/contracts/device.js';
import type { ButtonEvents, ButtonName, Buttons } from './buttons.js';
import { BUTTON_NAMES } from '../../src/contracts/buttons.js';

export class SimulatedButtons extends EventEmitter<ButtonEvents> implements Buttons {
  private running = false;

  constructor(
    readonly names: readonly ButtonName[] = BUTTON_NAMES,
    private readonly longPressButtons: readonly ButtonName[] = ['service'],
  ) {
    super();
  }

  async start(): Promise<void> {
    this.running = true;
  }

  /** A short press. Throws for a name that is not configured, which is a test's typo, not a user's. */
  press(name: string): void {
    if (this.check(name) && this.running) this.emit('press', name);
  }

  /** A hold past the long-press time. Buttons without long-press see an ordinary press, as on the real kiosk. */
  longPress(name: string): void {
    if (!this.check(name) || !this.running) return;
    if (this.longPressButtons.includes(name)) this.emit('longpress', name);
    else this.emit('press', name);
  }

  private check(name: string): name is ButtonName {
    if (!(this.names as readonly string[]).includes(name))
      throw new Error(`no button named "${name}" (have ${this.names.join(', ')})`);
    return true;
  }

  async probe(): Promise<ProbeResult> {
    return simulatedProbe('buttons');
  }

  async close(): Promise<void> {
    this.running = false;
    this.removeAllListeners();
  }
}
