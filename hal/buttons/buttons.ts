/**
 * The kiosk's push buttons. Which pin is which button is configuration; the names are the fixed set
 * in src/contracts/buttons.ts; the flows only ever see names, never pins.
 *
 * Events:
 * - `press` (name): a debounced press. For a button with long-press enabled (the service button) it is
 *   emitted on release, and only when the button was released before the long-press time.
 * - `longpress` (name): the button has been held for the long-press time; emitted while still held, once
 *   per hold, and no `press` follows on release.
 *
 * A button that is already held when the driver starts (stuck, or a finger on it at boot) produces no
 * event until it has been released once; `probe()` reports it as `stuck`.
 */
import type { EventEmitter } from 'node:events';
import type { ButtonName } from '../../src/contracts/buttons.js';
import type { Probeable } from '../../src/contracts/device.js';

export type { ButtonName } from '../../src/contracts/buttons.js';

export interface ButtonEvents {
  press: [name: ButtonName];
  longpress: [name: ButtonName];
}

export interface Buttons extends Probeable, Pick<EventEmitter<ButtonEvents>, 'on' | 'off' | 'once'> {
  /** Names of the configured buttons. */
  readonly names: readonly ButtonName[];
  /** Starts watching. Resolves once the initial levels are read. */
  start(): Promise<void>;
  /** Stops watching and releases the pins. */
  close(): Promise<void>;
}
