/**
 * The merchant's books agree to the cent (issue 14 item 7, issue 16; docs/operations.md section 10):
 * for every paid sale and top-up, the figures `kiosk journal export` writes, the receipt the printer
 * printed (read back from its text, as a customer or auditor would read the paper) and the fleet's
 * `evt/transaction` as the dashboard stored it; per day, the export's sums, the dashboard's CSV and
 * its store's day totals. Returns what disagrees (empty: the books agree), so a test can also show
 * that a one-cent difference in any one source is found.
 */
import { parseGermanMoney } from '../../src/api/money.js';
import { parseCsv } from '../../src/util/csv.js';
import { daySums, type DaySums, type ExportRow } from '../../src/cli/journal-export.js';
import { LEDGER_CSV_COLUMNS } from '../../src/dashboard/ledger-csv.js';
import type { DayTotals } from '../../src/dashboard/store/fleet-store.js';

/** What the kiosk's own part of a customer receipt says (the API's lines after it are not read). */
export interface PrintedReceipt {
  receiptNo: string;
  kind: 'sale' | 'topup';
  total: number;
  /** The bonus lines, as a positive amount. */
  discount: number;
  vat: { rate: number; gross: number; vat: number }[];
  card: number;
  terminal: number;
  cashIn: number;
  voucherIn: number;
  change: number;
  credited: number;
  voucherOut: number;
  /** Units not handed out whose price went back (`Nicht ausgegeben A1 Kaffee  -2,00 EUR`), positive. */
  returned: number;
  /** A terminal payment reversed because no goods came out (`Zahlung storniert`), or in review. */
  reversed: number;
  inReview: number;
}

const MONEY = String.raw`-?\d{1,3}(?:\.\d{3})*,\d\d EUR`;
const NAME_VALUE = new RegExp(String.raw`^(\S.*?)\s+(${MONEY})$`);
const VALUE_ALONE = new RegExp(String.raw`^\s+(${MONEY})$`);
const CAPTION = /^-+ (.+) -+$/;

const PART: Array<[RegExp, keyof PrintedReceipt]> = [
  [/^(Summe|Aufgeladen)$/, 'total'],
  [/^Kundenkarte\b/, 'card'],
  [/^Kartenzahlung$/, 'terminal'],
  [/^Bar gegeben$/, 'cashIn'],
  [/^Gutschein eingelöst$/, 'voucherIn'],
  [/^Wechselgeld \(Münzen\)$/, 'change'],
  [/^Rest auf Karte$/, 'credited'],
  [/^Rest als Gutschein$/, 'voucherOut'],
  [/^Zahlung storniert$/, 'reversed'],
  [/^Erstattung wird geprüft$/, 'inReview'],
];

const cents = (text: string): number => {
  const c = parseGermanMoney(text);
  if (c === undefined) throw new Error(`not money on a receipt: ${text}`);
  return c;
};

/** The kiosk's part of a printed customer receipt (German), or undefined for a voucher slip or other paper. */
export function parseReceipt(rows: readonly string[]): PrintedReceipt | undefined {
  const start = rows.findIndex((r) => /^-+ (Beleg|Kartenaufladung) -+$/.test(r));
  if (start < 0) return undefined;
  const out: PrintedReceipt = {
    receiptNo: '',
    kind: CAPTION.exec(rows[start]!)?.[1] === 'Beleg' ? 'sale' : 'topup',
    total: 0,
    discount: 0,
    vat: [],
    card: 0,
    terminal: 0,
    cashIn: 0,
    voucherIn: 0,
    change: 0,
    credited: 0,
    voucherOut: 0,
    returned: 0,
    reversed: 0,
    inReview: 0,
  };
  for (let i = start + 1; i < rows.length; i++) {
    const row = rows[i]!;
    // The API's own lines (loyalty card, terminal slip) begin at the next captioned rule.
    if (CAPTION.test(row)) break;
    const no = /^Beleg-Nr\.\s+(\S+)$/.exec(row);
    if (no) {
      out.receiptNo = no[1]!;
      continue;
    }
    // A value that did not fit beside its name is right-aligned on the next row.
    let m = NAME_VALUE.exec(row);
    const next = VALUE_ALONE.exec(rows[i + 1] ?? '');
    if (!m && next && row.trim()) {
      m = ['', row.trim(), next[1]!] as unknown as RegExpExecArray;
      i++;
    }
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    const vat = /^MwSt (\d+(?:,\d)?) % auf (.+)$/.exec(name);
    if (vat) {
      out.vat.push({ rate: Number(vat[1]!.replace(',', '.')), gross: cents(vat[2]!), vat: cents(value) });
      continue;
    }
    if (/^Nicht ausgegeben /.test(name)) {
      out.returned -= cents(value);
      continue;
    }
    if (/^Bonus \d/.test(name)) {
      out.discount -= cents(value);
      continue;
    }
    const part = PART.find(([re]) => re.test(name))?.[1];
    if (part) (out[part] as number) = cents(value);
  }
  return out;
}

