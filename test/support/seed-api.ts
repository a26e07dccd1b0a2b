/**
 * A test API that answers `start` with a seed's JSON verbatim (../shared/seeds: the merchant's real
 * API answers), not with our stand-in's rendering. Only the transaction id is swapped for the one the
 * kiosk started. Seed 002 is sent as `repairJson` leaves it (the documentation's `// ...` elisions
 * removed, the missing comma put in): the least that makes it JSON.
 *
 * The seeds are answers to `start` only; what the API said before (create, PUT, preTransaction) is
 * not in them, so a scenario states it: the card as read before the operation (the seed's own ident
 * with the balance the scenario names) and the preTransaction's `missing_sum`. Those answers are
 * built like the real API's: the kiosk's body echoed with an id, `status: created`, the card ident.
 *
 * OAuth is answered plainly (`client_credentials`, `refresh_token`, `device`); a refresh token or a
 * device code can be declared dead, as the back office does when a kiosk is removed or re-paired.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadSeedTransactions } from './seeds.js';

export type SeedName = '000' | '001' | '002' | '003' | '004';

export interface SeedScenario {
  /** The seed whose document answers `start/<startMethod>`. */
  seed: SeedName;
  startMethod: 'loyalty' | 'cash' | 'cashless';
  /**
   * The card's balance (cents, all cash) as the API reads it before the operation; absent: the
   * seed's ident as it stands (seed 004's is the card before its top-up).
   */
  cardBalanceBefore?: number;
  /** What preTransaction answers as `missing_sum` (the card balance applied to the basket). */
  missingSum?: number;
}

export interface SeedCall {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
  status: number;
}

export interface SeedApiOptions {
  clientId?: string;
  clientSecret?: string;
  /** Refresh tokens this API knows; any other one is `invalid_grant`. */
  refreshTokens?: string[];
  /** Device codes whose session is alive: the device grant with one answers a new token pair. */
  deviceCodes?: string[];
}

export interface SeedApi {
  url: string;
  baseUrl: string;
  tokenUrl: string;
  calls: SeedCall[];
  /** The scenario the next `start` is answered from. */
  play(scenario: SeedScenario): void;
  /** Makes the refresh token (or all, without an argument) `invalid_grant` from now on. */
  killRefreshToken(token?: string): void;
  /** Makes the device code (or all) `invalid_device` from now on. */
  killDeviceCode(code?: string): void;
  /** Refuses the next API calls with 401 as an expired access token (the kiosk then renews it). */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

type Doc = Record<string, unknown>;

const clone = <T>(v: T): T => structuredClone(v);

/** The seed's document with only the transaction id swapped. */
export function seedAnswer(seeds: Map<string, Doc>, seed: SeedName, id: string): Doc {
  const doc = seeds.get(seed);
  if (!doc) throw new Error(`no seed ${seed}`);
  return { ...clone(doc), id };
}

/** The seed's card ident, with the balance it had before the operation when the scenario names one. */
function identBefore(seeds: Map<string, Doc>, scenario: SeedScenario): Doc[] {
  const idents = clone((seeds.get(scenario.seed)?.idents ?? []) as Doc[]);
  if (scenario.cardBalanceBefore === undefined) return idents;
  return idents.map((ident) => {
    const mc = ident.merchantcard as Doc | null | undefined;
    if (!mc) return ident;
    const b = scenario.cardBalanceBefore!;
    return { ...ident, merchantcard: { ...mc, cash_balance: b, bonus_balance: 0, balance: b } };
  });
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(text));
  return JSON.parse(text) as Record<string, unknown>;
}

const token = (prefix: string) => `${prefix}${randomBytes(9).toString('hex')}`;
const txId = () => `STX_SEED${randomBytes(11).toString('hex').toUpperCase()}`;

