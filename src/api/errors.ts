/**
 * Every failure of an API call becomes an ApiError that tells the caller what it may do next.
 * The one question that matters for money: may the call have taken effect on the server?
 *  - `not_applied`: certainly not (refused connection, 4xx with an error body, bad request): retry or give up.
 *  - `unknown`: the request may have been committed (timeout, reset after sending, 5xx, garbled 2xx):
 *    never repeat a `start` blind; read the transaction back (`ApiClient.readBack`) and look at `status`.
 */
import type { ApiErrorBody } from './schemas.js';

export type ApiErrorKind =
  | 'network' // no usable answer: connection refused, reset, DNS
  | 'timeout' // our own deadline passed
  | 'aborted' // the caller's AbortSignal fired
  | 'http' // an HTTP error status, with or without the documented body
  | 'auth' // authentication failed even after one fresh token
  | 'redirect' // a 3xx: never followed (it would carry secrets and tokens to another host)
  | 'bad_response' // 2xx whose body is not JSON or breaks the schema
  | 'declined' // 2xx whose transaction `status` says the money did not move (`failed`, ...)
  | 'invalid_request'; // refused before sending: the request itself is wrong

export type Outcome = 'not_applied' | 'unknown';

export interface ApiErrorInit {
  kind: ApiErrorKind;
  outcome: Outcome;
  message: string;
  operation: string;
  httpStatus?: number;
  body?: ApiErrorBody;
  /** OAuth's own error, when a token call was refused with `{error, error_description}`. */
  oauth?: OAuthErrorInfo;
  /** The `Location` of a redirect that was not followed. */
  location?: string;
  /** For `declined`: the transaction status the answer carried. */
  status?: string;
  /**
   * For `auth`: the device session is dead (refresh token refused, and no renewal with the stored
   * device code): only a new pairing helps, waiting does not.
   */
  pairingLost?: boolean;
  cause?: unknown;
}

export interface OAuthErrorInfo {
  /** `invalid_grant`, `invalid_device`, `invalid_client`, `authorization_pending`, ... */
  error: string;
  description?: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly kind: ApiErrorKind;
  readonly outcome: Outcome;
  readonly operation: string;
  readonly httpStatus: number | undefined;
  /** The documented error body, when the API sent one. */
  readonly body: ApiErrorBody | undefined;
  readonly oauth: OAuthErrorInfo | undefined;
  readonly location: string | undefined;
  /** The transaction status a `declined` answer carried. */
  readonly status: string | undefined;
  /** The device pairing must be renewed by an operator (`kiosk pair`): not an outage. */
  readonly pairingLost: boolean;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.outcome = init.outcome;
    this.operation = init.operation;
    this.httpStatus = init.httpStatus;
    this.body = init.body;
    this.status = init.status;
    this.oauth = init.oauth;
    this.location = init.location;
    this.pairingLost = init.pairingLost ?? false;
  }

  /** The OAuth error name (`invalid_grant`, ...) when a token call was refused with one. */
  get oauthError(): string | undefined {
    return this.oauth?.error;
  }

  /** API error code (1001, 1007, 2003, ...) when the body carried one. */
  get code(): number | undefined {
    return this.body?.code;
  }

  /** German text meant for the customer, when the API gave one. */
  get userMessage(): string | undefined {
    return this.body?.error_user ?? undefined;
  }

  /** True when repeating the same call cannot charge twice and may succeed (transient, nothing applied). */
  get retryable(): boolean {
    if (this.outcome !== 'not_applied') return false;
    if (this.kind === 'network' || this.kind === 'timeout') return true;
    return (
      this.kind === 'http' &&
      this.httpStatus !== undefined &&
      (this.httpStatus === 429 || this.httpStatus >= 500)
    );
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/**
 * OAuth's answers that a refresh token (or device session) is no longer valid (RFC 6749 5.2
 * `invalid_grant`; secuconnect's 401 `invalid_device`): a refresh will never work again.
 */
export const DEAD_SESSION_ERRORS: ReadonlySet<string> = new Set(['invalid_grant', 'invalid_device']);

/** The device pairing is gone: an operator must pair the kiosk again (see `ApiError.pairingLost`). */
export function isPairingLost(e: unknown): boolean {
  return isApiError(e) && e.pairingLost;
}
