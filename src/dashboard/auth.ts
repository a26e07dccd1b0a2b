/**
 * Operator accounts for the dashboard: users with scrypt-hashed passwords in the store, sessions in a
 * cookie (HttpOnly, Secure, SameSite=Strict; only a SHA-256 of the token is stored), three roles, a
 * CSRF token per session, a Host-header allow-list and a login rate limit.
 *
 * - Roles: `viewer` reads, `operator` also sends commands, `admin` also manages users.
 * - CSRF: every state-changing request needs the session's token in `X-CSRF-Token` (the page reads it
 *   from `/api/me`) and, when the browser sends `Origin`, an origin on the allow-list. A cross-site page
 *   can neither read the token nor set the header without a CORS preflight, which is never granted.
 * - Host allow-list: a DNS-rebinding page (evil.example resolving to 127.0.0.1) reaches the server with
 *   its own name in `Host`; anything not on the list is refused before routing.
 * - Login: at most 5 failed attempts per user name and 20 per client address (several operators
 *   behind one office NAT) in 15 minutes, counted in the store for all workers; then 429 until the
 *   window passes. Unknown users cost a hash too (no timing oracle for names).
 * - Sessions end 12 hours after the login, or earlier after 30 minutes without a request of the user.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

import type { FleetStore } from './store/fleet-store.js';

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (r: unknown): r is Role => (ROLES as readonly unknown[]).includes(r);
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
export const allows = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

// 16 MiB of memory per hash (128 * N * r): slow for a guesser, fine for a login now and then.
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Hashed once at load: verifying against it makes an unknown user cost as much as a known one. */
const DUMMY_HASH = hashPassword(randomBytes(12).toString('hex'));

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export interface Session {
  username: string;
  role: Role;
  csrf: string;
  expiresAt: number;
  /** The last request of the user (to a minute): the session ends `idleMs` after it. */
  activeAt: number;
  /** The one merchant (birth `tenant`) whose kiosks this user sees; null: every kiosk. */
  tenant: string | null;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,39}$/;
/** How stale `active_at` may get before a request writes it again: one write a minute, not one a request. */
const ACTIVE_PRECISION_MS = 60_000;

export class Accounts {
  constructor(
    private readonly store: FleetStore,
    private readonly sessionMs = 12 * 3600_000,
    /** Without a request of the user for this long a session ends (a PC left logged in). */
    readonly idleMs = 30 * 60_000,
  ) {}

  /**
   * `tenant`: the user sees and commands only the kiosks whose birth names that merchant (a
   * merchant's own staff on a shared back office). Admins see everything: user management and the
   * audit log are the back office's, not a merchant's.
   */
  async addUser(
    username: string,
    password: string,
    role: Role,
    now = Date.now(),
    tenant: string | null = null,
  ): Promise<void> {
    if (!USERNAME.test(username)) throw new UserError('user names: 2-40 of a-z 0-9 . _ - (lower case)');
    if (!isRole(role)) throw new UserError(`role must be one of ${ROLES.join(', ')}`);
    if (password.length < 10) throw new UserError('passwords have at least 10 characters');
    if (tenant !== null && (tenant === '' || tenant.length > 60))
      throw new UserError('a tenant is 1-60 characters, as the kiosks name it (kiosk.tenant)');
    if (tenant !== null && role === 'admin') throw new UserError('admins see every merchant: no tenant');
    const existing = await this.store.all('SELECT username FROM users WHERE username = ?', [username]);
    if (existing.length > 0) throw new UserError(`user ${username} exists`);
    await this.store.writeNow([
      {
        durable: true,
        statements: [
          {
            sql: 'INSERT INTO users (username, password_hash, role, created_at, tenant) VALUES (?, ?, ?, ?, ?)',
            params: [username, await hashPassword(password), role, now, tenant],
          },
        ],
      },
    ]);
  }

  /**
   * A new password (the user's own change, an admin's reset, `dashboard user passwd`). Every session
   * of the user ends: whoever knew the old password and logged in with it is out.
   */
  async setPassword(username: string, password: string): Promise<void> {
    if (password.length < 10) throw new UserError('passwords have at least 10 characters');
    await this.mustExist(username);
    const hash = await hashPassword(password);
    await this.store.writeNow([
      {
        durable: true,
        statements: [
          { sql: 'UPDATE users SET password_hash = ? WHERE username = ?', params: [hash, username] },
          { sql: 'DELETE FROM sessions WHERE username = ?', params: [username] },
        ],
      },
    ]);
  }

  /** Disables (or enables) an account; disabling ends its sessions at once (someone who left, a lost laptop). */
  async setDisabled(username: string, disabled: boolean): Promise<void> {
    await this.mustExist(username);
    await this.store.writeNow([
      {
        durable: true,
        statements: [
          { sql: 'UPDATE users SET disabled = ? WHERE username = ?', params: [disabled ? 1 : 0, username] },
          ...(disabled ? [{ sql: 'DELETE FROM sessions WHERE username = ?', params: [username] }] : []),
        ],
      },
    ]);
  }

