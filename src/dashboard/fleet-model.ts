/**
 * The dashboard's picture of the fleet, in memory and bounded: one record per kiosk with what it last
 * said, its open alerts, today's sales from its events (de-duplicated by eventId) and a short ring of
 * recent events and commands. Pure: no MQTT, no timers; every call gets the dashboard's clock (`now`)
 * from outside, so tests drive it with fake time.
 *
 * Times: `receivedAt` is the dashboard's clock; `ts` in payloads is the kiosk's clock, which may be
 * wrong (a Pi has no RTC), so ages are measured with the dashboard's clock and device times are only
 * compared with other device times of the same kiosk.
 */
import { decode, type CmdStatus, type EventMsg, type FleetMessage, type KioskState } from './messages.js';
import {
  computeStatus,
  DEFAULT_POLICY,
  heartbeatWindowMs,
  type KioskStatus,
  type StatusPolicy,
} from './kiosk-status.js';

export interface FleetModelOptions extends Partial<StatusPolicy> {
  /** Recent events kept per kiosk for the detail view. */
  recentEvents?: number;
  /** eventIds remembered per kiosk for de-duplication. */
  dedupWindow?: number;
  /** Recent commands kept per kiosk. */
  recentCommands?: number;
  /** The most kiosks the model will track; messages for more are counted and dropped. */
  maxKiosks?: number;
  /** "Today" for the sales figures, in this time zone. */
  timeZone?: string;
}

export interface IngestMeta {
  receivedAt: number;
  /** The broker delivered a stored retained message (it may be old), not a live one. */
  retained?: boolean;
}

export type IngestResult =
  | { ok: true; kioskId: string; channel: FleetMessage['channel']; changed: boolean; note?: string }
  | { ok: false; reason: string };

export interface AlertView {
  name: string;
  severity: string | undefined;
  message: string | undefined;
  since: number;
}

export interface EventView {
  eventId: string;
  type: string;
  seq: number;
  ts: number;
  receivedAt: number;
  outcome: string | undefined;
  kind: string | undefined;
  amountCents: number | undefined;
  method: string | undefined;
  card: string | undefined;
  message: string | undefined;
}

export interface CommandView {
  cmdId: string;
  name: string;
  issuedAt: number;
  args: unknown;
  /** Latest status from the kiosk, or `sent` while nothing came back. */
  status: CmdStatus | 'sent';
  reason: string | undefined;
  result: unknown;
  updatedAt: number;
}

export interface TodayView {
  day: string;
  salesCount: number;
  salesCents: number;
  topupCount: number;
  topupCents: number;
  failedCount: number;
}

export interface KioskSummary {
  id: string;
  status: KioskStatus;
  state: KioskState | undefined;
  stateReason: string | undefined;
  sid: number;
  firmware: string | undefined;
  heartbeatMs: number | undefined;
  /** Dashboard time of the last health (the "12 s ago" on the tile). */
  lastHeartbeatAt: number | undefined;
  paper: string | undefined;
  printer: string | undefined;
  acceptor: string | undefined;
  reader: string | undefined;
  flow: string | undefined;
  alerts: string[];
  today: TodayView;
  lastMessageAt: number;
}

export interface KioskDetail extends KioskSummary {
  birth: Record<string, unknown> | undefined;
  health: Record<string, unknown> | undefined;
  openAlerts: AlertView[];
  recentEvents: EventView[];
  recentCommands: CommandView[];
  config: { version: number; status: string; errors: unknown[] | undefined } | undefined;
  seq: { last: number | undefined; gaps: number; duplicates: number };
  /** Today's sales from the lifetime counters in health (since the first health seen today). */
  counterCrossCheck: { since: number; salesCount: number; salesCents: number } | undefined;
}

export interface FleetStats {
  messages: number;
  garbage: number;
  duplicates: number;
  ignoredLateLost: number;
  droppedTooManyKiosks: number;
  lastGarbage: string | undefined;
}

interface Counters {
  salesCount?: number | undefined;
  salesCents?: number | undefined;
}

interface KioskRecord {
  id: string;
  sid: number;
  state: KioskState | undefined;
  stateReason: string | undefined;
  /** Dashboard time of the last live (not retained) state message. */
  liveStateAt: number | undefined;
  birth: Extract<FleetMessage, { channel: 'birth' }> | undefined;
  health: Extract<FleetMessage, { channel: 'health' }> | undefined;
  healthAt: number | undefined;
  alerts: Map<string, AlertView>;
  today: TodayView;
  counterBaseline: { day: string; at: number; counters: Counters } | undefined;
  recent: EventView[];
  seen: Set<string>;
  seenOrder: string[];
  lastSeq: number | undefined;
  gaps: number;
  duplicates: number;
  commands: CommandView[];
  config: KioskDetail['config'];
  lastMessageAt: number;
}