/** One row of the dashboard's CSV (`/api/export/<day>.csv`). */
export type CsvRow = Record<(typeof LEDGER_CSV_COLUMNS)[number], string>;

export function parseLedgerCsv(csv: string): CsvRow[] {
  const [header, ...records] = parseCsv(csv, ',');
  if (header?.join(',') !== LEDGER_CSV_COLUMNS.join(','))
    throw new Error(`not the dashboard CSV: ${header?.join(',')}`);
  return records.map((r) => Object.fromEntries(LEDGER_CSV_COLUMNS.map((c, i) => [c, r[i] ?? ''])) as CsvRow);
}

/** What the fleet knows of a day (it carries no VAT: that the export holds against the receipts). */
export type FleetDaySums = Omit<DaySums, 'salesNet' | 'vat'>;

/** The dashboard CSV's sums in the export's terms (docs/operations.md: the agreement rule). */
export function csvDaySums(rows: readonly CsvRow[]): FleetDaySums {
  const sum = (type: string, kind: string, outcome?: string) =>
    rows
      .filter((r) => r.type === type && r.kind === kind && (outcome === undefined || r.outcome === outcome))
      .reduce((s, r) => ({ count: s.count + 1, cents: s.cents + Number(r.amount_cents) }), {
        count: 0,
        cents: 0,
      });
  return {
    sales: sum('transaction', 'sale', 'completed'),
    topups: sum('transaction', 'topup', 'completed'),
    cashIn: sum('cash', 'inserted').cents,
    credited: sum('cash', 'credited').cents,
    vouchersIssued: sum('voucher', 'issued').cents,
    vouchersRedeemed: sum('voucher', 'redeemed').cents,
  };
}

export interface BooksInput {
  /** `kiosk journal export` of every kiosk (rows of one kiosk each, `kiosk` naming it). */
  exports: { kiosk: string; rows: readonly ExportRow[] }[];
  /** Every paper the simulated printers printed, per kiosk (vouchers and terminal slips are skipped). */
  receipts: { kiosk: string; rows: readonly string[] }[];
  /** The dashboard's CSV per day, all kiosks. */
  csv: Map<string, string>;
  /** The dashboard store's day totals per kiosk and day (`dailyTotals` with a kiosk). */
  storeTotals: { kiosk: string; totals: readonly DayTotals[] }[];
}

const PARTS = [
  'card',
  'terminal',
  'cashIn',
  'voucherIn',
  'change',
  'credited',
  'voucherOut',
  'returned',
  'reversed',
  'inReview',
] as const;