  private async mustExist(username: string): Promise<void> {
    const rows = await this.store.all('SELECT username FROM users WHERE username = ?', [username]);
    if (rows.length === 0) throw new UserError(`no user ${username}`);
  }

  async users(): Promise<
    { username: string; role: Role; createdAt: number; disabled: boolean; tenant: string | null }[]
  > {
    const rows = await this.store.all('SELECT * FROM users ORDER BY username');
    return rows.map((r) => ({
      username: String(r.username),
      role: r.role as Role,
      createdAt: Number(r.created_at),
      disabled: Number(r.disabled) === 1,
      tenant: (r.tenant as string | null) ?? null,
    }));
  }

  async count(): Promise<number> {
    const [r] = await this.store.all('SELECT COUNT(*) AS n FROM users');
    return Number(r?.n ?? 0);
  }

  /** Checks a password; returns the user's role, or undefined (wrong password, unknown or disabled user). */
  async check(username: string, password: string): Promise<Role | undefined> {
    const [row] = await this.store.all('SELECT password_hash, role, disabled FROM users WHERE username = ?', [
      username,
    ]);
    if (!row) {
      await verifyPassword(password, await DUMMY_HASH);
      return undefined;
    }
    const ok = await verifyPassword(password, String(row.password_hash));
    return ok && Number(row.disabled) !== 1 && isRole(row.role) ? row.role : undefined;
  }

  /** A new session: the token goes into the cookie, only its hash into the store. */
  async openSession(username: string, now = Date.now()): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const expiresAt = now + this.sessionMs;
    await this.store.writeNow([
      {
        durable: true,
        statements: [
          {
            sql: 'DELETE FROM sessions WHERE expires_at < ? OR COALESCE(active_at, created_at) <= ?',
            params: [now, now - this.idleMs],
          },
          {
            sql: 'INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at, active_at) VALUES (?, ?, ?, ?, ?, ?)',
            params: [sha256(token), username, csrf, now, expiresAt, now],
          },
        ],
      },
    ]);
    const [row] = await this.store.all('SELECT role, tenant FROM users WHERE username = ?', [username]);
    const tenant = (row?.tenant as string | null | undefined) ?? null;
    return {
      token,
      session: { username, role: row?.role as Role, csrf, expiresAt, activeAt: now, tenant },
    };
  }

  /**
   * The session of a cookie's token, or undefined: none, past its 12 hours, idle for `idleMs`, or
   * its user disabled. `active`: the request is the user's own (not one the page makes by itself on
   * a live update), so it keeps the session from going idle.
   */
  async session(token: string | undefined, now = Date.now(), active = true): Promise<Session | undefined> {
    if (!token) return undefined;
    const [row] = await this.store.all(
      `SELECT s.username, s.csrf, s.expires_at, COALESCE(s.active_at, s.created_at) AS active_at,
       u.role, u.disabled, u.tenant FROM sessions s
       JOIN users u ON u.username = s.username WHERE s.token_hash = ?`,
      [sha256(token)],
    );
    if (!row || !this.alive(row, now) || !isRole(row.role)) return undefined;
    let activeAt = Number(row.active_at);
    if (active && now - activeAt >= ACTIVE_PRECISION_MS) {
      await this.touch([token], now);
      activeAt = now;
    }
    return {
      username: String(row.username),
      role: row.role,
      csrf: String(row.csrf),
      expiresAt: Number(row.expires_at),
      activeAt,
      tenant: (row.tenant as string | null) ?? null,
    };
  }

  private alive(row: Record<string, unknown>, now: number): boolean {
    return (
      Number(row.expires_at) > now && Number(row.active_at) + this.idleMs > now && Number(row.disabled) !== 1
    );
  }

  /** Which of these tokens still open a session (for the live streams a worker holds). */
  async liveTokens(tokens: readonly string[], now = Date.now()): Promise<Set<string>> {
    if (tokens.length === 0) return new Set();
    const byHash = new Map(tokens.map((t) => [sha256(t), t]));
    const rows = await this.store.all(
      `SELECT s.token_hash, s.expires_at, COALESCE(s.active_at, s.created_at) AS active_at, u.disabled
       FROM sessions s JOIN users u ON u.username = s.username
       WHERE s.token_hash IN (${tokens.map(() => '?').join(', ')})`,
      [...byHash.keys()],
    );
    return new Set(rows.filter((r) => this.alive(r, now)).map((r) => byHash.get(String(r.token_hash))!));
  }

  /** Counts as a request of the user now (their own request, or a viewer's open live page). */
  async touch(tokens: readonly string[], now = Date.now()): Promise<void> {
    if (tokens.length === 0) return;
    await this.store.writeNow([
      {
        durable: true,
        statements: [
          {
            sql: `UPDATE sessions SET active_at = ? WHERE token_hash IN (${tokens.map(() => '?').join(', ')})`,
            params: [now, ...tokens.map(sha256)],
          },
        ],
      },
    ]);
  }

  async closeSession(token: string): Promise<void> {
    await this.store.writeNow([
      {
        durable: true,
        statements: [{ sql: 'DELETE FROM sessions WHERE token_hash = ?', params: [sha256(token)] }],
      },
    ]);
  }
}

