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
import { KNOWN_ALERTS, type AlertMessage, type BirthMessage, type HealthMessage } from '../fleet/envelope.js';
import { partsDiffering, SALE_PARTS, zeroParts, type SalePart, type SaleParts } from '../util/sale-value.js';
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
  | {
      ok: true;
      kioskId: string;
      channel: FleetMessage['channel'];
      /** The message's device time (undefined for a cleared alert). */
      ts: number | undefined;
      changed: boolean;
      note?: string;
    }
  | { ok: false; reason: string };

export interface AlertView {
  name: string;
  severity: AlertMessage['severity'];
  message: string | undefined;
  /** Device time the condition started. */
  since: number;
  /** Dashboard time the alert was first seen. */
  seenAt: number;
}

export interface EventView {
  eventId: string;
  type: EventMsg['type'];
  seq: number;
  ts: number;
  receivedAt: number;
  /** One short line for the operator: `sale completed`, `cash inserted`, `fault printer: paper_out`. */
  title: string;
  amountCents: number | undefined;
  /** `completed`/`failed`/`cancelled`, a cash action, or a fault's severity. */
  outcome: string;
  card: string | undefined;
  reason: string | undefined;
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
  /** The kiosk's own name and site from its birth, for people (the id stays the key). */
  name: string | undefined;
  site: string | undefined;
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
  /**
   * The acceptor's own health (`ok`/`degraded`/`offline`): an idle kiosk inhibits its acceptor on
   * purpose (status `inhibited`), which is normal, so the tile is red only for a health that is not ok.
   */
  acceptorHealth: string | undefined;
  reader: string | undefined;
  /** Serving a customer right now (from health). */
  busy: boolean | undefined;
  alerts: string[];
  today: TodayView;
  lastMessageAt: number;
}

export interface KioskDetail extends KioskSummary {
  birth: BirthMessage | undefined;
  health: HealthMessage | undefined;
  openAlerts: AlertView[];
  recentEvents: EventView[];
  recentCommands: CommandView[];
  config: { version: number | null; status: string; errors: string[] | undefined } | undefined;
  seq: { last: number | undefined; gaps: number; duplicates: number };
  /**
   * Since the first health seen today: the odometers' rise against what events reported, like with
   * like (counts, and cash in; and `sales`, the sales' value part by part, where the kiosk counts it).
   * `agrees` false is a real discrepancy (or an event still in flight).
   */
  counterCrossCheck:
    | {
        since: number;
        counters: CrossCheckFigures;
        events: CrossCheckFigures;
        /** Absent when the kiosk's health has no `salesValue` (a kiosk of before): nothing is said. */
        sales?: SalesCrossCheck;
        agrees: boolean;
      }
    | undefined;
}

/** The sales' value since the baseline, part by part: the odometer's rise and the events' sum. */
export interface SalesCrossCheck {
  counters: SalesFigures;
  events: SalesFigures;
  /** The parts that differ (empty: they agree to the cent). */
  differing: SalePart[];
}
export interface SalesFigures {
  count: number;
  cents: number;
  parts: SaleParts;
}
const zeroSales = (): SalesFigures => ({ count: 0, cents: 0, parts: zeroParts() });

export interface FleetStats {
  messages: number;
  garbage: number;
  duplicates: number;
  ignoredLateLost: number;
  droppedTooManyKiosks: number;
  lastGarbage: string | undefined;
  /** Events taken with fields this dashboard does not know (a newer kiosk: upgrade the dashboard). */
  newerFields: number;
  lastNewer: string | undefined;
}

/**
 * Like with like: the kiosk's `sales` odometer values a sale at what its payment step moved (for cash,
 * the cash part), the events at the basket value, so those cents are not comparable. Counts of sales
 * and top-ups are, and so is cash taken in (the `cashIn` odometer and `evt/cash inserted`, both the
 * coins). Sales cents are compared on `salesValue` against the events' `parts` (one definition,
 * src/util/sale-value.ts), see `SalesCrossCheck`.
 */
export interface CrossCheckFigures {
  salesCount: number;
  topupCount: number;
  cashInCents: number;
}
const zeroFigures = (): CrossCheckFigures => ({ salesCount: 0, topupCount: 0, cashInCents: 0 });

function copySales(v: SalesFigures): SalesFigures {
  return { count: v.count, cents: v.cents, parts: { ...v.parts } };
}

