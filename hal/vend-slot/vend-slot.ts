/**
 * Product release per slot, as the flows see it: each slot has an output that releases one product
 * (relay, spiral motor or locker door) and an input that confirms it (drop sensor, door switch or the
 * motor's home switch). A release is a money step: the caller journals the intent before `release`
 * and its result after; `release` itself never retries (a second pulse would give a second product).
 *
 * Events:
 * - `fault` (slot, reason): something the operator must see, also outside a release (a sensor that
 *   stays active after a drop: product stuck in the beam, or a broken sensor).
 */
import type { EventEmitter } from 'node:events';
import type { Probeable } from '../../src/contracts/device.js';

/**
 * - `no_confirmation`: the output fired but the sensor saw nothing within the timeout (jammed spiral,
 *   empty slot, door that did not open). Whether the customer got a product is not proven: the flow
 *   refunds and blocks the slot, the operator checks.
 * - `sensor_stuck`: the sensor was already active before the output fired; nothing was fired.
 * - `output_fault`: the output could not be driven; nothing was fired.
 */
export type ReleaseFailure = 'no_confirmation' | 'sensor_stuck' | 'output_fault' | 'unknown_slot' | 'busy';

export type ReleaseResult =
  | { slot: string; outcome: 'delivered'; confirmedAfterMs: number }
  | { slot: string; outcome: 'failed'; reason: ReleaseFailure; fired: boolean };

export interface VendSlotEvents {
  fault: [slot: string, reason: string];
}

export interface VendSlots extends Probeable, Pick<EventEmitter<VendSlotEvents>, 'on' | 'off' | 'once'> {
  /** Slot ids as configured, e.g. `A1`. */
  readonly slots: readonly string[];
  start(): Promise<void>;
  /**
   * The slot's sensor reads active now while the slot is not releasing (a unit stuck in the beam, a
   * broken sensor): a release could not be confirmed, so the slot is not unblocked.
   */
  sensorActive(slot: string): boolean;
  /** Fires the slot's output once and waits for the confirmation or the timeout. One slot at a time. */
  release(slot: string): Promise<ReleaseResult>;
  /** Switches every output off and releases the pins. */
  close(): Promise<void>;
}
