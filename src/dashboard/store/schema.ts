/**
 * The store's schema, one list of migrations for SQLite and PostgreSQL alike (portable SQL; `{{id}}` is
 * the dialect's auto-increment key). A migration is applied once, in one transaction with its row in
 * `schema_migrations`; a database newer than this code is refused rather than written to.
 *
 * Append new migrations at the end; never edit one that has shipped.
 */
import { ddl, type Database } from './database.js';

export interface Migration {
  version: number;
  what: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'kiosks, money ledger, faults, health samples, alerts, commands and answers, users, sessions, audit',
    sql: `
CREATE TABLE kiosks (
  id TEXT PRIMARY KEY,
  name TEXT,
  site TEXT,
  tenant TEXT,
  location TEXT,
  firmware TEXT,
  state TEXT,
  state_reason TEXT,
  sid BIGINT NOT NULL DEFAULT 0,
  heartbeat_s BIGINT,
  birth TEXT,
  health TEXT,
  health_at BIGINT,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL
);

-- Money events (evt/transaction, evt/cash), once each: the key makes a QoS 1 redelivery or an outbox
-- replay a no-op, so no total can double.
CREATE TABLE ledger (
  kiosk_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  amount_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  payment_method TEXT,
  transaction_id TEXT,
  card TEXT,
  reason TEXT,
  seq BIGINT NOT NULL,
  sid BIGINT NOT NULL,
  ts BIGINT NOT NULL,
  happened_at BIGINT NOT NULL,
  day TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (kiosk_id, event_id)
);
CREATE INDEX ledger_day ON ledger (day, kiosk_id);
CREATE INDEX ledger_kiosk_seq ON ledger (kiosk_id, seq);

CREATE TABLE faults (
  kiosk_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  device TEXT NOT NULL,
  code TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT,
  seq BIGINT NOT NULL,
  ts BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (kiosk_id, event_id)
);

-- Health, downsampled (one row per kiosk per few minutes), with the lifetime counters of that moment.
CREATE TABLE health_samples (
  kiosk_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  ts BIGINT NOT NULL,
  state TEXT NOT NULL,
  busy BIGINT NOT NULL,
  uptime_s BIGINT NOT NULL,
  cpu_temp_c DOUBLE PRECISION,
  rss_bytes BIGINT NOT NULL,
  lag_p99_ms DOUBLE PRECISION NOT NULL,
  outbox_size BIGINT NOT NULL,
  sales_count BIGINT NOT NULL,
  sales_cents BIGINT NOT NULL,
  topups_count BIGINT NOT NULL,
  topups_cents BIGINT NOT NULL,
  cash_in_count BIGINT NOT NULL,
  cash_in_cents BIGINT NOT NULL,
  box_cash_in_cents BIGINT NOT NULL,
  last_collection_ts BIGINT,
  PRIMARY KEY (kiosk_id, at)
);

CREATE TABLE alerts (
  id {{id}},
  kiosk_id TEXT NOT NULL,
  name TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT,
  since BIGINT NOT NULL,
  opened_at BIGINT NOT NULL,
  closed_at BIGINT
);
CREATE UNIQUE INDEX alerts_open ON alerts (kiosk_id, name) WHERE closed_at IS NULL;
CREATE INDEX alerts_kiosk ON alerts (kiosk_id, opened_at);

CREATE TABLE commands (
  cmd_id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL,
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  operator TEXT,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  result TEXT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX commands_kiosk ON commands (kiosk_id, issued_at);

-- Every cmdres as it came, duplicates included (the kiosk marks a repeated answer).
CREATE TABLE command_answers (
  id {{id}},
  cmd_id TEXT,
  kiosk_id TEXT NOT NULL,
  cmd TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  result TEXT,
  duplicate BIGINT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX command_answers_cmd ON command_answers (cmd_id);

CREATE TABLE users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0
);

-- Only a hash of the session token is kept: a copy of the database opens no session.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE audit (
  id {{id}},
  at BIGINT NOT NULL,
  username TEXT,
  action TEXT NOT NULL,
  kiosk_id TEXT,
  detail TEXT,
  ip TEXT
);
CREATE INDEX audit_at ON audit (at);
`,
  },
  {
    version: 2,
    what: 'ledger.discount_cents: the bonus discount of a sale (evt/transaction discountCents)',
    // NULL for rows stored before and for events without a discount: the sum reads them as 0.
    sql: `ALTER TABLE ledger ADD COLUMN discount_cents BIGINT`,
  },
  {
    version: 3,
    what: 'vouchers: each voucher by its reference, its state from evt/voucher, an office settlement',
    // One row per voucher the fleet told of (`<issuer>.<id>`, never the code). `status` is the kiosk's
    // word (open, redeemed, paid_out, expired, voided, written_off); `settle_state` the office's:
    // `pending` from the operator's click until the kiosk answers, then `settled` or `refused`.
    sql: `
CREATE TABLE vouchers (
  kiosk_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  cents BIGINT NOT NULL,
  status TEXT NOT NULL,
  paid_by TEXT,
  issued_at BIGINT,
  updated_at BIGINT NOT NULL,
  settle_state TEXT,
  settle_cmd_id TEXT,
  settle_by TEXT,
  settle_at BIGINT,
  settle_note TEXT,
  PRIMARY KEY (kiosk_id, ref)
);
CREATE INDEX vouchers_settle_cmd ON vouchers (settle_cmd_id)`,
  },
  {
    version: 4,
    what: 'cash_collections: each cash collection a kiosk reported (health lastCollection), counted and expected',
    // Keyed by the collection's own time: every health repeats the last one, stored once.
    sql: `
CREATE TABLE cash_collections (
  kiosk_id TEXT NOT NULL,
  collected_at BIGINT NOT NULL,
  counted_cents BIGINT NOT NULL,
  expected_cents BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (kiosk_id, collected_at)
)`,
  },
  {
    version: 5,
    what: 'users.tenant: an account that sees only the kiosks of one merchant (null: all)',
    sql: `ALTER TABLE users ADD COLUMN tenant TEXT`,
  },
  {
    version: 6,
    what: 'login_attempts: the login rate limit shared by every worker; sessions.active_at: the idle timeout',
    // One row per key (user:<name>, ip:<address>) of a login attempt, written before the password is
    // checked and removed again when it was right or refused: what stays is the failures of the window,
    // which every worker counts. `id` orders parallel attempts: each counts only the ones before it. `active_at`: the session's last request (NULL for sessions from before:
    // read as their creation).
    sql: `
CREATE TABLE login_attempts (
  id {{id}},
  attempt TEXT NOT NULL,
  key TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);
CREATE INDEX login_attempts_attempt ON login_attempts (attempt);
CREATE INDEX login_attempts_at ON login_attempts (at);
ALTER TABLE sessions ADD COLUMN active_at BIGINT`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the database to SCHEMA_VERSION; returns the versions it applied. */
export async function migrate(db: Database): Promise<number[]> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, what TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const rows = await db.all<{ version: number }>('SELECT version FROM schema_migrations');
  const have = new Set(rows.map((r) => Number(r.version)));
  const newest = Math.max(0, ...have);
  if (newest > SCHEMA_VERSION)
    throw new Error(`the store is at schema ${newest}, newer than this dashboard (${SCHEMA_VERSION})`);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (have.has(m.version)) continue;
    // DDL and its bookkeeping row in one transaction: a crash leaves the migration undone, not half done.
    const insert = `INSERT INTO schema_migrations (version, what, applied_at) VALUES (${m.version}, '${m.what.replaceAll("'", "''")}', ${Date.now()})`;
    try {
      await db.exec(`${ddl(db.dialect, m.sql)};\n${insert}`);
    } catch (err) {
      // Several workers starting together: another one may have applied it first.
      const now = await db.all<{ version: number }>(
        'SELECT version FROM schema_migrations WHERE version = ?',
        [m.version],
      );
      if (now.length === 0) throw err;
      continue;
    }
    applied.push(m.version);
  }
  return applied;
}
