/**
 * What each message from the fleet becomes in the store, as SQL statements grouped into operations.
 * Pure: the caller says which day a moment belongs to and whether this health is kept as a sample.
 *
 * - Money events go into `ledger` with `ON CONFLICT DO NOTHING` on (kiosk, eventId): a QoS 1
 *   redelivery, an outbox replay or two workers seeing the same event store it once.
 * - `state`/`birth`/`health` update the kiosk's row (latest wins: they share a key, so a waiting one is
 *   replaced by a newer one instead of piling up while the store is away).
 * - An alert opens a row (the partial unique index keeps one open per kiosk and name; a redelivered
 *   retained alert updates it) and its clearing closes it.
 * - Every `cmdres` is kept as it came, and moves its command's status forward (never back to
 *   `accepted` after a final answer).
 */
import type { FleetMessage, VoucherEventMessage } from '../messages.js';
import type { CmdresBody } from '../../fleet/envelope.js';
import type { Param, Statement } from './database.js';
import type { CommandRow } from './fleet-store.js';

export interface StoreOp {
  /** Operations with the same key replace each other while they wait (latest wins). */
  key?: string;
  /** Money, alerts, commands: never dropped. The others (snapshots, samples) may be, oldest first, when the buffer is full. */
  durable: boolean;
  statements: Statement[];
}

export interface OpContext {
  receivedAt: number;
  /** The day (YYYY-MM-DD, the dashboard's zone) a moment belongs to. */
  dayOf(ms: number): string;
  /** Keep this health as a history sample (the caller downsamples). */
  sampleHealth?: boolean;
  /** Store this health's last cash collection (the caller asks once per collection it has not seen). */
  recordCollection?: boolean;
}

/** Device timestamps before this are an unsynchronised clock (the Pi boots in 1970). */
export const PLAUSIBLE_SINCE = Date.UTC(2020, 0, 1);

/** When a money event happened: the kiosk's time when it is plausible, else when it arrived. */
export function happenedAt(ts: number, receivedAt: number): number {
  return ts >= PLAUSIBLE_SINCE && ts <= receivedAt + 5 * 60_000 ? ts : receivedAt;
}

const st = (sql: string, ...params: Param[]): Statement => ({ sql, params });
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const opt = <T>(v: T | undefined | null): T | null => v ?? null;

/** Makes sure the kiosk has a row (first and last seen), without touching its other columns. */
function touchKiosk(id: string, at: number): Statement {
  return st(
    `INSERT INTO kiosks (id, first_seen, last_seen) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`,
    id,
    at,
    at,
  );
}

/**
 * Makes sure the kiosk has a row, and nothing else: money events come in bursts, and this form is a
 * plain `DO NOTHING` insert that a batch merges into one statement (`merge-inserts.ts`); `last_seen`
 * moves with the kiosk's state, birth and health, which it sends every heartbeat.
 */