const emptyToday = (day: string): TodayView => ({
  day,
  salesCount: 0,
  salesCents: 0,
  topupCount: 0,
  topupCents: 0,
  failedCount: 0,
});

/** Device timestamps before this are an unsynchronised clock (the Pi boots in 1970). */
const PLAUSIBLE_SINCE = Date.UTC(2020, 0, 1);

export class FleetModel {
  readonly policy: StatusPolicy;
  private readonly kiosks = new Map<string, KioskRecord>();
  private readonly opts: Required<Omit<FleetModelOptions, keyof StatusPolicy>>;
  private readonly dayFormat: Intl.DateTimeFormat;
  readonly stats: FleetStats = {
    messages: 0,
    garbage: 0,
    duplicates: 0,
    ignoredLateLost: 0,
    droppedTooManyKiosks: 0,
    lastGarbage: undefined,
  };

  constructor(options: FleetModelOptions = {}) {
    this.policy = {
      defaultHeartbeatMs: options.defaultHeartbeatMs ?? DEFAULT_POLICY.defaultHeartbeatMs,
      staleAfterBeats: options.staleAfterBeats ?? DEFAULT_POLICY.staleAfterBeats,
      stuckAfterMs: options.stuckAfterMs ?? DEFAULT_POLICY.stuckAfterMs,
    };
    this.opts = {
      recentEvents: options.recentEvents ?? 50,
      dedupWindow: options.dedupWindow ?? 1000,
      recentCommands: options.recentCommands ?? 20,
      maxKiosks: options.maxKiosks ?? 20_000,
      timeZone: options.timeZone ?? 'Europe/Berlin',
    };
    // en-CA formats dates as YYYY-MM-DD.
    this.dayFormat = new Intl.DateTimeFormat('en-CA', {
      timeZone: this.opts.timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
  }

  get size(): number {
    return this.kiosks.size;
  }

  dayOf(ms: number): string {
    return this.dayFormat.format(ms);
  }

  /** Decodes and applies one raw MQTT message. Garbage is counted and ignored. */
  ingestRaw(topic: string, payload: Uint8Array, meta: IngestMeta): IngestResult {
    this.stats.messages++;
    const d = decode(topic, payload);
    if (!d.ok) {
      this.stats.garbage++;
      this.stats.lastGarbage = `${topic}: ${d.reason}`;
      return d;
    }
    return this.ingest(d.msg, meta);
  }

  ingest(msg: FleetMessage, meta: IngestMeta): IngestResult {
    const k = this.record(msg.id, meta.receivedAt);
    if (!k) {
      this.stats.droppedTooManyKiosks++;
      return { ok: false, reason: 'too many kiosks' };
    }
    k.lastMessageAt = meta.receivedAt;
    const done = (changed: boolean, note?: string): IngestResult => ({
      ok: true,
      kioskId: k.id,
      channel: msg.channel,
      changed,
      ...(note ? { note } : {}),
    });
    switch (msg.channel) {
      case 'state': {
        if (msg.state === 'lost' && msg.sid < k.sid) {
          // The Will of a session the kiosk has already replaced: it is not lost, it reconnected.
          this.stats.ignoredLateLost++;
          return done(false, 'late lost ignored');
        }
        k.sid = Math.max(k.sid, msg.sid);
        k.state = msg.state;
        k.stateReason = msg.reason;
        if (!meta.retained) k.liveStateAt = meta.receivedAt;
        return done(true);
      }
      case 'birth':
        k.sid = Math.max(k.sid, msg.sid);
        k.birth = msg;
        return done(true);
      case 'health': {
        k.sid = Math.max(k.sid, msg.sid);
        k.health = msg;
        k.healthAt = this.lifeTime(msg.ts, msg.clockSynced ?? k.birth?.clockSynced, meta);
        this.crossCheckBaseline(k, meta.receivedAt);
        return done(true);
      }
      case 'alert':
        if (msg.cleared) return done(k.alerts.delete(msg.name));
        if (!k.alerts.has(msg.name)) {
          k.alerts.set(msg.name, {
            name: msg.name,
            severity: msg.severity,
            message: msg.message,
            since: meta.receivedAt,
          });
        }
        return done(true);
      case 'event':
        return this.event(k, msg, meta) ? done(true) : done(false, 'duplicate');
      case 'cmdres': {
        const cmd = k.commands.find((c) => c.cmdId === msg.cmdId);
        if (!cmd) {
          // Sent by another dashboard instance or before we started: still worth showing.
          this.pushBounded(
            k.commands,
            {
              cmdId: msg.cmdId,
              name: msg.cmd ?? '?',
              issuedAt: meta.receivedAt,
              args: undefined,
              status: msg.status,
              reason: msg.reason,
              result: msg.result,
              updatedAt: meta.receivedAt,
            },
            this.opts.recentCommands,
          );
          return done(true);
        }
        // `accepted` may arrive after `succeeded` with QoS 1 redelivery; never go back to it.
        if (!(msg.status === 'accepted' && (cmd.status === 'succeeded' || cmd.status === 'failed'))) {
          cmd.status = msg.status;
          cmd.reason = msg.reason;
          if (msg.result !== undefined) cmd.result = msg.result;
        }
        cmd.updatedAt = meta.receivedAt;
        return done(true);
      }
      case 'config':
        k.config = { version: msg.version, status: msg.status, errors: msg.errors };
        return done(true);
    }
  }

  /** Remembers a command the dashboard sent, so its results can be shown with its name and args. */
  commandSent(kioskId: string, cmd: { cmdId: string; name: string; issuedAt: number; args: unknown }): void {
    const k = this.record(kioskId, cmd.issuedAt);
    if (!k) return;
    this.pushBounded(
      k.commands,
      { ...cmd, status: 'sent', reason: undefined, result: undefined, updatedAt: cmd.issuedAt },
      this.opts.recentCommands,
    );
  }

  command(kioskId: string, cmdId: string): CommandView | undefined {
    return this.kiosks.get(kioskId)?.commands.find((c) => c.cmdId === cmdId);
  }

  has(id: string): boolean {
    return this.kiosks.has(id);
  }

  ids(): string[] {
    return [...this.kiosks.keys()];
  }

  summary(id: string, now: number): KioskSummary | undefined {
    const k = this.kiosks.get(id);
    return k ? this.summarise(k, now) : undefined;
  }

  summaries(now: number): KioskSummary[] {
    return [...this.kiosks.values()]
      .map((k) => this.summarise(k, now))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  statusOf(id: string, now: number): KioskStatus | undefined {
    const k = this.kiosks.get(id);
    return k ? this.status(k, now) : undefined;
  }

  detail(id: string, now: number): KioskDetail | undefined {
    const k = this.kiosks.get(id);
    if (!k) return undefined;
    const s = this.summarise(k, now);
    const lifetime = k.health?.counters?.lifetime;
    const base = k.counterBaseline;
    return {
      ...s,
      birth: k.birth ? stripKind(k.birth) : undefined,
      health: k.health ? stripKind(k.health) : undefined,
      openAlerts: [...k.alerts.values()],
      recentEvents: [...k.recent],
      recentCommands: [...k.commands],
      config: k.config,
      seq: { last: k.lastSeq, gaps: k.gaps, duplicates: k.duplicates },
      counterCrossCheck:
        base && base.day === this.dayOf(now) && lifetime
          ? {
              since: base.at,
              salesCount: (lifetime.salesCount ?? 0) - (base.counters.salesCount ?? 0),
              salesCents: (lifetime.salesCents ?? 0) - (base.counters.salesCents ?? 0),
            }
          : undefined,
    };
  }

  private record(id: string, now: number): KioskRecord | undefined {
    const existing = this.kiosks.get(id);
    if (existing) return existing;
    if (this.kiosks.size >= this.opts.maxKiosks) return undefined;
    const k: KioskRecord = {
      id,
      sid: 0,
      state: undefined,
      stateReason: undefined,
      liveStateAt: undefined,
      birth: undefined,
      health: undefined,
      healthAt: undefined,
      alerts: new Map(),
      today: emptyToday(this.dayOf(now)),
      counterBaseline: undefined,
      recent: [],
      seen: new Set(),
      seenOrder: [],
      lastSeq: undefined,
      gaps: 0,
      duplicates: 0,
      commands: [],
      config: undefined,
      lastMessageAt: now,
    };
    this.kiosks.set(id, k);
    return k;
  }

  /**
   * When a proof of life happened, on the dashboard's clock. A live message: now. A stored retained
   * one may be old: its device time if the kiosk's clock is synchronised, else no proof at all.
   */
  private lifeTime(ts: number, clockSynced: boolean | undefined, meta: IngestMeta): number | undefined {
    if (!meta.retained) return meta.receivedAt;
    if (clockSynced && ts >= PLAUSIBLE_SINCE && ts <= meta.receivedAt) return ts;
    return undefined;
  }

  private crossCheckBaseline(k: KioskRecord, now: number): void {
    const lifetime = k.health?.counters?.lifetime;
    if (!lifetime) return;
    const day = this.dayOf(now);
    if (k.counterBaseline?.day === day) return;
    k.counterBaseline = {
      day,
      at: now,
      counters: { salesCount: lifetime.salesCount, salesCents: lifetime.salesCents },
    };
  }

  /** Applies an event unless its eventId was seen; returns whether it was new. */
  private event(k: KioskRecord, msg: EventMsg, meta: IngestMeta): boolean {
    if (k.seen.has(msg.eventId)) {
      k.duplicates++;
      this.stats.duplicates++;
      return false;
    }
    k.seen.add(msg.eventId);
    k.seenOrder.push(msg.eventId);
    if (k.seenOrder.length > this.opts.dedupWindow) {
      const old = k.seenOrder.shift();
      if (old !== undefined) k.seen.delete(old);
    }
    if (k.lastSeq !== undefined && msg.seq > k.lastSeq + 1) k.gaps += msg.seq - k.lastSeq - 1;
    k.lastSeq = k.lastSeq === undefined ? msg.seq : Math.max(k.lastSeq, msg.seq);
    k.sid = Math.max(k.sid, msg.sid);

    const view: EventView = {
      eventId: msg.eventId,
      type: msg.type,
      seq: msg.seq,
      ts: msg.ts,
      receivedAt: meta.receivedAt,
      outcome: msg.outcome,
      kind: msg.kind,
      amountCents: msg.amountCents,
      method: msg.method,
      card: msg.card,
      message: msg.message,
    };
    // Newest first; events replayed out of order still land by seq.
    const at = k.recent.findIndex((e) => e.seq < msg.seq);
    k.recent.splice(at === -1 ? k.recent.length : at, 0, view);
    if (k.recent.length > this.opts.recentEvents) k.recent.length = this.opts.recentEvents;

    if (msg.type === 'transaction') {
      // Events replayed after an outage belong to the day they happened, if the kiosk's clock is sane.
      const happened =
        msg.ts >= PLAUSIBLE_SINCE && msg.ts <= meta.receivedAt + 5 * 60_000 ? msg.ts : meta.receivedAt;
      const day = this.dayOf(happened);
      const today = this.dayOf(meta.receivedAt);
      if (day === today) {
        if (k.today.day !== today) k.today = emptyToday(today);
        const t = k.today;
        if (msg.outcome === 'completed') {
          if (msg.kind === 'topup') {
            t.topupCount++;
            t.topupCents += msg.amountCents ?? 0;
          } else {
            t.salesCount++;
            t.salesCents += msg.amountCents ?? 0;
          }
        } else if (msg.outcome === 'failed') {
          t.failedCount++;
        }
      }
    }
    return true;
  }

  private status(k: KioskRecord, now: number): KioskStatus {
    const health = k.health;
    const flowAgeMs =
      health?.flowSince !== undefined && health.flow !== undefined
        ? Math.max(0, health.ts - health.flowSince)
        : undefined;
    const lastLifeAt =
      k.healthAt !== undefined && (k.liveStateAt === undefined || k.healthAt >= k.liveStateAt)
        ? k.healthAt
        : (k.liveStateAt ?? k.healthAt);
    return computeStatus(
      {
        state: k.state,
        heartbeatMs: this.heartbeatMs(k),
        lastLifeAt,
        flow: health?.flow,
        flowAgeMs,
        healthAt: k.healthAt,
        openAlerts: [...k.alerts.keys()],
      },
      now,
      this.policy,
    );
  }

  private heartbeatMs(k: KioskRecord): number | undefined {
    return k.birth?.heartbeatS !== undefined ? k.birth.heartbeatS * 1000 : undefined;
  }

  private summarise(k: KioskRecord, now: number): KioskSummary {
    const devices = k.health?.devices;
    const today = k.today.day === this.dayOf(now) ? { ...k.today } : emptyToday(this.dayOf(now));
    return {
      id: k.id,
      status: this.status(k, now),
      state: k.state,
      stateReason: k.stateReason,
      sid: k.sid,
      firmware: k.birth?.firmware,
      heartbeatMs: this.heartbeatMs(k),
      lastHeartbeatAt: k.healthAt,
      paper: devices?.printer?.paper,
      printer: devices?.printer?.status,
      acceptor: devices?.acceptor?.status,
      reader: devices?.reader?.status,
      flow: k.health?.flow,
      alerts: [...k.alerts.keys()].sort(),
      today,
      lastMessageAt: k.lastMessageAt,
    };
  }

  private pushBounded<T>(list: T[], item: T, max: number): void {
    list.unshift(item);
    if (list.length > max) list.length = max;
  }

  /** How long after the last health a kiosk turns stale (for the page's countdowns). */
  staleWindowMs(id: string): number {
    const k = this.kiosks.get(id);
    return heartbeatWindowMs(k ? this.heartbeatMs(k) : undefined, this.policy);
  }
}

function stripKind(m: object): Record<string, unknown> {
  const { channel: _channel, ...rest } = m as Record<string, unknown>;
  return rest;
}