/** Everything that does not agree to the cent; empty when the books agree. */
export function booksDisagreements(input: BooksInput): string[] {
  const found: string[] = [];
  const printed = new Map<string, PrintedReceipt>();
  for (const { rows } of input.receipts) {
    const r = parseReceipt(rows);
    if (r) printed.set(r.receiptNo, r);
  }
  const csvRows = [...input.csv.values()].flatMap(parseLedgerCsv);
  const fleetPaid = new Map<string, CsvRow[]>();
  for (const r of csvRows)
    if (r.type === 'transaction' && r.outcome === 'completed')
      fleetPaid.set(`${r.kiosk} ${r.transaction_id}`, [
        ...(fleetPaid.get(`${r.kiosk} ${r.transaction_id}`) ?? []),
        r,
      ]);
  const matchedReceipts = new Set<string>();
  const matchedFleet = new Set<string>();

  for (const { kiosk, rows } of input.exports) {
    for (const row of rows) {
      if (row.kind !== 'sale' && row.kind !== 'topup') continue;
      const f = row.figures;
      const what = `${kiosk} ${row.kind} seq ${row.seq}`;
      if (!f) {
        found.push(`${what}: no receipt figures in the export`);
        continue;
      }
      // The export's own arithmetic: what was given less what was given back is the goods delivered
      // (a vending unit given back left through change, credited or voucherOut, and is not in the total).
      // A terminal reversal (vending, no goods came out) gave it back through the API, or holds it in review.
      const given =
        f.card +
        f.terminal +
        f.cashIn +
        f.voucherIn -
        f.change -
        f.credited -
        f.voucherOut -
        f.reversed -
        f.inReview;
      if (given !== f.total + f.discount)
        found.push(`${what}: parts add up to ${given}, total ${f.total} + discount ${f.discount}`);
      if (f.returned > f.change + f.credited + f.voucherOut + f.reversed + f.inReview)
        found.push(`${what}: returned ${f.returned} more than change, credited and voucher out`);
      const vatGross = f.vat.reduce((s, v) => s + v.gross, 0);
      if (f.kind === 'sale' && vatGross !== f.total)
        found.push(`${what}: VAT gross ${vatGross} != total ${f.total}`);
      for (const v of f.vat)
        if (v.net + v.vat !== v.gross) found.push(`${what}: VAT ${v.rate} %: net + tax != gross`);

      const paper = printed.get(f.receiptNo);
      if (!paper) found.push(`${what}: receipt ${f.receiptNo} was not printed`);
      else {
        matchedReceipts.add(f.receiptNo);
        if (paper.kind !== f.kind) found.push(`${what}: receipt is a ${paper.kind}`);
        if (paper.total !== f.total) found.push(`${what}: receipt total ${paper.total}, export ${f.total}`);
        if (paper.discount !== f.discount)
          found.push(`${what}: receipt discount ${paper.discount}, export ${f.discount}`);
        for (const p of PARTS)
          if (paper[p] !== f[p]) found.push(`${what}: receipt ${p} ${paper[p]}, export ${f[p]}`);
        const paperVat = JSON.stringify(paper.vat);
        const exportVat = JSON.stringify(f.vat.map((v) => ({ rate: v.rate, gross: v.gross, vat: v.vat })));
        if (paperVat !== exportVat) found.push(`${what}: receipt VAT ${paperVat}, export ${exportVat}`);
      }

      const key = `${kiosk} ${row.apiTransactionId}`;
      const fleet = fleetPaid.get(key) ?? [];
      if (fleet.length !== 1)
        found.push(`${what}: ${fleet.length} completed fleet transaction(s) for ${row.apiTransactionId}`);
      for (const e of fleet) {
        matchedFleet.add(key);
        if (e.kind !== f.kind) found.push(`${what}: the fleet reports a ${e.kind}`);
        // The fleet reports the goods delivered before the card's bonus (`evt/transaction` amountCents).
        if (Number(e.amount_cents) !== f.total + f.discount)
          found.push(`${what}: fleet amount ${e.amount_cents}, export ${f.total} + ${f.discount}`);
        // And the bonus itself (`discountCents`, the CSV's discount_cents; empty: none).
        if (Number(e.discount_cents || 0) !== f.discount)
          found.push(`${what}: fleet discount ${e.discount_cents || 0}, export ${f.discount}`);
        if (e.day !== row.date) found.push(`${what}: fleet day ${e.day}, export ${row.date}`);
      }
    }
  }
  for (const no of printed.keys())
    if (!matchedReceipts.has(no)) found.push(`receipt ${no} printed but not in the export`);
  for (const key of fleetPaid.keys())
    if (!matchedFleet.has(key)) found.push(`fleet transaction ${key} not in the export`);

  // Per day: the export's sums against the CSV (all kiosks) and the store's totals (per kiosk).
  const exportDays = new Map<string, DaySums[]>();
  for (const { kiosk, rows } of input.exports) {
    const totals = input.storeTotals.find((t) => t.kiosk === kiosk)?.totals ?? [];
    for (const [day, s] of daySums(rows)) {
      exportDays.set(day, [...(exportDays.get(day) ?? []), s]);
      const t = totals.find((d) => d.day === day);
      const store = t
        ? [t.salesCount, t.salesCents, t.topupCount, t.topupCents, t.cashInCents, t.unclaimedCents]
        : null;
      const ours = [s.sales.count, s.sales.cents, s.topups.count, s.topups.cents, s.cashIn, s.vouchersIssued];
      if (JSON.stringify(store) !== JSON.stringify(ours))
        found.push(`${kiosk} ${day}: store totals ${JSON.stringify(store)}, export ${JSON.stringify(ours)}`);
    }
  }
  for (const day of new Set([...exportDays.keys(), ...input.csv.keys()])) {
    const sums = exportDays.get(day) ?? [];
    const add = (pick: (s: DaySums) => number) => sums.reduce((n, s) => n + pick(s), 0);
    const ours: FleetDaySums = {
      sales: { count: add((s) => s.sales.count), cents: add((s) => s.sales.cents) },
      topups: { count: add((s) => s.topups.count), cents: add((s) => s.topups.cents) },
      cashIn: add((s) => s.cashIn),
      credited: add((s) => s.credited),
      vouchersIssued: add((s) => s.vouchersIssued),
      vouchersRedeemed: add((s) => s.vouchersRedeemed),
    };
    const csv = input.csv.get(day);
    const theirs = csvDaySums(csv ? parseLedgerCsv(csv) : []);
    if (JSON.stringify(ours) !== JSON.stringify(theirs))
      found.push(`${day}: dashboard CSV ${JSON.stringify(theirs)}, export ${JSON.stringify(ours)}`);
  }
  return found;
}
