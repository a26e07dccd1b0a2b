/**
 * Contract-true payloads of a simulated kiosk (src/fleet/envelope.ts types), built from a small
 * description of its condition. Used by the simulated reporters and by tests that need valid messages
 * without a broker.
 */
import { randomUUID } from 'node:crypto';

import { saleParts, zeroParts, SALE_PARTS } from '../util/sale-value.js';

import {
  envelope,
  SCHEMA_VERSION,
  COMMAND_NAMES,
  type AlertMessage,
  type BirthMessage,
  type CmdresMessage,
  type CounterSet,
  type HealthMessage,
  type KioskStateName,
  type StateMessage,
  type TransactionEvent,
  type VoucherEvent,
  type Envelope,
} from '../fleet/envelope.js';

export type Paper = 'ok' | 'low' | 'out';

/** What the payloads are built from: the simulated kiosk's condition right now. */
export interface SimCondition {
  id: string;
  sid: number;
  /** The last event `seq` issued. */
  seq: number;
  firmware: string;
  heartbeatS: number;
  bootTs: number;
  state: KioskStateName;
  stateReason?: string;
  paper: Paper;
  acceptor: 'ok' | 'offline';
  busy: boolean;
  lifetime: CounterSet;
  /** The merchant in the birth (`tenant`), when set. */
  tenant?: string;
}

export function emptyCounters(): CounterSet {
  return {
    sales: { count: 0, cents: 0 },
    topups: { count: 0, cents: 0 },
    cashIn: { count: 0, cents: 0 },
    // As a kiosk of now reports it, so that the dashboard's sales-value check runs on simulated fleets.
    salesValue: { count: 0, cents: 0, parts: zeroParts() },
  };
}

export function newCondition(id: string, over: Partial<SimCondition> = {}): SimCondition {
  return {
    id,
    sid: 1,
    seq: 0,
    firmware: '1.4.2-sim',
    heartbeatS: 10,
    bootTs: Date.now(),
    state: 'online',
    paper: 'ok',
    acceptor: 'ok',
    busy: false,
    lifetime: emptyCounters(),
    ...over,
  };
}

const env = (c: SimCondition, ts: number): Envelope => envelope(c.id, c.sid, c.seq, ts);

export function stateMessage(c: SimCondition, ts: number, state: KioskStateName = c.state): StateMessage {
  return { ...env(c, ts), state, ...(c.stateReason ? { reason: c.stateReason } : {}) };
}

export function birthMessage(c: SimCondition, ts: number): BirthMessage {
  return {
    ...env(c, ts),
    firmware: c.firmware,
    hardware: { model: 'simulated kiosk', serial: null },
    devices: ['printer', 'reader', 'display', 'acceptor'].map((device) => ({
      device,
      driver: 'simulated',
      found: true,
      status: 'ok',
    })),
    capabilities: ['topup', 'checkout', 'cash'],
    commands: [...COMMAND_NAMES],
    heartbeatS: c.heartbeatS,
    configVersion: null,
    schemaVersion: SCHEMA_VERSION,
    clockSynced: true,
    bootTs: c.bootTs,
    ...(c.tenant !== undefined ? { tenant: c.tenant } : {}),
  };
}

export function healthMessage(c: SimCondition, ts: number): HealthMessage {
  const paperHealth = c.paper === 'ok' ? 'ok' : c.paper === 'low' ? 'degraded' : 'offline';
  return {
    ...env(c, ts),
    state: c.state,
    uptimeS: Math.max(0, Math.round((ts - c.bootTs) / 1000)),
    memory: { rssBytes: 80 * 1024 * 1024, heapUsedBytes: 30 * 1024 * 1024 },
    cpuTempC: 48.5,
    disk: { freeBytes: 12e9, totalBytes: 30e9 },
    eventLoopLagMs: { p99: 2.1, max: 5.3 },
    devices: {
      printer: { health: paperHealth, status: c.paper === 'ok' ? 'ok' : `paper_${c.paper}`, paper: c.paper },
      reader: { health: 'ok', status: 'ok' },
      display: { health: 'ok', status: 'ok' },
      acceptor: { health: c.acceptor, status: c.acceptor === 'ok' ? 'ok' : 'offline' },
    },
    outbox: { size: 0, bytes: 0, money: 0, dropped: 0, oldestTs: null },
    counters: { sinceInstall: c.lifetime, sinceCollection: c.lifetime, lastCollectionTs: null },
    clockSynced: true,
    busy: c.busy,
    heartbeatS: c.heartbeatS,
  };
}

export function alertMessage(
  c: SimCondition,
  ts: number,
  name: string,
  severity: AlertMessage['severity'],
  message?: string,
): AlertMessage {
  return { ...env(c, ts), name, severity, since: ts, ...(message ? { message } : {}) };
}

/** A completed sale or top-up; advances `seq` and the lifetime counters of the condition. */
export function transactionEvent(
  c: SimCondition,
  ts: number,
  kind: 'sale' | 'topup',
  amountCents: number,
  more: Partial<TransactionEvent> = {},
): Envelope & TransactionEvent {
  c.seq++;
  const outcome = more.outcome ?? 'completed';
  // The simulated kiosk pays every sale from the card's balance.
  const parts =
    outcome === 'completed' && kind === 'sale'
      ? saleParts(amountCents, { ...zeroParts(), cardBalance: amountCents })
      : undefined;
  if (outcome === 'completed') {
    const counter = kind === 'topup' ? c.lifetime.topups : c.lifetime.sales;
    counter.count++;
    counter.cents += amountCents;
    const value = c.lifetime.salesValue;
    if (parts && value) {
      value.count++;
      value.cents += amountCents;
      for (const p of SALE_PARTS) value.parts[p] += parts[p];
    }
  }
  return {
    ...env(c, ts),
    eventId: randomUUID(),
    kind,
    outcome,
    amountCents,
    currency: 'EUR',
    paymentMethod: 'card_balance',
    card: '9276********2845',
    ...(parts ? { parts } : {}),
    ...more,
  };
}

export function voucherEvent(
  c: SimCondition,
  ts: number,
  action: VoucherEvent['action'],
  amountCents: number,
  voucher: string,
): Envelope & VoucherEvent {
  c.seq++;
  return { ...env(c, ts), eventId: randomUUID(), action, amountCents, currency: 'EUR', voucher };
}

export function cmdresMessage(
  c: SimCondition,
  ts: number,
  cmdId: string | null,
  cmd: string,
  status: CmdresMessage['status'],
  more: Partial<Pick<CmdresMessage, 'reason' | 'result' | 'duplicate'>> = {},
): CmdresMessage {
  return { ...env(c, ts), cmdId, cmd, status, ...more };
}
