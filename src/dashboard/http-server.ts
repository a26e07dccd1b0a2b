/**
 * The dashboard's HTTP side: the static page, a small JSON API over the fleet model, live updates as
 * Server-Sent Events, and the command endpoint. Plain `node:http`, no framework.
 *
 *   GET  /                              the page (and /app.js, /app.css)
 *   GET  /api/kiosks                    { now, kiosks: KioskSummary[], stats, broker }
 *   GET  /api/kiosks/:id                KioskDetail (recent events, open alerts, commands) or 404
 *   GET  /api/stream                    SSE: `snapshot`, then `kiosks` (changed tiles), `cmd` (a kiosk's
 *                                       commands with their answers), `broker` (connection up/down)
 *   POST /api/kiosks/:id/cmd/:name      body { args?, ttlS? } -> 202 { cmdId, issuedAt, expiresAt }
 *   GET  /api/health                    for monitoring: broker connection and ingest counters
 *
 * Live updates are batched: changed kiosks are collected and pushed once per `tickMs`, together with
 * kiosks whose computed status changed only because time passed (health went stale). With a thousand
 * kiosks reporting, the browser gets one small message a second, not a thousand.
 *
 * The command endpoint wants `Content-Type: application/json`: a cross-site form cannot send that
 * without a CORS preflight, which this server never grants. Bind to loopback (the default) or put it
 * behind an authenticating proxy: anyone who can reach it can restart kiosks.
 */
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';

import { silentLogger, type Logger } from '../util/logger.js';
import { cashBoxEstimate, RATE_WINDOW_MS, uptimeFrom } from './office-figures.js';
import {
  allows,
  DEFAULT_ALLOWED_HOSTS,
  hostName,
  isRole,
  LoginLimiter,
  LoginLimitUnavailable,
  parseCookies,
  SESSION_COOKIE,
  sessionCookie,
  UserError,
  type Accounts,
  type Role,
  type Session,
} from './auth.js';
import { CommandError, type CommandOrigin, type SentCommand } from './broker-link.js';
import { ledgerCsv } from './ledger-csv.js';
import { auditOp, voucherSettleClaimOp } from './store/ops.js';
import type { FleetModel, IngestResult } from './fleet-model.js';
import type { KioskStatus } from './kiosk-status.js';
import type { DayTotals, FleetStore } from './store/fleet-store.js';
import type { WriteBuffer, WriteBufferHealth } from './store/write-buffer.js';

export interface CommandSender {
  readonly connected: boolean;
  sendCommand(
    kioskId: string,
    name: string,
    args?: unknown,
    ttlS?: number,
    origin?: CommandOrigin,
    prepare?: (cmd: SentCommand) => Promise<void>,
  ): Promise<SentCommand>;
}

export interface DashboardServerOptions {
  model: FleetModel;
  commands: CommandSender;
  publicDir: string;
  /** History, accounts and audit; absent: memory only. */
  store?: FleetStore;
  buffer?: WriteBuffer;
  /** Operator accounts (needs the store). Absent: no login (memory-only mode, loopback use only). */
  accounts?: Accounts;
  /** Host names the server answers to (DNS rebinding). Default 127.0.0.1, localhost, [::1]. */
  allowedHosts?: readonly string[];
  /** Session cookies with `Secure` (default true; browsers accept it on http://localhost too). */
  secureCookies?: boolean;
  /** Take the client address from X-Forwarded-For (behind a reverse proxy). */
  trustProxy?: boolean;
  now?: () => number;
  /** How often live updates are pushed. Default 1000 ms. */
  tickMs?: number;
  logger?: Logger;
  /** What a cash box holds before it is full (the estimate's target). Default 500 EUR. */
  cashBoxCapacityCents?: number;
  /** The health sampling interval of the store (the uptime figure's unit). Default 5 min. */
  sampleEveryMs?: number;
}

export const DEFAULT_CASHBOX_CAPACITY_CENTS = 50_000;
const UPTIME_WINDOW_MS = 7 * 86_400_000;

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/login': { file: 'login.html', type: 'text/html; charset=utf-8' },
  '/login.js': { file: 'login.js', type: 'text/javascript; charset=utf-8' },
};

