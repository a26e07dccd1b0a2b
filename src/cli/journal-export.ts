/**
 * The merchant's bookkeeping rows from the journal: every movement of money as the journal's own
 * fold (state.ts) counts it, so the sums of an export equal the journal's counters over the same
 * records. The fold is replayed record by record and a row is written whenever a counter moves:
 *
 *   coin_in          a coin or note accepted (`source` in note)
 *   sale, topup      a payment step (start/cash, start/loyalty, start/cashless) succeeded; amount is
 *                    what that step moved (the journal's counter), the receipt's figures (total,
 *                    discount, every payment part, change, rest to card or voucher) in the format-2
 *                    columns
 *   vat              one per VAT rate of a sale's receipt, after its `sale` row: gross (amount),
 *                    net and tax, as printed
 *   sale_failed,     a payment step was declined (`declined`), certainly not applied (`not_applied`)
 *   topup_failed     or may have been applied (`unknown`: recovery reads it back; a later `sale`/`topup`
 *                    row appears if it was) - these rows are NOT money booked
 *   cancellation     a paid transaction reversed by a successful cancel
 *   credited         an interrupted session's money booked onto the customer's card
 *   unclaimed        money owed to a customer, with the voucher code printed for them
 *   voucher_redeemed a voucher scanned into a session: its value paid part of that sale or top-up
 *   voucher_settled  a voucher paid out, voided, expired or written off (how in note)
 *
 * A signed voucher appears by its reference (`<kiosk>.<id>`), never by its code (the code pays).
 *   cash_collection  the technician emptied the cash box (counted amount; expected and difference in note)
 *   coins_lost       the coin validator's results were pushed out of its buffer before the kiosk read
 *                    them (ccTalk: more than 5 between two reads): coins in the cash box that no session
 *                    counts, value unknown (amount 0; how many in note): the cash collection's difference;
 *                    session only where one was served throughout from the read before them to the loss,
 *                    else empty and the note names who was served at both ends ("whose unknown")
 *   goods_unsettled  a paid sale whose basket record was damaged before any release: what it paid (amount)
 *                    waits for the operator's settle-release (job in note); amount empty (0 in the
 *                    totals) and "amount unknown" in the note where no surviving record names it
 *                    - these two rows are NOT money booked: they say what the operator must look at
 *
 * Card numbers appear only masked (`9276********2845`). Timestamps are device time: see local-time.ts.
 */
import { formatCents } from '../api/money.js';
import {
  LOST_IN_UNKNOWN,
  PAYMENT_STEPS,
  type ApiStep,
  type EntryOf,
  type JournalEntry,
  type SaleFigures,
  type VatPart,
} from '../journal/entries.js';
import {
  applyRecords,
  emptyState,
  type Counters,
  type JournalRecord,
  type LedgerState,
  type OpenSession,
  signedVoucherParts,
} from '../journal/state.js';
import { maskCard } from '../util/privacy.js';
import { localFormatter } from './local-time.js';

export const EXPORT_COLUMNS = [
  'date',
  'time',
  'utc',
  'seq',
  'kind',
  'session',
  'mode',
  'amount_cents',
  'amount_eur',
  'payment_step',
  'api_transaction_id',
  'outcome',
  'card',
  'voucher',
  'by',
  'note',
  // Format 2 (appended, so readers of the first 16 columns keep working): a paid sale's or top-up's
  // receipt figures on its `sale`/`topup` row, and one `vat` row per rate after it.
  'receipt_no',
  'total_cents',
  'discount_cents',
  'card_cents',
  'terminal_cents',
  'cash_in_cents',
  'voucher_in_cents',
  'change_cents',
  'credited_cents',
  'voucher_out_cents',
  'returned_cents',
  'vat_rate',
  'net_cents',
  'vat_cents',
] as const;

export type ExportKind =
  | 'coin_in'
  | 'sale'
  | 'topup'
  | 'vat'
  | 'sale_failed'
  | 'topup_failed'
  | 'cancellation'
  | 'credited'
  | 'unclaimed'
  | 'voucher_redeemed'
  | 'voucher_settled'
  | 'cash_collection'
  | 'coins_lost'
  | 'goods_unsettled';

