/**
 * Where the running kiosk keeps health.json and where kiosk-upgrade leaves its files. The service
 * writes to $KIOSK_STATE_DIR or /var/lib/kiosk (src/app/service-integration.ts); the tools look in
 * `--state-dir`, then $KIOSK_STATE_DIR, then the journal's parent directory, which is /var/lib/kiosk
 * on a Pi (journal.dir /var/lib/kiosk/journal) and the checkout's var/ for a simulated kiosk.
 */
import { dirname } from 'node:path';
import type { KioskConfig } from '../config/config-schema.js';

export function stateDirFor(config: KioskConfig, option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? env.KIOSK_STATE_DIR ?? dirname(config.journal.dir);
}
