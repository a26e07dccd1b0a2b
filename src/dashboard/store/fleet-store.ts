/**
 * The dashboard's store: opens SQLite or PostgreSQL (`openFleetStore(spec)`), brings the schema up to
 * date, and answers the questions the pages ask (history per day, alert timeline, commands and their
 * answers, the CSV for accounting). Writes come in as `StoreOp`s through the `WriteBuffer`, except the
 * few the caller must see committed before it acts (a command before it is published, a user, a
 * session), which `writeNow` runs at once.
 */
import path from 'node:path';

import { IN_SERVICE_STATES, type HealthSample, type ServiceTime } from '../office-figures.js';
import { openDatabase, PostgresDatabase, type Database, type Param, type Row } from './database.js';
import type { StoreOp } from './ops.js';
import { migrate } from './schema.js';

/** The default store: a SQLite file in `var/` next to the dashboard's working directory. */
export const DEFAULT_STORE = path.join('var', 'dashboard.sqlite');

export interface DayTotals {
  day: string;
  salesCount: number;
  salesCents: number;
  /** The bonus discount of those sales (`salesCents` is the goods before it). */
  salesDiscountCents: number;
  topupCount: number;
  topupCents: number;
  failedCount: number;
  cashInCents: number;
  unclaimedCents: number;
}

export interface KioskRow {
  id: string;
  name: string | null;
  site: string | null;
  tenant: string | null;
  location: string | null;
  firmware: string | null;
  state: string | null;
  stateReason: string | null;
  sid: number;
  heartbeatS: number | null;
  firstSeen: number;
  lastSeen: number;
}

export interface AlertRow {
  kioskId: string;
  name: string;
  severity: string;
  message: string | null;
  since: number;
  openedAt: number;
  closedAt: number | null;
}

export interface CommandRow {
  cmdId: string;
  kioskId: string;
  name: string;
  args: unknown;
  operator: string | null;
  issuedAt: number;
  expiresAt: number;
  status: string;
  reason: string | null;
  result: unknown;
  updatedAt: number;
  answers: { status: string; reason: string | null; duplicate: boolean; receivedAt: number }[];
}

export interface LedgerRow {
  kioskId: string;
  eventId: string;
  type: string;
  kind: string;
  outcome: string;
  amountCents: number;
  /** A sale's bonus discount; null when the event carried none. */
  discountCents: number | null;
  currency: string;
  paymentMethod: string | null;
  transactionId: string | null;
  card: string | null;
  seq: number;
  happenedAt: number;
  day: string;
}

/** A cash collection as the kiosk reported it (`cash_collections`). */
export interface CollectionRow {
  kioskId: string;
  at: number;
  countedCents: number;
  expectedCents: number;
}

/** A voucher as the office sees it (`status` the kiosk's, `settle` the office's settlement). */
export interface VoucherRow {
  kioskId: string;
  ref: string;
  cents: number;
  status: string;
  paidBy: string | null;
  issuedAt: number | null;
  settle: {
    state: string;
    by: string | null;
    at: number | null;
    note: string | null;
    cmdId: string | null;
  } | null;
}

function voucherRowOf(r: Row): VoucherRow {
  const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    kioskId: String(r.kiosk_id),
    ref: String(r.ref),
    cents: Number(r.cents),
    status: String(r.status),
    paidBy: str(r.paid_by),
    issuedAt: r.issued_at === null || r.issued_at === undefined ? null : Number(r.issued_at),
    settle: r.settle_state
      ? {
          state: String(r.settle_state),
          by: str(r.settle_by),
          at: r.settle_at === null || r.settle_at === undefined ? null : Number(r.settle_at),
          note: str(r.settle_note),
          cmdId: str(r.settle_cmd_id),
        }
      : null,
  };
}