export interface ExportRow {
  date: string;
  time: string;
  utc: string;
  seq: number;
  kind: ExportKind;
  session: string;
  mode: string;
  amountCents: number;
  paymentStep: string;
  apiTransactionId: string;
  /** For sale/topup rows: how the session ended (`completed`, `cancelled`, ..., `open` if not yet). */
  outcome: string;
  card: string;
  voucher: string;
  by: string;
  note: string;
  /** `sale`/`topup` rows: the figures of the session's receipt (absent when none was journaled with them). */
  figures?: SaleFigures;
  /** `vat` rows: the rate's gross (also `amountCents`), net and tax as the receipt printed them. */
  vat?: VatPart;
  /** A `goods_unsettled` row whose amount no record names: `amountCents` 0 means nothing (CSV: empty). */
  amountUnknown?: boolean;
}

export interface ExportOptions {
  /** Inclusive local dates `YYYY-MM-DD`. */
  from?: string;
  to?: string;
  timeZone: string;
}

export interface ExportResult {
  rows: ExportRow[];
  /** What the records cover: seq and time range, and whether older records were compacted away. */
  coverage: {
    records: number;
    firstSeq: number | null;
    lastSeq: number | null;
    firstTs: number | null;
    lastTs: number | null;
    /** The oldest record is a compaction snapshot: activity before it exists only as its totals. */
    compactedBefore: boolean;
    /** The lifetime counters at the snapshot (zero when nothing was compacted). */
    openingLifetime: Counters;
  };
  /** Counters moved by the exported rows (after the date filter). */
  totals: Record<ExportKind, { count: number; cents: number }>;
}

const COUNTER_KIND: Array<[keyof Counters, ExportKind]> = [
  ['cashIn', 'coin_in'],
  ['credits', 'credited'],
  ['unclaimed', 'unclaimed'],
  ['cancellations', 'cancellation'],
  ['collections', 'cash_collection'],
  ['redeemed', 'voucher_redeemed'],
];

/** The name a voucher has in the books: the reference of a signed code, an old plain code as it is. */
const voucherName = (code: string): string => signedVoucherParts(code).ref ?? code;

function cardOf(s: OpenSession | undefined): string {
  if (!s) return '';
  if (s.cardMasked) return s.cardMasked.replace(/\d{5,}/g, (d) => maskCard(d));
  return s.card ? maskCard(s.card) : '';
}

function sessionFor(state: LedgerState, e: JournalEntry): OpenSession | undefined {
  if ('sessionId' in e) return state.sessions[e.sessionId];
  if ('jobId' in e) {
    const id = state.jobs[e.jobId];
    return id === undefined ? undefined : state.sessions[id];
  }
  return undefined;
}

const FAILED_OUTCOME: Record<string, string> = {
  failed: 'declined',
  unknown: 'unknown',
  not_applied: 'not_applied',
};

