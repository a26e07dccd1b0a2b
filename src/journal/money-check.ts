/**
 * The money cross-check: a small record written as the last frame of every group commit, holding
 * the money that matters after that batch (the cash box, and each open session's coins, credits
 * and vouchers). It is computed from the state before the batch plus the batch's own entries,
 * by rules kept apart from the fold (state.ts), and compared with the fold at every open.
 *
 * Why: a CRC tells that a record is damaged, not what it carried. When a damaged record held a
 * coin, the next intact check still says how much the session and the cash box held, so the loss
 * is detected, reported and the money kept (see `rebuild.ts`), never silently dropped. Because the
 * check is always the frame that closes a batch, the last entry written is never the last frame of
 * the file: damage to any entry is followed by a committed frame and so is told apart from a torn
 * write (a flipped byte in the final check itself costs nothing but that check).
 *
 * Like SQLite's WAL frame checksums bound a damaged frame to its own commit, the check bounds a
 * damaged record's money to what the next commit says.
 *
 * Frame JSON: `{"type":"check","after":<seq of the batch's last entry>,"box":[cents,coins],
 * "open":{"<session>":[inserted,coins,credited,unclaimed,redeemed,releases]},"all":true,"vouchers":[refs]}`;
 * no seq of its own. `redeemed` (voucher cents the session holds), `releases` (vending releases
 * journaled for it) and `vouchers` (the references redeemed in this batch) came later: older checks
 * have four figures per session and no `vouchers`, and are compared on the figures they have.
 *
 * Why vouchers too: a redeemed voucher is money the session holds, like a coin; and a damaged
 * `voucher_redeemed` would otherwise forget that the voucher was used, so it could be spent twice.
 * Why releases: a damaged `release_intent` would make a unit that was fired look never tried, and its
 * price would be paid back (a terminal payment even reversed) although the goods may be gone.
 */
import * as z from 'zod';
import type { JournalEntry } from './entries.js';
import type { LedgerState } from './state.js';

/** Above this many open sessions a check lists only the sessions its batch touched (`all: false`). */
export const CHECK_ALL_SESSIONS_UP_TO = 32;

const Money = z.array(z.int()).min(4).max(6);
export const MoneyCheckSchema = z.object({
  type: z.literal('check'),
  after: z.int(),
  box: z.tuple([z.int(), z.int()]),
  open: z.record(z.string(), Money),
  /** `open` lists every open session (sessions absent from it are closed). */
  all: z.boolean(),
  /** Voucher references redeemed in this batch (absent: none, or a check from before vouchers). */
  vouchers: z.array(z.string()).optional(),
  /**
   * The coin validator's event counter after the batch, when the batch moved it (absent: unchanged,
   * or a check from before it). A damaged coin record otherwise takes the counter back to the coin
   * before it, and a validator that kept power has its coin read and credited a second time at the
   * restart (chaos seed 44006 run 4: 100 ct journaled twice).
   */
  ev: z.int().min(0).max(255).optional(),
});
export type MoneyCheck = z.infer<typeof MoneyCheckSchema>;
/** inserted cents, coins, credited cents, unclaimed cents, then (absent in old checks) redeemed voucher cents, releases */
export type SessionMoney = z.infer<typeof Money>;
type Figures = [number, number, number, number, number, number];

const figuresOf = (s: LedgerState['sessions'][string]): Figures => [
  s.insertedCents,
  s.coins,
  s.creditedCents,
  s.unclaimedCents,
  s.redeemedCents ?? 0,
  s.releaseIntents ?? 0,
];

export function isMoneyCheck(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'check';
}

/** The check after `entries` were applied to `before` (which is not changed). */
export function moneyCheck(before: Readonly<LedgerState>, entries: readonly JournalEntry[]): MoneyCheck {
  const box: [number, number] = [before.cashBox.cents, before.cashBox.count];
  const open = new Map<string, Figures>();
  for (const s of Object.values(before.sessions)) open.set(s.sessionId, figuresOf(s));
  const touched = new Set<string>();
  const vouchers: string[] = [];
  let ev: number | undefined;
  const of = (sessionId: string): Figures => {
    touched.add(sessionId);
    let m = open.get(sessionId);
    if (!m) open.set(sessionId, (m = [0, 0, 0, 0, 0, 0]));
    return m;
  };
  for (const e of entries) {
    switch (e.type) {
      case 'session_started':
      case 'tx_created':
      case 'api_intent':
      case 'receipt':
        of(e.sessionId);
        break;
      case 'coin_accepted': {
        const m = of(e.sessionId);
        m[0] += e.cents;
        m[1] += 1;
        box[0] += e.cents;
        box[1] += 1;
        if (e.ev !== undefined) ev = e.ev;
        break;
      }
      case 'acceptor_counter':
      case 'acceptor_lost':
        ev = e.ev;
        break;
      case 'credited':
      case 'unclaimed': {
        const m = open.get(e.sessionId);
        touched.add(e.sessionId);
        if (m) m[e.type === 'credited' ? 2 : 3] += e.cents;
        break;
      }
      case 'voucher_redeemed':
        of(e.sessionId)[4] += e.cents;
        vouchers.push(e.ref);
        break;
      case 'release_intent': {
        // The fold counts it only for a session it knows (state.ts), so does the check.
        const m = open.get(e.sessionId);
        touched.add(e.sessionId);
        if (m) m[5] += 1;
        break;
      }
      case 'session_closed':
        touched.add(e.sessionId);
        open.delete(e.sessionId);
        break;
      case 'cash_collected':
        box[0] = 0;
        box[1] = 0;
        break;
      default:
        break;
    }
  }
  const after = entries[entries.length - 1]?.seq ?? before.lastSeq;
  const all = open.size <= CHECK_ALL_SESSIONS_UP_TO;
  const listed: Record<string, SessionMoney> = {};
  for (const [id, m] of open) if (all || touched.has(id)) listed[id] = m;
  return {
    type: 'check',
    after,
    box,
    open: listed,
    all,
    ...(vouchers.length > 0 ? { vouchers } : {}),
    ...(ev !== undefined ? { ev } : {}),
  };
}

