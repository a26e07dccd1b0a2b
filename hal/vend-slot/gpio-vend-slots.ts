/**
 * Vend slots on GPIO (onoff through `hal/io/gpio.ts`). Outputs are opened inactive before anything else
 * and switched off again on close. Only one slot releases at a time: motors and solenoids share one
 * supply, and one confirmation at a time keeps a product that drops late from confirming the wrong slot.
 *
 * Output modes:
 * - `pulse`: active for `pulseMs` (a spiral motor's one turn driven by a timer relay, a latch).
 * - `hold`: active until the confirmation or the timeout (a locker solenoid held until the door opens,
 *   a motor that runs until its home switch closes); never longer than `timeoutMs`.
 *
 * Confirmation: the sensor counts once it was active for `debounceMs`, measured from the edges' own
 * timestamps (a falling product interrupts a light barrier for a few milliseconds only: keep
 * `debounceMs` below that, and above the sensor's noise). Shorter blips are ignored.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { GpioPin, GpioPinFactory, PinEdge } from '../io/gpio.js';
import type { ReleaseResult, VendSlotEvents, VendSlots } from './vend-slot.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface SlotOutputConfig {
  bcm: number;
  /** The relay board switches on a low level (most opto-isolated boards). Default false. */
  activeLow?: boolean;
  mode: 'pulse' | 'hold';
  /** For `pulse`. Default 500 ms. */
  pulseMs?: number;
}

export interface SlotSensorConfig {
  bcm: number;
  /** Default true: an open-collector sensor or a switch to GND pulls the line low when active. */
  activeLow?: boolean;
  /** `drop`: a light barrier the product falls through (stays active = stuck); `door`/`home`: a switch. */
  kind: 'drop' | 'door' | 'home';
  /** Minimum active time that counts. Default 5 ms for `drop`, 30 ms for switches. */
  debounceMs?: number;
  /** A drop sensor still active this long after a drop is stuck. Default 2000 ms. */
  stuckMs?: number;
}

export interface SlotConfig {
  id: string;
  output: SlotOutputConfig;
  sensor: SlotSensorConfig;
  /** No confirmation within this time from firing fails the release. Default 5000 ms. */
  timeoutMs?: number;
}

export interface GpioVendSlotsConfig {
  slots: SlotConfig[];
  required?: boolean;
}

interface Slot {
  config: SlotConfig;
  output: GpioPin;
  sensor: GpioPin;
  activeSince: number | undefined;
  unwatch: (() => void) | undefined;
}

interface Running {
  slot: Slot;
  firedAt: number;
  confirm: (at: number) => void;
}

export class GpioVendSlots extends EventEmitter<VendSlotEvents> implements VendSlots {
  private readonly byId = new Map<string, Slot>();
  private running: Running | undefined;
  /** Set synchronously when a release begins, so a second caller is refused before any await. */
  private releasing = false;
  private closed = false;
  readonly slots: readonly string[];

  constructor(
    gpio: GpioPinFactory,
    private readonly config: GpioVendSlotsConfig,
    private readonly logger: Logger = silentLogger,
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
    const opened: GpioPin[] = [];
    try {
      // Outputs first, inactive: nothing may release while the rest is still being set up.
      const outputs = config.slots.map((s) => {
        const pin = gpio.output(s.output.bcm, { initial: 0, activeLow: s.output.activeLow ?? false });
        opened.push(pin);
        return pin;
      });
      config.slots.forEach((s, i) => {
        if (this.byId.has(s.id)) throw new Error(`slot ${s.id} configured twice`);
        const sensor = gpio.input(s.sensor.bcm, { activeLow: s.sensor.activeLow ?? true });
        opened.push(sensor);
        const output = outputs[i] as GpioPin;
        this.byId.set(s.id, { config: s, output, sensor, activeSince: undefined, unwatch: undefined });
      });
    } catch (err) {
      for (const p of opened) p.unexport();
      throw err;
    }
    this.slots = config.slots.map((s) => s.id);
  }

  async start(): Promise<void> {
    for (const slot of this.byId.values()) {
      if ((await slot.sensor.read()) === 1) slot.activeSince = this.now();
      slot.unwatch = slot.sensor.watch((edge) => this.onEdge(slot, edge));
    }
  }

  private debounceOf(slot: Slot): number {
    return slot.config.sensor.debounceMs ?? (slot.config.sensor.kind === 'drop' ? 5 : 30);
  }

  private onEdge(slot: Slot, edge: PinEdge): void {
    if (edge.value === 1) {
      if (slot.activeSince !== undefined) return;
      slot.activeSince = edge.at;
      const since = edge.at;
      // A switch that stays closed confirms without a second edge: check once the debounce time passed.
      setTimeout(() => {
        if (slot.activeSince === since) this.active(slot, since);
      }, this.debounceOf(slot));
      return;
    }
    const since = slot.activeSince;
    slot.activeSince = undefined;
    if (since !== undefined && edge.at - since >= this.debounceOf(slot)) this.active(slot, since);
  }

