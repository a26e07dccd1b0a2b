/**
 * The dashboard's CSV for accounting: one day's money events as the store keeps them, integer cents,
 * RFC 4180 quoting, CRLF, text a spreadsheet would run as a formula defused (`src/util/csv.ts`, the
 * same fields as the kiosk's export). Pure, so the test that holds it against the kiosks' own `kiosk
 * journal export` reads exactly what an operator downloads (docs/operations.md: the agreement rule).
 */
import { csvRecord } from '../util/csv.js';
import type { LedgerRow } from './store/fleet-store.js';

export const LEDGER_CSV_COLUMNS = [
  'day',
  'kiosk',
  'time_utc',
  'event_id',
  'type',
  'kind',
  'outcome',
  'amount_cents',
  'currency',
  'payment_method',
  'transaction_id',
  'card',
  'seq',
  // Last, so a reader of the columns before finds them where they were.
  'discount_cents',
] as const;

export function ledgerCsv(rows: readonly LedgerRow[]): string {
  return (
    csvRecord(LEDGER_CSV_COLUMNS, ',') +
    rows
      .map((r) =>
        csvRecord(
          [
            r.day,
            r.kioskId,
            new Date(r.happenedAt).toISOString(),
            r.eventId,
            r.type,
            r.kind,
            r.outcome,
            r.amountCents,
            r.currency,
            r.paymentMethod,
            r.transactionId,
            r.card,
            r.seq,
            r.discountCents,
          ],
          ',',
        ),
      )
      .join('')
  );
}
