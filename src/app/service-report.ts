/**
 * What the service menu prints: the collection report (expected vs counted, the since-collection
 * totals as they were before the collection reset them) and the test page. Receipt lines, so the
 * printer lays them out like any receipt.
 */
import { formatCents } from '../api/money.js';
import type { ReceiptLine } from '../api/schemas.js';
import type { Counters, Tally } from '../journal/state.js';

export interface CollectionFacts {
  kioskId: string;
  /** When the collection was recorded, and when the previous one was (null: never). */
  at: Date;
  since: Date | null;
  expected: number;
  counted: number;
  /** Coins and notes in the box, as the journal counted them. */
  pieces: number;
  /** The since-collection counters taken BEFORE the collection reset them. */
  totals: Counters;
  by: string;
}

const nv = (name: string, value: string): ReceiptLine => ({
  type: 'name-value',
  value: { name, value, decoration: [] },
});
const text = (t: string, decoration: string[] = ['align-center']): ReceiptLine => ({
  type: 'textline',
  value: { text: t, decoration },
});

/** Local time without seconds: what a technician compares with their watch. */
export function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function tally(t: Tally): string {
  return `${t.count} / ${formatCents(t.cents)}`;
}

export function collectionReportLines(f: CollectionFacts, lang: 'de' | 'en'): ReceiptLine[] {
  const de = lang === 'de';
  const diff = f.counted - f.expected;
  return [
    { type: 'separator', value: { caption: de ? 'Kassenleerung' : 'Cash collection' } },
    nv('Kiosk', f.kioskId),
    nv(de ? 'Zeit' : 'Time', stamp(f.at)),
    nv(de ? 'Seit' : 'Since', f.since ? stamp(f.since) : de ? 'Inbetriebnahme' : 'installation'),
    { type: 'space' },
    nv(de ? 'Erwartet' : 'Expected', formatCents(f.expected)),
    nv(de ? 'Gezählt' : 'Counted', formatCents(f.counted)),
    nv(de ? 'Differenz' : 'Difference', `${diff > 0 ? '+' : ''}${formatCents(diff)}`),
    nv(de ? 'Münzen/Scheine' : 'Coins/notes', String(f.pieces)),
    { type: 'separator', value: { caption: de ? 'Seit letzter Leerung' : 'Since last collection' } },
    nv(de ? 'Verkäufe' : 'Sales', tally(f.totals.sales)),
    nv(de ? 'Aufladungen' : 'Top-ups', tally(f.totals.topUps)),
    nv(de ? 'Bargeld ein' : 'Cash in', tally(f.totals.cashIn)),
    nv(de ? 'Gutschriften' : 'Credited', tally(f.totals.credits)),
    nv(de ? 'Gutscheine' : 'Vouchers', tally(f.totals.unclaimed)),
    nv(de ? 'Stornos' : 'Reversals', tally(f.totals.cancellations)),
    { type: 'space' },
    nv(de ? 'Durch' : 'By', f.by),
    text(de ? 'Zähler seit Leerung auf 0' : 'Since-collection counters reset'),
  ];
}

export function testPageLines(kioskId: string, version: string, at: Date, lang: 'de' | 'en'): ReceiptLine[] {
  const de = lang === 'de';
  return [
    { type: 'separator', value: { caption: de ? 'Testdruck' : 'Test print' } },
    nv('Kiosk', kioskId),
    nv('Firmware', version),
    nv(de ? 'Zeit' : 'Time', stamp(at)),
    { type: 'space' },
    text('ÄÖÜ äöüß 0123456789'),
    text(de ? 'Drucker in Ordnung' : 'Printer works', ['important', 'align-center']),
  ];
}

/** The header a reprint gets, so that nobody takes it for a second payment. */
export function reprintLines(lines: readonly ReceiptLine[], lang: 'de' | 'en'): ReceiptLine[] {
  return [{ type: 'separator', value: { caption: lang === 'de' ? 'Kopie' : 'Copy' } }, ...lines];
}