export interface CheckMismatch {
  after: number;
  /** What the check says vs what the intact records fold to. */
  box: { expected: [number, number]; folded: [number, number] } | undefined;
  /** Sessions whose money differs (expected undefined: the check says it is closed). */
  sessions: Array<{
    sessionId: string;
    expected: SessionMoney | undefined;
    folded: SessionMoney | undefined;
  }>;
  /** Voucher references the check says were redeemed that the fold does not know as used. */
  vouchers: string[];
  /** The validator's event counter the check says, when the fold's differs. */
  ev: { expected: number; folded: number | undefined } | undefined;
}

function moneyOf(state: LedgerState, sessionId: string): Figures | undefined {
  const s = state.sessions[sessionId];
  return s ? figuresOf(s) : undefined;
}

/** Equal on the figures the check has (a check from before vouchers has four). */
const same = (folded: readonly number[] | undefined, expected: readonly number[] | undefined) =>
  folded !== undefined &&
  expected !== undefined &&
  expected.length <= folded.length &&
  expected.every((v, i) => v === folded[i]) &&
  folded.slice(expected.length).every((v) => v === 0);

/** Where the folded `state` disagrees with `check`; undefined when they agree. */
export function compareCheck(state: LedgerState, check: MoneyCheck): CheckMismatch | undefined {
  const folded: [number, number] = [state.cashBox.cents, state.cashBox.count];
  const mismatch: CheckMismatch = {
    after: check.after,
    box: same(folded, check.box) ? undefined : { expected: check.box, folded },
    sessions: [],
    vouchers: (check.vouchers ?? []).filter((ref) => !state.redeemedVouchers.includes(ref)),
    ev:
      check.ev === undefined || check.ev === state.acceptorEvent
        ? undefined
        : { expected: check.ev, folded: state.acceptorEvent },
  };
  for (const [sessionId, expected] of Object.entries(check.open)) {
    const got = moneyOf(state, sessionId);
    if (!same(got, expected)) mismatch.sessions.push({ sessionId, expected, folded: got });
  }
  if (check.all) {
    for (const sessionId of Object.keys(state.sessions)) {
      if (!(sessionId in check.open))
        mismatch.sessions.push({ sessionId, expected: undefined, folded: moneyOf(state, sessionId) });
    }
  }
  return mismatch.box || mismatch.sessions.length > 0 || mismatch.vouchers.length > 0 || mismatch.ev
    ? mismatch
    : undefined;
}

/**
 * Makes `state` say what the check says (in place): the check is an intact record written with
 * the money it names, so where a damaged record left the fold short, the check's figures are the
 * ones the intact records prove. Sessions changed this way are flagged `damaged` for the operator.
 */
export function adoptCheck(state: LedgerState, mismatch: CheckMismatch, ts: number): void {
  if (mismatch.box) {
    state.cashBox.cents = mismatch.box.expected[0];
    state.cashBox.count = mismatch.box.expected[1];
    state.cashBox.sinceTs ??= ts;
  }
  for (const { sessionId, expected } of mismatch.sessions) {
    if (!expected) {
      // The check says the session was closed: its `session_closed` was in the damaged bytes.
      delete state.sessions[sessionId];
      continue;
    }
    const s = (state.sessions[sessionId] ??= {
      sessionId,
      startedSeq: mismatch.after,
      startedTs: ts,
      insertedCents: 0,
      coins: 0,
      paid: false,
      creditedCents: 0,
      unclaimedCents: 0,
    });
    [s.insertedCents, s.coins, s.creditedCents, s.unclaimedCents] = expected as [
      number,
      number,
      number,
      number,
    ];
    const [, , , , redeemed, releases] = expected;
    if (redeemed !== undefined) {
      if (redeemed > 0) s.redeemedCents = redeemed;
      else delete s.redeemedCents;
    }
    if (releases !== undefined) {
      if (releases > 0) s.releaseIntents = releases;
      else delete s.releaseIntents;
    }
    s.damaged = true;
  }
  // The driver resumes from this counter: the coin the damaged record held was already counted.
  if (mismatch.ev) state.acceptorEvent = mismatch.ev.expected;
  // A voucher the check proves used stays used: it leaves the open list and a second scan is refused.
  for (const ref of mismatch.vouchers) {
    state.redeemedVouchers.push(ref);
    state.unclaimedVouchers = state.unclaimedVouchers.filter((v) => v.ref !== ref);
  }
}
