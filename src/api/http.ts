/**
 * One HTTP exchange with a deadline, turned into either parsed JSON or an ApiError that says
 * whether the request may have taken effect. Everything above this file deals in ApiError only.
 */
import { ApiError, type Outcome } from './errors.js';
import { ApiErrorBodySchema, OAuthErrorSchema } from './schemas.js';

/**
 * What `httpExchange` reads of an answer: a fetch `Response` has it, and so has the `node:http`
 * transport (`node-http.ts`), which the kiosk uses so that it never loads undici.
 */
export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  body: {
    cancel(): Promise<void>;
    getReader(): {
      read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
      cancel(): Promise<void>;
    };
  } | null;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<ResponseLike>;

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
  /** Largest answer body accepted (bytes); a longer one is cut off as `bad_response`. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** The API's answers are a few kB; a megabyte is generous and still harmless for the kiosk's memory. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpResult {
  status: number;
  /** Parsed JSON; `undefined` for an empty body. */
  json: unknown;
  text: string;
}

/** Error codes (node:http, and undici for a fetch given instead) meaning the request never reached the server. */
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
    let response: ResponseLike;
    try {
      response = await fetchImpl(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
        // Never follow: a redirect would carry the body (client secret, card number) and the
        // bearer token to a host nobody configured, and its answer would be trusted.
        redirect: 'manual',
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

    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get('location');
      throw new ApiError({
        kind: 'redirect',
        // The server at the configured address did not process the call as asked; what a proxy in
        // front of it did is not known, so a mutating call is read back before anything else.
        outcome: maybeApplied,
        operation: req.operation,
        httpStatus: response.status,
        location: location ?? undefined,
        message: `${req.operation}: HTTP ${response.status} redirect to ${location ? describeLocation(location) : '(no Location)'} not followed`,
      });
    }

    const maxBytes = req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    let text: string;
    try {
      text = await readCapped(response, maxBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        throw new ApiError({
          kind: 'bad_response',
          outcome: maybeApplied,
          operation: req.operation,
          httpStatus: response.status,
          message: `${req.operation}: answer larger than ${maxBytes} bytes, cut off${err.declared ? ` (Content-Length ${err.declared})` : ''}`,
        });
      }
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
      const oauthParsed = body ? undefined : OAuthErrorSchema.safeParse(json);
      const oauth = oauthParsed?.success
        ? { error: oauthParsed.data.error, description: oauthParsed.data.error_description }
        : undefined;
      // A 4xx is the server refusing the request: nothing happened. A 5xx may come after a commit.
      const outcome: Outcome = response.status < 500 ? 'not_applied' : maybeApplied;
      const detail = body
        ? `${body.error}${body.code !== undefined ? ` (code ${body.code})` : ''}: ${body.error_details ?? ''}`
        : oauth
          ? `HTTP ${response.status} ${oauth.error}`
          : `HTTP ${response.status}`;
      throw new ApiError({
        kind: 'http',
        outcome,
        operation: req.operation,
        httpStatus: response.status,
        body,
        oauth,
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

class BodyTooLarge extends Error {
  constructor(readonly declared?: number) {
    super('body too large');
  }
}

/**
 * Reads the body as a stream and stops at `maxBytes`: a runaway answer (a proxy's log dump, an
 * endless stream) costs at most `maxBytes` of memory, never the kiosk.
 */
async function readCapped(response: ResponseLike, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(declared);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Origin and path of a redirect target, without its query (which may carry anything). */
function describeLocation(location: string): string {
  try {
    const u = new URL(location, 'http://relative.invalid');
    return u.host === 'relative.invalid' ? u.pathname : `${u.origin}${u.pathname}`;
  } catch {
    return JSON.stringify(location.slice(0, 80));
  }
}
