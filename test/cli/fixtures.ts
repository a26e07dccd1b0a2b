/** A temp kiosk for the CLI tests: a config file and a journal with a few known sessions. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';

export const FULL_CARD = '9276004429942845';
export const OTHER_CARD = '9276001234567890';
/** The collector's name has the separator and a quote in it: the CSV must quote it. */
export const COLLECTOR = 'Tech "Max"; Müller';
export const DAY1 = Date.UTC(2025, 2, 1, 9, 0, 0); // 2025-03-01 10:00 in Berlin
export const DAY2 = Date.UTC(2025, 2, 2, 9, 0, 0);

export interface TempKiosk {
  dir: string;
  configFile: string;
  journalDir: string;
  cleanup(): void;
}

export function tempKiosk(configPatch: Record<string, unknown> = {}): TempKiosk {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-cli-'));
  const config = {
    kiosk: { id: 'k-test-0007', mode: 'topup' },
    api: { baseUrl: 'standin', clientId: 'kiosk-demo', clientSecret: 'demo-secret' },
    hardware: simulatedHardware(),
    sim: { tui: false },
    journal: { dir: 'journal' },
    fleet: { url: 'mqtt://127.0.0.1:1883', outboxDir: 'outbox' },
    ...configPatch,
  };
  const configFile = join(dir, 'kiosk.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return {
    dir,
    configFile,
    journalDir: join(dir, 'journal'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Sessions: A top-up paid in cash (5,00), B a checkout declined by the API, C a top-up still open
 * (2,00 inserted, payment pending), D 0,50 left unclaimed with a voucher; then a cash collection on
 * day 2 and one more coin after it.
 */
export async function writeSampleJournal(dir: string): Promise<void> {
  let now = DAY1;
  const j = await Journal.open(dir, { fsync: false, now: () => (now += 1000) });
  await j.append({
    type: 'session_started',
    sessionId: 'A',
    mode: 'topup',
    cardMasked: '9276********2845',
    card: FULL_CARD,
  });
  for (const cents of [200, 200, 100])
    await j.append({ type: 'coin_accepted', sessionId: 'A', cents, source: 'coin' });
  await j.append({
    type: 'tx_created',
    sessionId: 'A',
    localId: 'loc-A',
    basket: { products: [] },
    amount: 500,
  });
  await j.append({ type: 'api_intent', sessionId: 'A', apiId: 'loc-A', step: 'create', jobId: 'jA0' });
  await j.append({ type: 'api_outcome', jobId: 'jA0', result: 'ok', apiId: 'STX_A' });
  await j.append({
    type: 'api_intent',
    sessionId: 'A',
    apiId: 'STX_A',
    step: 'start/cash',
    jobId: 'jA1',
    cents: 500,
  });
  await j.append({ type: 'api_outcome', jobId: 'jA1', result: 'ok', status: 'ok' });
  await j.append({ type: 'session_closed', sessionId: 'A', outcome: 'completed' });

  // B: only the full card number was journalled (an older firmware): the export must mask it.
  await j.append({ type: 'session_started', sessionId: 'B', mode: 'checkout', card: OTHER_CARD });
  await j.append({
    type: 'tx_created',
    sessionId: 'B',
    localId: 'loc-B',
    apiId: 'STX_B',
    basket: { products: [] },
    amount: 349,
  });
  await j.append({
    type: 'api_intent',
    sessionId: 'B',
    apiId: 'STX_B',
    step: 'start/loyalty',
    jobId: 'jB1',
    cents: 349,
  });
  await j.append({ type: 'api_outcome', jobId: 'jB1', result: 'failed', status: 'declined' });
  await j.append({ type: 'session_closed', sessionId: 'B', outcome: 'cancelled' });

  now = DAY2;
  await j.append({ type: 'session_started', sessionId: 'D', mode: 'topup' });
  await j.append({ type: 'coin_accepted', sessionId: 'D', cents: 50, source: 'coin' });
  await j.append({ type: 'unclaimed', sessionId: 'D', cents: 50, voucher: 'V-0001' });
  await j.append({ type: 'session_closed', sessionId: 'D', outcome: 'unclaimed' });
  await j.append({ type: 'cash_collected', cents: 540, by: COLLECTOR });

  await j.append({
    type: 'session_started',
    sessionId: 'C',
    mode: 'topup',
    cardMasked: '9276********2845',
    card: FULL_CARD,
  });
  await j.append({ type: 'coin_accepted', sessionId: 'C', cents: 200, source: 'coin' });
  await j.append({
    type: 'tx_created',
    sessionId: 'C',
    localId: 'loc-C',
    apiId: 'STX_C',
    basket: { products: [] },
    amount: 200,
  });
  await j.append({
    type: 'api_intent',
    sessionId: 'C',
    apiId: 'STX_C',
    step: 'start/cash',
    jobId: 'jC1',
    cents: 200,
  });
  await j.close();
}
