/**
 * `kiosk vouchers [list] [--json]` and `kiosk vouchers payout <voucher> --by <name>`: the vouchers the
 * kiosk owes, and a cash payout by staff. Listing only reads the journal (safe while the kiosk runs).
 * A payout writes to the journal, which only one process may do: while the kiosk runs it is refused
 * (use the service menu's "Gutscheine" page then). Journaled here while the kiosk is stopped, the
 * fleet hears its `evt/voucher` (paid_out, with --by) when the kiosk starts again: the kiosk tells the
 * journal's records its outbox has not told yet (src/app/journal-fleet.ts), this one among them.
 */
import { formatCents } from '../api/money.js';
import { openVouchers, payOutVoucher, type OpenVoucherView } from '../bookkeeping/voucher-book.js';
import { voucherRefShortId } from '../bookkeeping/receipt-jobs.js';
import { Journal } from '../journal/journal.js';
import { parseCommandLine, UsageError } from './args.js';
import type { CliIo } from './cli-io.js';
import { loadCliConfig } from './config-file.js';
import { EXIT, VOUCHERS_EXIT } from './exit-codes.js';
import { gatherStatus, type StatusDeps } from './kiosk-status.js';
import { localFormatter, systemTimeZone } from './local-time.js';
import { runSubcommand } from './run-subcommand.js';
import { stateDirFor } from './state-dir.js';

export const VOUCHERS_HELP = `usage: kiosk vouchers [list] [--config <file>] [--json]
       kiosk vouchers payout <voucher> --by <name> [--config <file>]

list (default): the vouchers the kiosk owes now (issued, not yet redeemed, paid out or expired):
reference, short id as printed, value, issued, last day. Reads only; safe while the kiosk runs.

payout: staff paid a voucher out in cash; journaled with --by (name or role, at most 40 characters)
and its value, so it leaves the open list and the books. <voucher> is the reference
(k-0042.QX7MD2KA), the short id printed under the QR code (QX7M-D2KA) or the whole scanned code.
Refused while the kiosk runs (one writer per journal): use the service menu page "Gutscheine" then,
or stop the kiosk (systemctl stop kiosk) first. The fleet hears of the payout (evt/voucher) when
the kiosk starts again.

options:
  --config <file>     the kiosk configuration (default: $KIOSK_CONFIG)
  --json              list as one JSON document
  --state-dir <dir>   where health.json is (default: $KIOSK_STATE_DIR, else the journal's parent)

exit codes: 0 done, 1 journal not readable or not writable, 2 configuration problem,
            3 payout refused (no such open voucher, or the kiosk runs), 64 bad command line`;

export function vouchersCommand(argv: readonly string[], io: CliIo, deps: StatusDeps = {}): Promise<number> {
  return runSubcommand(io, () => vouchers(argv, io, deps));
}

const shortId = (ref: string): string => voucherRefShortId(ref) ?? '-';

function lastDay(expires: string | null): string {
  return expires ? `${expires.slice(0, 4)}-${expires.slice(4, 6)}-${expires.slice(6)}` : 'never';
}

export function formatVouchers(list: readonly OpenVoucherView[], timeZone = systemTimeZone()): string[] {
  const local = localFormatter(timeZone);
  const eur = (c: number) => formatCents(c, 'EUR', { thousands: true });
  const total = list.reduce((s, v) => s + v.cents, 0);
  const rows = list.map((v) => {
    const l = local(v.issuedTs);
    return [v.ref, shortId(v.ref), eur(v.cents), `${l.date} ${l.time}`, lastDay(v.expires)];
  });
  const head = ['voucher', 'short id', 'value', 'issued', 'last day'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    ...(rows.length > 0 ? [line(head), ...rows.map(line)] : []),
    `${list.length} open voucher(s), ${eur(total)}`,
  ];
}

async function vouchers(argv: readonly string[], io: CliIo, deps: StatusDeps): Promise<number> {
  const [first, ...rest] = argv;
  const sub = first === undefined || first.startsWith('-') ? 'list' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  if (sub === 'help' || args.includes('--help') || args.includes('-h')) {
    io.out(VOUCHERS_HELP);
    return EXIT.ok;
  }
  if (sub !== 'list' && sub !== 'payout') {
    io.err(`kiosk vouchers: unknown subcommand '${sub}' (list or payout; see kiosk vouchers --help)`);
    return EXIT.usage;
  }
  const { values, positionals } = parseCommandLine(
    `vouchers ${sub}`,
    args,
    {
      config: { type: 'string' },
      json: { type: 'boolean' },
      by: { type: 'string' },
      'state-dir': { type: 'string' },
    },
    { positionals: sub === 'payout' ? 1 : 0 },
  );
  const { file, config } = loadCliConfig(`vouchers ${sub}`, values.config, io.env);
  const dir = config.journal.dir;

  if (sub === 'list') {
    let state;
    try {
      state = (await Journal.read(dir)).state;
    } catch (err) {
      io.err(`kiosk vouchers: cannot read the journal in ${dir}: ${(err as Error).message}`);
      return VOUCHERS_EXIT.io;
    }
    const list = openVouchers(state);
    if (values.json)
      io.out(
        JSON.stringify({ vouchers: list, count: list.length, cents: list.reduce((s, v) => s + v.cents, 0) }),
      );
    else for (const l of formatVouchers(list)) io.out(l);
    return EXIT.ok;
  }

  const voucher = positionals[0];
  if (!voucher) throw new UsageError('kiosk vouchers payout: which voucher? (see kiosk vouchers --help)');
  const by = values.by?.trim();
  if (!by || by.length > 40)
    throw new UsageError('kiosk vouchers payout: --by <name> (1-40 characters) is required');
  const status = await gatherStatus(
    config,
    { configFile: file, stateDir: stateDirFor(config, values['state-dir'], io.env) },
    { lastErrors: async () => null, ...deps },
  );
  if (status.running) {
    io.err(
      'kiosk vouchers payout: the kiosk is running and writes the journal itself: record the payout in its ' +
        'service menu ("Gutscheine"), or stop the kiosk first',
    );
    return VOUCHERS_EXIT.refused;
  }
  let journal: Journal;
  try {
    journal = await Journal.open(dir);
  } catch (err) {
    io.err(`kiosk vouchers payout: cannot open the journal in ${dir}: ${(err as Error).message}`);
    return VOUCHERS_EXIT.io;
  }
  try {
    const paid = await payOutVoucher(journal, voucher, by);
    io.out(`paid out ${paid.ref} ${formatCents(paid.cents, 'EUR')} (by ${by}), journaled`);
    return EXIT.ok;
  } catch (err) {
    io.err(`kiosk vouchers payout: ${(err as Error).message}`);
    return VOUCHERS_EXIT.refused;
  } finally {
    await journal.close();
  }
}
