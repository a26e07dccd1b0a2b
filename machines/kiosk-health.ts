/**
 * Whether the kiosk may serve customers, and if not, why: the reason is what the out-of-service
 * screen, the fleet and the technician see.
 */
import type { DeviceHealth } from '../src/contracts/device.js';
import type { DeviceName } from './ports.js';

export type OutOfServiceReason =
  | 'locked' // the fleet locked this kiosk
  | 'api_unreachable' // self-test could not reach the API
  | 'pairing_lost' // the API refused the device session and its renewal: an operator must pair again
  | 'api_unresolved' // a payment's outcome stayed unknown; money recorded, operator must look
  | 'recovery_failed' // the journal could not finish what a crash interrupted
  | 'printer' // no printer (or no paper) and receipts are mandatory
  | 'acceptor' // no way to take money
  | 'reader' // the top-up kiosk cannot read cards
  | 'display'
  | 'storage' // the journal cannot write (disk full, I/O error) or its space reserve is in use
  | 'self_test'
  | 'internal';

export interface HealthView {
  mode: 'topup' | 'checkout';
  locked: boolean;
  apiReachable: boolean;
  /** The device pairing is dead (refresh token and device code refused); absent: not known to be. */
  pairingLost?: boolean;
  receiptsRequired: boolean;
  terminal: boolean;
  devices: Record<DeviceName, DeviceHealth>;
}

export function blockingReason(v: HealthView): OutOfServiceReason | null {
  if (v.locked) return 'locked';
  // Before the API: without a journal no cent may be taken, whatever else works.
  if (v.devices.storage === 'offline') return 'storage';
  // Before "no connection": the API answered, and waiting will not bring the pairing back.
  if (v.pairingLost) return 'pairing_lost';
  if (!v.apiReachable) return 'api_unreachable';
  if (v.devices.display === 'offline') return 'display';
  if (v.devices.acceptor === 'offline' && (v.mode === 'topup' || !v.terminal)) return 'acceptor';
  if (v.devices.reader === 'offline' && v.mode === 'topup') return 'reader';
  // `degraded` is paper low: it still prints.
  if (v.devices.printer === 'offline' && v.receiptsRequired) return 'printer';
  return null;
}