export function exportJournal(records: readonly JournalRecord[], opts: ExportOptions): ExportResult {
  const local = localFormatter(opts.timeZone);
  // How each session ended, known only from a later record: one pass ahead.
  const closed = new Map<string, string>();
  // The receipt's figures come after the payment's outcome: the first receipt with them (a reprint repeats it).
  const figuresOf = new Map<string, SaleFigures>();
  for (const r of records) {
    if (r.type === 'session_closed') closed.set(r.sessionId, r.outcome);
    if (r.type === 'receipt' && r.sale && !figuresOf.has(r.sessionId)) figuresOf.set(r.sessionId, r.sale);
  }

  const rows: ExportRow[] = [];
  const first = records[0];
  let state = emptyState();
  // A journal starts with an empty snapshot; one that folded records stands for compacted history.
  const compacted = first?.type === 'snapshot' && first.state.lastSeq >= 0;
  const openingLifetime =
    compacted && first.type === 'snapshot' ? structuredClone(first.state.lifetime) : emptyState().lifetime;

  for (const record of records) {
    if (record.type === 'snapshot') {
      state = applyRecords(state, [record]);
      continue;
    }
    const e = record;
    const session = sessionFor(state, e);
    const lastStep = session?.lastStep;
    const before = structuredClone(state.lifetime);
    const expected = state.cashBox.cents;
    const voucherCents =
      e.type === 'unclaimed_settled'
        ? (e.cents ??
          state.unclaimedVouchers.find((v) => v.voucher === e.voucher || v.ref === e.voucher)?.cents)
        : undefined;
    state = applyRecords(state, [e]);
    const after = state.lifetime;
    const { date, time } = local(e.ts);
    const base = {
      date,
      time,
      utc: new Date(e.ts).toISOString(),
      seq: e.seq,
      session: session?.sessionId ?? ('sessionId' in e ? e.sessionId : ''),
      mode: session?.mode ?? '',
      paymentStep: '',
      apiTransactionId: session?.apiId ?? '',
      outcome: '',
      card: cardOf(session),
      voucher: '',
      by: '',
      note: '',
    };
    const push = (kind: ExportKind, amountCents: number, extra: Partial<ExportRow> = {}) =>
      rows.push({ ...base, kind, amountCents, ...extra });

    for (const [key, kind] of COUNTER_KIND) {
      const delta = after[key].cents - before[key].cents;
      if (after[key].count === before[key].count) continue;
      if (e.type === 'coin_accepted') push(kind, delta, { note: e.source });
      else if (e.type === 'credited') push(kind, delta, { apiTransactionId: e.apiId });
      else if (e.type === 'unclaimed') push(kind, delta, { voucher: voucherName(e.voucher) });
      else if (e.type === 'voucher_redeemed') push(kind, delta, { voucher: e.ref });
      else if (e.type === 'cash_collected')
        push(kind, delta, {
          session: '',
          mode: '',
          apiTransactionId: '',
          card: '',
          by: e.by,
          note: `expected ${formatCents(expected, '')}, difference ${formatCents(e.cents - expected, '')}`,
        });
      else push(kind, delta, { paymentStep: lastStep?.step ?? '' });
    }
    for (const [key, kind] of [
      ['sales', 'sale'],
      ['topUps', 'topup'],
    ] as const) {
      if (after[key].count === before[key].count) continue;
      const figures = figuresOf.get(base.session);
      const paid = {
        paymentStep: lastStep?.step ?? '',
        apiTransactionId: session?.apiId ?? lastStep?.apiId ?? '',
        outcome: closed.get(base.session) ?? 'open',
      };
      push(kind, after[key].cents - before[key].cents, { ...paid, ...(figures ? { figures } : {}) });
      for (const vat of figures?.vat ?? []) push('vat', vat.gross, { ...paid, vat });
    }
    if (
      e.type === 'api_outcome' &&
      e.result !== 'ok' &&
      session &&
      lastStep?.jobId === e.jobId &&
      PAYMENT_STEPS.includes(lastStep.step as ApiStep)
    ) {
      push(
        session.mode === 'topup' ? 'topup_failed' : 'sale_failed',
        lastStep.cents ?? session.tx?.amount ?? 0,
        {
          paymentStep: lastStep.step,
          apiTransactionId: session.apiId ?? lastStep.apiId,
          outcome: FAILED_OUTCOME[e.result] ?? e.result,
          note: e.status ? `API status ${e.status}` : '',
        },
      );
    }
    if (e.type === 'acceptor_lost')
      push('coins_lost', 0, {
        // Only the session served throughout from the read before them to the loss: the one served
        // when the loss was read may be a later customer's (then named in the note only).
        session: lostInSession(e) ?? '',
        mode: '',
        apiTransactionId: '',
        card: '',
        note: `${e.results} coin validator results lost before they were read (up to event ${e.ev}), ${lossWhose(e)}: count the cash box`,
      });
    if (e.type === 'goods_unsettled') {
      // Written 0 before the flag where no amount was known: a paid sale is not of 0 ct.
      const unknown = e.amountUnknown === true || e.cents === 0;
      push('goods_unsettled', unknown ? 0 : e.cents, {
        apiTransactionId: e.transactionId ?? base.apiTransactionId,
        ...(unknown ? { amountUnknown: true } : {}),
        note: unknown
          ? `paid, amount unknown, goods unknown (damaged journal records): settle-release ${e.jobId} (refunded: with the amount paid, from the terminal's receipt or the API)`
          : `paid, goods unknown (its basket's record damaged): settle-release ${e.jobId}`,
      });
    }
    if (e.type === 'unclaimed_settled' && voucherCents !== undefined)
      push('voucher_settled', voucherCents, {
        session: '',
        mode: '',
        voucher: voucherName(e.voucher),
        by: e.by ?? '',
        note: e.how,
        card: '',
      });
  }

  const inRange = (r: ExportRow) => (!opts.from || r.date >= opts.from) && (!opts.to || r.date <= opts.to);
  const selected = rows.filter(inRange);
  const totals = Object.fromEntries(
    (
      [
        'coin_in',
        'sale',
        'topup',
        'vat',
        'sale_failed',
        'topup_failed',
        'cancellation',
        'credited',
        'unclaimed',
        'voucher_redeemed',
        'voucher_settled',
        'cash_collection',
        'coins_lost',
        'goods_unsettled',
      ] as const
    ).map((k) => [k, { count: 0, cents: 0 }]),
  ) as ExportResult['totals'];
  for (const r of selected) {
    totals[r.kind].count += 1;
    totals[r.kind].cents += r.amountCents;
  }
  const last = records.at(-1);
  return {
    rows: selected,
    coverage: {
      records: records.length,
      firstSeq: first?.seq ?? null,
      lastSeq: last?.seq ?? null,
      firstTs: first?.ts ?? null,
      lastTs: last?.ts ?? null,
      compactedBefore: compacted,
      openingLifetime,
    },
    totals,
  };
}