function ensureKiosk(id: string, at: number): Statement {
  return st(
    `INSERT INTO kiosks (id, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    id,
    at,
    at,
  );
}

export function storeOpsFor(msg: FleetMessage, ctx: OpContext): StoreOp[] {
  const at = ctx.receivedAt;
  const id = msg.id;
  switch (msg.channel) {
    case 'state': {
      const b = msg.body;
      return [
        {
          key: `state:${id}`,
          durable: false,
          statements: [
            touchKiosk(id, at),
            // A late Will of an older session never overwrites a newer session's state.
            st(
              `UPDATE kiosks SET state = ?, state_reason = ?, sid = ? WHERE id = ? AND (sid <= ? OR ? <> 'lost')`,
              b.state,
              opt(b.reason),
              b.sid,
              id,
              b.sid,
              b.state,
            ),
          ],
        },
      ];
    }
    case 'birth': {
      const b = msg.body;
      return [
        {
          key: `birth:${id}`,
          durable: false,
          statements: [
            touchKiosk(id, at),
            st(
              `UPDATE kiosks SET firmware = ?, name = ?, site = ?, tenant = ?, location = ?, heartbeat_s = ?, birth = ? WHERE id = ?`,
              b.firmware,
              opt(b.kioskName),
              opt(b.site),
              opt(b.tenant),
              opt(b.location),
              b.heartbeatS,
              json(b),
              id,
            ),
          ],
        },
      ];
    }
    case 'health': {
      const b = msg.body;
      const ops: StoreOp[] = [
        {
          key: `health:${id}`,
          durable: false,
          statements: [
            touchKiosk(id, at),
            st(
              `UPDATE kiosks SET health = ?, health_at = ?, heartbeat_s = ? WHERE id = ?`,
              json(b),
              at,
              b.heartbeatS,
              id,
            ),
          ],
        },
      ];
      const collection = b.counters.lastCollection;
      if (ctx.recordCollection && collection)
        // Money counted out of the box: durable, and once (every later health repeats it).
        ops.push({
          durable: true,
          statements: [
            st(
              `INSERT INTO cash_collections (kiosk_id, collected_at, counted_cents, expected_cents, received_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
              id,
              collection.ts,
              collection.countedCents,
              collection.expectedCents,
              at,
            ),
          ],
        });
      if (ctx.sampleHealth) {
        const c = b.counters;
        ops.push({
          durable: false,
          statements: [
            st(
              `INSERT INTO health_samples (kiosk_id, at, ts, state, busy, uptime_s, cpu_temp_c, rss_bytes, lag_p99_ms,
                 outbox_size, sales_count, sales_cents, topups_count, topups_cents, cash_in_count, cash_in_cents,
                 box_cash_in_cents, last_collection_ts)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
              id,
              at,
              b.ts,
              b.state,
              b.busy ? 1 : 0,
              b.uptimeS,
              b.cpuTempC,
              b.memory.rssBytes,
              b.eventLoopLagMs.p99,
              b.outbox.size,
              c.sinceInstall.sales.count,
              c.sinceInstall.sales.cents,
              c.sinceInstall.topups.count,
              c.sinceInstall.topups.cents,
              c.sinceInstall.cashIn.count,
              c.sinceInstall.cashIn.cents,
              c.sinceCollection.cashIn.cents,
              c.lastCollectionTs,
            ),
          ],
        });
      }
      return ops;
    }
    case 'alert': {
      if (msg.body === null) return [alertClosedOp(id, msg.name, at)];
      const b = msg.body;
      return [
        {
          durable: true,
          statements: [
            touchKiosk(id, at),
            st(
              `INSERT INTO alerts (kiosk_id, name, severity, message, since, opened_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (kiosk_id, name) WHERE closed_at IS NULL
               DO UPDATE SET severity = excluded.severity, message = excluded.message, since = excluded.since`,
              id,
              msg.name,
              b.severity,
              opt(b.message),
              b.since,
              at,
            ),
          ],
        },
      ];
    }
    case 'event': {
      if (msg.type === 'fault') {
        const b = msg.body;
        return [
          {
            durable: true,
            statements: [
              ensureKiosk(id, at),
              st(
                `INSERT INTO faults (kiosk_id, event_id, device, code, severity, message, seq, ts, received_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
                id,
                b.eventId,
                b.device,
                b.code,
                b.severity,
                opt(b.message),
                b.seq,
                b.ts,
                at,
              ),
            ],
          },
        ];
      }
      const b = msg.body;
      const when = happenedAt(b.ts, at);
      const voucherRow = msg.type === 'voucher' ? voucherStateOp(id, msg.body, at) : [];
      // A terminal duty is a ledger row of its own kind (`end_of_day`, `reversal`), its result the outcome.
      const kind = msg.type === 'transaction' ? msg.body.kind : msg.body.action;
      const outcome =
        msg.type === 'transaction'
          ? msg.body.outcome
          : msg.type === 'terminal'
            ? msg.body.result
            : msg.body.action;
      // A voucher is the kiosk's own debt, not a means of payment of its own: no method.
      const method =
        msg.type === 'transaction'
          ? opt(msg.body.paymentMethod)
          : msg.type === 'terminal'
            ? 'card_terminal'
            : msg.type === 'voucher'
              ? null
              : 'cash';
      const card = msg.type === 'cash' || msg.type === 'transaction' ? opt(msg.body.card) : null;
      return [
        {
          durable: true,
          statements: [
            ensureKiosk(id, at),
            st(
              `INSERT INTO ledger (kiosk_id, event_id, type, kind, outcome, amount_cents, currency, payment_method,
                 transaction_id, card, reason, seq, sid, ts, happened_at, day, received_at, discount_cents)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (kiosk_id, event_id) DO NOTHING`,
              id,
              b.eventId,
              msg.type,
              kind,
              outcome,
              b.amountCents,
              b.currency,
              method,
              msg.type === 'voucher' ? null : opt(msg.body.transactionId),
              card,
              opt(b.reason),
              b.seq,
              b.sid,
              b.ts,
              when,
              ctx.dayOf(when),
              at,
              msg.type === 'transaction' ? opt(msg.body.discountCents) : null,
            ),
            ...voucherRow,
          ],
        },
      ];
    }
    case 'cmdres': {
      const b = msg.body;
      const reason = b.reason ?? b.errors?.join('; ') ?? null;
      const statements = [
        st(
          `INSERT INTO command_answers (cmd_id, kiosk_id, cmd, status, reason, result, duplicate, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          b.cmdId,
          id,
          b.cmd,
          b.status,
          reason,
          json(b.result),
          b.duplicate ? 1 : 0,
          at,
        ),
      ];
      if (b.cmdId !== null && b.cmd === 'voucher-settle') statements.push(...voucherAnswerOps(b, at));
      if (b.cmdId !== null)
        statements.push(
          st(
            `UPDATE commands SET status = ?, reason = ?, result = COALESCE(?, result), updated_at = ?
             WHERE cmd_id = ? AND kiosk_id = ? AND NOT (? = 'accepted' AND status IN ('succeeded', 'failed', 'rejected'))`,
            b.status,
            reason,
            json(b.result),
            at,
            b.cmdId,
            id,
            b.status,
          ),
        );
      return [{ durable: true, statements }];
    }
    case 'config':
      return [];
  }
}

/**
 * A voucher's row from its `evt/voucher`: `issued` creates it open (never reopens one that moved on,
 * since a replay may bring the issue after its redemption); every other action is its final state.
 */
function voucherStateOp(kioskId: string, b: VoucherEventMessage, at: number): Statement[] {
  if (!b.voucher) return [];
  const status = b.action === 'issued' ? 'open' : b.action;
  return [
    st(
      `INSERT INTO vouchers (kiosk_id, ref, cents, status, paid_by, issued_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kiosk_id, ref) DO UPDATE SET status = excluded.status, paid_by = excluded.paid_by,
         updated_at = excluded.updated_at
       WHERE excluded.status <> 'open'`,
      kioskId,
      b.voucher,
      b.amountCents,
      status,
      opt(b.by),
      b.action === 'issued' ? b.ts : null,
      at,
    ),
  ];
}

/**
 * The kiosk's answer to an office settlement: `succeeded` settles it (the kiosk's `evt/voucher`
 * `paid_out` says the same); `refused: redeemed` means the customer redeemed it at the kiosk first:
 * the office must not pay (shown to the operator); any other refusal or rejection ends the pending
 * state with its reason. `accepted` changes nothing: it is still pending.
 */
function voucherAnswerOps(b: CmdresBody, at: number): Statement[] {
  if (b.status === 'accepted') return [];
  const reason = b.reason ?? b.errors?.join('; ') ?? '';
  const [state, note, status] =
    b.status === 'succeeded'
      ? ['settled', 'paid out at the office', 'paid_out']
      : /^refused: redeemed/.test(reason)
        ? ['refused', 'already redeemed at the kiosk: do not pay', 'redeemed']
        : ['refused', reason.slice(0, 200) || b.status, null];
  return [
    st(
      `UPDATE vouchers SET settle_state = ?, settle_note = ?, status = COALESCE(?, status), updated_at = ?
       WHERE settle_cmd_id = ?`,
      state,
      note,
      status,
      at,
      b.cmdId,
    ),
  ];
}

/**
 * The operator asks to settle a voucher at the office: pending, with the command's id, only if it is
 * open and no settlement is pending or done (two operators clicking at once: one wins; the caller reads
 * the row back to know whether it was theirs).
 */
export function voucherSettleClaimOp(c: {
  kioskId: string;
  ref: string;
  cmdId: string;
  by: string;
  at: number;
  /** Re-issue the pending one (its command expired unanswered): same row, a new command id. */
  resend?: boolean;
}): StoreOp {
  return {
    durable: true,
    statements: [
      st(
        `UPDATE vouchers SET settle_state = 'pending', settle_cmd_id = ?, settle_by = ?, settle_at = ?,
           settle_note = NULL, updated_at = ?
         WHERE kiosk_id = ? AND ref = ? AND status = 'open'
           AND ${c.resend ? "settle_state = 'pending'" : "(settle_state IS NULL OR settle_state = 'refused')"}`,
        c.cmdId,
        c.by,
        c.at,
        c.at,
        c.kioskId,
        c.ref,
      ),
    ],
  };
}

/** Closes a kiosk's open alert of that name (its clearing, or found cleared after a restart). */
export function alertClosedOp(kioskId: string, name: string, at: number): StoreOp {
  return {
    durable: true,
    statements: [
      st(
        `UPDATE alerts SET closed_at = ? WHERE kiosk_id = ? AND name = ? AND closed_at IS NULL`,
        at,
        kioskId,
        name,
      ),
    ],
  };
}

/** A command as sent by an operator (written before it is published, so its answers find it). */
export function commandSentOp(
  c: Pick<CommandRow, 'cmdId' | 'kioskId' | 'name' | 'args' | 'operator' | 'issuedAt' | 'expiresAt'>,
): StoreOp {
  return {
    durable: true,
    statements: [
      touchKiosk(c.kioskId, c.issuedAt),
      st(
        `INSERT INTO commands (cmd_id, kiosk_id, name, args, operator, issued_at, expires_at, status, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?)`,
        c.cmdId,
        c.kioskId,
        c.name,
        JSON.stringify(c.args ?? {}),
        c.operator,
        c.issuedAt,
        c.expiresAt,
        c.issuedAt,
      ),
    ],
  };
}

export function auditOp(a: {
  at: number;
  username: string | null;
  action: string;
  kioskId?: string | null;
  detail?: unknown;
  ip?: string | null;
}): StoreOp {
  return {
    durable: true,
    statements: [
      st(
        `INSERT INTO audit (at, username, action, kiosk_id, detail, ip) VALUES (?, ?, ?, ?, ?, ?)`,
        a.at,
        a.username,
        a.action,
        a.kioskId ?? null,
        json(a.detail),
        a.ip ?? null,
      ),
    ],
  };
}
