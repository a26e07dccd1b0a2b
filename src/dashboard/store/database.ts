/**
 * The one SQL surface the dashboard's store needs, over SQLite (better-sqlite3, the default: a file next
 * to the dashboard) and PostgreSQL (`pg`, for several workers and a fleet past one machine). Both speak
 * the same SQL here: `?` placeholders (rewritten to `$n` for PostgreSQL), `INSERT ... ON CONFLICT`,
 * `RETURNING`, integers as BIGINT (cents, ms) and JSON as TEXT, so the store's queries and its
 * migrations are written once.
 *
 * Errors: an unreachable or failing database rejects with the driver's error; callers that must ride
 * out an outage (the write buffer) retry, everything else lets it reach the HTTP layer as a 503.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

import { mergeInserts } from './merge-inserts.js';

export type Param = string | number | null;
export interface Statement {
  sql: string;
  params: readonly Param[];
}
export type Row = Record<string, unknown>;
export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  readonly dialect: Dialect;
  /** Where it lives, for logs (a path, or the URL without its password). */
  readonly where: string;
  all<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  /** Runs the statements in one transaction: all or nothing (PostgreSQL merges single-row INSERTs, `merge-inserts.ts`). */
  batch(statements: readonly Statement[]): Promise<void>;
  /** DDL (several statements separated by `;`), in one transaction. */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** Portable DDL tokens, spelled per dialect. */
export function ddl(dialect: Dialect, script: string): string {
  return script.replaceAll(
    '{{id}}',
    dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY',
  );
}

export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

export interface OpenOptions {
  /** PostgreSQL: the schema to use (created when missing); tests use one per run. Default `public`. */
  schema?: string;
  /** PostgreSQL pool size. Default 4. */
  poolSize?: number;
}

/** `postgres://...` opens PostgreSQL; anything else is a SQLite file path. */
export async function openDatabase(spec: string, opts: OpenOptions = {}): Promise<Database> {
  if (isPostgresUrl(spec)) return PostgresDatabase.open(spec, opts);
  return new SqliteDatabase(spec);
}

export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly db: BetterSqlite3.Database;
  private readonly cache = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly where: string) {
    if (where !== ':memory:') mkdirSync(path.dirname(path.resolve(where)), { recursive: true });
    this.db = new BetterSqlite3(where);
    // WAL: readers (the page) never wait for the writer; NORMAL is durable against an app crash and
    // loses at most the last commits on a power cut of the dashboard's own machine.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
  }

  private prepare(sql: string): BetterSqlite3.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  async all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.prepare(sql).all(...params) as T[];
  }

  async batch(statements: readonly Statement[]): Promise<void> {
    // In-process: a statement costs microseconds, nothing to merge.
    const run = this.db.transaction((list: readonly Statement[]) => {
      for (const s of list) this.prepare(s.sql).run(...s.params);
    });
    run(statements);
  }

  async exec(script: string): Promise<void> {
    this.db.transaction(() => this.db.exec(script))();
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.db.close();
  }
}

/** `?` -> `$1, $2, ...` (the store's SQL has no `?` inside string literals). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  private readonly names = new Map<string, string>();

  private constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
  ) {}

  static async open(url: string, opts: OpenOptions): Promise<PostgresDatabase> {
    const schema = opts.schema ?? new URL(url).searchParams.get('schema') ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    const clean = new URL(url);
    clean.searchParams.delete('schema');
    const pool = new pg.Pool({
      connectionString: clean.toString(),
      max: opts.poolSize ?? 4,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      options: `-c search_path=${schema}`,
      // BIGINT (cents, ms) as numbers: every value the store keeps is far below 2^53.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 20 || oid === 1700
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server emits here; without a listener that would crash the process.
    pool.on('error', () => undefined);
    clean.password = clean.password ? '***' : '';
    const db = new PostgresDatabase(pool, `${clean.toString()} (schema ${schema})`);
    if (schema !== 'public') await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    return db;
  }

  /** Named prepared statements: PostgreSQL plans each distinct SQL once per connection. */
  private query(client: pg.PoolClient | pg.Pool, sql: string, params: readonly Param[]) {
    let name = this.names.get(sql);
    if (!name) {
      name = `s${this.names.size + 1}`;
      this.names.set(sql, name);
    }
    return client.query({ name, text: toPgPlaceholders(sql), values: params as Param[] });
  }

  async all<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return (await this.query(this.pool, sql, params)).rows as T[];
  }

  async batch(statements: readonly Statement[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One round trip per statement: merged, a batch of 500 money events is a few statements, not 1 000.
      for (const s of mergeInserts(statements)) await this.query(client, s.sql, s.params);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async exec(script: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(script);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Drops the schema and everything in it (tests clean up after themselves). */
  async dropSchema(schema: string): Promise<void> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema) || schema === 'public')
      throw new Error(`refusing to drop ${schema}`);
    await this.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
