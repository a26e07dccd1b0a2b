/**
 * OAuth for the Smart Transactions API: `client_credentials`, the `device` grant a kiosk pairs
 * with, and `refresh_token`. Hands out a valid access token, renews it shortly before it expires,
 * and shares one renewal between concurrent callers. Secrets are never logged.
 */
import { ApiError } from './errors.js';
import { httpExchange, type FetchLike } from './http.js';
import { nodeHttpFetch } from './node-http.js';
import {
  DeviceCodeResponseSchema,
  OAuthErrorSchema,
  TokenResponseSchema,
  describeZodError,
  type DeviceCodeResponse,
  type TokenResponse,
} from './schemas.js';
import { silentLogger, type Logger } from '../util/logger.js';

export type AuthConfig =
  | { grant: 'client_credentials'; clientId: string; clientSecret: string }
  | { grant: 'refresh_token'; clientId: string; clientSecret: string; refreshToken: string };

export interface TokenManagerOptions {
  tokenUrl: string;
  auth: AuthConfig;
  fetch?: FetchLike;
  timeoutMs?: number;
  logger?: Logger;
  now?: () => number;
  /** Renew this long before `expires_in` runs out (ms). */
  renewBeforeMs?: number;
}

interface HeldToken {
  accessToken: string;
  expiresAt: number;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super(description ? `${error}: ${description}` : error);
  }
}

async function tokenRequest(
  fetchImpl: FetchLike,
  tokenUrl: string,
  params: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<unknown> {
  const result = await httpExchange(fetchImpl, {
    method: 'POST',
    url: tokenUrl,
    operation: `oauth ${params.grant_type ?? ''}`.trim(),
    mutating: false,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(params),
    timeoutMs,
    signal,
  });
  return result.json;
}

export class TokenManager {
  private held: HeldToken | undefined;
  private inflight: Promise<HeldToken> | undefined;
  private auth: AuthConfig;
  private readonly fetchImpl: FetchLike;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly renewBeforeMs: number;

  constructor(private readonly opts: TokenManagerOptions) {
    this.auth = opts.auth;
    this.fetchImpl = opts.fetch ?? nodeHttpFetch;
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.renewBeforeMs = opts.renewBeforeMs ?? 60_000;
  }

  /** A token valid for at least `renewBeforeMs` more, fetching a new one when needed. */
  async token(signal?: AbortSignal): Promise<string> {
    if (this.held && this.now() < this.held.expiresAt - this.renewBeforeMs) return this.held.accessToken;
    return (await this.renew(signal)).accessToken;
  }

  /** Forgets the current token (after a 401): the next `token()` authenticates again. */
  invalidate(rejected?: string): void {
    if (!rejected || this.held?.accessToken === rejected) this.held = undefined;
  }

  /** The refresh token to keep on disk after pairing (undefined for client_credentials). */
  get refreshToken(): string | undefined {
    return this.auth.grant === 'refresh_token' ? this.auth.refreshToken : undefined;
  }

  private renew(signal?: AbortSignal): Promise<HeldToken> {
    if (!this.inflight) {
      this.inflight = this.fetchToken(signal).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async fetchToken(signal?: AbortSignal): Promise<HeldToken> {
    const base = { client_id: this.auth.clientId, client_secret: this.auth.clientSecret };
    const params =
      this.auth.grant === 'client_credentials'
        ? { grant_type: 'client_credentials', ...base }
        : { grant_type: 'refresh_token', ...base, refresh_token: this.auth.refreshToken };
    let json: unknown;
    try {
      json = await tokenRequest(this.fetchImpl, this.opts.tokenUrl, params, this.timeoutMs, signal);
    } catch (err) {
      throw toAuthError(err, params.grant_type);
    }
    const token = parseToken(json, params.grant_type);
    if (token.refresh_token && this.auth.grant === 'refresh_token') {
      this.auth = { ...this.auth, refreshToken: token.refresh_token };
    }
    this.held = { accessToken: token.access_token, expiresAt: this.now() + token.expires_in * 1000 };
    this.logger.info({ grant: params.grant_type, expiresIn: token.expires_in }, 'api token obtained');
    return this.held;
  }
}

function parseToken(json: unknown, grant: string): TokenResponse {
  const parsed = TokenResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError({
      kind: 'bad_response',
      outcome: 'not_applied',
      operation: `oauth ${grant}`,
      message: `oauth ${grant}: token answer breaks the schema: ${describeZodError(parsed.error)}`,
    });
  }
  return parsed.data;
}

/** Turns a failed token call into an auth error that keeps OAuth's own error name (`invalid_grant`, ...). */
function toAuthError(err: unknown, grant: string): ApiError {
  if (!(err instanceof ApiError)) {
    return new ApiError({
      kind: 'network',
      outcome: 'not_applied',
      operation: `oauth ${grant}`,
      message: String(err),
      cause: err,
    });
  }
  if (err.kind !== 'http') return err;
  const name = err.oauthError ?? err.body?.error;
  return new ApiError({
    kind: 'auth',
    outcome: 'not_applied',
    operation: err.operation,
    httpStatus: err.httpStatus,
    oauth: err.oauth,
    body: err.body,
    message: `oauth ${grant} refused (HTTP ${err.httpStatus ?? '?'}${name ? ` ${name}` : ''})`,
    cause: err,
  });
}

export interface DevicePairingOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Device id, e.g. `/vendor/acme/kiosk/<serial>`. */
  uuid: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  logger?: Logger;
  /** Injected for tests; real code waits with setTimeout. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** Called once with the code an operator must confirm in the merchant back office. */
  onUserCode: (code: DeviceCodeResponse) => void;
}

export interface PairingResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** "The device needs to memorize the device_code in a safe place": later device sessions use it. */
  deviceCode: string;
}

