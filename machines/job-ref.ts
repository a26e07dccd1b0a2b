/**
 * The job reference: the one string that ties an effect (an API call, a receipt, a release) to its
 * session, written as `<sessionId>:<step>:<n>`. The machines write it into every actor input, the
 * API actors send it as `merchantRef`, the session journal keys its API steps by it, and the
 * chaos harness reads the session back out of the API's ledger with it. Journals and ledgers
 * written by older versions hold the same format, so it is read as it always was written: the
 * session is everything before the first colon, the step everything up to the second.
 *
 * Only this module builds or takes apart the string; everybody else passes `JobRef` values or the
 * formatted string.
 */

/** What a flow machine does under a job reference (machines/*.machine.ts and their states). */
export type FlowStep =
  | 'lookup'
  | 'create'
  | 'update'
  /** `n` is `<transaction id>:<start seq>`: one job per start, stable across a restored snapshot. */
  | 'start'
  /** Leftover money onto the card: a top-up transaction and its `start/cash`. */
  | 'credit'
  | 'credit-receipt'
  | 'unclaimed'
  | 'voucher'
  /** A scanned voucher's redemption. */
  | 'redeem'
  | 'receipt'
  | 'change'
  /** The terminal reversal of a vending sale whose goods all failed. */
  | 'reversal'
  | `release-${number}`;

/** The session journal's own jobs for calls that came without a flow job (`n` is `k<seq>`). */
export type JournalStep = 'create' | 'update' | 'pre' | 'cancel' | 'abort' | `start/${string}`;

/** Recovery's jobs (`n` is a time stamp and a counter, unique across recoveries of one session). */
export type RecoveryStep = `recovery-${string}`;

export type JobStep = FlowStep | JournalStep | RecoveryStep;

export interface JobRef {
  sessionId: string;
  step: JobStep;
  /**
   * Unique per session and step: a sequence number (or, for `start`, the transaction and its seq).
   * Absent in the local id of a transaction not created yet (`<session>:recovery-credit`).
   */
  n?: string;
}

export function formatJobRef(ref: JobRef): string {
  return ref.n === undefined ? `${ref.sessionId}:${ref.step}` : `${ref.sessionId}:${ref.step}:${ref.n}`;
}

/** Shorthand for `formatJobRef`. */
export function jobRef(sessionId: string, step: JobStep, n?: string | number): string {
  return formatJobRef({ sessionId, step, ...(n !== undefined ? { n: String(n) } : {}) });
}

/**
 * The parts of a job reference, or null for a string that is not one (a free-form `merchantRef`
 * of another system, an empty one). The step is not checked against the union: journals of older
 * versions may name steps this version no longer writes.
 */
export function parseJobRef(ref: string | null | undefined): JobRef | null {
  if (!ref) return null;
  const first = ref.indexOf(':');
  if (first <= 0) return null;
  const second = ref.indexOf(':', first + 1);
  if (second < 0) return { sessionId: ref.slice(0, first), step: ref.slice(first + 1) as JobStep };
  return {
    sessionId: ref.slice(0, first),
    step: ref.slice(first + 1, second) as JobStep,
    n: ref.slice(second + 1),
  };
}

/**
 * A job reference rather than an API id: the journal names a transaction by its job until the
 * API's answer to `create` gives it an id.
 */
export function isJobRef(ref: string | null | undefined): boolean {
  return parseJobRef(ref) !== null;
}

/** The session a job reference (or a `merchantRef` that is one) belongs to. */
export function sessionOfRef(ref: string | null | undefined): string | null {
  return parseJobRef(ref)?.sessionId ?? null;
}

/** Recovery journals its own steps: its calls must not be journaled a second time. */
export function isRecoveryRef(ref: string | null | undefined): boolean {
  return parseJobRef(ref)?.step.startsWith('recovery-') ?? false;
}

/** Money loaded onto a card (the flow's credit of leftover money, or recovery's), not a payment. */
export function isCreditRef(ref: string | null | undefined): boolean {
  const step = parseJobRef(ref)?.step;
  return step === 'credit' || step === 'recovery-credit';
}
