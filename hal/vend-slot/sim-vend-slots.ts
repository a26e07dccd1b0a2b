/**
 * The slots' simulated twin for the simulator and the flow tests: a release is delivered unless the
 * slot was jammed (`no_confirmation`, fired) or its sensor broken (`sensor_stuck`, not fired). The
 * control port jams slots and breaks sensors with it.
 */
import { EventEmitter } from 'node:events';
import { simulatedProbe, type ProbeResult } from '../../src/contracts/device.js';
import type { ReleaseResult, VendSlotEvents, VendSlots } from './vend-slot.js';

export class SimulatedVendSlots extends EventEmitter<VendSlotEvents> implements VendSlots {
  private readonly jammed = new Set<string>();
  private readonly broken = new Set<string>();
  private running = false;
  /** Slot ids of every release that fired, in order (a test asserts no release happened twice). */
  readonly fired: string[] = [];
  /** When set, a release waits for this before it resolves (a test cuts the power meanwhile). */
  gate: Promise<void> | undefined;

  constructor(readonly slots: readonly string[]) {
    super();
  }

  async start(): Promise<void> {}

  private check(slot: string): void {
    if (!this.slots.includes(slot)) throw new Error(`no slot ${slot}`);
  }

  /** The slot's next releases give nothing until `fix`. */
  jam(slot: string): void {
    this.check(slot);
    this.jammed.add(slot);
  }

  /** The slot's sensor reads active all the time until `fix`. */
  breakSensor(slot: string): void {
    this.check(slot);
    this.broken.add(slot);
    this.emit('fault', slot, 'sensor_stuck');
  }

  fix(slot: string): void {
    this.jammed.delete(slot);
    this.broken.delete(slot);
  }

  state(slot: string): 'ok' | 'jammed' | 'sensor_broken' {
    return this.broken.has(slot) ? 'sensor_broken' : this.jammed.has(slot) ? 'jammed' : 'ok';
  }

  sensorActive(slot: string): boolean {
    return this.broken.has(slot);
  }

  async release(slot: string): Promise<ReleaseResult> {
    if (!this.slots.includes(slot)) return { slot, outcome: 'failed', reason: 'unknown_slot', fired: false };
    if (this.running) return { slot, outcome: 'failed', reason: 'busy', fired: false };
    if (this.broken.has(slot)) return { slot, outcome: 'failed', reason: 'sensor_stuck', fired: false };
    this.running = true;
    try {
      this.fired.push(slot);
      await (this.gate ?? Promise.resolve());
      if (this.jammed.has(slot)) return { slot, outcome: 'failed', reason: 'no_confirmation', fired: true };
      return { slot, outcome: 'delivered', confirmedAfterMs: 0 };
    } finally {
      this.running = false;
    }
  }

  async probe(): Promise<ProbeResult> {
    const bad = this.slots.filter((s) => this.state(s) !== 'ok');
    return simulatedProbe('slots', {
      where: this.slots.join(', '),
      status: bad.length ? bad.map((s) => `${s} ${this.state(s)}`).join(', ') : 'ok',
    });
  }

  async close(): Promise<void> {}
}
