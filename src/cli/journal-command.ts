/**
 * `kiosk journal export --config <file> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out file.csv]`:
 * the merchant's bookkeeping CSV (journal-export.ts decides the rows, csv.ts the quoting). The
 * journal is read with `Journal.read`, which changes nothing, so this is safe while the kiosk runs.
 * What the export covers goes to stderr (stdout may be the CSV itself).
 */
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { formatCents } from '../api/money.js';
import { Journal } from '../journal/journal.js';
import { parseCommandLine, UsageError } from './args.js';
import { runSubcommand } from './run-subcommand.js';
import type { CliIo } from './cli-io.js';
import { loadCliConfig } from './config-file.js';
import { csvRecord } from '../util/csv.js';
import { EXIT, EXPORT_EXIT } from './exit-codes.js';
import { EXPORT_COLUMNS, exportJournal, rowValues, type ExportRow } from './journal-export.js';
import { localFormatter, systemTimeZone } from './local-time.js';

export const JOURNAL_HELP = `usage: kiosk journal export [--config <file>] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                            [--out <file.csv>] [--separator ';'|','] [--bom] [--tz <zone>]

Writes the journal's money movements as CSV for the merchant's bookkeeping: sales and top-ups
(with payment step, API transaction id, outcome, masked card, and the receipt's figures: number,
total, bonus discount, card, terminal, cash, voucher parts, change, rest to card or voucher), one
row per VAT rate of a sale (net and tax as printed), failed payment attempts, coins in, money
credited or left unclaimed (voucher), vouchers redeemed and settled, and cash collections. Amounts
in cents and in euros with a decimal comma. Reads only; safe while the kiosk runs.

The journal keeps about journal.maxAgeDays (default 90) of finished sessions: export at least
monthly. What an export covers (and whether older records were compacted) is printed on stderr.

options:
  --config <file>     the kiosk configuration (default: $KIOSK_CONFIG)
  --from, --to        first and last local date to include (default: everything in the journal)
  --out <file>        write there (mode 0640, replaced atomically) instead of stdout
  --separator <c>     field separator: ';' (default, what German spreadsheets expect) or ','
  --bom               start with a UTF-8 byte order mark (lets Excel detect UTF-8)
  --tz <zone>         time zone for the date/time columns (default: the system's, now ${systemTimeZone()})

exit codes: 0 written, 1 journal not readable or output not writable, 2 configuration problem,
            64 bad command line`;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkDate(name: string, value: string | undefined): void {
  if (value === undefined) return;
  const d = new Date(`${value}T00:00:00Z`);
  if (!DATE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value)
    throw new UsageError(`kiosk journal export: --${name} ${value} is not a date YYYY-MM-DD`);
}

export function journalCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return runSubcommand(io, () => journalExport(argv, io));
}

