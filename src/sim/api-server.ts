/**
 * A local stand-in of the Smart Transactions API: the same endpoints and shapes, a card ledger on
 * disk, OAuth with all three grants, and per-call fault injection. For development, demos, tests
 * and the chaos harness; never exposed beyond loopback by default.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultPlan, FaultRuleSchema, type Fault } from './faults.js';
import { Ledger, SimApiError } from './ledger.js';
import {
  ProfileRequestSchema,
  SimBehaviourSchema,
  behaviourOf,
  isProfileName,
  type ProfileSelection,
  type SimBehaviour,
} from './profiles.js';
import { renderCard, renderMerchantCard, renderTransaction } from './render.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { describeZodError } from '../api/schemas.js';

export interface StandInOptions {
  port?: number;
  host?: string;
  /** Ledger file; in memory when absent. */
  ledgerPath?: string;
  clients?: Array<{ clientId: string; clientSecret: string }>;
  tokenTtlS?: number;
  /** Device pairing: confirm automatically after this long (ms); only through /__sim/device/confirm when absent. */
  autoConfirmDeviceMs?: number;
  /** How long `start/cashless` blocks, as a customer at the terminal would. */
  terminalDelayMs?: number;
  /** Where the docs are silent: a profile by name, or switches (src/sim/profiles.ts). Default: `default`. */
  profile?: ProfileSelection;
  logger?: Logger;
}

export interface StandIn {
  url: string;
  baseUrl: string;
  tokenUrl: string;
  ledger: Ledger;
  faults: FaultPlan;
  /** Confirms a device pairing as an operator would in the back office. */
  confirmDevice(userCode: string): boolean;
  /** Makes every token issued so far expire now. */
  expireAllTokens(): void;
  /** The switches in force. */
  behaviour(): SimBehaviour;
  /** Switches to a profile (by name or switches over the defaults); the ledger is kept. */
  setProfile(sel: ProfileSelection): SimBehaviour;
  close(): Promise<void>;
}

export const DEMO_CLIENT = { clientId: 'kiosk-demo', clientSecret: 'demo-secret' };
const MAX_BODY = 64 * 1024;
const HANDLED_KEPT = 500;

/** One request the stand-in is done with: answered (with its HTTP status) or dropped by a fault. */
export interface HandledRequest {
  method: string;
  path: string;
  outcome: 'answered' | 'dropped_before_commit' | 'dropped_after_commit';
  status?: number;
}

interface TokenInfo {
  expiresAt: number;
  clientId: string;
  deviceUuid?: string;
}
interface DeviceSession {
  userCode: string;
  uuid: string;
  clientId: string;
  expiresAt: number;
  confirmed: boolean;
}

class HttpFail extends Error {
  constructor(
    readonly status: number,
    readonly payload: object,
  ) {
    super(JSON.stringify(payload));
  }
}

/** The API's documented error body. */
const apiError = (status: number, error: string, details: string, user = '') =>
  new HttpFail(status, {
    status: 'error',
    error,
    error_details: details,
    error_user: user,
    code: 1001,
    supportId: randomUUID(),
  });
const notAllowed = (method: string) => apiError(405, 'MethodNotAllowed', method);

const oauthError = (status: number, error: string, description: string) =>
  new HttpFail(status, { error, error_description: description });

