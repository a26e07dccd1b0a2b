/**
 * A configuration the fleet sent (`config/desired`), after the allow-list (fleet-config-policy.ts):
 * the parts that are safe to change while the kiosk runs (receipt texts, language) take effect at
 * once; the document is kept on local storage (not /etc, which is read-only for the service) and used
 * at the next start when its version is newer than the file's, checked against the allow-list again
 * (a file written by an older firmware, or by anyone else, gets no further than the fleet itself).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KioskConfig } from '../config/config-schema.js';
import { checkDesiredConfig } from './fleet-config-policy.js';

export const DESIRED_FILE = 'desired-config.json';

/** Keys a running kiosk can take over without a restart. */
const LIVE_KEYS = new Set(['version', 'receipts']);

export function desiredConfigPath(config: Pick<KioskConfig, 'journal'>): string {
  return join(dirname(config.journal.dir), DESIRED_FILE);
}

export async function storeDesiredConfig(path: string, doc: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(doc, null, 2), { mode: 0o600 });
  await rename(tmp, path);
}

/** Applies what can change live onto the running config; says whether the rest needs a restart. */
export function applyLive(
  current: KioskConfig,
  next: KioskConfig,
): { restartRequired: boolean; changed: string[] } {
  const changed = (Object.keys(next) as Array<keyof KioskConfig>).filter(
    (k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]),
  );
  current.receipts = next.receipts;
  current.version = next.version;
  if (
    next.kiosk.language !== current.kiosk.language &&
    JSON.stringify({ ...next.kiosk, language: '' }) === JSON.stringify({ ...current.kiosk, language: '' })
  ) {
    current.kiosk.language = next.kiosk.language;
    return { restartRequired: changed.some((k) => !LIVE_KEYS.has(k) && k !== 'kiosk'), changed };
  }
  return { restartRequired: changed.some((k) => !LIVE_KEYS.has(k)), changed };
}

/**
 * The config to start with: the file's, or the file's with a newer desired document the fleet sent
 * earlier. Everything outside the allow-list stays the file's.
 */
export function withStoredDesired(fromFile: KioskConfig, log: (msg: string) => void = () => {}): KioskConfig {
  const path = desiredConfigPath(fromFile);
  if (!existsSync(path)) return fromFile;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    log(`ignoring ${path}: not valid JSON`);
    return fromFile;
  }
  const checked = checkDesiredConfig(doc, fromFile);
  if (!checked.ok) {
    log(`ignoring ${path}: ${checked.errors.join('; ')}`);
    return fromFile;
  }
  if (checked.desired.version <= fromFile.version) return fromFile;
  return checked.config;
}
