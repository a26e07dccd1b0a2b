/**
 * For measuring one start of the kiosk by hand (callgrind, `--trace-gc`, `/usr/bin/time`): starts the
 * API stand-in as its own process, as app-startup-pairs.ts does, writes a kiosk config per name given
 * (simulated devices, control port, its own journal) and runs until stopped (Ctrl-C).
 *
 *   npx tsx bench/startup-standin.ts /tmp/s7 a b &
 *   KIOSK_EXIT_AT_IDLE=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node <dir>/bin/kiosk.mjs run --config /tmp/s7/config-a.json --no-tui
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApiProcess } from '../src/harness/kiosk-process.js';
import { writeBenchConfig } from './whole-process.js';

const [dir = '/tmp/kiosk-startup', ...names] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
const api = await startApiProcess(join(dir, 'api-ledger.json'));
for (const name of names.length ? names : ['a'])
  console.log((await writeBenchConfig(dir, name, api.baseUrl)).path);
console.log(`stand-in at ${api.baseUrl}; Ctrl-C to stop`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    api.child.kill('SIGTERM');
    process.exit(0);
  });
setInterval(() => {}, 1 << 30);
