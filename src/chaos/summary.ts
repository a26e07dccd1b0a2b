/** Totals over chaos runs, as figures and as the text the CLI prints. */
import { formatCents } from '../api/money.js';
import type { RunResult } from './run.js';

export interface ChaosSummary {
  runs: number;
  sessions: number;
  kioskKills: number;
  standInKills: number;
  standInPauses: number;
  faults: Record<string, number>;
  deviceFaults: number;
  coins: number;
  cashIn: number;
  paid: number;
  credited: number;
  unclaimed: number;
  voided: number;
  inFlightAtKill: number;
  lostCents: number;
  doubleCharges: number;
  overBookedCents: number;
  openAtEnd: number;
  notIdleAtEnd: number;
  errors: number;
  findings: number;
  ms: number;
  ok: boolean;
  text: string;
}

export function summarize(results: readonly RunResult[], ms: number): ChaosSummary {
  const sum = (f: (r: RunResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const faults: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
  const s = {
    runs: results.length,
    sessions: sum((r) => r.sessions),
    kioskKills: sum((r) => r.kioskKills),
    standInKills: sum((r) => r.standInKills),
    standInPauses: sum((r) => r.standInPauses),
    faults,
    deviceFaults: sum((r) => r.deviceFaults),
    coins: sum((r) => r.coinsAccepted),
    cashIn: sum((r) => r.books.acceptorCents),
    paid: sum((r) => r.books.paidCash),
    credited: sum((r) => r.books.creditedCash),
    unclaimed: sum((r) => r.books.unclaimed),
    voided: sum((r) => r.books.voided),
    inFlightAtKill: sum((r) => r.books.inFlightAtKill),
    lostCents: sum((r) => r.books.lostCents),
    doubleCharges: sum((r) => r.books.doubleCharges),
    overBookedCents: sum((r) => r.books.overBookedCents),
    openAtEnd: sum((r) => r.books.openSessions),
    notIdleAtEnd: results.filter((r) => !r.idleAtEnd).length,
    errors: results.filter((r) => r.error).length,
    findings: sum((r) => r.books.findings.length),
    ms,
  };
  const ok =
    s.lostCents === 0 &&
    s.doubleCharges === 0 &&
    s.overBookedCents === 0 &&
    s.openAtEnd === 0 &&
    s.errors === 0;
  const faultList = Object.entries(faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const text = [
    `chaos: ${s.runs} runs, ${s.sessions} sessions in ${(ms / 1000).toFixed(0)} s`,
    `  kiosk power cuts (SIGKILL): ${s.kioskKills}; API stand-in killed: ${s.standInKills}, paused: ${s.standInPauses}`,
    `  API faults: ${Object.values(faults).reduce((a, b) => a + b, 0)} (${faultList || 'none'}); device faults: ${s.deviceFaults}`,
    `  coins accepted: ${s.coins}, ${formatCents(s.cashIn)} = paid ${formatCents(s.paid)} + credited ${formatCents(s.credited)} + unclaimed ${formatCents(s.unclaimed)}` +
      ` (+ ${formatCents(s.inFlightAtKill)} in flight at a power cut; ${formatCents(s.voided)} of vouchers voided)`,
    `  lost: ${s.lostCents} ct; double charges: ${s.doubleCharges}; over-booked: ${s.overBookedCents} ct; open at end: ${s.openAtEnd}; not idle at end: ${s.notIdleAtEnd}; run errors: ${s.errors}; findings: ${s.findings}`,
    ok ? 'OK' : 'DISCREPANCIES',
  ].join('\n');
  return { ...s, ok, text };
}