/** The chart library, served from node_modules (no CDN). */
const UPLOT_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot')), '..', 'dist');
const VENDOR: Record<string, { file: string; type: string }> = {
  '/vendor/uPlot.iife.min.js': {
    file: path.join(UPLOT_DIR, 'uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uPlot.min.css': { file: path.join(UPLOT_DIR, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

const MAX_BODY = 16 * 1024;

export class DashboardServer {
  readonly server: http.Server;
  private readonly model: FleetModel;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Open SSE streams, each with the session that opened it (none in memory-only mode). */
  private readonly streams = new Map<ServerResponse, StreamOwner | undefined>();
  private readonly dirty = new Set<string>();
  private readonly lastStatus = new Map<string, KioskStatus>();
  private timer: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private brokerWasConnected = false;
  /** Failed logins, counted in the store for every worker (absent: no accounts). */
  private readonly limiter: LoginLimiter | undefined;
  private sweeping = false;
  /** The accounts, for the CLI and tests (absent in memory-only mode). */
  get accounts(): Accounts | undefined {
    return this.opts.accounts;
  }
  private readonly allowedHosts: Set<string>;

  constructor(private readonly opts: DashboardServerOptions) {
    this.model = opts.model;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.allowedHosts = new Set((opts.allowedHosts ?? DEFAULT_ALLOWED_HOSTS).map((h) => hostName(h)));
    this.limiter = opts.store ? new LoginLimiter(opts.store) : undefined;
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.log.error({ err: (err as Error).message, url: req.url }, 'request failed');
        if (!res.headersSent) this.json(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
  }

  /** Feed from the broker link: which kiosk changed, and command results to push at once. */
  onIngest(result: IngestResult): void {
    if (!result.ok || !result.changed) return;
    this.dirty.add(result.kioskId);
    if (result.channel === 'cmdres') this.pushCommands(result.kioskId);
  }

  /** The store became unreachable or reachable again: the page says so at once. */
  storeHealthChanged(h: WriteBufferHealth): void {
    this.send('store', this.storeHealth(h));
  }

  private storeHealth(h: WriteBufferHealth | undefined = this.opts.buffer?.health) {
    if (!this.opts.store || !h) return { enabled: false };
    return {
      enabled: true,
      dialect: this.opts.store.dialect,
      ok: h.ok,
      error: h.error,
      failingSince: h.failingSince,
      pending: h.pending,
      dropped: h.dropped,
      rejected: h.rejected,
      written: h.written,
    };
  }

  /** A command's answer is what the operator is waiting for: pushed at once, not on the next tick. */
  private pushCommands(kioskId: string): void {
    const chunk = `event: cmd\ndata: ${JSON.stringify({ kioskId, commands: this.model.commands(kioskId) })}\n\n`;
    for (const [res, owner] of this.streams) if (this.sees(owner, kioskId)) res.write(chunk);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.timer = setInterval(() => this.flush(), this.opts.tickMs ?? 1000);
    this.keepAlive = setInterval(() => {
      this.broadcast(': keep-alive\n\n');
      void this.sweepSessions();
    }, 15_000);
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.keepAlive);
    for (const res of this.streams.keys()) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Pushes what changed since the last push. Public for tests and for the tick. */
  flush(): void {
    const now = this.now();
    // A stream outlives no session: after the cookie's 12 hours the page must log in again.
    this.endStreams((o) => o.expiresAt <= now);
    const changed = new Set(this.dirty);
    this.dirty.clear();
    for (const id of this.model.ids()) {
      const status = this.model.statusOf(id, now);
      if (status !== undefined && status !== this.lastStatus.get(id)) {
        this.lastStatus.set(id, status);
        changed.add(id);
      }
    }
    const connected = this.opts.commands.connected;
    if (connected !== this.brokerWasConnected) {
      this.brokerWasConnected = connected;
      this.send('broker', { connected });
    }
    if (this.streams.size === 0 || changed.size === 0) return;
    const kiosks = [...changed].map((id) => this.model.summary(id, now)).filter((k) => k !== undefined);
    for (const [res, owner] of this.streams) {
      const seen = kiosks.filter((k) => this.sees(owner, k.id));
      if (seen.length > 0)
        res.write(
          `event: kiosks\ndata: ${JSON.stringify({ now, kiosks: seen, stats: this.statsFor(owner) })}\n\n`,
        );
    }
  }

  /**
   * Whether a user scoped to one merchant (`tenant`) may see this kiosk: only when its birth names
   * that merchant. A kiosk without a birth yet is nobody's: hidden (fail closed) until it tells.
   */
  private sees(who: { tenant: string | null } | undefined, kioskId: string): boolean {
    return !who?.tenant || this.model.tenantOf(kioskId) === who.tenant;
  }

  /** The ingest counters; the last garbage names another kiosk's topic, not for a merchant's staff. */
  private statsFor(who: { tenant: string | null } | undefined) {
    return who?.tenant
      ? { ...this.model.stats, lastGarbage: undefined, lastNewer: undefined }
      : this.model.stats;
  }

  private send(event: string, data: unknown): void {
    this.broadcast(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcast(chunk: string): void {
    for (const res of this.streams.keys()) res.write(chunk);
  }

  /**
   * Ends the live streams whose session ended anywhere: idle, or closed at another worker (logout,
   * new password, account disabled). A viewer's open stream counts as activity: a read-only page on a
   * wall screen stays up until its 12 hours; an operator's or admin's page left open goes idle like
   * any other (it can send commands). Store unreachable: the streams stay until it answers again
   * (their 12 hours are checked in memory on every tick). Public for tests; the keep-alive runs it.
   */
  async sweepSessions(): Promise<void> {
    const accounts = this.opts.accounts;
    if (!accounts || this.sweeping) return;
    const owners = [...this.streams.values()].filter((o) => o !== undefined);
    if (owners.length === 0) return;
    this.sweeping = true;
    try {
      const now = this.now();
      const live = await accounts.liveTokens([...new Set(owners.map((o) => o.token))], now);
      this.endStreams((o) => !live.has(o.token));
      const viewers = owners.filter((o) => o.role === 'viewer' && live.has(o.token)).map((o) => o.token);
      await accounts.touch([...new Set(viewers)], now);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'session sweep failed: store unreachable?');
    } finally {
      this.sweeping = false;
    }
  }

  /** Ends the live streams of sessions that ended (logout, expiry, new password, account disabled). */
  private endStreams(ended: (o: StreamOwner) => boolean): void {
    for (const [res, owner] of this.streams)
      if (owner && ended(owner)) {
        this.streams.delete(res);
        res.end();
      }
  }

  private clientAddress(req: IncomingMessage): string {
    const fwd = req.headers['x-forwarded-for'];
    if (this.opts.trustProxy && typeof fwd === 'string') return fwd.split(',')[0]!.trim();
    return req.socket.remoteAddress ?? '?';
  }

  /** A browser's `Origin` on a state-changing request must name one of our hosts (absent: not a browser form). */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return this.allowedHosts.has(hostName(new URL(origin).host));
    } catch {
      return false;
    }
  }

  private audit(a: Parameters<typeof auditOp>[0]): void {
    // Best effort through the buffer: an audit row waits for the store like money does.
    this.opts.buffer?.add([auditOp(a)]).catch(() => undefined);
  }

  /**
   * Refuses a logged-in user's request and writes it to the audit log: a viewer trying a command, a
   * forged request (wrong CSRF token, another site's Origin), a merchant's user reaching for another
   * merchant's kiosk. Who tried what is what an investigation needs.
   */
  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    session: Session | undefined,
    now: number,
    status: number,
    action: string,
    body: { error: string },
    kioskId?: string,
  ): void {
    const username = session?.username ?? null;
    this.audit({ at: now, username, action, kioskId: kioskId ?? null, ip: this.clientAddress(req) });
    this.log.warn({ username, action }, 'request refused');
    return this.json(res, status, body);
  }

  /**
   * An operator's action on a kiosk (a command, a payout): refused and audited for a viewer (403) and
   * for another merchant's user (404: for them the kiosk is not there). True when refused (answered).
   */
  private operatorRefused(
    req: IncomingMessage,
    res: ServerResponse,
    session: Session | undefined,
    now: number,
    kioskId: string,
    action: string,
    verb: string,
    notFound: string,
  ): boolean {
    if (session && !allows(session.role, 'operator'))
      this.refuse(
        req,
        res,
        session,
        now,
        403,
        `${action} refused (role ${session.role})`,
        {
          error: `operators only: viewers can look, not ${verb}`,
        },
        kioskId,
      );
    else if (!this.sees(session, kioskId))
      this.refuse(
        req,
        res,
        session,
        now,
        404,
        `${action} refused (another merchant)`,
        { error: notFound },
        kioskId,
      );
    else return false;
    return true;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const now = this.now();

    // DNS rebinding: a page on another name that resolves to us carries that name in Host.
    if (!this.allowedHosts.has(hostName(req.headers.host ?? ''))) {
      return this.json(res, 421, { error: 'unknown Host: add it with --allowed-host' });
    }
    if (method === 'GET' && STATIC[p]) return this.static(res, STATIC[p]);
    if (method === 'GET' && VENDOR[p]) return this.static(res, VENDOR[p], true);
    if (method === 'GET' && /^\/kiosk\/[^/]+$/.test(p)) return this.static(res, STATIC['/']!);

    // For monitoring without a login: connection states and counters, nothing about any kiosk.
    if (method === 'GET' && p === '/api/health') {
      const store = this.storeHealth();
      return this.json(res, store.enabled && !store.ok ? 503 : 200, {
        broker: { connected: this.opts.commands.connected },
        store,
        kiosks: this.model.size,
        stats: this.model.stats,
      });
    }
    const accounts = this.opts.accounts;
    let session: Session | undefined;
    if (accounts) {
      if (p === '/api/login') {
        if (method !== 'POST') return this.json(res, 405, { error: 'POST only' });
        return this.login(req, res, accounts, now);
      }
      const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
      // Opening the live stream and the page's own refresh on a live update are not the user's doing:
      // they do not keep the session from going idle.
      const own = p !== '/api/stream' && req.headers['x-dashboard-background'] === undefined;
      session = await accounts.session(token, now, own);
      if (!session) return this.json(res, 401, { error: 'log in first' });
      if (method !== 'GET' && method !== 'HEAD') {
        if (!this.originAllowed(req))
          return this.refuse(req, res, session, now, 403, `${method} ${p} refused (cross-site)`, {
            error: 'cross-site request refused',
          });
        if (req.headers['x-csrf-token'] !== session.csrf)
          return this.refuse(req, res, session, now, 403, `${method} ${p} refused (CSRF token)`, {
            error: 'CSRF token missing or wrong',
          });
      }
      if (p === '/api/me' && method === 'GET')
        return this.json(res, 200, {
          username: session.username,
          role: session.role,
          csrf: session.csrf,
          tenant: session.tenant,
        });
      if (p === '/api/logout' && method === 'POST') {
        if (token) await accounts.closeSession(token);
        this.endStreams((o) => o.token === token);
        this.audit({ at: now, username: session.username, action: 'logout', ip: this.clientAddress(req) });
        res.setHeader('Set-Cookie', sessionCookie('', 0, this.opts.secureCookies ?? true));
        return this.json(res, 200, { ok: true });
      }
      if (p === '/api/password' && method === 'POST')
        return this.changePassword(req, res, accounts, session, now);
      if (p === '/api/users') {
        if (!allows(session.role, 'admin')) return this.json(res, 403, { error: 'admins only' });
        if (method === 'GET') return this.json(res, 200, { users: await accounts.users() });
        if (method === 'POST') return this.addUser(req, res, accounts, session, now);
      }
      const user = /^\/api\/users\/([^/]+)$/.exec(p);
      if (user && method === 'POST') {
        if (!allows(session.role, 'admin')) return this.json(res, 403, { error: 'admins only' });
        return this.updateUser(req, res, accounts, session, decodeURIComponent(user[1] ?? ''), now);
      }
      if (p === '/api/audit' && method === 'GET') {
        if (!allows(session.role, 'admin')) return this.json(res, 403, { error: 'admins only' });
        return this.json(res, 200, { audit: await this.opts.store!.audit(200) });
      }
    } else if (p === '/api/me' && method === 'GET') {
      return this.json(res, 200, { username: null, role: 'admin', csrf: '' });
    }

    if (method === 'GET' && p === '/api/kiosks') {
      return this.json(res, 200, {
        now,
        kiosks: this.model.summaries(now).filter((k) => this.sees(session, k.id)),
        stats: this.statsFor(session),
        broker: { connected: this.opts.commands.connected },
      });
    }
    if (method === 'GET' && p === '/api/stream') {
      const token = session ? parseCookies(req.headers.cookie).get(SESSION_COOKIE) : undefined;
      const owner =
        session && token
          ? {
              token,
              username: session.username,
              role: session.role,
              expiresAt: session.expiresAt,
              tenant: session.tenant,
            }
          : undefined;
      return this.stream(req, res, now, owner);
    }
    // A merchant's user: their kiosks' history and CSV only, another kiosk is not there at all.
    const tenant = session?.tenant ?? undefined;
    const askedKiosk = url.searchParams.get('kiosk') ?? undefined;
    if (askedKiosk !== undefined && !this.sees(session, askedKiosk))
      return this.json(res, 404, { error: 'no such kiosk' });
    if (method === 'GET' && p.startsWith('/api/history')) return this.history(res, url, now, tenant);
    const csv = /^\/api\/export\/(\d{4}-\d{2}-\d{2})\.csv$/.exec(p);
    if (method === 'GET' && csv) return this.exportCsv(res, csv[1]!, askedKiosk, tenant);

    const detail = /^\/api\/kiosks\/([^/]+)$/.exec(p);
    if (method === 'GET' && detail) {
      const id = decodeURIComponent(detail[1] ?? '');
      const d = this.sees(session, id) ? this.model.detail(id, now) : undefined;
      if (!d) return this.json(res, 404, { error: 'no such kiosk' });
      const store = this.opts.store;
      const counters = d.health?.counters;
      const [alerts, commands, collections, digest] = store
        ? await Promise.all([
            store.alerts(id, 50),
            store.commands(id, 20),
            store.collections(id, 20),
            store.officeDigest(id, {
              cashSince: now - RATE_WINDOW_MS,
              serviceFrom: now - UPTIME_WINDOW_MS,
              now,
              sampleEveryMs: this.opts.sampleEveryMs ?? 5 * 60_000,
              ...(counters ? { lastCollectionTs: counters.lastCollectionTs } : {}),
            }),
          ])
        : [[], [], [], undefined];
      const office = digest
        ? {
            cashBox:
              cashBoxEstimate(
                digest.samples,
                now,
                this.opts.cashBoxCapacityCents ?? DEFAULT_CASHBOX_CAPACITY_CENTS,
                counters
                  ? {
                      cents: counters.sinceCollection.cashIn.cents,
                      lastCollectionTs: counters.lastCollectionTs,
                    }
                  : undefined,
              ) ?? null,
            uptime: uptimeFrom(digest.service, now - UPTIME_WINDOW_MS, now) ?? null,
          }
        : null;
      return this.json(res, 200, {
        now,
        kiosk: d,
        alertHistory: alerts,
        commandHistory: commands,
        office: office ? { ...office, collections } : null,
      });
    }
    if (method === 'GET' && p === '/api/vouchers') {
      const store = this.opts.store;
      if (!store) return this.json(res, 404, { error: 'no store: vouchers need --store' });
      // Everything the fleet owes now, for the office's overview (a merchant's user: theirs).
      if (url.searchParams.get('open') !== null)
        return this.json(res, 200, await store.openVouchers(session?.tenant ?? undefined));
      const found = await store.findVouchers(url.searchParams.get('ref') ?? '');
      return this.json(res, 200, { vouchers: found.filter((v) => this.sees(session, v.kioskId)) });
    }
    const settle = /^\/api\/vouchers\/([^/]+)\/([^/]+)\/settle$/.exec(p);
    if (settle) {
      if (method !== 'POST') return this.json(res, 405, { error: 'POST only' });
      const kioskId = decodeURIComponent(settle[1] ?? '');
      const action = `voucher settle ${decodeURIComponent(settle[2] ?? '')}`;
      if (this.operatorRefused(req, res, session, now, kioskId, action, 'pay out', 'no such voucher')) return;
      return this.settleVoucher(
        req,
        res,
        decodeURIComponent(settle[1] ?? ''),
        decodeURIComponent(settle[2] ?? ''),
        session?.username ?? null,
        now,
      );
    }
    const cmd = /^\/api\/kiosks\/([^/]+)\/cmd\/([^/]+)$/.exec(p);
    if (cmd) {
      if (method !== 'POST') return this.json(res, 405, { error: 'POST only' });
      const kioskId = decodeURIComponent(cmd[1] ?? '');
      const action = `command ${decodeURIComponent(cmd[2] ?? '')}`;
      if (this.operatorRefused(req, res, session, now, kioskId, action, 'command', 'no such kiosk')) return;
      return this.command(
        req,
        res,
        decodeURIComponent(cmd[1] ?? ''),
        decodeURIComponent(cmd[2] ?? ''),
        session?.username ?? null,
      );
    }
    return this.json(res, 404, { error: 'not found' });
  }

  /**
   * `/api/history?days=30&kiosk=k-0042`: sales, top-ups and cash per day, every day present (zeros too).
   * `?weeks=12`: the same per week (Monday to Sunday in the dashboard's zone), `days` then holds weeks,
   * each keyed by its Monday, the current week last (so far).
   */
  private async history(res: ServerResponse, url: URL, now: number, tenant?: string): Promise<void> {
    const store = this.opts.store;
    // Memory-only mode keeps no history: an empty answer, and the page hides its charts.
    if (!store) return this.json(res, 200, { kiosk: null, days: [], stored: false });
    const weeks = url.searchParams.get('weeks');
    const weekCount = weeks === null ? 0 : Math.min(Math.max(Number(weeks) || 12, 1), 104);
    const days = weekCount
      ? weekCount * 7
      : Math.min(Math.max(Number(url.searchParams.get('days') ?? 30) || 30, 1), 366);
    const kiosk = url.searchParams.get('kiosk') ?? undefined;
    const list: string[] = [];
    // Noon steps: DST changes cannot skip or repeat a day.
    const today = this.model.dayOf(now);
    const noon = Date.parse(`${today}T12:00:00Z`);
    for (let i = days - 1; i >= 0; i--) list.push(this.model.dayOf(noon - i * 86_400_000));
    const rows = await store.dailyTotals(list[0]!, today, kiosk, tenant);
    const byDay = new Map(rows.map((r) => [r.day, r]));
    const zero = {
      salesCount: 0,
      salesCents: 0,
      salesDiscountCents: 0,
      topupCount: 0,
      topupCents: 0,
      failedCount: 0,
      cashInCents: 0,
      unclaimedCents: 0,
    };
    const perDay = list.map((day) => byDay.get(day) ?? { day, ...zero });
    if (!weekCount) return this.json(res, 200, { kiosk: kiosk ?? null, unit: 'day', days: perDay });
    const byWeek = new Map<string, DayTotals>();
    for (const d of perDay) {
      const week = mondayOf(d.day);
      const w = byWeek.get(week) ?? { ...zero, day: week };
      for (const k of Object.keys(zero) as (keyof typeof zero)[]) w[k] += d[k];
      byWeek.set(week, w);
    }
    // The oldest week is cut by the window: whole weeks only.
    const whole = [...byWeek.values()].slice(-weekCount);
    return this.json(res, 200, { kiosk: kiosk ?? null, unit: 'week', days: whole });
  }

  /** One day's money events as CSV for accounting (integer cents, so it adds up to the cent). */
  private async exportCsv(
    res: ServerResponse,
    day: string,
    kiosk: string | undefined,
    tenant: string | undefined,
  ): Promise<void> {
    const store = this.opts.store;
    if (!store) return this.json(res, 404, { error: 'no store: the export needs --store' });
    const rows = await store.ledgerOfDay(day, kiosk, tenant);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="fleet-${day}${kiosk ? `-${kiosk.replace(/[^\w.-]/g, '_')}` : ''}.csv"`,
      'Cache-Control': 'no-store',
    });
    res.end(ledgerCsv(rows));
  }

  private async login(
    req: IncomingMessage,
    res: ServerResponse,
    accounts: Accounts,
    now: number,
  ): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return this.json(res, 415, { error: 'Content-Type must be application/json' });
    if (!this.originAllowed(req)) return this.json(res, 403, { error: 'cross-site request refused' });
    let body: { username?: unknown; password?: unknown };
    try {
      body = JSON.parse(await readBody(req, MAX_BODY)) as typeof body;
    } catch {
      return this.json(res, 400, { error: 'bad body' });
    }
    const username = typeof body?.username === 'string' ? body.username.trim().toLowerCase() : '';
    const password = typeof body?.password === 'string' ? body.password : '';
    const ip = this.clientAddress(req);
    const attempt = await this.gate(res, ip, username, now, 'login');
    if (attempt === undefined) return;
    const role = username ? await accounts.check(username, password) : undefined;
    if (!role) {
      // The attempt stays in the store: it is this failure, counted by every worker.
      this.audit({ at: now, username: username || null, action: 'login failed', ip });
      this.log.warn({ username, ip }, 'login failed');
      return this.json(res, 401, { error: 'wrong user name or password' });
    }
    await this.limiter!.succeeded(attempt, username);
    const { token, session } = await accounts.openSession(username, now);
    this.audit({ at: now, username, action: 'login', ip });
    res.setHeader(
      'Set-Cookie',
      sessionCookie(token, Math.floor((session.expiresAt - now) / 1000), this.opts.secureCookies ?? true),
    );
    return this.json(res, 200, { username, role: session.role, csrf: session.csrf });
  }

  /**
   * The login limit before a password is checked: the attempt's id, or undefined when the answer was
   * sent (429 past the limit, 503 when the store that counts the failures does not answer: without
   * it every worker would allow unlimited tries, so none is allowed).
   */
  private async gate(
    res: ServerResponse,
    ip: string,
    username: string,
    now: number,
    what: 'login' | 'password change',
  ): Promise<string | undefined> {
    let gate;
    try {
      if (!this.limiter) throw new LoginLimitUnavailable(new Error('no store'));
      gate = await this.limiter.begin([`ip:${ip}`, `user:${username}`], now);
    } catch (err) {
      if (!(err instanceof LoginLimitUnavailable)) throw err;
      this.log.error({ err: err.message, username, ip }, `${what} refused: the store does not answer`);
      res.setHeader('Retry-After', '30');
      this.json(res, 503, { error: `${what} unavailable: the store does not answer; try again shortly` });
      return undefined;
    }
    if (gate.allowed) return gate.attempt;
    res.setHeader('Retry-After', String(Math.ceil(gate.retryAfterMs / 1000)));
    this.audit({ at: now, username: username || null, action: `${what} refused (rate limit)`, ip });
    this.json(res, 429, { error: `too many failed ${what} attempts; try again later` });
    return undefined;
  }

  /**
   * `POST /api/password` `{current, password}`: a user changes their own password. The current one is
   * asked again (a session left open on a shared office PC must not be enough) and counts towards the
   * login limit when wrong. Every session of the user ends; this one gets a new cookie.
   */
  private async changePassword(
    req: IncomingMessage,
    res: ServerResponse,
    accounts: Accounts,
    session: Session,
    now: number,
  ): Promise<void> {
    const body = await readJson<{ current?: unknown; password?: unknown }>(req);
    if (!body || typeof body.current !== 'string' || typeof body.password !== 'string')
      return this.json(res, 400, { error: 'current and password wanted' });
    const ip = this.clientAddress(req);
    const attempt = await this.gate(res, ip, session.username, now, 'password change');
    if (attempt === undefined) return;
    if (!(await accounts.check(session.username, body.current))) {
      this.audit({ at: now, username: session.username, action: 'password change failed', ip });
      return this.json(res, 403, { error: 'current password wrong' });
    }
    await this.limiter!.succeeded(attempt, session.username);
    try {
      await accounts.setPassword(session.username, body.password);
    } catch (err) {
      if (err instanceof UserError) return this.json(res, 400, { error: err.message });
      throw err;
    }
    this.endStreams((o) => o.username === session.username);
    this.audit({ at: now, username: session.username, action: 'password change', ip });
    const fresh = await accounts.openSession(session.username, now);
    res.setHeader(
      'Set-Cookie',
      sessionCookie(
        fresh.token,
        Math.floor((fresh.session.expiresAt - now) / 1000),
        this.opts.secureCookies ?? true,
      ),
    );
    return this.json(res, 200, {
      username: session.username,
      role: fresh.session.role,
      csrf: fresh.session.csrf,
    });
  }

  /**
   * `POST /api/users/<name>` `{disabled?: boolean, password?: string}` (admins): disable or enable an
   * account, or reset its password. Either ends the user's sessions and live streams at once.
   */
  private async updateUser(
    req: IncomingMessage,
    res: ServerResponse,
    accounts: Accounts,
    session: Session,
    username: string,
    now: number,
  ): Promise<void> {
    const body = await readJson<{ disabled?: unknown; password?: unknown }>(req);
    const disabled = typeof body?.disabled === 'boolean' ? body.disabled : undefined;
    const password = typeof body?.password === 'string' ? body.password : undefined;
    if (disabled === undefined && password === undefined)
      return this.json(res, 400, { error: 'disabled (true/false) or password wanted' });
    // The last door must stay open: an admin who disables themselves may leave nobody to undo it.
    if (disabled === true && username === session.username)
      return this.json(res, 400, { error: 'you cannot disable your own account' });
    try {
      if (password !== undefined) await accounts.setPassword(username, password);
      if (disabled !== undefined) await accounts.setDisabled(username, disabled);
    } catch (err) {
      if (err instanceof UserError) return this.json(res, 400, { error: err.message });
      throw err;
    }
    this.endStreams((o) => o.username === username);
    const ip = this.clientAddress(req);
    if (password !== undefined)
      this.audit({
        at: now,
        username: session.username,
        action: 'user password reset',
        detail: { user: username },
        ip,
      });
    if (disabled !== undefined)
      this.audit({
        at: now,
        username: session.username,
        action: disabled ? 'user disable' : 'user enable',
        detail: { user: username },
        ip,
      });
    return this.json(res, 200, { username, ...(disabled !== undefined ? { disabled } : {}) });
  }

  private async addUser(
    req: IncomingMessage,
    res: ServerResponse,
    accounts: Accounts,
    session: Session,
    now: number,
  ): Promise<void> {
    let body: { username?: unknown; password?: unknown; role?: unknown; tenant?: unknown };
    try {
      body = JSON.parse(await readBody(req, MAX_BODY)) as typeof body;
    } catch {
      return this.json(res, 400, { error: 'bad body' });
    }
    const role: Role | undefined = isRole(body.role) ? body.role : undefined;
    if (!role || typeof body.username !== 'string' || typeof body.password !== 'string')
      return this.json(res, 400, { error: 'username, password and role (viewer, operator, admin) wanted' });
    const tenant = typeof body.tenant === 'string' ? body.tenant : null;
    try {
      await accounts.addUser(body.username, body.password, role, now, tenant);
    } catch (err) {
      if (err instanceof UserError) return this.json(res, 400, { error: err.message });
      throw err;
    }
    this.audit({
      at: now,
      username: session.username,
      action: 'user add',
      detail: { user: body.username, role, tenant },
      ip: this.clientAddress(req),
    });
    return this.json(res, 201, { username: body.username, role, tenant });
  }

  /**
   * `POST /api/vouchers/<kiosk>/<ref>/settle` `{confirm: true, resend?: true}`: the operator pays an
   * open voucher out at the office. Marked `pending` in the store under the command's id before the
   * issuing kiosk gets `voucher-settle {ref, by: <operator>}`, so a second click, a second operator or
   * a later search sees it pending and nobody pays twice; the kiosk's answer settles or refuses it
   * (`refused: redeemed`: the customer redeemed it at the kiosk meanwhile). `resend` issues the pending
   * one again (its command expired while the kiosk was away): the kiosk confirms `already` if it had it.
   */
  private async settleVoucher(
    req: IncomingMessage,
    res: ServerResponse,
    kioskId: string,
    ref: string,
    operator: string | null,
    now: number,
  ): Promise<void> {
    const store = this.opts.store;
    if (!store) return this.json(res, 404, { error: 'no store: vouchers need --store' });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return this.json(res, 415, { error: 'Content-Type must be application/json' });
    let body: { confirm?: unknown; resend?: unknown };
    try {
      body = JSON.parse(await readBody(req, MAX_BODY)) as typeof body;
    } catch (err) {
      return this.json(res, 400, { error: `bad body: ${(err as Error).message}` });
    }
    if (body?.confirm !== true) return this.json(res, 400, { error: 'confirm: true required' });
    const resend = body.resend === true;
    const before = await store.voucher(kioskId, ref);
    if (!before) return this.json(res, 404, { error: 'no such voucher' });
    const by = (operator ?? 'office').slice(0, 32);
    try {
      const sent = await this.opts.commands.sendCommand(
        kioskId,
        'voucher-settle',
        { ref, by },
        600,
        { operator, ip: this.clientAddress(req) },
        async (cmd) => {
          await store.writeNow([
            voucherSettleClaimOp({ kioskId, ref, cmdId: cmd.cmdId, by, at: now, resend }),
          ]);
          const after = await store.voucher(kioskId, ref);
          if (after?.settle?.cmdId !== cmd.cmdId)
            throw new CommandError(
              'conflict',
              after?.settle?.state === 'pending'
                ? `settlement pending already (by ${after.settle.by ?? '?'}): do not pay`
                : `not open: ${after?.status ?? 'gone'}${after?.settle?.note ? ` (${after.settle.note})` : ''}`,
            );
        },
      );
      this.audit({
        at: now,
        username: operator,
        action: `voucher settle ${ref}`,
        kioskId,
        ip: this.clientAddress(req),
      });
      this.pushCommands(kioskId);
      return this.json(res, 202, { cmd: sent, voucher: await store.voucher(kioskId, ref) });
    } catch (err) {
      if (err instanceof CommandError) {
        const status =
          err.kind === 'conflict'
            ? 409
            : err.kind === 'bad_command'
              ? 400
              : err.kind === 'publish_failed'
                ? 502
                : 503;
        return this.json(res, status, {
          error: err.message,
          kind: err.kind,
          voucher: await store.voucher(kioskId, ref),
        });
      }
      throw err;
    }
  }

  private async command(
    req: IncomingMessage,
    res: ServerResponse,
    kioskId: string,
    name: string,
    operator: string | null,
  ): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return this.json(res, 415, { error: 'Content-Type must be application/json' });
    }
    if (!this.model.has(kioskId)) return this.json(res, 404, { error: 'no such kiosk' });
    let body: { args?: unknown; ttlS?: unknown };
    try {
      const text = await readBody(req, MAX_BODY);
      body = text.trim() === '' ? {} : (JSON.parse(text) as typeof body);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch (err) {
      return this.json(res, 400, { error: `bad body: ${(err as Error).message}` });
    }
    const ttlS = body.ttlS === undefined ? undefined : Number(body.ttlS);
    // Money the office pays goes through its own endpoint (pending in the store, `by` the operator).
    if (name === 'voucher-settle')
      return this.json(res, 400, { error: 'voucher-settle: use POST /api/vouchers/<kiosk>/<ref>/settle' });
    try {
      const sent = await this.opts.commands.sendCommand(kioskId, name, body.args ?? {}, ttlS, {
        operator,
        ip: this.clientAddress(req),
      });
      this.pushCommands(kioskId);
      return this.json(res, 202, sent);
    } catch (err) {
      if (err instanceof CommandError) {
        const status =
          err.kind === 'bad_command'
            ? 400
            : err.kind === 'not_connected' || err.kind === 'not_stored'
              ? 503
              : 502;
        return this.json(res, status, { error: err.message, kind: err.kind });
      }
      throw err;
    }
  }

  private stream(
    req: IncomingMessage,
    res: ServerResponse,
    now: number,
    owner: StreamOwner | undefined,
  ): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const snapshot = {
      now,
      kiosks: this.model.summaries(now).filter((k) => this.sees(owner, k.id)),
      stats: this.statsFor(owner),
      broker: { connected: this.opts.commands.connected },
      store: this.storeHealth(),
    };
    res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    this.streams.set(res, owner);
    req.on('close', () => this.streams.delete(res));
  }

  private async static(
    res: ServerResponse,
    entry: { file: string; type: string },
    absolute = false,
  ): Promise<void> {
    try {
      const body = await readFile(absolute ? entry.file : path.join(this.opts.publicDir, entry.file));
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': entry.type, 'Cache-Control': 'no-cache' });
      res.end(body);
    } catch {
      this.json(res, 404, { error: 'not found' });
    }
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.end(JSON.stringify(body));
  }
}

interface StreamOwner {
  token: string;
  username: string;
  role: Role;
  expiresAt: number;
  tenant: string | null;
}

/** A JSON object body, or undefined (not JSON, not an object, too large). */
async function readJson<T extends object>(req: IncomingMessage): Promise<Partial<T> | undefined> {
  try {
    const v: unknown = JSON.parse(await readBody(req, MAX_BODY));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The Monday of a YYYY-MM-DD day's week (calendar arithmetic on the date itself, no zone involved). */
export function mondayOf(day: string): string {
  const t = Date.parse(`${day}T12:00:00Z`);
  const back = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - back * 86_400_000).toISOString().slice(0, 10);
}
