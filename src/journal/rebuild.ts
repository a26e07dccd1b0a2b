/**
 * Folds the state-bearing segments' records into the state, checking the money cross-checks
 * (money-check.ts) on the way and taking note of where damaged byte ranges sat. Pure.
 *
 * - A check that disagrees with the fold means an intact record is missing (it was in damaged
 *   bytes) or the fold is wrong: the check's figures are adopted (it is an intact record that
 *   names the money) and the mismatch is reported.
 * - A session open where a damaged range sits, or corrected by a check, or seen only from records
 *   after the damage (its `session_started` was lost), is marked `damaged`: recovery settles it
 *   with what the intact records prove and the operator is told.
 */
import { adoptCheck, compareCheck, type CheckMismatch } from './money-check.js';
import type { SegmentScan } from './segment-scan.js';
import { applyRecords, emptyState, type LedgerState } from './state.js';

export interface Rebuilt {
  state: LedgerState;
  records: number;
  mismatches: CheckMismatch[];
  /** Sessions the damage or a mismatch may have touched (open or since closed). */
  affected: string[];
}

export function rebuildState(scans: readonly SegmentScan[]): Rebuilt {
  const records = scans.flatMap((s) => s.records);
  const checks = scans.flatMap((s) => s.checks);
  const damages = scans.flatMap((s) => s.damaged.filter((d) => !d.repaired)).map((d) => d.afterSeq);
  damages.sort((a, b) => a - b);
  const mismatches: CheckMismatch[] = [];
  const affected = new Set<string>();
  let state = emptyState();
  let ci = 0;
  let di = 0;
  let lastTs = 0;
  const flushChecks = (beforeSeq: number) => {
    while (ci < checks.length && (checks[ci]?.after ?? 0) < beforeSeq) {
      const check = checks[ci++];
      if (!check) continue;
      const mismatch = compareCheck(state, check);
      if (!mismatch) continue;
      mismatches.push(mismatch);
      for (const s of mismatch.sessions) affected.add(s.sessionId);
      adoptCheck(state, mismatch, lastTs);
    }
  };
  const flushDamages = (beforeSeq: number) => {
    while (di < damages.length && (damages[di] ?? 0) < beforeSeq) {
      di += 1;
      for (const id of Object.keys(state.sessions)) affected.add(id);
    }
  };
  for (const record of records) {
    flushDamages(record.seq);
    flushChecks(record.seq);
    state = applyRecords(state, [record]);
    lastTs = record.ts;
    if (di > 0 && record.type !== 'snapshot' && 'sessionId' in record) {
      // A session whose start was lost in the damage shows up here without a mode.
      const s = state.sessions[record.sessionId];
      if (s && s.mode === undefined) affected.add(s.sessionId);
    }
  }
  flushDamages(Number.POSITIVE_INFINITY);
  flushChecks(Number.POSITIVE_INFINITY);
  for (const id of affected) {
    const s = state.sessions[id];
    if (s) s.damaged = true;
  }
  return { state, records: records.length, mismatches, affected: [...affected] };
}
