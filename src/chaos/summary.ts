/** Totals over chaos runs, as figures and as the text the CLI prints. */
import { formatCents } from '../api/money.js';
import type { FleetReconciliation, GoodsReconciliation } from './books.js';
import type { RunResult } from './run.js';
import { VALIDATOR_KINDS } from './validator-faults.js';

/** The cash figures of one run or of many (books.ts's `Reconciliation`, summed), in cents. */
export interface CashFigures {
  /** What the acceptor took (`acceptorCents`). */
  cashIn: number;
  /** Price of units not delivered: owed back to the customer. */
  returned: number;
  paid: number;
  credited: number;
  unclaimed: number;
  /** Change the hopper paid out. */
  changed: number;
  /** Terminal payments reversed: goods not delivered, paid back through the terminal. */
  reversed: number;
  inFlightAtKill: number;
  forOperator: number;
  voided: number;
}

/**
 * The books' identity (books.ts: per session `inserted + returned = collected + unclaimed + changed +
 * reversed`, the acceptor's coins the journal's plus those in flight at a cut and those its buffer lost
 * for the operator): coins accepted + price of goods not delivered = paid + credited + unclaimed +
 * hopper change + reversed + in flight + for the operator. Returns left minus right: 0 when every cent
 * is accounted; more when cents are lost or held by a session still open, less when over-booked.
 */
export function cashUnbalanced(f: CashFigures): number {
  return (
    f.cashIn +
    f.returned -
    (f.paid + f.credited + f.unclaimed + f.changed + f.reversed + f.inFlightAtKill + f.forOperator)
  );
}

/** The identity as printed, with the figures it adds: it adds up, the difference named when there is one. */
export function cashEquation(f: CashFigures): string {
  const d = cashUnbalanced(f);
  return (
    `${formatCents(f.cashIn)} + goods not delivered ${formatCents(f.returned)} = paid ${formatCents(f.paid)}` +
    ` + credited ${formatCents(f.credited)} + unclaimed ${formatCents(f.unclaimed)} + hopper change ${formatCents(f.changed)}` +
    ` + reversed ${formatCents(f.reversed)} + ${formatCents(f.inFlightAtKill)} in flight at a power cut` +
    `${f.forOperator ? ` + ${formatCents(f.forOperator)} lost by the validator's buffer, recorded for the operator` : ''}` +
    `${d > 0 ? ` + ${formatCents(d)} not accounted (lost, or held by an open session)` : ''}` +
    `${d < 0 ? ` - ${formatCents(-d)} over-booked` : ''}` +
    ` (${formatCents(f.voided)} of vouchers voided)`
  );
}

/** A run's cash figures. */
export function cashOf(r: RunResult): CashFigures {
  const b = r.books;
  return {
    cashIn: b.acceptorCents,
    returned: b.returned ?? 0,
    paid: b.paidCash,
    credited: b.creditedCash,
    unclaimed: b.unclaimed,
    changed: b.changed ?? 0,
    reversed: b.reversed ?? 0,
    inFlightAtKill: b.inFlightAtKill,
    forOperator: b.forOperator ?? 0,
    voided: b.voided,
  };
}

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
  forOperator: number;
  lostCents: number;
  doubleCharges: number;
  overBookedCents: number;
  openAtEnd: number;
  notIdleAtEnd: number;
  errors: number;
  findings: number;
  /** Fault kinds of issue 13 item 7 / issue 15 item 6: tried per kind, and what the harness saw them do. */
  kinds: Record<string, number>;
  newFaults: number;
  observed: Record<string, number>;
  /** Injected faults that could not do their work, by `kind:why`. */
  notLanded: Record<string, number>;
  skipped: string[];
  /** Sessions whose customer paid by coins to the end (`--coin-pay`). */
  coinPayers: number;
  terminalSessions: number;
  terminalWithCoins: number;
  terminalCents: number;
  changed: number;
  returned: number;
  reversed: number;
  goods: GoodsReconciliation;
  fleet: FleetReconciliation;
  /** `cashUnbalanced` of the totals: 0 when the coins' equation balances. */
  unbalanced: number;
  ms: number;
  ok: boolean;
  text: string;
}

