/**
 * Which dashboard worker writes a kiosk's snapshot rows (its `kiosks` row, health samples, alerts,
 * command answers). Every worker reads every kiosk's retained topics (so each has the whole live
 * picture), but if all of them wrote what they read, their transactions would queue on the same
 * `kiosks` row locks and deadlock each other, and every sample and command answer would be stored
 * once per worker. So the kiosk id is hashed onto one of `count` partitions and only the worker with
 * that `index` writes those rows. Money events come through the shared subscription to whichever
 * worker the broker picks; they only insert rows keyed by their eventId, which never contend.
 *
 * The split is static (`--partition 2/3`): all `count` workers must run, or the snapshots of a missing
 * worker's kiosks stay where they were (the live tiles of the other workers are unaffected, and the
 * retained topics bring everything back when it starts again).
 */
export interface Partition {
  /** 0-based. */
  index: number;
  count: number;
}

/** FNV-1a over the id's UTF-16 code units: stable across processes and versions, no dependency. */
export function partitionOf(kioskId: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < kioskId.length; i++) {
    h ^= kioskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % count;
}

export function owns(p: Partition | undefined, kioskId: string): boolean {
  return p === undefined || p.count <= 1 || partitionOf(kioskId, p.count) === p.index;
}

/** `"2/3"` (1-based on the command line, as operators count workers) to `{ index: 1, count: 3 }`. */
export function parsePartition(spec: string): Partition {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const n = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || n < 1 || n > count)
    throw new Error(`--partition wants <n>/<count>, 1 <= n <= count: ${spec}`);
  return { index: n - 1, count };
}