/**
 * The sales' value since the baseline, part by part. Nothing is said (undefined) when either side
 * lacks parts: a kiosk of before has no `salesValue` in its health (then its events carry none
 * either), and one upgraded since this morning's baseline is compared from tomorrow's.
 */
function salesCrossCheck(
  base: SalesFigures | undefined,
  now: SalesFigures | undefined,
  events: SalesFigures,
): SalesCrossCheck | undefined {
  if (!base || !now) return undefined;
  const parts = zeroParts();
  for (const p of SALE_PARTS) parts[p] = now.parts[p] - base.parts[p];
  const counters = { count: now.count - base.count, cents: now.cents - base.cents, parts };
  return { counters, events: copySales(events), differing: partsDiffering(parts, events.parts) };
}

interface KioskRecord {
  id: string;
  sid: number;
  state: KioskState | undefined;
  stateReason: string | undefined;
  /** Dashboard time of the last live (not retained) state message. */
  liveStateAt: number | undefined;
  birth: BirthMessage | undefined;
  health: HealthMessage | undefined;
  healthAt: number | undefined;
  busySince: number | undefined;
  alerts: Map<string, AlertView>;
  /** The alert sync during which each open alert was last delivered (see `beginAlertSync`). */
  alertEpoch: Map<string, number>;
  today: TodayView;
  /** Odometers at the first health of the day, and what events brought since then. */
  counterBaseline:
    | {
        day: string;
        at: number;
        counters: CrossCheckFigures;
        events: CrossCheckFigures;
        /** The `salesValue` odometer at the baseline (absent: the kiosk does not count it). */
        sales: SalesFigures | undefined;
        /** Completed sales' events that carried `parts`, summed. */
        salesEvents: SalesFigures;
      }
    | undefined;
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
    newerFields: 0,
    lastNewer: undefined,
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
    // Formatting with a time zone is the costliest step of an event (a burst asks thousands of times a
    // second); every zone's offset changes on a whole minute, so the minute decides the day.
    const minute = Math.floor(ms / 60_000);
    let day = this.dayCache.get(minute);
    if (day === undefined) {
      if (this.dayCache.size >= 256) this.dayCache.clear();
      day = this.dayFormat.format(ms);
      this.dayCache.set(minute, day);
    }
    return day;
  }
  private readonly dayCache = new Map<number, string>();

  /** Decodes and applies one raw MQTT message. Garbage is counted and ignored. */
  ingestRaw(topic: string, payload: Uint8Array, meta: IngestMeta): IngestResult {
    const d = decode(topic, payload);
    if (!d.ok) return this.garbage(topic, d.reason);
    if (d.newer) this.newer(topic, d.newer);
    return this.ingest(d.msg, meta);
  }

  /** Counts an event taken without the fields this dashboard's contract does not name. */
  newer(topic: string, fields: readonly string[]): void {
    this.stats.newerFields++;
    this.stats.lastNewer = `${topic}: ${fields.join(', ')}`.slice(0, 200);
  }

  /** Counts a message that did not decode. */
  garbage(topic: string, reason: string): IngestResult {
    this.stats.messages++;
    this.stats.garbage++;
    this.stats.lastGarbage = `${topic}: ${reason}`;
    return { ok: false, reason };
  }

  ingest(msg: FleetMessage, meta: IngestMeta): IngestResult {
    this.stats.messages++;
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
      ts: msg.body?.ts,
      changed,
      ...(note ? { note } : {}),
    });
    switch (msg.channel) {
      case 'state': {
        const body = msg.body;
        if (body.state === 'lost' && body.sid < k.sid) {
          // The Will of a session the kiosk has already replaced: it is not lost, it reconnected.
          this.stats.ignoredLateLost++;
          return done(false, 'late lost ignored');
        }
        k.sid = Math.max(k.sid, body.sid);
        k.state = body.state;
        k.stateReason = body.reason;
        if (!meta.retained) k.liveStateAt = meta.receivedAt;
        return done(true);
      }
      case 'birth':
        k.sid = Math.max(k.sid, msg.body.sid);
        k.birth = msg.body;
        return done(true);
      case 'health': {
        const body = msg.body;
        k.sid = Math.max(k.sid, body.sid);
        k.health = body;
        k.healthAt = this.lifeTime(body.ts, body.clockSynced, meta);
        if (!body.busy) k.busySince = undefined;
        else if (k.busySince === undefined) k.busySince = k.healthAt ?? meta.receivedAt;
        this.crossCheckBaseline(k, meta.receivedAt);
        return done(true);
      }
      case 'alert': {
        const body = msg.body;
        // only the contract's names: a kiosk (or a broker without the ACL) cannot flood the board with its own
        if (!(KNOWN_ALERTS as readonly string[]).includes(msg.name))
          return done(false, 'unknown alert ignored');
        if (body === null) {
          k.alertEpoch.delete(msg.name);
          return done(k.alerts.delete(msg.name));
        }
        const seen = k.alerts.get(msg.name);
        k.alertEpoch.set(msg.name, this.alertEpoch);
        k.alerts.set(msg.name, {
          name: msg.name,
          severity: body.severity,
          message: body.message,
          since: body.since,
          seenAt: seen?.seenAt ?? meta.receivedAt,
        });
        return done(true);
      }
      case 'event':
        return this.event(k, msg, meta) ? done(true) : done(false, 'duplicate');
      case 'cmdres': {
        const body = msg.body;
        const cmd = body.cmdId === null ? undefined : k.commands.find((c) => c.cmdId === body.cmdId);
        if (!cmd) {
          // Sent by another dashboard instance, before we started, or too broken to carry a cmdId.
          this.pushBounded(
            k.commands,
            {
              cmdId: body.cmdId ?? '',
              name: body.cmd,
              issuedAt: meta.receivedAt,
              args: undefined,
              status: body.status,
              reason: body.reason,
              result: body.result,
              updatedAt: meta.receivedAt,
            },
            this.opts.recentCommands,
          );
          return done(true);
        }
        // `accepted` may arrive after `succeeded` with QoS 1 redelivery; never go back to it.
        if (!(body.status === 'accepted' && (cmd.status === 'succeeded' || cmd.status === 'failed'))) {
          cmd.status = body.status;
          cmd.reason = body.reason ?? body.errors?.join('; ');
          if (body.result !== undefined) cmd.result = body.result;
        }
        cmd.updatedAt = meta.receivedAt;
        return done(true);
      }
      case 'config':
        k.config = { version: msg.body.version, status: msg.body.status, errors: msg.body.errors };
        return done(true);
    }
  }

  /**
   * After a restart: today's totals and recently seen eventIds from the store, so the tiles show the
   * day so far and an event delivered again is not counted twice in memory either.
   */
  seed(
    kioskIds: readonly string[],
    today: ReadonlyMap<string, Omit<TodayView, 'day'>>,
    eventIds: ReadonlyMap<string, readonly string[]>,
    now: number,
  ): void {
    const day = this.dayOf(now);
    for (const id of new Set([...kioskIds, ...today.keys(), ...eventIds.keys()])) {
      const k = this.record(id, now);
      if (!k) continue;
      const t = today.get(id);
      if (t)
        k.today = {
          day,
          salesCount: t.salesCount,
          salesCents: t.salesCents,
          topupCount: t.topupCount,
          topupCents: t.topupCents,
          failedCount: t.failedCount,
        };
      for (const e of (eventIds.get(id) ?? []).slice(-this.opts.dedupWindow)) {
        if (k.seen.has(e)) continue;
        k.seen.add(e);
        k.seenOrder.push(e);
      }
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

  /** The kiosk's recent commands, newest first. */
  commands(kioskId: string): CommandView[] {
    return [...(this.kiosks.get(kioskId)?.commands ?? [])];
  }

  command(kioskId: string, cmdId: string): CommandView | undefined {
    return this.kiosks.get(kioskId)?.commands.find((c) => c.cmdId === cmdId);
  }

  has(id: string): boolean {
    return this.kiosks.has(id);
  }

  /** The merchant the kiosk's birth names (`tenant`); undefined before a birth or without one. */
  tenantOf(id: string): string | undefined {
    return this.kiosks.get(id)?.birth?.tenant ?? undefined;
  }

  alertOpen(id: string, name: string): boolean {
    return this.kiosks.get(id)?.alerts.has(name) ?? false;
  }

  private alertEpoch = 0;

  /**
   * A new subscription is about to bring the broker's retained alerts: every alert still raised is
   * delivered again from here on. Returns the mark for `endAlertSync`.
   */
  beginAlertSync(): number {
    return ++this.alertEpoch;
  }

  /**
   * The retained burst since `beginAlertSync` is in: an open alert not delivered in it is no longer
   * retained at the broker, so it was cleared while the clearing could not reach us (a connection
   * without a session, or one that expired). Closes those and says which they were.
   */
  endAlertSync(mark: number): { kioskId: string; name: string }[] {
    const closed: { kioskId: string; name: string }[] = [];
    for (const k of this.kiosks.values())
      for (const [name, epoch] of k.alertEpoch)
        if (epoch < mark) {
          k.alertEpoch.delete(name);
          k.alerts.delete(name);
          closed.push({ kioskId: k.id, name });
        }
    return closed;
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
    const life = k.health?.counters.sinceInstall;
    const base = k.counterBaseline;
    let counterCrossCheck: KioskDetail['counterCrossCheck'];
    if (base && base.day === this.dayOf(now) && life) {
      const counters = {
        salesCount: life.sales.count - base.counters.salesCount,
        topupCount: life.topups.count - base.counters.topupCount,
        cashInCents: life.cashIn.cents - base.counters.cashInCents,
      };
      const events = { ...base.events };
      const sales = salesCrossCheck(base.sales, life.salesValue, base.salesEvents);
      const agrees =
        counters.salesCount === events.salesCount &&
        counters.topupCount === events.topupCount &&
        counters.cashInCents === events.cashInCents &&
        (sales === undefined || sales.differing.length === 0);
      counterCrossCheck = { since: base.at, counters, events, ...(sales ? { sales } : {}), agrees };
    }
    return {
      ...s,
      birth: k.birth,
      health: k.health,
      openAlerts: [...k.alerts.values()],
      recentEvents: [...k.recent],
      recentCommands: [...k.commands],
      config: k.config,
      seq: { last: k.lastSeq, gaps: k.gaps, duplicates: k.duplicates },
      counterCrossCheck,
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
      busySince: undefined,
      alerts: new Map(),
      alertEpoch: new Map(),
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
    const life = k.health?.counters.sinceInstall;
    if (!life) return;
    const day = this.dayOf(now);
    if (k.counterBaseline?.day === day) return;
    k.counterBaseline = {
      day,
      at: now,
      counters: {
        salesCount: life.sales.count,
        topupCount: life.topups.count,
        cashInCents: life.cashIn.cents,
      },
      events: zeroFigures(),
      sales: life.salesValue ? copySales(life.salesValue) : undefined,
      salesEvents: zeroSales(),
    };
  }

  /** Applies an event unless its eventId was seen; returns whether it was new. */
  private event(k: KioskRecord, msg: EventMsg, meta: IngestMeta): boolean {
    const body = msg.body;
    if (k.seen.has(body.eventId)) {
      k.duplicates++;
      this.stats.duplicates++;
      return false;
    }
    k.seen.add(body.eventId);
    k.seenOrder.push(body.eventId);
    if (k.seenOrder.length > this.opts.dedupWindow) {
      const old = k.seenOrder.shift();
      if (old !== undefined) k.seen.delete(old);
    }
    if (k.lastSeq !== undefined && body.seq > k.lastSeq + 1) k.gaps += body.seq - k.lastSeq - 1;
    k.lastSeq = k.lastSeq === undefined ? body.seq : Math.max(k.lastSeq, body.seq);
    k.sid = Math.max(k.sid, body.sid);

    const view = eventView(msg, meta.receivedAt);
    // Newest first; events replayed out of order still land by seq.
    const at = k.recent.findIndex((e) => e.seq < body.seq);
    k.recent.splice(at === -1 ? k.recent.length : at, 0, view);
    if (k.recent.length > this.opts.recentEvents) k.recent.length = this.opts.recentEvents;

    const since = k.counterBaseline?.events;
    if (since && msg.type === 'transaction' && msg.body.outcome === 'completed') {
      if (msg.body.kind === 'topup') since.topupCount++;
      else since.salesCount++;
    }
    if (since && msg.type === 'cash' && msg.body.action === 'inserted')
      since.cashInCents += msg.body.amountCents;
    const salesSince = k.counterBaseline?.salesEvents;
    if (salesSince && msg.type === 'transaction' && msg.body.outcome === 'completed') {
      const parts = msg.body.kind === 'sale' ? msg.body.parts : undefined;
      if (parts) {
        salesSince.count++;
        for (const p of SALE_PARTS) {
          salesSince.parts[p] += parts[p];
          salesSince.cents += parts[p];
        }
      }
    }

    if (msg.type === 'transaction') {
      const tx = msg.body;
      // Events replayed after an outage belong to the day they happened, if the kiosk's clock is sane.
      const happened =
        tx.ts >= PLAUSIBLE_SINCE && tx.ts <= meta.receivedAt + 5 * 60_000 ? tx.ts : meta.receivedAt;
      const today = this.dayOf(meta.receivedAt);
      if (this.dayOf(happened) === today) {
        if (k.today.day !== today) k.today = emptyToday(today);
        const t = k.today;
        if (tx.outcome === 'completed' && tx.kind === 'topup') {
          t.topupCount++;
          t.topupCents += tx.amountCents;
        } else if (tx.outcome === 'completed') {
          t.salesCount++;
          t.salesCents += tx.amountCents;
        } else if (tx.outcome === 'failed') {
          t.failedCount++;
        }
      }
    }
    return true;
  }

  private status(k: KioskRecord, now: number): KioskStatus {
    const lastLifeAt =
      k.healthAt !== undefined && (k.liveStateAt === undefined || k.healthAt >= k.liveStateAt)
        ? k.healthAt
        : (k.liveStateAt ?? k.healthAt);
    return computeStatus(
      {
        state: k.state,
        heartbeatMs: this.heartbeatMs(k),
        lastLifeAt,
        busySince: k.busySince,
        openAlerts: [...k.alerts.keys()],
      },
      now,
      this.policy,
    );
  }

  private heartbeatMs(k: KioskRecord): number | undefined {
    const s = k.health?.heartbeatS ?? k.birth?.heartbeatS;
    return s !== undefined ? s * 1000 : undefined;
  }

  private summarise(k: KioskRecord, now: number): KioskSummary {
    const devices = k.health?.devices;
    const today = k.today.day === this.dayOf(now) ? { ...k.today } : emptyToday(this.dayOf(now));
    return {
      id: k.id,
      name: k.birth?.kioskName ?? undefined,
      site: [k.birth?.site, k.birth?.location].filter(Boolean).join(', ') || undefined,
      status: this.status(k, now),
      state: k.state,
      stateReason: k.stateReason,
      sid: k.sid,
      firmware: k.birth?.firmware,
      heartbeatMs: this.heartbeatMs(k),
      lastHeartbeatAt: k.healthAt,
      paper: devices?.printer?.paper,
      printer: devices?.printer?.status,
      acceptor: deviceStatus(devices, 'acceptor'),
      acceptorHealth: deviceOf(devices, 'acceptor')?.health,
      reader: deviceStatus(devices, 'reader'),
      busy: k.health?.busy,
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

/** A device found by the role in its name (`acceptor`, `coin-acceptor`, `coinAcceptor`). */
function deviceOf(
  devices: HealthMessage['devices'] | undefined,
  role: string,
): HealthMessage['devices'][string] | undefined {
  if (!devices) return undefined;
  const exact = devices[role];
  if (exact) return exact;
  const key = Object.keys(devices).find((d) => d.toLowerCase().includes(role));
  return key === undefined ? undefined : devices[key];
}

/** A device's short status. */
function deviceStatus(devices: HealthMessage['devices'] | undefined, role: string): string | undefined {
  return deviceOf(devices, role)?.status;
}

function eventView(msg: EventMsg, receivedAt: number): EventView {
  const base = { eventId: msg.body.eventId, type: msg.type, seq: msg.body.seq, ts: msg.body.ts, receivedAt };
  switch (msg.type) {
    case 'transaction': {
      const b = msg.body;
      return {
        ...base,
        title: `${b.kind === 'topup' ? 'top-up' : 'sale'} ${b.outcome}`,
        amountCents: b.amountCents,
        outcome: b.outcome,
        card: b.card,
        reason: b.reason,
      };
    }
    case 'cash': {
      const b = msg.body;
      return {
        ...base,
        title: `cash ${b.action}`,
        amountCents: b.amountCents,
        outcome: b.action,
        card: b.card,
        reason: b.reason,
      };
    }
    case 'fault': {
      const b = msg.body;
      return {
        ...base,
        title: `fault ${b.device}: ${b.code}`,
        amountCents: undefined,
        outcome: b.severity,
        card: undefined,
        reason: b.message,
      };
    }
    case 'voucher': {
      const b = msg.body;
      return {
        ...base,
        title: `voucher ${b.action.replace('_', ' ')}`,
        amountCents: b.amountCents,
        outcome: b.action,
        card: undefined,
        reason: b.reason,
      };
    }
    case 'terminal': {
      const b = msg.body;
      return {
        ...base,
        title: `terminal ${b.action === 'end_of_day' ? 'end-of-day' : 'reversal'} ${b.result}`,
        amountCents: b.amountCents,
        outcome: b.result,
        card: undefined,
        reason: b.reason,
      };
    }
  }
}