export function summarize(results: readonly RunResult[], ms: number): ChaosSummary {
  const sum = (f: (r: RunResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const faults: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
  const kinds: Record<string, number> = {};
  const observed: Record<string, number> = {};
  const notLanded: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.kinds ?? {})) kinds[k] = (kinds[k] ?? 0) + (v ?? 0);
    for (const [k, v] of Object.entries(r.observed ?? {})) observed[k] = (observed[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.notLanded ?? {})) notLanded[k] = (notLanded[k] ?? 0) + v;
  }
  const missed = (kind: string) =>
    Object.entries(notLanded).reduce((a, [k, v]) => a + (k.startsWith(`${kind}:`) ? v : 0), 0);
  const goodsOf = (r: RunResult) => r.books.goods;
  const fleetOf = (r: RunResult) => r.books.fleet;
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
    forOperator: sum((r) => r.books.forOperator ?? 0),
    lostCents: sum((r) => r.books.lostCents),
    doubleCharges: sum((r) => r.books.doubleCharges),
    overBookedCents: sum((r) => r.books.overBookedCents),
    openAtEnd: sum((r) => r.books.openSessions),
    notIdleAtEnd: results.filter((r) => !r.idleAtEnd).length,
    errors: results.filter((r) => r.error).length,
    findings: sum((r) => r.books.findings.length),
    kinds,
    newFaults: Object.values(kinds).reduce((a, b) => a + b, 0),
    observed,
    notLanded,
    skipped: [...new Set(results.flatMap((r) => r.skipped ?? []))],
    coinPayers: sum((r) => r.coinPayers ?? 0),
    terminalSessions: sum((r) => r.books.terminalSessions ?? 0),
    terminalWithCoins: sum((r) => r.books.terminalWithCoins ?? 0),
    terminalCents: sum((r) => r.books.terminalCents ?? 0),
    changed: sum((r) => r.books.changed ?? 0),
    returned: sum((r) => r.books.returned ?? 0),
    reversed: sum((r) => r.books.reversed ?? 0),
    goods: {
      unitsPaid: sum((r) => goodsOf(r)?.unitsPaid ?? 0),
      delivered: sum((r) => goodsOf(r)?.delivered ?? 0),
      failed: sum((r) => goodsOf(r)?.failed ?? 0),
      inDoubt: sum((r) => goodsOf(r)?.inDoubt ?? 0),
      releasedWithoutPayment: sum((r) => goodsOf(r)?.releasedWithoutPayment ?? 0),
      paidWithoutGoods: sum((r) => goodsOf(r)?.paidWithoutGoods ?? 0),
    },
    fleet: {
      distinct: sum((r) => fleetOf(r)?.distinct ?? 0),
      redelivered: sum((r) => fleetOf(r)?.redelivered ?? 0),
      missing: sum((r) => fleetOf(r)?.missing ?? 0),
      extra: sum((r) => fleetOf(r)?.extra ?? 0),
    },
    ms,
  };
  const unbalanced = cashUnbalanced(s);
  const ok =
    s.lostCents === 0 &&
    s.doubleCharges === 0 &&
    s.overBookedCents === 0 &&
    s.openAtEnd === 0 &&
    s.errors === 0 &&
    s.goods.releasedWithoutPayment === 0 &&
    s.goods.paidWithoutGoods === 0 &&
    s.fleet.missing === 0 &&
    s.fleet.extra === 0;
  const list = (o: Record<string, number>) =>
    Object.entries(o)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const faultList = Object.entries(faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const text = [
    `chaos: ${s.runs} runs, ${s.sessions} sessions in ${(ms / 1000).toFixed(0)} s`,
    `  kiosk power cuts (SIGKILL): ${s.kioskKills}; API stand-in killed: ${s.standInKills}, paused: ${s.standInPauses}`,
    `  API faults: ${Object.values(faults).reduce((a, b) => a + b, 0)} (${faultList || 'none'}); device faults: ${s.deviceFaults}`,
    `  coins accepted: ${s.coins}, ${cashEquation(s)}`,
    `  new fault kinds: ${s.newFaults} (${list(kinds)})`,
    ...(VALIDATOR_KINDS.some((k) => kinds[k])
      ? [
          `  validator faults landed: ${VALIDATOR_KINDS.map((k) => `${k} ${(kinds[k] ?? 0) - missed(k)} of ${kinds[k] ?? 0}`).join(', ')}` +
            ` (not landed: ${list(notLanded)})`,
        ]
      : []),
    `  seen: ${list(observed)}${s.skipped.length ? `; skipped: ${s.skipped.join('; ')}` : ''}`,
    ...(s.coinPayers ? [`  coin payers: ${s.coinPayers} sessions paid by coins to the end`] : []),
    `  card terminal: ${s.terminalSessions} sessions paid (${s.terminalWithCoins} with coins), ${formatCents(s.terminalCents)}, ${formatCents(s.reversed)} reversed (goods not served); hopper change ${formatCents(s.changed)}, price of goods not delivered ${formatCents(s.returned)}`,
    `  goods: ${s.goods.unitsPaid} units paid = ${s.goods.delivered} delivered + ${s.goods.failed} failed (money back) + ${s.goods.inDoubt} in doubt (operator); released without payment: ${s.goods.releasedWithoutPayment}; paid without goods or money back: ${s.goods.paidWithoutGoods}`,
    `  fleet: ${s.fleet.distinct} money events (${s.fleet.redelivered} redelivered, de-duplicated); missing: ${s.fleet.missing}; extra or twice: ${s.fleet.extra}`,
    `  lost: ${s.lostCents} ct; double charges: ${s.doubleCharges}; over-booked: ${s.overBookedCents} ct; open at end: ${s.openAtEnd}; not idle at end: ${s.notIdleAtEnd}; run errors: ${s.errors}; findings: ${s.findings}`,
    ok ? 'OK' : 'DISCREPANCIES',
  ].join('\n');
  return { ...s, unbalanced, ok, text };
}
