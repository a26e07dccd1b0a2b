/**
 * A configuration the fleet sent (`config/desired`): the parts that are safe to change while the
 * kiosk runs (receipt texts, language) take effect at once; the document is kept on local storage
 * (not /etc, which is read-only for the service) and used at the next start when its version is
 * newer than the file's. Secrets never travel in it: the environment still overrides them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkConfig } from '../config/config.js';
import type { KioskConfig } from '../config/config-schema.js';

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
 * The config to start with: the file's, or a newer desired one the fleet sent earlier. Paths and
 * secrets stay those of the file (the fleet cannot move the journal or learn a secret).
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
  const checked = checkConfig(doc);
  if (!checked.ok) {
    log(`ignoring ${path}: ${checked.errors.join('; ')}`);
    return fromFile;
  }
  const desired = checked.config;
  if (desired.version <= fromFile.version) return fromFile;
  return keepLocal(desired, fromFile);
}

/** The fleet may not move local storage, learn or change secrets, or re-point the fleet connection. */
export function keepLocal(desired: KioskConfig, local: KioskConfig): KioskConfig {
  return {
    ...desired,
    api: {
      ...desired.api,
      clientSecret: local.api.clientSecret,
      refreshTokenFile: local.api.refreshTokenFile,
      standIn: local.api.standIn,
    },
    journal: local.journal,
    ...(local.fleet ? { fleet: { ...local.fleet } } : {}),
  };
}
