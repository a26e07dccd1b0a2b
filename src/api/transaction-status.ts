/**
 * What a Smart Transaction's `status` says about the money, in one place. A 2xx answer to `start`
 * says only that the API took the call; the status says whether money moved ("Status Flow of a
 * Smart Transaction" in secuconnect's guides; the SDKs type `status` as a free string). The answer
 * to `start` and every read-back (flows, session journal, recovery) are judged by this function.
 *
 * - `effect`: paid (`ok`, and the order states after it: `received`, `shipped`, `collection`, `collected`).
 * - `no_effect`: `start` never ran (`created`, `processing` after a preTransaction): one repeat is safe.
 * - `pending`: capture requested, not acknowledged yet: read back again (bounded, with back-off).
 * - `approved`: authorised, *not captured*: not paid; read back, and if it stays so, cancel it and
 *   settle the money as for a failed payment.
 * - `failed`, `cancelled`: not paid.
 * - `unknown`: a status string we do not know. Never a crash, never "paid": outcome unknown.
 */

export type Took = 'effect' | 'no_effect' | 'pending' | 'approved' | 'failed' | 'cancelled' | 'unknown';

const BY_STATUS: Readonly<Record<string, Took>> = {
  ok: 'effect',
  received: 'effect',
  shipped: 'effect',
  collection: 'effect',
  collected: 'effect',
  created: 'no_effect',
  processing: 'no_effect',
  pending: 'pending',
  approved: 'approved',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** Classifies any value the API put in `status` (a missing or non-string status is `unknown`). */
export function classifyStatus(status: unknown): Took {
  if (typeof status !== 'string') return 'unknown';
  // Own keys only: a status such as "constructor" must not find Object.prototype's members.
  return Object.hasOwn(BY_STATUS, status) ? BY_STATUS[status]! : 'unknown';
}

/** The money moved: the customer is served and a paid receipt may be printed. */
export function isPaidStatus(status: unknown): boolean {
  return classifyStatus(status) === 'effect';
}

/** The API says certainly no money moved (after a failed authorisation or a reversal). */
export function isNotPaid(took: Took): boolean {
  return took === 'failed' || took === 'cancelled';
}

/** Worth reading back again: the API may still move to a final status. */
export function isInDoubt(took: Took): boolean {
  return took === 'pending' || took === 'approved' || took === 'unknown';
}