export async function startSeedApi(opts: SeedApiOptions = {}): Promise<SeedApi> {
  const seeds = loadSeedTransactions();
  const clientId = opts.clientId ?? 'kiosk-seeds';
  const clientSecret = opts.clientSecret ?? 'seeds-secret';
  const refreshTokens = new Set(opts.refreshTokens ?? []);
  const deviceCodes = new Set(opts.deviceCodes ?? []);
  const accessTokens = new Set<string>();
  const transactions = new Map<string, Doc>();
  const calls: SeedCall[] = [];
  let scenario: SeedScenario | undefined;

  const issue = (withRefresh: boolean): Doc => {
    const access = token('at_');
    accessTokens.add(access);
    const answer: Doc = {
      access_token: access,
      expires_in: 1200,
      token_type: 'bearer',
      scope: 'https://scope.secucard.com/e/api',
    };
    if (withRefresh) {
      const refresh = token('rt_');
      refreshTokens.add(refresh);
      answer.refresh_token = refresh;
    }
    return answer;
  };

  const oauth = (body: Doc): [number, Doc] => {
    if (body.client_id !== clientId || body.client_secret !== clientSecret)
      return [401, { error: 'invalid_client', error_description: 'client credentials are wrong' }];
    switch (body.grant_type) {
      case 'client_credentials':
        return [200, issue(false)];
      case 'refresh_token':
        // As the guides say: the refresh answer carries no new refresh token.
        return refreshTokens.has(String(body.refresh_token))
          ? [200, issue(false)]
          : [400, { error: 'invalid_grant', error_description: 'refresh token is invalid or expired' }];
      case 'device':
        if (typeof body.code === 'string')
          return deviceCodes.has(body.code)
            ? [200, issue(true)]
            : [401, { error: 'invalid_device', error_description: 'device session is not valid' }];
        return [400, { error: 'invalid_request', error_description: 'pairing is not offered here' }];
      default:
        return [400, { error: 'unsupported_grant_type', error_description: String(body.grant_type) }];
    }
  };

  const needScenario = (): SeedScenario => {
    if (!scenario) throw new Error('seed api: no scenario played');
    return scenario;
  };

  const handle = (method: string, path: string, body: Doc | undefined): [number, unknown] => {
    const m =
      /^\/api\/v2\/Smart\/Transactions(?:\/([^/]+)(?:\/(preTransaction|start\/(\w+)|cancel|abort))?)?$/.exec(
        path,
      );
    if (!m)
      return [404, { status: 'error', error: 'ProductNotFoundException', error_details: path, code: 1001 }];
    const [, id, action, startMethod] = m;
    if (!id && method === 'POST') {
      const s = needScenario();
      const tx: Doc = {
        object: 'smart.transactions',
        id: txId(),
        status: 'created',
        basket: body?.basket ?? { products: [], type: 'default' },
        basket_info: body?.basket_info ?? { sum: 0, currency: 'EUR' },
        merchantRef: body?.merchantRef ?? null,
        transactionRef: null,
        intent: body?.intent ?? null,
        idents: Array.isArray(body?.idents) && body.idents.length ? identBefore(seeds, s) : [],
      };
      transactions.set(tx.id as string, tx);
      return [200, tx];
    }
    const tx = id ? transactions.get(id) : undefined;
    if (!id || !tx)
      return [
        404,
        { status: 'error', error: 'ProductNotFoundException', error_details: `no ${id}`, code: 1001 },
      ];
    if (!action && method === 'GET') return [200, tx];
    if (!action && method === 'PUT') {
      Object.assign(tx, { basket: body?.basket, basket_info: body?.basket_info, status: 'created' });
      return [200, tx];
    }
    if (action === 'preTransaction' && method === 'POST') {
      const s = needScenario();
      tx.status = 'processing';
      const missing = s.missingSum ?? 0;
      tx.basket_info = { ...(tx.basket_info as Doc), missing_sum: missing };
      return [200, { missing_sum: missing, bonus_products: [] }];
    }
    if (startMethod && method === 'POST') {
      const s = needScenario();
      if (startMethod !== s.startMethod)
        return [
          400,
          {
            status: 'error',
            error: 'ProductBadRequestException',
            error_details: `start/${startMethod} not in seed ${s.seed}`,
            code: 1001,
          },
        ];
      const answer = seedAnswer(seeds, s.seed, id);
      transactions.set(id, answer);
      return [200, answer];
    }
    return [
      400,
      {
        status: 'error',
        error: 'ProductBadRequestException',
        error_details: `${method} ${path}`,
        code: 1001,
      },
    ];
  };

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    readBody(req)
      .then((body) => {
        let status: number;
        let answer: unknown;
        if (path === '/oauth/token' && method === 'POST') [status, answer] = oauth(body ?? {});
        else {
          const auth = req.headers.authorization ?? '';
          if (!accessTokens.has(auth.replace(/^Bearer /, '')))
            [status, answer] = [
              401,
              {
                status: 'error',
                error: 'ProductNotAllowedException',
                error_details: 'Valid auth token required',
                code: 2003,
              },
            ];
          else [status, answer] = handle(method, path, body);
        }
        calls.push({ method, path, body, status });
        json(res, status, answer);
      })
      .catch((err: unknown) => {
        calls.push({ method, path, body: undefined, status: 500 });
        json(res, 500, {
          status: 'error',
          error: 'ProductInternalException',
          error_details: String(err),
          code: 1000,
        });
      });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    baseUrl: `${url}/api/v2`,
    tokenUrl: `${url}/oauth/token`,
    calls,
    play: (s) => {
      scenario = s;
    },
    killRefreshToken: (t) => {
      if (t === undefined) refreshTokens.clear();
      else refreshTokens.delete(t);
    },
    killDeviceCode: (c) => {
      if (c === undefined) deviceCodes.clear();
      else deviceCodes.delete(c);
    },
    expireAccessTokens: () => accessTokens.clear(),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