export async function startApiStandIn(opts: StandInOptions = {}): Promise<StandIn> {
  const logger = opts.logger ?? silentLogger;
  const ledger = new Ledger(opts.ledgerPath);
  ledger.behaviour = behaviourOf(opts.profile);
  const faults = new FaultPlan();
  /**
   * Profile `read-lag`: after a change, reads of the transaction show it as it was before, for
   * `readLag` reads (a replica behind the primary). Writes always see the truth.
   */
  const lagged = new Map<string, { view: object; left: number }>();
  const clients = new Map((opts.clients ?? [DEMO_CLIENT]).map((c) => [c.clientId, c.clientSecret]));
  const tokenTtlS = opts.tokenTtlS ?? 1200;
  const tokens = new Map<string, TokenInfo>();
  const devices = new Map<string, DeviceSession>();
  const refreshTokens = new Map<string, { clientId: string; deviceUuid?: string }>();
  const sockets = new Set<Socket>();
  /** The last requests the stand-in finished with, dropped ones included: tests wait on this, not on a guessed time. */
  const handled: HandledRequest[] = [];
  /** The requests whose body arrived, in order: a test kills the kiosk once its call is in flight. */
  const received: { method: string; path: string }[] = [];
  const noteHandled = (method: string, path: string, outcome: HandledRequest['outcome'], status?: number) => {
    handled.push(status === undefined ? { method, path, outcome } : { method, path, outcome, status });
    if (handled.length > HANDLED_KEPT) handled.shift();
  };

  const issue = (
    clientId: string,
    deviceUuid?: string,
  ): { access_token: string; expires_in: number; token_type: string; scope: string } => {
    if (deviceUuid) {
      // Only one access token per device session is valid: a new one voids the old.
      for (const [t, info] of tokens) if (info.deviceUuid === deviceUuid) tokens.delete(t);
    }
    const access_token = randomBytes(16).toString('hex');
    tokens.set(access_token, { expiresAt: Date.now() + tokenTtlS * 1000, clientId, deviceUuid });
    return {
      access_token,
      expires_in: tokenTtlS,
      token_type: 'bearer',
      scope: 'https://scope.secucard.com/e/api',
    };
  };

  const handleToken = (body: Record<string, unknown>): object => {
    const grant = String(body.grant_type ?? '');
    const clientId = String(body.client_id ?? '');
    if (!clients.has(clientId) || clients.get(clientId) !== String(body.client_secret ?? '')) {
      throw oauthError(401, 'invalid_client', 'client credentials are wrong');
    }
    if (grant === 'client_credentials') return issue(clientId);
    if (grant === 'refresh_token') {
      const rt = refreshTokens.get(String(body.refresh_token ?? ''));
      if (!rt || rt.clientId !== clientId) throw oauthError(400, 'invalid_grant', 'refresh token unknown');
      return issue(clientId, rt.deviceUuid);
    }
    if (grant === 'device') {
      if (typeof body.uuid === 'string' && body.uuid) {
        const device_code = randomBytes(12).toString('hex');
        const userCode = randomBytes(4)
          .toString('hex')
          .toUpperCase()
          .replace(/(.{4})/, '$1-');
        const session: DeviceSession = {
          userCode,
          uuid: body.uuid,
          clientId,
          expiresAt: Date.now() + ledger.behaviour.deviceCodeTtlS * 1000,
          confirmed: false,
        };
        devices.set(device_code, session);
        if (opts.autoConfirmDeviceMs !== undefined)
          setTimeout(() => (session.confirmed = true), opts.autoConfirmDeviceMs).unref();
        return {
          device_code,
          user_code: userCode,
          verification_url: 'https://www.secuoffice.com/devices',
          // Documented (device-grant example): 1200 s, interval 5.
          expires_in: ledger.behaviour.deviceCodeTtlS,
          interval: 5,
        };
      }
      const session = devices.get(String(body.code ?? ''));
      if (!session) throw oauthError(400, 'invalid_grant', 'device code unknown');
      if (Date.now() > session.expiresAt) throw oauthError(400, 'expired_token', 'device code expired');
      if (!session.confirmed) throw oauthError(400, 'authorization_pending', 'waiting for confirmation');
      devices.delete(String(body.code));
      const refresh_token = randomBytes(16).toString('hex');
      refreshTokens.set(refresh_token, { clientId, deviceUuid: session.uuid });
      return { ...issue(clientId, session.uuid), refresh_token };
    }
    throw oauthError(400, 'unsupported_grant_type', `grant ${grant} is not supported`);
  };

  const authorise = (req: IncomingMessage, expired: Fault | undefined): void => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const info = m?.[1] ? tokens.get(m[1]) : undefined;
    const refuse = (as: '401' | '403') =>
      as === '403'
        ? new HttpFail(403, {
            status: 'error',
            // As documented for an expired token: 403 ProductNotAllowedException, code 2003.
            error: 'ProductNotAllowedException',
            error_details: 'Valid auth token required',
            error_user: 'Anmeldung erforderlich.',
            code: 2003,
            supportId: randomUUID(),
          })
        : new HttpFail(401, {
            status: 'error',
            error: 'UnauthorizedException',
            error_details: 'token missing, unknown or expired',
            error_user: 'Anmeldung erforderlich.',
            code: 2003,
            supportId: randomUUID(),
          });
    if (expired?.type === 'expire_token') throw refuse(expired.as);
    if (!info || Date.now() > info.expiresAt) throw refuse(ledger.behaviour.expiredToken);
  };

  const route = async (
    method: string,
    path: string,
    body: unknown,
    faultList: Fault[],
    query: URLSearchParams,
  ): Promise<object> => {
    const cards = /^\/api\/v2\/Loyalty\/MerchantCards(?:\/([^/]+))?\/?$/.exec(path);
    if (cards) {
      if (method !== 'GET') throw notAllowed(method);
      // LoyaltyMerchantCardsApi.getAll(count, offset, fields, q, ...) and getOne(id): read-only here.
      if (cards[1]) return renderMerchantCard(ledger.merchantCardById(decodeURIComponent(cards[1])));
      const found = ledger.merchantCards(query.get('q') ?? '');
      return { count: found.length, data: found.map(renderMerchantCard) };
    }
    const m =
      /^\/api\/v2\/Smart\/Transactions(?:\/([^/]+))?(?:\/(preTransaction|start\/(?:loyalty|cash|cashless)|cancelTrx|cancel|abort|EndOfDay|diagnosis))?\/?$/.exec(
        path,
      );
    if (!m) throw apiError(404, 'NotFoundException', `no route ${method} ${path}`);
    const [, id, action] = m;
    const render = (tx: { card: string | null } & Parameters<typeof renderTransaction>[0]) =>
      renderTransaction(tx, tx.card ? ledger.card(tx.card) : undefined);
    if (!id) {
      if (method === 'GET') {
        // getAll(count, offset, fields, q, sort): only the `merchantRef:<value>` search is modelled.
        const found = ledger.search(query.get('q') ?? '');
        const offset = Number(query.get('offset') ?? 0) || 0;
        const count = Math.min(Number(query.get('count') ?? 20) || 20, 100);
        return { count: found.length, data: found.slice(offset, offset + count).map(render) };
      }
      if (method !== 'POST') throw notAllowed(method);
      return render(ledger.create(body));
    }
    const decodedId = decodeURIComponent(id);
    if (method === 'GET' && !action) {
      const lag = lagged.get(decodedId);
      if (lag && lag.left > 0) {
        lag.left -= 1;
        if (lag.left === 0) lagged.delete(decodedId);
        return lag.view;
      }
      return render(ledger.mustGet(decodedId));
    }
    if (method === 'POST' && (action === 'EndOfDay' || action === 'diagnosis')) {
      if (decodedId !== 'me') throw apiError(404, 'NotFoundException', `no route ${method} ${path}`);
      // Blocking like the terminal (documented for end-of-day): it transmits its batch first.
      if (opts.terminalDelayMs) await new Promise((r) => setTimeout(r, opts.terminalDelayMs));
      return { status: 'ok', ...(action === 'EndOfDay' ? ledger.endOfDay() : ledger.diagnosis()) };
    }
    // What a lagging read shows after this change: the transaction as it is now. `cancelTrx` names
    // the terminal payment by its receipt number: the transaction it changes lags like any other.
    const txId = action === 'cancelTrx' ? (ledger.terminalPayment(decodedId)?.id ?? decodedId) : decodedId;
    const known = ledger.transaction(txId);
    const stamp = known ? JSON.stringify(known) : undefined;
    const before = ledger.behaviour.readLag > 0 && known ? render(structuredClone(known)) : undefined;
    try {
      if (!action) {
        if (method === 'PUT') return render(ledger.update(decodedId, body));
        throw notAllowed(method);
      }
      if (method !== 'POST') throw notAllowed(method);
      return await act(action, decodedId, faultList, render);
    } finally {
      // A change committed (an answer, or a refusal that still moved the status, as a decline does).
      if (before && JSON.stringify(ledger.transaction(txId)) !== stamp && !lagged.has(txId))
        lagged.set(txId, { view: before, left: ledger.behaviour.readLag });
    }
  };

  const act = async (
    action: string,
    decodedId: string,
    faultList: Fault[],
    render: (tx: { card: string | null } & Parameters<typeof renderTransaction>[0]) => object,
  ): Promise<object> => {
    switch (action) {
      case 'preTransaction': {
        const r = ledger.preTransaction(decodedId);
        // Profile `pretransaction-minimal`: the SDK's SmartTransactionsPreTransactionModel, nothing more.
        if (ledger.behaviour.preTransaction === 'minimal')
          return { missing_sum: r.missing_sum, bonus_products: r.bonus_products };
        return { ...render(r.tx), missing_sum: r.missing_sum, bonus_products: r.bonus_products };
      }
      case 'start/loyalty':
        return render(ledger.start(decodedId, 'loyalty'));
      case 'start/cash':
        return render(ledger.start(decodedId, 'cash'));
      case 'start/cashless': {
        ledger.mustGet(decodedId);
        if (opts.terminalDelayMs) await new Promise((r) => setTimeout(r, opts.terminalDelayMs));
        return render(
          ledger.start(decodedId, 'cashless', { declined: faultList.some((f) => f.type === 'decline') }),
        );
      }
      case 'cancel':
        return render(ledger.cancel(decodedId));
      case 'cancelTrx': {
        const tx = ledger.cancelTrx(decodedId);
        return render(tx);
      }
      default:
        return render(ledger.abort(decodedId));
    }
  };

  const operator = (method: string, path: string, body: unknown): object => {
    if (path === '/__sim/cards' && method === 'GET')
      return { cards: ledger.cards().map((c) => ({ ...renderCard(c), note: c.note })) };
    if (path === '/__sim/ledger' && method === 'GET') {
      return { cards: ledger.cards(), sales: ledger.sales() };
    }
    if (path === '/__sim/faults' && method === 'POST') {
      const rules = Array.isArray(body) ? body : [body];
      for (const r of rules) {
        const parsed = FaultRuleSchema.safeParse(r);
        if (!parsed.success) throw new HttpFail(400, { error: describeZodError(parsed.error) });
        faults.add(parsed.data);
      }
      return { pending: faults.pending };
    }
    if (path === '/__sim/requests' && method === 'GET') return { received, handled };
    if (path === '/__sim/profile' && method === 'GET') return { behaviour: ledger.behaviour };
    if (path === '/__sim/profile' && method === 'POST') {
      const parsed = ProfileRequestSchema.safeParse(body);
      if (!parsed.success) throw new HttpFail(400, { error: describeZodError(parsed.error) });
      const req = parsed.data;
      if ('name' in req && !isProfileName(req.name))
        throw new HttpFail(400, { error: `unknown profile ${req.name}` });
      const sel = 'name' in req ? (req.name as ProfileSelection) : { ...ledger.behaviour, ...req.set };
      return { behaviour: setProfile(sel) };
    }
    if (path === '/__sim/faults' && method === 'DELETE') {
      faults.clear();
      return { pending: 0 };
    }
    if (path === '/__sim/device/confirm' && method === 'POST') {
      const code = (body as { user_code?: unknown } | undefined)?.user_code;
      return { confirmed: typeof code === 'string' && confirmDevice(code) };
    }
    if (path === '/__sim/tokens/expire' && method === 'POST') {
      expireAllTokens();
      return { expired: true };
    }
    if (path === '/__sim/reset' && method === 'POST') {
      ledger.reset();
      return { reset: true };
    }
    throw new HttpFail(404, { error: `no operator route ${method} ${path}` });
  };

  const confirmDevice = (userCode: string): boolean => {
    for (const s of devices.values()) {
      if (s.userCode === userCode) {
        s.confirmed = true;
        return true;
      }
    }
    return false;
  };
  const setProfile = (sel: ProfileSelection): SimBehaviour => {
    ledger.behaviour = behaviourOf(sel);
    lagged.clear();
    logger.info({ behaviour: ledger.behaviour }, 'stand-in profile');
    return { ...ledger.behaviour };
  };
  const expireAllTokens = (): void => {
    for (const info of tokens.values()) info.expiresAt = 0;
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const reqUrl = new URL(req.url ?? '/', 'http://x');
    const path = reqUrl.pathname;
    const send = (status: number, payload: object | string, reason?: string) => {
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, reason, {
        'content-type': typeof payload === 'string' ? 'text/html' : 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      if (!path.startsWith('/__sim/')) noteHandled(method, path, 'answered', status);
    };
    try {
      const raw = await readBody(req);
      const body = parseBody(raw, req.headers['content-type']);
      if (path.startsWith('/__sim/')) return send(200, operator(method, path, body));
      received.push({ method, path });
      if (received.length > HANDLED_KEPT) received.shift();

      const faultList = path.startsWith('/__sim/') ? [] : faults.take(method, path);
      for (const f of faultList) if (f.type === 'latency') await new Promise((r) => setTimeout(r, f.ms));
      if (faultList.some((f) => f.type === 'drop_before_commit')) {
        req.socket.destroy();
        noteHandled(method, path, 'dropped_before_commit');
        return;
      }
      const statusFault = faultList.find((f) => f.type === 'status');
      if (statusFault?.type === 'status') {
        return send(
          statusFault.status,
          {
            status: 'error',
            error: 'ProductInternalException',
            error_details:
              statusFault.code === 1016
                ? 'Card validation failed: Unknown value was returned by procedure call'
                : 'injected failure',
            error_user: 'Ein Fehler ist aufgetreten.',
            code: statusFault.code ?? 1009,
            supportId: randomUUID(),
          },
          'ProductInternalException',
        );
      }

      let result: object;
      if (path === '/oauth/token' && method === 'POST') {
        result = handleToken((body ?? {}) as Record<string, unknown>);
      } else {
        authorise(
          req,
          faultList.find((f) => f.type === 'expire_token'),
        );
        result = await route(method, path, body, faultList, reqUrl.searchParams);
      }
      // The change is committed to the ledger by now: the nastiest faults strike after this line.
      if (faultList.some((f) => f.type === 'drop_after_commit')) {
        req.socket.destroy();
        noteHandled(method, path, 'dropped_after_commit');
        return;
      }
      if (faultList.some((f) => f.type === 'not_json'))
        return send(200, '<html><body>502 Bad Gateway</body></html>');
      send(200, result);
    } catch (err) {
      if (err instanceof HttpFail) return send(err.status, err.payload);
      if (err instanceof SimApiError) return send(err.status, err.body(randomUUID()), err.error);
      if (err instanceof BodyError)
        return send(err.status, {
          status: 'error',
          error: 'ProductBadRequestException',
          error_details: err.message,
          error_user: 'Ungültige Anfrage.',
          code: 1001,
          supportId: randomUUID(),
        });
      logger.error({ err: String(err), method, path }, 'stand-in: unexpected error');
      send(500, {
        status: 'error',
        error: 'ProductInternalException',
        error_details: 'internal error',
        error_user: 'Ein Fehler ist aufgetreten.',
        code: 1009,
        supportId: randomUUID(),
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  logger.info({ url }, 'API stand-in listening');
  return {
    url,
    baseUrl: `${url}/api/v2`,
    tokenUrl: `${url}/oauth/token`,
    ledger,
    faults,
    confirmDevice,
    expireAllTokens,
    behaviour: () => SimBehaviourSchema.parse(ledger.behaviour),
    setProfile,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        // Answer 413 and let the rest drain: destroying the socket would leave the client without an answer.
        req.off('data', onData);
        req.resume();
        reject(new BodyError(413, `body larger than ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw.trim() === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    throw new BodyError(400, 'body is not valid JSON');
  }
}