async function journalExport(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? io.err : io.out)(JOURNAL_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'export') {
    io.err(`kiosk journal: unknown subcommand '${sub}' (only 'export'; see kiosk journal --help)`);
    return EXIT.usage;
  }
  const values = parseCommandLine('journal export', rest, {
    config: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
    separator: { type: 'string', default: ';' },
    bom: { type: 'boolean' },
    tz: { type: 'string' },
  }).values;
  checkDate('from', values.from);
  checkDate('to', values.to);
  if (values.from && values.to && values.from > values.to)
    throw new UsageError(`kiosk journal export: --from ${values.from} is after --to ${values.to}`);
  if (values.separator !== ';' && values.separator !== ',')
    throw new UsageError(`kiosk journal export: --separator must be ';' or ','`);
  if (values.tz) {
    try {
      localFormatter(values.tz);
    } catch {
      throw new UsageError(`kiosk journal export: unknown time zone '${values.tz}' (e.g. Europe/Berlin)`);
    }
  }
  if (values.help) {
    io.out(JOURNAL_HELP);
    return EXIT.ok;
  }
  const config = loadCliConfig('journal export', values.config, io.env).config;
  const dir = config.journal.dir;
  let read;
  try {
    read = await Journal.read(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.err(
      `kiosk journal export: cannot read the journal in ${dir}: ${
        code === 'EACCES'
          ? 'no permission (run with sudo, or as the kiosk user)'
          : (code ?? (err as Error).message)
      }`,
    );
    return EXPORT_EXIT.io;
  }
  const timeZone = values.tz ?? systemTimeZone();
  const result = exportJournal(read.records, {
    timeZone,
    ...(values.from ? { from: values.from } : {}),
    ...(values.to ? { to: values.to } : {}),
  });
  const sep = values.separator;
  const csv =
    (values.bom ? '\ufeff' : '') +
    csvRecord(EXPORT_COLUMNS, sep) +
    result.rows.map((r) => csvRecord(rowValues(r), sep)).join('');

  if (values.out) {
    const tmp = `${values.out}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, csv, { mode: 0o640 });
      await rename(tmp, values.out);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      io.err(`kiosk journal export: cannot write ${values.out}: ${(err as Error).message}`);
      return EXPORT_EXIT.io;
    }
  } else {
    io.out(csv.replace(/\r\n$/, ''));
  }

  const local = localFormatter(timeZone);
  const when = (ts: number | null) => {
    if (ts === null) return '-';
    const l = local(ts);
    return `${l.date} ${l.time}`;
  };
  const c = result.coverage;
  const t = result.totals;
  const eur = (cents: number) => formatCents(cents, 'EUR', { thousands: true });
  io.err(
    `kiosk journal export: ${result.rows.length} row(s)${values.out ? ` to ${values.out}` : ''}` +
      `${values.from || values.to ? ` for ${values.from ?? '...'} .. ${values.to ?? '...'}` : ''} (${timeZone})`,
  );
  io.err(
    `  journal ${dir}: ${c.records} record(s), seq ${c.firstSeq ?? '-'}..${c.lastSeq ?? '-'}, ${when(c.firstTs)} .. ${when(c.lastTs)}`,
  );
  if (c.compactedBefore)
    io.err(
      `  records before seq ${c.firstSeq} were compacted or removed by retention: not in this export` +
        ` (their lifetime totals then: cash in ${eur(c.openingLifetime.cashIn.cents)}, sales ${eur(c.openingLifetime.sales.cents)},` +
        ` top-ups ${eur(c.openingLifetime.topUps.cents)})`,
    );
  if (read.damage.length)
    io.err(
      `  WARNING: ${read.damage.length} damaged byte range(s): those records are missing (the kiosk quarantines them at its next boot)`,
    );
  io.err(
    `  totals: sales ${eur(t.sale.cents)} (${t.sale.count}), top-ups ${eur(t.topup.cents)} (${t.topup.count}),` +
      ` cash in ${eur(t.coin_in.cents)} (${t.coin_in.count}), cancellations ${eur(t.cancellation.cents)},` +
      ` credited ${eur(t.credited.cents)}, unclaimed ${eur(t.unclaimed.cents)}, collections ${eur(t.cash_collection.cents)} (${t.cash_collection.count})`,
  );
  const receipts = result.rows.filter((r) => r.figures);
  if (receipts.length > 0) {
    const sales = receipts.filter((r) => r.kind === 'sale');
    const sum = (rows: typeof receipts, pick: (f: NonNullable<ExportRow['figures']>) => number) =>
      rows.reduce((n, r) => n + pick(r.figures!), 0);
    const perRate = new Map<number, { net: number; vat: number }>();
    for (const r of result.rows)
      if (r.vat) {
        const v = perRate.get(r.vat.rate) ?? { net: 0, vat: 0 };
        perRate.set(r.vat.rate, { net: v.net + r.vat.net, vat: v.vat + r.vat.vat });
      }
    const vat = [...perRate]
      .sort(([a], [b]) => a - b)
      .map(([rate, v]) => `${rate} %: net ${eur(v.net)}, VAT ${eur(v.vat)}`);
    io.err(
      `  receipts: sales ${eur(sum(sales, (f) => f.total))} (${sales.length}) after bonus ${eur(sum(sales, (f) => f.discount))},` +
        ` top-ups ${eur(sum(receipts, (f) => (f.kind === 'topup' ? f.total : 0)))} (${receipts.length - sales.length})` +
        `${vat.length ? `; ${vat.join('; ')}` : ''}`,
    );
  }
  return EXPORT_EXIT.ok;
}