/** The ledger rows of one kiosk and/or of one merchant's kiosks (by the `kiosks` row's tenant). */
function scope(kioskId: string | undefined, tenant: string | undefined): { where: string; params: string[] } {
  const where: string[] = [];
  const params: string[] = [];
  if (kioskId !== undefined) {
    where.push(' AND kiosk_id = ?');
    params.push(kioskId);
  }
  if (tenant !== undefined) {
    where.push(' AND kiosk_id IN (SELECT id FROM kiosks WHERE tenant = ?)');
    params.push(tenant);
  }
  return { where: where.join(''), params };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const parse = (v: unknown): unknown => (typeof v === 'string' ? (JSON.parse(v) as unknown) : undefined);

const TOTALS = `
  SUM(CASE WHEN type = 'transaction' AND kind = 'sale' AND outcome = 'completed' THEN 1 ELSE 0 END) AS sales_count,
  SUM(CASE WHEN type = 'transaction' AND kind = 'sale' AND outcome = 'completed' THEN amount_cents ELSE 0 END) AS sales_cents,
  SUM(CASE WHEN type = 'transaction' AND kind = 'sale' AND outcome = 'completed' THEN COALESCE(discount_cents, 0) ELSE 0 END) AS sales_discount_cents,
  SUM(CASE WHEN type = 'transaction' AND kind = 'topup' AND outcome = 'completed' THEN 1 ELSE 0 END) AS topup_count,
  SUM(CASE WHEN type = 'transaction' AND kind = 'topup' AND outcome = 'completed' THEN amount_cents ELSE 0 END) AS topup_cents,
  SUM(CASE WHEN type = 'transaction' AND outcome = 'failed' THEN 1 ELSE 0 END) AS failed_count,
  SUM(CASE WHEN type = 'cash' AND kind = 'inserted' THEN amount_cents ELSE 0 END) AS cash_in_cents,
  SUM(CASE WHEN type = 'cash' AND kind = 'unclaimed' THEN amount_cents ELSE 0 END) AS unclaimed_cents`;

function totalsOf(r: Row): Omit<DayTotals, 'day'> {
  return {
    salesCount: num(r.sales_count),
    salesCents: num(r.sales_cents),
    salesDiscountCents: num(r.sales_discount_cents),
    topupCount: num(r.topup_count),
    topupCents: num(r.topup_cents),
    failedCount: num(r.failed_count),
    cashInCents: num(r.cash_in_cents),
    unclaimedCents: num(r.unclaimed_cents),
  };
}

export class FleetStore {
  private constructor(readonly db: Database) {}

  static async open(spec: string = DEFAULT_STORE, opts: { schema?: string } = {}): Promise<FleetStore> {
    const db = await openDatabase(spec, opts);
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new FleetStore(db);
  }

  get dialect(): Database['dialect'] {
    return this.db.dialect;
  }

  /** Writes operations in one transaction now (what the caller must see stored before it goes on). */
  async writeNow(ops: readonly StoreOp[]): Promise<void> {
    await this.db.batch(ops.flatMap((o) => o.statements));
  }

  async all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.db.all<T>(sql, params);
  }

  /** Sales, top-ups and cash per day from the ledger; one kiosk or (no id) the whole fleet. Days without money are absent. */
  /** `tenant`: only the kiosks whose stored birth names that merchant (a scoped user's fleet). */
  async dailyTotals(from: string, to: string, kioskId?: string, tenant?: string): Promise<DayTotals[]> {
    const s = scope(kioskId, tenant);
    const rows = await this.db.all(
      `SELECT day, ${TOTALS} FROM ledger WHERE day >= ? AND day <= ?${s.where} GROUP BY day ORDER BY day`,
      [from, to, ...s.params],
    );
    return rows.map((r) => ({ day: String(r.day), ...totalsOf(r) }));
  }

  /**
   * Vouchers by the short reference a customer shows (`QX7M-D2KA`, the id printed under the QR) or the
   * whole `<issuer>.<id>`: the office finds one without ever seeing a code.
   */
  async findVouchers(reference: string): Promise<VoucherRow[]> {
    const t = reference.trim().toUpperCase().replace('-', '');
    const [issuer, short] = t.includes('.') ? [reference.trim().split('.')[0]!, t.split('.')[1]!] : [null, t];
    if (!/^[A-Z0-9]{8}$/.test(short ?? '')) return [];
    const rows = await this.db.all(
      `SELECT * FROM vouchers WHERE ref LIKE ?${issuer ? ' AND kiosk_id = ?' : ''} ORDER BY kiosk_id, ref`,
      issuer ? [`%.${short}`, issuer] : [`%.${short}`],
    );
    return rows.map(voucherRowOf);
  }

  /**
   * The vouchers the fleet owes now (`open`: issued, not redeemed, paid out, expired or voided),
   * newest first, with their count and sum over all of them (the list is cut at `limit`).
   */
  async openVouchers(
    tenant?: string,
    limit = 200,
  ): Promise<{ vouchers: VoucherRow[]; count: number; cents: number }> {
    const s = scope(undefined, tenant);
    const where = `WHERE status = 'open'${s.where}`;
    const [rows, [sum]] = await Promise.all([
      this.db.all(
        `SELECT * FROM vouchers ${where} ORDER BY issued_at DESC, kiosk_id, ref LIMIT ${Math.floor(limit)}`,
        s.params,
      ),
      this.db.all(`SELECT COUNT(*) AS n, SUM(cents) AS cents FROM vouchers ${where}`, s.params),
    ]);
    return { vouchers: rows.map(voucherRowOf), count: num(sum?.n), cents: num(sum?.cents) };
  }

  async voucher(kioskId: string, ref: string): Promise<VoucherRow | undefined> {
    const rows = await this.db.all('SELECT * FROM vouchers WHERE kiosk_id = ? AND ref = ?', [kioskId, ref]);
    return rows[0] ? voucherRowOf(rows[0]) : undefined;
  }

  /** One day's totals per kiosk (the tiles after a restart; the accounting view). */
  async totalsByKiosk(day: string): Promise<Map<string, DayTotals>> {
    const rows = await this.db.all(`SELECT kiosk_id, ${TOTALS} FROM ledger WHERE day = ? GROUP BY kiosk_id`, [
      day,
    ]);
    return new Map(rows.map((r) => [String(r.kiosk_id), { day, ...totalsOf(r) }]));
  }

  /** A day's money events, in order, for the CSV export. */
  async ledgerOfDay(day: string, kioskId?: string, tenant?: string): Promise<LedgerRow[]> {
    const s = scope(kioskId, tenant);
    const rows = await this.db.all(
      `SELECT * FROM ledger WHERE day = ?${s.where} ORDER BY kiosk_id, happened_at, seq`,
      [day, ...s.params],
    );
    return rows.map((r) => ({
      kioskId: String(r.kiosk_id),
      eventId: String(r.event_id),
      type: String(r.type),
      kind: String(r.kind),
      outcome: String(r.outcome),
      amountCents: num(r.amount_cents),
      discountCents:
        r.discount_cents === null || r.discount_cents === undefined ? null : num(r.discount_cents),
      currency: String(r.currency),
      paymentMethod: (r.payment_method as string | null) ?? null,
      transactionId: (r.transaction_id as string | null) ?? null,
      card: (r.card as string | null) ?? null,
      seq: num(r.seq),
      happenedAt: num(r.happened_at),
      day: String(r.day),
    }));
  }

  /** eventIds of a kiosk's money events since a moment (the model's de-duplication after a restart). */
  async recentEventIds(since: number): Promise<Map<string, string[]>> {
    const rows = await this.db.all<{ kiosk_id: string; event_id: string }>(
      'SELECT kiosk_id, event_id FROM ledger WHERE received_at >= ? ORDER BY received_at',
      [since],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.kiosk_id) ?? [];
      list.push(r.event_id);
      out.set(r.kiosk_id, list);
    }
    return out;
  }

  async kiosks(): Promise<KioskRow[]> {
    const rows = await this.db.all('SELECT * FROM kiosks ORDER BY id');
    return rows.map((r) => ({
      id: String(r.id),
      name: (r.name as string | null) ?? null,
      site: (r.site as string | null) ?? null,
      tenant: (r.tenant as string | null) ?? null,
      location: (r.location as string | null) ?? null,
      firmware: (r.firmware as string | null) ?? null,
      state: (r.state as string | null) ?? null,
      stateReason: (r.state_reason as string | null) ?? null,
      sid: num(r.sid),
      heartbeatS: r.heartbeat_s === null ? null : num(r.heartbeat_s),
      firstSeen: num(r.first_seen),
      lastSeen: num(r.last_seen),
    }));
  }

  /** Alerts of a kiosk (or all), newest first, open and closed. */
  /** A kiosk's cash collections, newest first: when, what was counted, what its books expected. */
  async collections(kioskId: string, limit = 20): Promise<CollectionRow[]> {
    const rows = await this.db.all(
      `SELECT * FROM cash_collections WHERE kiosk_id = ? ORDER BY collected_at DESC LIMIT ${Math.floor(limit)}`,
      [kioskId],
    );
    return rows.map((r) => ({
      kioskId: String(r.kiosk_id),
      at: num(r.collected_at),
      countedCents: num(r.counted_cents),
      expectedCents: num(r.expected_cents),
    }));
  }

  async alerts(kioskId?: string, limit = 200): Promise<AlertRow[]> {
    const rows = await this.db.all(
      `SELECT * FROM alerts${kioskId === undefined ? '' : ' WHERE kiosk_id = ?'} ORDER BY opened_at DESC, id DESC LIMIT ${Math.floor(limit)}`,
      kioskId === undefined ? [] : [kioskId],
    );
    return rows.map((r) => ({
      kioskId: String(r.kiosk_id),
      name: String(r.name),
      severity: String(r.severity),
      message: (r.message as string | null) ?? null,
      since: num(r.since),
      openedAt: num(r.opened_at),
      closedAt: r.closed_at === null ? null : num(r.closed_at),
    }));
  }

  /**
   * What the kiosk page's cash box and time in service need from a week of samples, without carrying the
   * week to Node (2016 rows a kiosk at one sample per 5 min): the latest sample since `cashSince`, the
   * first and last of the current filling (the samples with the box's `lastCollectionTs`: the live one
   * when given, else the latest sample's), and the time in service over [serviceFrom, now] summed in SQL.
   * `cashBoxEstimate(samples)` and `uptimeFrom(service)` give what they give over all the samples
   * (test/dashboard/store.test.ts compares them).
   */
  async officeDigest(
    kioskId: string,
    o: {
      cashSince: number;
      serviceFrom: number;
      now: number;
      sampleEveryMs: number;
      lastCollectionTs?: number | null;
    },
  ): Promise<{ samples: HealthSample[]; service: ServiceTime | undefined }> {
    const cols = 'SELECT at, state, box_cash_in_cents, last_collection_ts FROM health_samples';
    const toSample = (r: Row): HealthSample => ({
      at: num(r.at),
      state: String(r.state),
      boxCashInCents: num(r.box_cash_in_cents),
      lastCollectionTs: r.last_collection_ts === null ? null : num(r.last_collection_ts),
    });
    const one = async (where: string, order: 'ASC' | 'DESC', params: Param[]) => {
      const [r] = await this.db.all(
        `${cols} WHERE kiosk_id = ? AND at >= ?${where} ORDER BY at ${order} LIMIT 1`,
        [kioskId, o.cashSince, ...params],
      );
      return r ? toSample(r) : undefined;
    };
    const least = this.db.dialect === 'sqlite' ? 'MIN' : 'LEAST';
    const states = IN_SERVICE_STATES.map(() => '?').join(', ');
    // The next sample by LEAD over the window's rows only, as serviceTime's filter-then-walk does.
    const service = this.db.all(
      `SELECT MIN(at) AS first_at,
         SUM(CASE WHEN state IN (${states}) THEN ${least}(COALESCE(next_at, ?), at + ?, ?) - at ELSE 0 END) AS up_ms
       FROM (SELECT at, state, LEAD(at) OVER (ORDER BY at) AS next_at
             FROM health_samples WHERE kiosk_id = ? AND at >= ? AND at <= ?) w`,
      [...IN_SERVICE_STATES, o.now, 2 * o.sampleEveryMs, o.now, kioskId, o.serviceFrom, o.now],
    );
    const cash = async (): Promise<HealthSample[]> => {
      const latest = await one('', 'DESC', []);
      const collection = o.lastCollectionTs !== undefined ? o.lastCollectionTs : latest?.lastCollectionTs;
      if (collection === undefined) return [];
      const match = ' AND last_collection_ts IS NOT DISTINCT FROM ?';
      // The latest is the filling's last unless the live collection is another one than the latest
      // sample's (then a lookup of its own, not an assumption about the order of collections).
      const filling = await Promise.all([
        one(match, 'ASC', [collection]),
        latest?.lastCollectionTs === collection ? latest : one(match, 'DESC', [collection]),
      ]);
      const byAt = new Map<number, HealthSample>();
      for (const s of [...filling, latest]) if (s) byAt.set(s.at, s);
      return [...byAt.values()].sort((a, b) => a.at - b.at);
    };
    const [[r], samples] = await Promise.all([service, cash()]);
    return {
      samples,
      service: r && r.first_at !== null ? { firstAt: num(r.first_at), upMs: num(r.up_ms) } : undefined,
    };
  }

  /** A kiosk's downsampled health since a moment, oldest first (cash box and uptime figures). */
  async healthSamples(kioskId: string, since: number): Promise<HealthSample[]> {
    const rows = await this.db.all(
      'SELECT at, state, box_cash_in_cents, last_collection_ts FROM health_samples WHERE kiosk_id = ? AND at >= ? ORDER BY at',
      [kioskId, since],
    );
    return rows.map((r) => ({
      at: num(r.at),
      state: String(r.state),
      boxCashInCents: num(r.box_cash_in_cents),
      lastCollectionTs: r.last_collection_ts === null ? null : num(r.last_collection_ts),
    }));
  }

  /** Every alert the store has open (kiosk and name). */
  async openAlerts(): Promise<{ kioskId: string; name: string }[]> {
    const rows = await this.db.all('SELECT kiosk_id, name FROM alerts WHERE closed_at IS NULL');
    return rows.map((r) => ({ kioskId: String(r.kiosk_id), name: String(r.name) }));
  }

  /** A kiosk's commands, newest first, each with every answer that came back. */
  async commands(kioskId: string, limit = 50): Promise<CommandRow[]> {
    const rows = await this.db.all(
      `SELECT * FROM commands WHERE kiosk_id = ? ORDER BY issued_at DESC LIMIT ${Math.floor(limit)}`,
      [kioskId],
    );
    const answers = await this.db.all(
      `SELECT a.* FROM command_answers a JOIN commands c ON c.cmd_id = a.cmd_id
       WHERE c.kiosk_id = ? ORDER BY a.id`,
      [kioskId],
    );
    const byCmd = new Map<string, CommandRow['answers']>();
    for (const a of answers) {
      const list = byCmd.get(String(a.cmd_id)) ?? [];
      list.push({
        status: String(a.status),
        reason: (a.reason as string | null) ?? null,
        duplicate: num(a.duplicate) === 1,
        receivedAt: num(a.received_at),
      });
      byCmd.set(String(a.cmd_id), list);
    }
    return rows.map((r) => ({
      cmdId: String(r.cmd_id),
      kioskId: String(r.kiosk_id),
      name: String(r.name),
      args: parse(r.args),
      operator: (r.operator as string | null) ?? null,
      issuedAt: num(r.issued_at),
      expiresAt: num(r.expires_at),
      status: String(r.status),
      reason: (r.reason as string | null) ?? null,
      result: parse(r.result),
      updatedAt: num(r.updated_at),
      answers: byCmd.get(String(r.cmd_id)) ?? [],
    }));
  }

  async audit(limit = 200): Promise<
    {
      at: number;
      username: string | null;
      action: string;
      kioskId: string | null;
      detail: unknown;
      ip: string | null;
    }[]
  > {
    const rows = await this.db.all(`SELECT * FROM audit ORDER BY id DESC LIMIT ${Math.floor(limit)}`);
    return rows.map((r) => ({
      at: num(r.at),
      username: (r.username as string | null) ?? null,
      action: String(r.action),
      kioskId: (r.kiosk_id as string | null) ?? null,
      detail: parse(r.detail),
      ip: (r.ip as string | null) ?? null,
    }));
  }

  /** Tests: drop a PostgreSQL test schema. */
  async dropSchema(schema: string): Promise<void> {
    if (this.db instanceof PostgresDatabase) await this.db.dropSchema(schema);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
