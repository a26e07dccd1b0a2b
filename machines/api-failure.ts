/**
 * How a flow reads a rejected actor. Duck-typed on purpose: an `ApiError` that went through
 * JSON (a restored snapshot, a worker) has lost its prototype but kept `kind` and `outcome`.
 */
import type { ApiErrorKind, Outcome } from '../src/api/errors.js';

export interface FailureShape {
  kind?: ApiErrorKind;
  outcome?: Outcome;
  httpStatus?: number;
  code?: number;
  body?: { code?: number };
  retryable?: boolean;
}

function shape(error: unknown): FailureShape {
  return typeof error === 'object' && error !== null ? (error as FailureShape) : {};
}

/** The call may have been committed: never repeat a `start` before reading it back. */
export function isOutcomeUnknown(error: unknown): boolean {
  return shape(error).outcome === 'unknown';
}

/** Certainly not applied and worth another try (network, timeout, 429, 5xx refused before processing). */
export function isRetryable(error: unknown): boolean {
  const e = shape(error);
  if (e.outcome !== 'not_applied') return false;
  if (typeof e.retryable === 'boolean') return e.retryable;
  if (e.kind === 'network' || e.kind === 'timeout') return true;
  return e.kind === 'http' && e.httpStatus !== undefined && (e.httpStatus === 429 || e.httpStatus >= 500);
}

/** API error code (1016, 2003, ...), wherever it was carried. */
export function errorCode(error: unknown): number | undefined {
  const e = shape(error);
  return e.code ?? e.body?.code;
}

/**
 * 1xxx codes are internal/backend errors (`ProductInternalException`, `ProductBackendproviderException`;
 * 1016 "Card validation failed: Unknown value was returned by procedure call" among them): the backend
 * stumbled, not the request. Worth another try where a repeat cannot charge (not `start`); 1001 is
 * "invalid params" and would only fail again.
 */
export function isBackendFault(error: unknown): boolean {
  const e = shape(error);
  const code = errorCode(error);
  return e.outcome === 'not_applied' && code !== undefined && code >= 1002 && code <= 1999;
}

/** A short, loggable description without card numbers. */
export function describeFailure(error: unknown): string {
  const e = shape(error);
  const parts = [e.kind ?? 'error', e.outcome, e.httpStatus, errorCode(error)].filter((p) => p !== undefined);
  return parts.join('/');
}