/** The store did not answer while a login was limited: the caller refuses the login (503), never lets it through. */
export class LoginLimitUnavailable extends Error {
  constructor(cause: unknown) {
    super(`login limit unavailable: ${(cause as Error).message}`, { cause });
    this.name = 'LoginLimitUnavailable';
  }
}

export type LoginGate = { allowed: true; attempt: string } | { allowed: false; retryAfterMs: number };

/**
 * Failed logins per key (`ip:<address>`, `user:<name>`) in a sliding window, kept in the store so
 * that every worker on one database counts the same failures (per process, N workers gave N times
 * the tries). An attempt is written before its password is checked: parallel guesses, at one worker
 * or several, each see the ones in flight, so no burst gets past the limit while the hashes run.
 */
export class LoginLimiter {
  constructor(
    private readonly store: FleetStore,
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly maxPerAddress = 20,
  ) {}

  private limit(key: string): number {
    return key.startsWith('ip:') ? this.maxPerAddress : this.maxFailures;
  }

  /**
   * Records an attempt and says whether it may go on. Refused: the attempt is not kept (a locked-out
   * guesser does not push the window further) and `retryAfterMs` says when the oldest failure that
   * holds the limit leaves the window. Throws LoginLimitUnavailable when the store does not answer.
   */
  async begin(keys: readonly string[], now: number): Promise<LoginGate> {
    const attempt = randomBytes(12).toString('base64url');
    const since = now - this.windowMs;
    try {
      await this.store.writeNow([
        {
          durable: true,
          statements: [
            // The table holds one window: a scan over many addresses cannot grow it without end.
            { sql: 'DELETE FROM login_attempts WHERE at <= ?', params: [since] },
            ...keys.map((key) => ({
              sql: 'INSERT INTO login_attempts (attempt, key, at) VALUES (?, ?, ?)',
              params: [attempt, key, now],
            })),
          ],
        },
      ]);
      const mine = await this.store.all('SELECT key, id FROM login_attempts WHERE attempt = ?', [attempt]);
      let wait = 0;
      for (const key of keys) {
        // Only the attempts before this one: of a burst of parallel guesses the first `limit` go on.
        const id = Number(mine.find((r) => r.key === key)?.id);
        const [r] = await this.store.all(
          'SELECT COUNT(*) AS n FROM login_attempts WHERE key = ? AND at > ? AND id < ?',
          [key, since, id],
        );
        const limit = this.limit(key);
        if (Number(r?.n ?? 0) < limit) continue;
        // The limit-th newest failure: once it leaves the window, fewer than `limit` remain.
        const [oldest] = await this.store.all(
          `SELECT at FROM login_attempts WHERE key = ? AND at > ? AND id < ?
           ORDER BY id DESC LIMIT 1 OFFSET ${limit - 1}`,
          [key, since, id],
        );
        wait = Math.max(wait, Number(oldest?.at ?? now) + this.windowMs - now, 1);
      }
      if (wait === 0) return { allowed: true, attempt };
      await this.forget(attempt);
      return { allowed: false, retryAfterMs: wait };
    } catch (err) {
      throw new LoginLimitUnavailable(err);
    }
  }

  /** The right password: this attempt and the user name's earlier failures are forgotten (not the address's). */
  async succeeded(attempt: string, username: string): Promise<void> {
    await this.store.writeNow([
      {
        durable: true,
        statements: [
          { sql: 'DELETE FROM login_attempts WHERE attempt = ?', params: [attempt] },
          { sql: 'DELETE FROM login_attempts WHERE key = ?', params: [`user:${username}`] },
        ],
      },
    ]);
  }

  private async forget(attempt: string): Promise<void> {
    await this.store.writeNow([
      {
        durable: true,
        statements: [{ sql: 'DELETE FROM login_attempts WHERE attempt = ?', params: [attempt] }],
      },
    ]);
  }
}

/** The host name of a `Host` header or an origin (`[::1]:8090` -> `[::1]`, `Example.com` -> `example.com`). */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':')[0] ?? '';
}

export const DEFAULT_ALLOWED_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

export const SESSION_COOKIE = 'dash_session';

export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}
