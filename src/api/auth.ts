/**
 * OAuth for the Smart Transactions API: `client_credentials`, the `device` grant a kiosk pairs
 * with, and `refresh_token`. Hands out a valid access token, renews it shortly before it expires,
 * and shares one renewal between concurrent callers. Secrets are never logged.
 *
 * A paired kiosk's session lifecycle: the refresh token renews access "as long as the session is
 * valid". When OAuth says it is not (`invalid_grant`, `invalid_device`), the device grant is asked
 * again with the `device_code` kept from pairing (the docs: "memorize the device_code ... it is used
 * in subsequent calls"); its new refresh token is handed to `onRenewedPairing` to be stored. If that
 * is refused too, the error says `pairingLost`: an operator must pair again; retrying will not help.
 * A token call that got no answer stays a network error (an outage), never `pairingLost`.
 */
import { ApiError, DEAD_SESSION_ERRORS } from './errors.js';
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
  | {
      grant: 'refresh_token';
      clientId: string;
      clientSecret: string;
      refreshToken: string;
      /** From pairing: renews the device session when the refresh token is refused. */
      deviceCode?: string;
    };

export interface TokenManagerOptions {
  tokenUrl: string;
  auth: AuthConfig;
  fetch?: FetchLike;
  timeoutMs?: number;
  logger?: Logger;
  now?: () => number;
  /** Renew this long before `expires_in` runs out (ms). */
  renewBeforeMs?: number;
  /**
   * A new refresh token replaced the held one (the device session renewed with the stored device
   * code, or a refresh answer that rotated it): store it. A failure to store is logged; the new
   * token is used all the same.
   */
  onRenewedPairing?: (refreshToken: string) => Promise<void> | void;
  /** The pairing is dead (see the module comment); called once, the first time it is found. */
  onPairingLost?: (err: ApiError) => void;
  /** Start with the pairing known to be unusable (e.g. its files could not be read safely): why. */
  unusablePairing?: string;
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
  /** Once the pairing is found dead, every call fails with it: no more calls with dead credentials. */
  private lost: ApiError | undefined;
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
    if (opts.unusablePairing !== undefined)
      this.lost = new ApiError({
        kind: 'auth',
        outcome: 'not_applied',
        operation: 'oauth refresh_token',
        pairingLost: true,
        message: `${opts.unusablePairing}: pair the kiosk again`,
      });
  }

  /** A token valid for at least `renewBeforeMs` more, fetching a new one when needed. */
  async token(signal?: AbortSignal): Promise<string> {
    if (this.lost) throw this.lost;
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
      const refused = toAuthError(err, params.grant_type);
      if (this.auth.grant === 'refresh_token' && isDeadSession(refused))
        return this.renewDeviceSession(refused, signal);
      throw refused;
    }
    const token = parseToken(json, params.grant_type);
    if (token.refresh_token) await this.adoptRefreshToken(token.refresh_token);
    return this.hold(token, params.grant_type);
  }

  private hold(token: TokenResponse, grant: string): HeldToken {
    this.held = { accessToken: token.access_token, expiresAt: this.now() + token.expires_in * 1000 };
    this.logger.info({ grant, expiresIn: token.expires_in }, 'api token obtained');
    return this.held;
  }

  /** The refresh token was refused as dead: one device grant with the stored code, else pairing lost. */
  private async renewDeviceSession(refused: ApiError, signal?: AbortSignal): Promise<HeldToken> {
    if (this.auth.grant !== 'refresh_token') throw refused;
    const deviceCode = this.auth.deviceCode;
    this.logger.warn(
      { oauthError: refused.oauthError, deviceCode: deviceCode !== undefined },
      'refresh token refused: renewing the device session',
    );
    if (!deviceCode)
      throw this.pairingLost(
        lostPairing(refused, 'refresh token refused and no device code kept from pairing'),
      );
    let json: unknown;
    try {
      json = await tokenRequest(
        this.fetchImpl,
        this.opts.tokenUrl,
        {
          grant_type: 'device',
          client_id: this.auth.clientId,
          client_secret: this.auth.clientSecret,
          code: deviceCode,
        },
        this.timeoutMs,
        signal,
      );
    } catch (err) {
      const failed = toAuthError(err, 'device');
      // Refused by OAuth: the session is gone. No answer: an outage, the next call tries again.
      if (failed.kind === 'auth' && (failed.httpStatus ?? 0) < 500)
        throw this.pairingLost(lostPairing(failed, 'device session renewal refused'));
      throw failed;
    }
    const token = parseToken(json, 'device');
    if (token.refresh_token) await this.adoptRefreshToken(token.refresh_token);
    this.logger.info({ withRefreshToken: token.refresh_token !== undefined }, 'device session renewed');
    return this.hold(token, 'device');
  }

  /**
   * A token answer carried a refresh token: it replaces the held one and is stored, whether it came
   * with a renewed device session or with a plain refresh (a server that rotates them). Kept only in
   * memory, the next start would present the replaced one, which such a server has revoked.
   */
  private async adoptRefreshToken(refreshToken: string): Promise<void> {
    if (this.auth.grant !== 'refresh_token' || this.auth.refreshToken === refreshToken) return;
    this.auth = { ...this.auth, refreshToken };
    try {
      await this.opts.onRenewedPairing?.(refreshToken);
    } catch (err) {
      this.logger.error({ err: String(err) }, 'renewed refresh token could not be stored');
    }
  }

  private pairingLost(err: ApiError): ApiError {
    if (!this.lost) {
      this.lost = err;
      this.held = undefined;
      this.logger.error({ oauthError: err.oauthError, httpStatus: err.httpStatus }, 'device pairing lost');
      this.opts.onPairingLost?.(err);
    }
    return this.lost;
  }
}

function isDeadSession(err: ApiError): boolean {
  return err.kind === 'auth' && err.oauthError !== undefined && DEAD_SESSION_ERRORS.has(err.oauthError);
}

function lostPairing(err: ApiError, why: string): ApiError {
  const name = err.oauthError ?? `HTTP ${err.httpStatus ?? '?'}`;
  return authRefusal(err, `${why} (${name}): pair the kiosk again`, true);
}

/** An `auth` error carrying what the refused token call said (status, OAuth name, error body). */
function authRefusal(err: ApiError, message: string, pairingLost = false): ApiError {
  return new ApiError({
    kind: 'auth',
    outcome: 'not_applied',
    operation: err.operation,
    httpStatus: err.httpStatus,
    oauth: err.oauth,
    body: err.body,
    pairingLost,
    message,
    cause: err,
  });
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
  return authRefusal(err, `oauth ${grant} refused (HTTP ${err.httpStatus ?? '?'}${name ? ` ${name}` : ''})`);
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
