/**
 * The operator's line for damaged journal records (the fleet alert `journal_damaged`, the log): the
 * byte ranges, the sessions the damage may have touched with the money the surviving records know,
 * the cash box. A session's cash is what it holds in coins and vouchers; a paid sale says what it paid
 * (a terminal or loyalty payment holds no cash: "0 ct" alone would read as a sale of nothing), or that
 * the amount is unknown where no surviving record names it.
 */
import type { JournalAlert } from './journal.js';

type DamagedAlert = Extract<JournalAlert, { kind: 'damaged' }>;

/** One affected session: closed, or open with its cash and, when its sale is paid, what it paid. */
function sessionLine(alert: DamagedAlert, id: string): string {
  const cash = alert.sessionCents[id];
  // Not open in the rebuilt state: its close was read, recovery has nothing of it to settle.
  if (cash === undefined) return `${id} closed`;
  const line = `${id} cash ${cash} ct`;
  if (!(id in alert.salePaidCents)) return line;
  const paid = alert.salePaidCents[id];
  return `${line}, sale paid ${paid === null || paid === undefined ? '(amount unknown)' : `${paid} ct`}`;
}

/** `journal_damaged`'s message: byte ranges, sessions affected and the money known (max 500 chars). */
export function damageMessage(alert: DamagedAlert): string {
  const ranges = alert.files
    .map((f) => `${f.file} bytes ${f.ranges.map((r) => `${r.start}-${r.end}`).join(',')}`)
    .join('; ');
  const sessions = alert.sessions.map((id) => sessionLine(alert, id)).join(', ');
  const text =
    `damaged: ${ranges || 'none'}; sessions: ${sessions || 'none'}; cash box ${alert.cashBoxCents} ct` +
    (alert.mismatches.length > 0 ? `; money cross-check corrected ${alert.mismatches.length}x` : '');
  return text.slice(0, 500);
}
