/**
 * Figures the back office derives from a kiosk's stored health samples (pure, the clock passed in):
 * how full its cash box is and when it will be full at the recent rate, and the share of time it was
 * in service. The samples are the downsampled health (`health_samples`, one per kiosk per few minutes).
 */

export interface HealthSample {
  at: number;
  state: string;
  /** Cash taken in since the last collection (the cash box's content), cents. */
  boxCashInCents: number;
  lastCollectionTs: number | null;
}

export interface CashBoxEstimate {
  cents: number;
  capacityCents: number;
  /** Cents per day over the samples since the last collection (at most the last `RATE_WINDOW_MS`); null with too little history. */
  centsPerDay: number | null;
  /** When it reaches its capacity at that rate (now if already there); null when not rising or unknown. */
  fullAt: number | null;
  lastCollectionTs: number | null;
}

export const RATE_WINDOW_MS = 7 * 86_400_000;
/** Less history than this says nothing about a rate (one busy lunch hour is not a day). */
const MIN_RATE_SPAN_MS = 3_600_000;

/** `samples` oldest first; `level` the live figure when there is one (the latest health), else the latest sample. */
export function cashBoxEstimate(
  samples: readonly HealthSample[],
  now: number,
  capacityCents: number,
  level?: { cents: number; lastCollectionTs: number | null },
): CashBoxEstimate | undefined {
  const last = samples[samples.length - 1];
  const current =
    level ?? (last ? { cents: last.boxCashInCents, lastCollectionTs: last.lastCollectionTs } : undefined);
  if (!current) return undefined;
  // Only samples of the current filling: a collection empties the box and restarts the count.
  const filling = samples.filter(
    (s) => s.lastCollectionTs === current.lastCollectionTs && s.at >= now - RATE_WINDOW_MS,
  );
  const first = filling[0];
  const end = filling[filling.length - 1];
  let centsPerDay: number | null = null;
  if (first && end && end.at - first.at >= MIN_RATE_SPAN_MS)
    centsPerDay = Math.round(
      ((end.boxCashInCents - first.boxCashInCents) / (end.at - first.at)) * 86_400_000,
    );
  let fullAt: number | null = null;
  if (current.cents >= capacityCents) fullAt = now;
  else if (centsPerDay !== null && centsPerDay > 0)
    fullAt = now + Math.round(((capacityCents - current.cents) / centsPerDay) * 86_400_000);
  return {
    cents: current.cents,
    capacityCents,
    centsPerDay,
    fullAt,
    lastCollectionTs: current.lastCollectionTs,
  };
}

export interface Uptime {
  from: number;
  to: number;
  /** 0..1 of the time from `from` to `to` the kiosk reported health in service (online or degraded). */
  ratio: number;
}

/** The health states that count as in service. */
export const IN_SERVICE_STATES: readonly string[] = ['online', 'degraded'];
const IN_SERVICE = new Set(IN_SERVICE_STATES);

/** Time in service summed over a window, and where the samples in it start: what `uptimeOf` rests on. */
export interface ServiceTime {
  /** The first sample in the window. */
  firstAt: number;
  upMs: number;
}

/**
 * Time in service over [from, now]: each sample stands for the time to the next one, but for at most two
 * sampling intervals (a kiosk that stops reporting is not in service, and a missing sample or two from
 * the downsampling is not an outage). The store computes the same in SQL (`FleetStore.officeDigest`).
 */
export function serviceTime(
  samples: readonly HealthSample[],
  from: number,
  now: number,
  sampleEveryMs: number,
): ServiceTime | undefined {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= now);
  const first = inWindow[0];
  if (!first) return undefined;
  let up = 0;
  inWindow.forEach((s, i) => {
    if (!IN_SERVICE.has(s.state)) return;
    const next = inWindow[i + 1]?.at ?? now;
    up += Math.max(0, Math.min(next, s.at + 2 * sampleEveryMs, now) - s.at);
  });
  return { firstAt: first.at, upMs: up };
}

/** The share of [from, now] in service; starts at the first sample when the kiosk is younger than `from`. */
export function uptimeFrom(t: ServiceTime | undefined, from: number, now: number): Uptime | undefined {
  if (!t) return undefined;
  const start = Math.max(from, Math.min(t.firstAt, now));
  const span = now - start;
  return { from: start, to: now, ratio: span > 0 ? Math.min(1, t.upMs / span) : 1 };
}

export function uptimeOf(
  samples: readonly HealthSample[],
  from: number,
  now: number,
  sampleEveryMs: number,
): Uptime | undefined {
  return uptimeFrom(serviceTime(samples, from, now, sampleEveryMs), from, now);
}