const sleepFor = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new Error('pairing aborted'));
      },
      { once: true },
    );
  });

/**
 * The device grant: ask for a user code, show it, poll every `interval` s while the answer is
 * `authorization_pending` (slower on `slow_down`), until confirmed or the code expires.
 */
export async function pairDevice(opts: DevicePairingOptions): Promise<PairingResult> {
  const fetchImpl = opts.fetch ?? nodeHttpFetch;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const sleep = opts.sleep ?? sleepFor;
  const logger = opts.logger ?? silentLogger;
  const creds = { client_id: opts.clientId, client_secret: opts.clientSecret };

  let step1: unknown;
  try {
    step1 = await tokenRequest(
      fetchImpl,
      opts.tokenUrl,
      { grant_type: 'device', ...creds, uuid: opts.uuid },
      timeoutMs,
      opts.signal,
    );
  } catch (err) {
    throw toAuthError(err, 'device');
  }
  const code = DeviceCodeResponseSchema.safeParse(step1);
  if (!code.success) {
    throw new ApiError({
      kind: 'bad_response',
      outcome: 'not_applied',
      operation: 'oauth device',
      message: `device code answer breaks the schema: ${describeZodError(code.error)}`,
    });
  }
  opts.onUserCode(code.data);
  logger.info(
    { verificationUrl: code.data.verification_url, expiresIn: code.data.expires_in },
    'device pairing: waiting for confirmation',
  );

  let intervalMs = code.data.interval * 1000;
  let waited = 0;
  const limitMs = code.data.expires_in * 1000;
  while (waited < limitMs) {
    await sleep(intervalMs, opts.signal);
    waited += intervalMs;
    const poll = await pollOnce(
      fetchImpl,
      opts.tokenUrl,
      { grant_type: 'device', ...creds, code: code.data.device_code },
      timeoutMs,
      opts.signal,
    );
    if (poll.kind === 'token') {
      if (!poll.token.refresh_token) {
        throw new ApiError({
          kind: 'bad_response',
          outcome: 'not_applied',
          operation: 'oauth device',
          message: 'device grant answered without a refresh token',
        });
      }
      logger.info({}, 'device pairing confirmed');
      return {
        accessToken: poll.token.access_token,
        refreshToken: poll.token.refresh_token,
        expiresIn: poll.token.expires_in,
        deviceCode: code.data.device_code,
      };
    }
    if (poll.error === 'slow_down') intervalMs += 5000;
    else if (poll.error !== 'authorization_pending') throw new OAuthError(poll.error, poll.description);
  }
  throw new OAuthError('expired_token', 'the user code expired before an operator confirmed it');
}

async function pollOnce(
  fetchImpl: FetchLike,
  tokenUrl: string,
  params: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ kind: 'token'; token: TokenResponse } | { kind: 'error'; error: string; description?: string }> {
  let json: unknown;
  try {
    // The same exchange as every other call: no redirects followed, the answer size capped.
    json = await tokenRequest(fetchImpl, tokenUrl, params, timeoutMs, signal);
  } catch (err) {
    if (err instanceof ApiError && err.kind === 'http' && err.oauth) {
      return { kind: 'error', error: err.oauth.error, description: err.oauth.description };
    }
    if (err instanceof ApiError && err.kind === 'http') {
      return { kind: 'error', error: `http_${err.httpStatus ?? 0}` };
    }
    throw err;
  }
  const parsed = TokenResponseSchema.safeParse(json);
  if (!parsed.success) {
    const oauth = OAuthErrorSchema.safeParse(json);
    if (oauth.success)
      return { kind: 'error', error: oauth.data.error, description: oauth.data.error_description };
    throw new ApiError({
      kind: 'bad_response',
      outcome: 'not_applied',
      operation: 'oauth device poll',
      message: `device poll: ${describeZodError(parsed.error)}`,
    });
  }
  return { kind: 'token', token: parsed.data };
}
