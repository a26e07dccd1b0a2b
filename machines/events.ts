/**
 * The one event vocabulary the hardware, the fleet and the app speak to every machine.
 * `TICK` is the app's heartbeat (every `TICK_MS`): it carries a monotonic clock (never the wall clock,
 * which jumps by hours on a Pi without RTC; `src/app/machine-clock.ts`) so that machines keep
 * deadlines in their context (a restored snapshot has no pending `after` timers) and so that the
 * screen can animate its "working" indicator without the machine reading a clock itself.
 */
import type { ButtonName } from '../src/contracts/buttons.js';
import type { DeviceHealth } from '../src/contracts/device.js';
import type { DeviceName, FlowEvent, ServiceReportEvent } from './ports.js';

export { BUTTON_NAMES, type ButtonName } from '../src/contracts/buttons.js';

export const TICK_MS = 250;

export type HardwareEvent =
  | { type: 'BUTTON'; name: ButtonName }
  | { type: 'BUTTON_LONG'; name: ButtonName }
  /** Raw reader text; the machine tells a card number from an EAN. */
  | { type: 'SCAN'; data: string }
  /** A coin or note the acceptor took: it is in the cash box, it must be accounted for. */
  | { type: 'COIN'; cents: number }
  | { type: 'DEVICE'; device: DeviceName; health: DeviceHealth; detail?: string }
  /**
   * Coins the acceptor took whose journal write failed (the disk is full or failing): the app holds
   * them and writes them the moment the disk allows; `cents` is what is held now (0: all written).
   * The machines do not count them (they are not durable) but tell the customer.
   */
  | { type: 'COINS_HELD'; cents: number }
  | { type: 'TICK'; now: number };

/** The cents a COINS_HELD event reports, or null for any other event (or a value that is not a count). */
export function heldCoinsOf(event: { type: string; cents?: unknown }): number | null {
  return event.type === 'COINS_HELD' && Number.isSafeInteger(event.cents) && (event.cents as number) >= 0
    ? (event.cents as number)
    : null;
}

export type FleetEvent = { type: 'MAINTENANCE'; on: boolean } | { type: 'LOCK' } | { type: 'UNLOCK' };

/** The journal's answer while the kiosk is `recovering` (alternative to the `recover` actor finishing). */
export type RecoveryEvent = { type: 'RECOVERY_DONE' } | { type: 'RECOVERY_FAILED'; reason: string };

/**
 * What each vend slot can still release (stock, 0 while blocked), sent by the app whenever it changes;
 * a session takes the figures of its start (a sold-out product is refused before money is taken).
 * `givesChange`: the change hopper can pay now (present and `ok`; empty, jammed or offline cannot): a
 * session that starts without it says "no change" and takes no coin larger than what is due.
 */
export type StockEvent = {
  type: 'STOCK';
  slotStock: Record<string, number>;
  givesChange?: boolean;
  /** The acceptor's coin values, once known (a ccTalk validator reads them when it answers). */
  coinValues?: number[];
};

/**
 * The app found the device pairing dead during any API call (a session's, too): the kiosk goes out
 * of service `pairing_lost` as soon as no customer is served.
 */
export type ApiAuthEvent = { type: 'PAIRING_LOST' };

export type KioskInputEvent = HardwareEvent | FleetEvent | RecoveryEvent | StockEvent | ApiAuthEvent;

/**
 * The service menu (the kiosk's child `menu`) tells the kiosk its PIN gate after every change: the
 * kiosk keeps failed tries and the lock-out deadline, so leaving and re-entering maintenance does not
 * reset them. `loggedIn`: a technician entered the PIN (a fleet "maintenance off" then waits).
 */
export type ServiceStatusEvent = {
  type: 'SERVICE_STATUS';
  loggedIn: boolean;
  failedTries: number;
  lockedUntil: number | null;
};

/**
 * What a child of the kiosk (a session, the service menu) emitted, sent up so that the kiosk emits it
 * too (machines/emit-up.ts): the app hears every outgoing event on the kiosk actor.
 */
export type ChildEmittedEvent = { type: 'CHILD_EMITTED'; emitted: FlowEvent | ServiceReportEvent };
