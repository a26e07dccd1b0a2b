/**
 * The one status an operator sees on a kiosk's tile, computed from what the kiosk last said and how
 * old that is. A retained `online` proves nothing on its own (it survives broker restarts and crashes
 * that fire no Will), so `online` needs a fresh `health` too.
 *
 * Precedence, most definite first: what the kiosk (or its Will) declared about itself wins over what
 * we infer from silence; silence (`stale`) wins over `stuck` inferred from `busy`, because `busy` is
 * only known from that same stale health.
 */
import type { KioskState } from './messages.js';

export const KIOSK_STATUSES = [
  'online',
  'degraded',
  'stuck',
  'stale',
  'maintenance',
  'out_of_service',
  'offline',
  'lost',
  'unknown',
] as const;
export type KioskStatus = (typeof KIOSK_STATUSES)[number];

export interface StatusPolicy {
  /** Heartbeat interval when the kiosk's birth does not say. */
  defaultHeartbeatMs: number;
  /** Health older than this many heartbeats makes an `online` kiosk `stale`. */
  staleAfterBeats: number;
  /** Out of the idle flow for longer than this is `stuck` (no flow takes that long). */
  stuckAfterMs: number;
}

export const DEFAULT_POLICY: StatusPolicy = {
  defaultHeartbeatMs: 30_000,
  staleAfterBeats: 3,
  stuckAfterMs: 10 * 60_000,
};

export interface StatusInputs {
  state: KioskState | undefined;
  /** Heartbeat interval from the kiosk's birth, ms. */
  heartbeatMs: number | undefined;
  /**
   * Dashboard time of the last proof of life: the last health, or the live (not retained) state
   * message when no health arrived since. Undefined when there is none we can trust.
   */
  lastLifeAt: number | undefined;
  /** Dashboard time since which the kiosk's health has said `busy` without a break; undefined when idle. */
  busySince: number | undefined;
  openAlerts: readonly string[];
}

export function heartbeatWindowMs(heartbeatMs: number | undefined, policy: StatusPolicy): number {
  return (heartbeatMs ?? policy.defaultHeartbeatMs) * policy.staleAfterBeats;
}

export function computeStatus(
  k: StatusInputs,
  now: number,
  policy: StatusPolicy = DEFAULT_POLICY,
): KioskStatus {
  switch (k.state) {
    case undefined:
      return 'unknown';
    case 'lost':
    case 'offline':
    case 'maintenance':
    case 'out_of_service':
      return k.state;
    case 'online':
    case 'degraded':
      break;
  }
  const fresh = k.lastLifeAt !== undefined && now - k.lastLifeAt < heartbeatWindowMs(k.heartbeatMs, policy);
  if (!fresh) return 'stale';
  if (k.openAlerts.includes('stuck')) return 'stuck';
  if (k.busySince !== undefined && now - k.busySince > policy.stuckAfterMs) return 'stuck';
  return k.state;
}
