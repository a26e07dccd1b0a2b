/**
 * How much the fleet outbox holds, read without opening it: `Outbox.open` creates the directory,
 * cuts a torn tail and rewrites meta.json, which a status tool must never do to a running kiosk.
 * This replays `outbox.log` the same way (records `[type u8][length u32 LE][crc32 u32 LE][JSON]`,
 * see src/fleet/outbox.ts) and stops at the first torn or damaged record, as open() would.
 * Keep the two in step if the format changes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export type OutboxPeek =
  | {
      known: true;
      /** Messages not yet acknowledged by the broker. */
      messages: number;
      /** Of those, money events (never dropped). */
      money: number;
      bodyBytes: number;
      fileBytes: number;
      /** When the oldest waiting message entered the outbox (device ms), null when empty. */
      oldestTs: number | null;
    }
  | { known: false; reason: string };

const HEADER = 9;
const ADD = 1;
const ACK = 2;
const DROP = 3;

export async function peekOutbox(dir: string): Promise<OutboxPeek> {
  let data: Buffer;
  try {
    data = await readFile(join(dir, 'outbox.log'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { known: true, messages: 0, money: 0, bodyBytes: 0, fileBytes: 0, oldestTs: null };
    return { known: false, reason: `cannot read ${dir}/outbox.log (${code ?? String(err)})` };
  }
  const live = new Map<number, { money: boolean; bytes: number; ts: number }>();
  let off = 0;
  while (off + HEADER <= data.length) {
    const type = data.readUInt8(off);
    const len = data.readUInt32LE(off + 1);
    const crc = data.readUInt32LE(off + 5);
    if (off + HEADER + len > data.length) break;
    const body = data.subarray(off + HEADER, off + HEADER + len);
    if (crc32(body) !== crc) break;
    let parsed: { seq?: number; money?: boolean; body?: string; ts?: number; seqs?: number[] };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      break;
    }
    if (type === ADD && typeof parsed.seq === 'number') {
      live.set(parsed.seq, {
        money: parsed.money === true,
        bytes: Buffer.byteLength(parsed.body ?? ''),
        ts: parsed.ts ?? 0,
      });
    } else if ((type === ACK || type === DROP) && Array.isArray(parsed.seqs)) {
      for (const seq of parsed.seqs) live.delete(seq);
    } else {
      break;
    }
    off += HEADER + len;
  }
  let money = 0;
  let bodyBytes = 0;
  let oldestTs: number | null = null;
  for (const r of live.values()) {
    if (r.money) money++;
    bodyBytes += r.bytes;
    oldestTs = oldestTs === null ? r.ts : Math.min(oldestTs, r.ts);
  }
  return { known: true, messages: live.size, money, bodyBytes, fileBytes: data.length, oldestTs };
}
