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
 *   behind one office NAT) in 15 minutes; then 429 until the window passes. Unknown users cost a hash too (no timing oracle for names).
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
  /** The one merchant (birth `tenant`) whose kiosks this user sees; null: every kiosk. */
  tenant: string | null;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,39}$/;

export class Accounts {
  constructor(
    private readonly store: FleetStore,
    private readonly sessionMs = 12 * 3600_000,
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
          { sql: 'DELETE FROM sessions WHERE expires_at < ?', params: [now] },
          {
            sql: 'INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
            params: [sha256(token), username, csrf, now, expiresAt],
          },
        ],
      },
    ]);
    const [row] = await this.store.all('SELECT role, tenant FROM users WHERE username = ?', [username]);
    const tenant = (row?.tenant as string | null | undefined) ?? null;
    return { token, session: { username, role: row?.role as Role, csrf, expiresAt, tenant } };
  }

  async session(token: string | undefined, now = Date.now()): Promise<Session | undefined> {
    if (!token) return undefined;
    const [row] = await this.store.all(
      `SELECT s.username, s.csrf, s.expires_at, u.role, u.disabled, u.tenant FROM sessions s
       JOIN users u ON u.username = s.username WHERE s.token_hash = ?`,
      [sha256(token)],
    );
    if (!row || Number(row.expires_at) <= now || Number(row.disabled) === 1 || !isRole(row.role))
      return undefined;
    return {
      username: String(row.username),
      role: row.role,
      csrf: String(row.csrf),
      expiresAt: Number(row.expires_at),
      tenant: (row.tenant as string | null) ?? null,
    };
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

/** Failed logins per key (client address, user name) in a sliding window. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly maxPerAddress = 20,
  ) {}

  private limit(key: string): number {
    return key.startsWith('ip:') ? this.maxPerAddress : this.maxFailures;
  }

  /** Milliseconds until another attempt is allowed for any of the keys (0: allowed now). */
  retryAfterMs(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const recent = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
      this.failures.set(key, recent);
      if (recent.length >= this.limit(key)) wait = Math.max(wait, recent[0]! + this.windowMs - now);
    }
    return wait;
  }

  failed(keys: readonly string[], now: number): void {
    for (const key of keys)
      this.failures.set(key, [...(this.failures.get(key) ?? []), now].slice(-this.maxFailures));
    // Bounded: a scan of many addresses must not grow this without end.
    if (this.failures.size > 10_000)
      for (const k of [...this.failures.keys()].slice(0, 5000)) this.failures.delete(k);
  }

  succeeded(keys: readonly string[]): void {
    for (const key of keys) this.failures.delete(key);
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
