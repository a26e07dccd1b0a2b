/**
 * A kiosk's stored health history as the dashboard keeps it (`health_samples`: one of the 30-second
 * heartbeats per `sampleEveryMs`, 5 min by default), simulated for the store test and the detail
 * benchmark: mostly online, some degraded and maintenance spells, nights out of service, the odd hour
 * with nothing (offline), the cash box filling by day and emptied by a collection every few days, and
 * no collection known at first. Times are the dashboard's receive times, a few seconds off the grid as
 * real arrivals are. Seeded: the same arguments give the same rows.
 */
import { Rng } from '../util/prng.js';

/** The shape of the dashboard store's `Statement` (kept here so that the simulator does not import the dashboard). */
export interface SampleInsert {
  sql: string;
  params: readonly (string | number | null)[];
}

export interface SimSample {
  kioskId: string;
  at: number;
  state: string;
  boxCashInCents: number;
  lastCollectionTs: number | null;
}

export function simulatedHealthWeek(
  kioskId: string,
  from: number,
  to: number,
  sampleEveryMs: number,
  seed: number,
): SimSample[] {
  const rng = new Rng(seed);
  const rows: SimSample[] = [];
  let box = rng.int(0, 20_000);
  let lastCollectionTs: number | null = null;
  let spell: { state: string; until: number } | undefined;
  for (let t = from + rng.int(0, sampleEveryMs); t < to; t += sampleEveryMs) {
    if (!spell || t >= spell.until) {
      const state = rng.weighted([
        ['online', 90],
        ['degraded', 4],
        ['maintenance', 2],
        ['out_of_service', 2],
        ['offline', 2],
      ] as const);
      spell = { state, until: t + (state === 'online' ? rng.int(2, 12) : rng.int(1, 6)) * 3_600_000 };
    }
    // Offline: no health at all, so no sample.
    if (spell.state === 'offline') continue;
    if (spell.state === 'online' && rng.chance(0.3)) box += rng.int(1, 10) * 50;
    if (rng.chance(1 / 864)) {
      box = 0;
      lastCollectionTs = t - rng.int(0, 60_000);
    }
    rows.push({
      kioskId,
      at: t + rng.int(0, 4000),
      state: spell.state,
      boxCashInCents: box,
      lastCollectionTs,
    });
  }
  return rows;
}

/** Multi-row INSERTs of `health_samples` (the other columns plausible constants), `perStatement` rows each. */
export function healthSampleInserts(rows: readonly SimSample[], perStatement = 500): SampleInsert[] {
  const out: SampleInsert[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    out.push({
      sql: `INSERT INTO health_samples (kiosk_id, at, ts, state, busy, uptime_s, cpu_temp_c, rss_bytes, lag_p99_ms,
              outbox_size, sales_count, sales_cents, topups_count, topups_cents, cash_in_count, cash_in_cents,
              box_cash_in_cents, last_collection_ts)
            VALUES ${chunk.map(() => '(?, ?, ?, ?, 0, 3600, 48.5, 90000000, 3.5, 0, 0, 0, 0, 0, 0, 0, ?, ?)').join(', ')}`,
      params: chunk.flatMap((r) => [r.kioskId, r.at, r.at, r.state, r.boxCashInCents, r.lastCollectionTs]),
    });
  }
  return out;
}
