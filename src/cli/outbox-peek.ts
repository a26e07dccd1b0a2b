/**
 * How much the fleet outbox holds, read without opening it: `Outbox.open` creates the directory,
 * cuts a torn tail and rewrites meta.json, which a status tool must never do to a running kiosk.
 * This replays `outbox.log` with the outbox's own decoder (src/fleet/outbox-log.ts) and stops at
 * the first torn or damaged record, as open() would.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replayLog } from '../fleet/outbox-log.js';

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
  const { live } = replayLog(data);
  let money = 0;
  let bodyBytes = 0;
  let oldestTs: number | null = null;
  for (const r of live.values()) {
    if (r.money) money++;
    bodyBytes += Buffer.byteLength(r.body ?? '');
    oldestTs = oldestTs === null ? r.ts : Math.min(oldestTs, r.ts);
  }
  return { known: true, messages: live.size, money, bodyBytes, fileBytes: data.length, oldestTs };
}