  /** The sensor was active long enough: a confirmation if this slot is releasing. */
  private active(slot: Slot, since: number): void {
    const r = this.running;
    if (r?.slot === slot && since >= r.firedAt) r.confirm(since);
    else if (r?.slot !== slot)
      this.logger.warn({ slot: slot.config.id }, 'slot sensor active outside a release');
  }

  sensorActive(id: string): boolean {
    const slot = this.byId.get(id);
    return slot !== undefined && this.running?.slot !== slot && slot.activeSince !== undefined;
  }

  async release(id: string): Promise<ReleaseResult> {
    const slot = this.byId.get(id);
    if (!slot) return { slot: id, outcome: 'failed', reason: 'unknown_slot', fired: false };
    if (this.releasing || this.closed) return { slot: id, outcome: 'failed', reason: 'busy', fired: false };
    this.releasing = true;
    try {
      return await this.fire(slot);
    } finally {
      this.releasing = false;
    }
  }

  private async fire(slot: Slot): Promise<ReleaseResult> {
    const id = slot.config.id;
    // A sensor already active cannot confirm anything: fire nothing.
    if (slot.activeSince !== undefined || (await slot.sensor.read()) === 1) {
      this.emit('fault', id, 'sensor_stuck');
      return { slot: id, outcome: 'failed', reason: 'sensor_stuck', fired: false };
    }
    const { output, sensor: sensorConfig } = slot.config;
    const timeoutMs = slot.config.timeoutMs ?? 5000;
    const firedAt = this.now();
    let confirmedAt: number | undefined;
    let wake: () => void = () => {};
    const confirmed = new Promise<void>((resolve) => (wake = resolve));
    this.running = {
      slot,
      firedAt,
      confirm: (at) => {
        confirmedAt ??= at;
        wake();
      },
    };
    let pulseEnded: Promise<void> = Promise.resolve();
    try {
      try {
        await slot.output.write(1);
      } catch (err) {
        this.logger.error({ slot: id, err: (err as Error).message }, 'slot output failed');
        await slot.output.write(0).catch(() => undefined);
        return { slot: id, outcome: 'failed', reason: 'output_fault', fired: false };
      }
      this.logger.info({ slot: id, mode: output.mode }, 'slot fired');
      if (output.mode === 'pulse') {
        pulseEnded = new Promise<void>((resolve) =>
          setTimeout(() => void this.switchOff(slot).then(resolve), output.pulseMs ?? 500),
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([confirmed, timedOut]);
      clearTimeout(timer);
      if (output.mode === 'hold') await this.switchOff(slot);
      // The pulse always runs to its end: a motor stopped half-way leaves the spiral between products.
      await pulseEnded;
    } finally {
      this.running = undefined;
    }
    if (confirmedAt === undefined) {
      this.logger.warn({ slot: id, timeoutMs }, 'slot release not confirmed');
      return { slot: id, outcome: 'failed', reason: 'no_confirmation', fired: true };
    }
    if (sensorConfig.kind === 'drop') this.watchStuck(slot);
    return { slot: id, outcome: 'delivered', confirmedAfterMs: Math.max(0, confirmedAt - firedAt) };
  }

  private async switchOff(slot: Slot): Promise<void> {
    await slot.output.write(0).catch((err: Error) => {
      this.logger.error({ slot: slot.config.id, err: err.message }, 'slot output could not be switched off');
      this.emit('fault', slot.config.id, 'output_stuck');
    });
  }

  /** A light barrier that stays blocked after the drop: product stuck in the chute, or a broken sensor. */
  private watchStuck(slot: Slot): void {
    const stuckMs = slot.config.sensor.stuckMs ?? 2000;
    setTimeout(() => {
      const since = slot.activeSince;
      if (!this.closed && since !== undefined && this.now() - since >= stuckMs) {
        this.emit('fault', slot.config.id, 'sensor_stuck');
      }
    }, stuckMs);
  }

  async probe(): Promise<ProbeResult> {
    const where = [...this.byId.values()]
      .map((s) => `${s.config.id}=BCM ${s.config.output.bcm}/${s.config.sensor.bcm}`)
      .join(', ');
    const stuck = [...this.byId.values()].filter((s) => s.activeSince !== undefined).map((s) => s.config.id);
    return {
      device: 'slots',
      driver: 'gpio',
      found: true,
      where,
      status: stuck.length ? `sensor active: ${stuck.join(', ')}` : 'ok',
      ...(stuck.length
        ? {
            hint: 'a sensor is active while no slot releases: product in the beam, wiring or a broken sensor',
          }
        : {}),
      required: this.config.required ?? false,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.byId.values()) {
      slot.unwatch?.();
      await slot.output.write(0).catch(() => undefined);
      slot.output.unexport();
      slot.sensor.unexport();
    }
  }
}
