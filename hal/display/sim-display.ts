/**
 * The display's simulated twin: same interface and the same error behaviour as the real driver,
 * the screen kept as text. `lines()` is what a customer would read; `change` fires on every
 * visible change, for the simulator's UI and for tests written as "press this, expect these lines".
 */
import { EventEmitter } from 'node:events';
import type { DeviceHealth, ProbeResult } from '../../src/contracts/device.js';
import type { Display, DisplayEvents, DisplayStatusEvent } from './display.js';

export interface SimulatedDisplayEvents extends DisplayEvents {
  change: [string[]];
}

export class SimulatedDisplay extends EventEmitter implements Display {
  private screen: string[];
  private backlight = true;
  private unplugged = false;
  private state: DeviceHealth = 'ok';
  private faultSeen = false;

  constructor(
    readonly cols = 20,
    readonly rows = 4,
    private readonly name = 'display',
  ) {
    super();
    this.screen = Array.from({ length: rows }, () => ' '.repeat(cols));
  }

  override on<K extends keyof SimulatedDisplayEvents>(
    event: K,
    listener: (...args: SimulatedDisplayEvents[K]) => void,
  ): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof SimulatedDisplayEvents>(
    event: K,
    listener: (...args: SimulatedDisplayEvents[K]) => void,
  ): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  async show(lines: readonly string[]): Promise<void> {
    if (!this.reachable()) return;
    const next = Array.from({ length: this.rows }, (_, r) => fit(lines[r] ?? '', this.cols));
    if (next.every((line, r) => line === this.screen[r])) return;
    this.screen = next;
    this.emit('change', this.lines());
  }

  async setBacklight(on: boolean): Promise<void> {
    if (this.reachable()) this.backlight = on;
  }

  /** The screen as text, each line exactly `cols` characters. */
  lines(): string[] {
    return [...this.screen];
  }

  /** The screen without trailing blanks, handier in test expectations. */
  text(): string[] {
    return this.screen.map((l) => l.trimEnd());
  }

  isBacklightOn(): boolean {
    return this.backlight;
  }

  health(): DeviceHealth {
    return this.state;
  }

  async probe(): Promise<ProbeResult> {
    const base = { device: this.name, driver: 'simulated', where: 'memory', required: false };
    return this.unplugged
      ? { ...base, found: false, status: 'EREMOTEIO', hint: 'simulated display unplugged' }
      : { ...base, found: true, status: 'ok' };
  }

  async close(): Promise<void> {}

  /** Test control: the next writes fail like a disconnected backpack. */
  unplug(): void {
    this.unplugged = true;
  }

  /** Test control: plugged back; the next `show` "re-initialises" (blank glass) and reports it. */
  replug(): void {
    this.unplugged = false;
  }

  private reachable(): boolean {
    if (this.unplugged) {
      this.faultSeen = true;
      this.setState({ health: 'offline', cause: 'EREMOTEIO', reinitialised: false });
      return false;
    }
    if (this.faultSeen) {
      this.faultSeen = false;
      this.screen = this.screen.map(() => ' '.repeat(this.cols));
      this.setState({ health: 'ok', cause: 'EREMOTEIO', reinitialised: true }, true);
    }
    return true;
  }

  private setState(event: DisplayStatusEvent, always = false): void {
    if (!always && event.health === this.state) return;
    this.state = event.health;
    this.emit('status', event);
  }
}

/** Pads or cuts to `cols` code points (not UTF-16 units: "€" is one cell). */
function fit(line: string, cols: number): string {
  const chars = [...line].slice(0, cols);
  return chars.join('') + ' '.repeat(cols - chars.length);
}
