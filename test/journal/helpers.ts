import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { journaledCall, judgeTransaction } from '../../src/bookkeeping/journaled-call.js';
import type { EntryInput } from '../../src/journal/entries.js';
import type { Journal } from '../../src/journal/journal.js';

/** A fresh temporary directory; `cleanup` removes every one made so far. */
export function tempDirs(): { make(): string; cleanup(): void } {
  const made: string[] = [];
  return {
    make() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-test-'));
      made.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^journal-\d+\.log$/.test(n))
    .sort();
}

/**
 * Flips a bit in the first `count` records of `type` in the first segment (a byte of the type's
 * name): their checksums no longer hold, so the journal quarantines them as damaged storage would.
 */
export function flipFirst(dir: string, type: string, count = 1): void {
  const file = path.join(dir, segmentFiles(dir)[0] as string);
  const bytes = fs.readFileSync(file);
  let at = -1;
  for (let i = 0; i < count; i++) {
    at = bytes.indexOf(`"${type}"`, at + 1);
    if (at < 0) throw new Error(`fewer than ${count} ${type} records in ${file}`);
    bytes[at + 3] = (bytes[at + 3] as number) ^ 0x04;
  }
  fs.writeFileSync(file, bytes);
}

export function totalBytes(dir: string): number {
  return segmentFiles(dir).reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
}

export const CARD = '9276000011112845';

/** The entries of a top-up of `cents` paid in coins, everything answered. */
export function topUpSession(sessionId: string, cents: number, opts: { close?: boolean } = {}): EntryInput[] {
  const job = (step: string) => `${sessionId}:${step}`;
  const apiId = `STX_${sessionId}`;
  const entries: EntryInput[] = [
    { type: 'session_started', sessionId, mode: 'topup', cardMasked: '9276********2845', card: CARD },
    { type: 'coin_accepted', sessionId, cents, source: 'coin' },
    {
      type: 'tx_created',
      sessionId,
      localId: `L-${sessionId}`,
      basket: {
        products: [
          { id: 1, desc: 'Kartenaufladung', ean: '4260447149502', quantity: 1, priceOne: cents, tax: 0 },
        ],
      },
      amount: cents,
    },
    { type: 'api_intent', sessionId, apiId: `L-${sessionId}`, step: 'create', jobId: job('create') },
    { type: 'api_outcome', jobId: job('create'), result: 'ok', status: 'created', apiId },
    { type: 'api_intent', sessionId, apiId, step: 'start/cash', jobId: job('start') },
    { type: 'api_outcome', jobId: job('start'), result: 'ok', status: 'ok' },
    {
      type: 'receipt',
      sessionId,
      jobId: job('start'),
      lines: [
        { type: 'separator', value: { caption: 'Kundenkarte Aufladung' } },
        { type: 'name-value', value: { name: 'Betrag', value: '20,00 EUR', decoration: [] } },
      ],
    },
    { type: 'printed', jobId: job('start') },
  ];
  if (opts.close !== false) entries.push({ type: 'session_closed', sessionId, outcome: 'completed' });
  return entries;
}

/** A checkout session with its basket: two A1 units of `priceOne`. */
export async function saleOfTwo(
  j: Journal,
  sessionId: string,
  apiId: string,
  priceOne: number,
): Promise<void> {
  await j.append({ type: 'session_started', sessionId, mode: 'checkout' });
  await j.append({
    type: 'tx_created',
    sessionId,
    localId: `${sessionId}:create:1`,
    apiId,
    basket: { products: [{ id: 1, quantity: 2, priceOne }] },
    amount: 2 * priceOne,
  });
}

/** The terminal's payment, journaled by the real writer (intent, call, outcome). */
export async function paidAtTerminal(j: Journal, sessionId: string, apiId: string): Promise<void> {
  await journaledCall(j, {
    intent: { sessionId, apiId, step: 'start/cashless', jobId: `${sessionId}:start:1` },
    call: () => Promise.resolve({ id: apiId, status: 'ok' }),
    judge: (tx) => judgeTransaction('start/cashless', tx),
    failed: () => 'unknown',
  });
}

/**
 * The terminal's payment as firmware from before the outcome repeated its intent journaled it: the
 * outcome names neither the session nor the step nor what the sale cost.
 */
export async function paidAtTerminalBefore(j: Journal, sessionId: string, apiId: string): Promise<void> {
  const jobId = `${sessionId}:start:1`;
  await j.append({ type: 'api_intent', sessionId, apiId, step: 'start/cashless', jobId });
  await j.append({ type: 'api_outcome', jobId, result: 'ok', status: 'ok', apiId });
}