export function rowValues(r: ExportRow): Array<string | number> {
  return [
    r.date,
    r.time,
    r.utc,
    r.seq,
    r.kind,
    r.session,
    r.mode,
    r.amountUnknown ? '' : r.amountCents,
    r.amountUnknown ? '' : formatCents(r.amountCents, ''),
    r.paymentStep,
    r.apiTransactionId,
    r.outcome,
    r.card,
    r.voucher,
    r.by,
    r.note,
    ...figureValues(r),
  ];
}

/** The format-2 columns: figures on a `sale`/`topup` row, the rate's parts on a `vat` row, else empty. */
function figureValues(r: ExportRow): Array<string | number> {
  const f = r.figures;
  const figures = f
    ? [
        f.receiptNo,
        f.total,
        f.discount,
        f.card,
        f.terminal,
        f.cashIn,
        f.voucherIn,
        f.change,
        f.credited,
        f.voucherOut,
        f.returned,
      ]
    : Array<string>(11).fill('');
  const vat = r.vat ? [r.vat.rate, r.vat.net, r.vat.vat] : ['', '', ''];
  return [...figures, ...vat];
}

export interface DaySums {
  /** Paid sales and their basket before the bonus discount (what the fleet's `evt/transaction` reports). */
  sales: { count: number; cents: number };
  topups: { count: number; cents: number };
  /** Coins and notes taken. */
  cashIn: number;
  credited: number;
  vouchersIssued: number;
  vouchersRedeemed: number;
  /** Of the sales: after the discount, and the VAT in it. */
  salesNet: number;
  vat: number;
}

/**
 * An export's sums per local date in the terms the dashboard's ledger uses, for comparing the two
 * (docs/operations.md: the agreement rule). A sale is counted by its receipt's figures.
 */
export function daySums(rows: readonly ExportRow[]): Map<string, DaySums> {
  const out = new Map<string, DaySums>();
  const day = (d: string): DaySums => {
    let s = out.get(d);
    if (!s) {
      s = {
        sales: { count: 0, cents: 0 },
        topups: { count: 0, cents: 0 },
        cashIn: 0,
        credited: 0,
        vouchersIssued: 0,
        vouchersRedeemed: 0,
        salesNet: 0,
        vat: 0,
      };
      out.set(d, s);
    }
    return s;
  };
  for (const r of rows) {
    const s = day(r.date);
    const f = r.figures;
    if (r.kind === 'sale' && f) {
      s.sales.count += 1;
      s.sales.cents += f.total + f.discount;
    } else if (r.kind === 'topup' && f) {
      s.topups.count += 1;
      s.topups.cents += f.total;
    } else if (r.kind === 'vat' && r.vat) {
      s.salesNet += r.vat.net;
      s.vat += r.vat.vat;
    } else if (r.kind === 'coin_in') s.cashIn += r.amountCents;
    else if (r.kind === 'credited') s.credited += r.amountCents;
    else if (r.kind === 'unclaimed') s.vouchersIssued += r.amountCents;
    else if (r.kind === 'voucher_redeemed') s.vouchersRedeemed += r.amountCents;
  }
  return out;
}

/** The session whose lost validator results they are, when the record knows it (one served throughout). */
function lostInSession(e: EntryOf<'acceptor_lost'>): string | undefined {
  return e.lostIn !== undefined && e.lostIn !== LOST_IN_UNKNOWN ? e.lostIn : undefined;
}

/** Whose lost validator results are, as far as the record says (old records: only who was served when read). */
function lossWhose(e: EntryOf<'acceptor_lost'>): string {
  const known = lostInSession(e);
  if (known) return `while serving ${known} (served from the last read before them to the loss)`;
  const who = (s: string | null | undefined) => s ?? 'nobody';
  if (e.lostIn === undefined)
    return `whose unknown (${who(e.servedSession)} served when the loss was read, not necessarily when they went in)`;
  const before =
    e.readSession === undefined
      ? 'the read before them was before the kiosk started'
      : `${who(e.readSession)} served at the read before them`;
  return `whose unknown (${before}, ${who(e.servedSession)} when the loss was read)`;
}
