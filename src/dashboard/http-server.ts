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
import path from 'node:path';

import { silentLogger, type Logger } from '../util/logger.js';
import { CommandError, type SentCommand } from './broker-link.js';
import type { FleetModel, IngestResult } from './fleet-model.js';
import type { KioskStatus } from './kiosk-status.js';
import type { FleetStore } from './store/fleet-store.js';
import type { WriteBuffer, WriteBufferHealth } from './store/write-buffer.js';

export interface CommandSender {
  readonly connected: boolean;
  sendCommand(kioskId: string, name: string, args?: unknown, ttlS?: number): Promise<SentCommand>;
}

export interface DashboardServerOptions {
  model: FleetModel;
  commands: CommandSender;
  publicDir: string;
  /** History, accounts and audit; absent: memory only. */
  store?: FleetStore;
  buffer?: WriteBuffer;
  now?: () => number;
  /** How often live updates are pushed. Default 1000 ms. */
  tickMs?: number;
  logger?: Logger;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
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
  private readonly streams = new Set<ServerResponse>();
  private readonly dirty = new Set<string>();
  private readonly lastStatus = new Map<string, KioskStatus>();
  private timer: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private brokerWasConnected = false;

  constructor(private readonly opts: DashboardServerOptions) {
    this.model = opts.model;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
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
    this.send('cmd', { kioskId, commands: this.model.commands(kioskId) });
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
    this.keepAlive = setInterval(() => this.broadcast(': keep-alive\n\n'), 15_000);
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.keepAlive);
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Pushes what changed since the last push. Public for tests and for the tick. */
  flush(): void {
    const now = this.now();
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
    this.send('kiosks', { now, kiosks, stats: this.model.stats });
  }

  private send(event: string, data: unknown): void {
    this.broadcast(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcast(chunk: string): void {
    for (const res of this.streams) res.write(chunk);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const now = this.now();

    if (method === 'GET' && STATIC[p]) return this.static(res, STATIC[p]);
    if (method === 'GET' && p === '/api/kiosks') {
      return this.json(res, 200, {
        now,
        kiosks: this.model.summaries(now),
        stats: this.model.stats,
        broker: { connected: this.opts.commands.connected },
      });
    }
    if (method === 'GET' && p === '/api/health') {
      const store = this.storeHealth();
      return this.json(res, store.enabled && !store.ok ? 503 : 200, {
        broker: { connected: this.opts.commands.connected },
        store,
        kiosks: this.model.size,
        stats: this.model.stats,
      });
    }
    if (method === 'GET' && p === '/api/stream') return this.stream(req, res, now);

    const detail = /^\/api\/kiosks\/([^/]+)$/.exec(p);
    if (method === 'GET' && detail) {
      const d = this.model.detail(decodeURIComponent(detail[1] ?? ''), now);
      return d ? this.json(res, 200, { now, kiosk: d }) : this.json(res, 404, { error: 'no such kiosk' });
    }
    const cmd = /^\/api\/kiosks\/([^/]+)\/cmd\/([^/]+)$/.exec(p);
    if (cmd) {
      if (method !== 'POST') return this.json(res, 405, { error: 'POST only' });
      return this.command(req, res, decodeURIComponent(cmd[1] ?? ''), decodeURIComponent(cmd[2] ?? ''));
    }
    return this.json(res, 404, { error: 'not found' });
  }

  private async command(
    req: IncomingMessage,
    res: ServerResponse,
    kioskId: string,
    name: string,
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
    try {
      const sent = await this.opts.commands.sendCommand(kioskId, name, body.args ?? {}, ttlS);
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

  private stream(req: IncomingMessage, res: ServerResponse, now: number): void {
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
      kiosks: this.model.summaries(now),
      stats: this.model.stats,
      broker: { connected: this.opts.commands.connected },
      store: this.storeHealth(),
    };
    res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
  }

  private async static(res: ServerResponse, entry: { file: string; type: string }): Promise<void> {
    try {
      const body = await readFile(path.join(this.opts.publicDir, entry.file));
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
