/**
 * One HTTP exchange with a deadline, turned into either parsed JSON or an ApiError that says
 * whether the request may have taken effect. Everything above this file deals in ApiError only.
 */
import { ApiError, type Outcome } from './errors.js';
import { ApiErrorBodySchema } from './schemas.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  operation: string;
  /** A request that changes state on the server: its lost answer is an `unknown` outcome. */
  mutating: boolean;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResult {
  status: number;
  /** Parsed JSON; `undefined` for an empty body. */
  json: unknown;
  text: string;
}

/** Error codes of Node's fetch (undici) meaning the request never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export async function httpExchange(fetchImpl: FetchLike, req: HttpRequest): Promise<HttpResult> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal;
  const maybeApplied: Outcome = req.mutating ? 'unknown' : 'not_applied';
  try {
    if (req.signal?.aborted) {
      throw new ApiError({
        kind: 'aborted',
        outcome: 'not_applied',
        operation: req.operation,
        message: `${req.operation}: aborted before sending`,
      });
    }
    let response: Response;
    try {
      response = await fetchImpl(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
      });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (req.signal?.aborted) {
        throw new ApiError({
          kind: 'aborted',
          outcome: maybeApplied,
          operation: req.operation,
          message: `${req.operation}: aborted by caller`,
          cause: err,
        });
      }
      if (timeout.signal.aborted) {
        throw new ApiError({
          kind: 'timeout',
          outcome: maybeApplied,
          operation: req.operation,
          message: `${req.operation}: no answer within ${req.timeoutMs} ms`,
          cause: err,
        });
      }
      const code = causeCode(err);
      const outcome: Outcome = code && NOT_SENT_CODES.has(code) ? 'not_applied' : maybeApplied;
      throw new ApiError({
        kind: 'network',
        outcome,
        operation: req.operation,
        message: `${req.operation}: transport failed (${code ?? 'unknown cause'})`,
        cause: err,
      });
    }

    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      const kind = req.signal?.aborted ? 'aborted' : timeout.signal.aborted ? 'timeout' : 'network';
      throw new ApiError({
        kind,
        outcome: maybeApplied,
        operation: req.operation,
        httpStatus: response.status,
        message: `${req.operation}: answer cut off (${kind})`,
        cause: err,
      });
    }

    let json: unknown;
    let jsonOk = true;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        jsonOk = false;
      }
    }

    if (response.status >= 400) {
      const parsed = ApiErrorBodySchema.safeParse(json);
      const body = parsed.success ? parsed.data : undefined;
      // A 4xx is the server refusing the request: nothing happened. A 5xx may come after a commit.
      const outcome: Outcome = response.status < 500 ? 'not_applied' : maybeApplied;
      const detail = body
        ? `${body.error}${body.code !== undefined ? ` (code ${body.code})` : ''}: ${body.error_details ?? ''}`
        : `HTTP ${response.status}`;
      throw new ApiError({
        kind: 'http',
        outcome,
        operation: req.operation,
        httpStatus: response.status,
        body,
        message: `${req.operation}: ${detail}`.trim(),
      });
    }
    if (!jsonOk) {
      throw new ApiError({
        kind: 'bad_response',
        outcome: maybeApplied,
        operation: req.operation,
        httpStatus: response.status,
        message: `${req.operation}: answer is not JSON (${text.slice(0, 40).replace(/\s+/g, ' ')}...)`,
      });
    }
    return { status: response.status, json, text };
  } finally {
    clearTimeout(timer);
  }
}
