/**
 * Loads the configuration: JSON file -> environment overrides for secrets -> schema. Every problem
 * becomes a ConfigError whose message names the field and what is wrong (no stack trace for the
 * operator), and the same validation serves the fleet's `config/desired`.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type * as z from 'zod';
import { KioskConfigSchema, type KioskConfig } from './config-schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

export type ConfigCheck = { ok: true; config: KioskConfig } | { ok: false; errors: string[] };

export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : '(document)';
  if (issue.code === 'unrecognized_keys') return `${path}: unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union')
    return `${path}: does not match any allowed form (check "driver" and its settings)`;
  return `${path}: ${issue.message}`;
}

/** Validates a parsed document; used for the file and for the fleet's desired config alike. */
export function checkConfig(doc: unknown): ConfigCheck {
  const parsed = KioskConfigSchema.safeParse(doc);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.slice(0, 10).map((i) => describeIssue(i) + misspeltHint(doc, i)),
  };
}

/**
 * A required section reported missing next to a key that is almost its name (`printr` for
 * `printer`): name the misspelt key, which is what the operator has to fix.
 */
function misspeltHint(doc: unknown, issue: z.core.$ZodIssue): string {
  const wanted = issue.path.at(-1);
  if (typeof wanted !== 'string') return '';
  let parent: unknown = doc;
  for (const key of issue.path.slice(0, -1)) parent = (parent as Record<PropertyKey, unknown> | null)?.[key];
  if (!parent || typeof parent !== 'object') return '';
  const near = Object.keys(parent).filter((k) => k !== wanted && editDistance(k, wanted) <= 2);
  const at = issue.path.slice(0, -1).join('.');
  return near.length
    ? ` (found ${near.map((k) => `"${at ? `${at}.` : ''}${k}"`).join(', ')}: misspelt?)`
    : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length]!;
}

/** `JSON.parse` names a character offset; an operator editing the file needs line and column. */
export function jsonErrorWhere(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const offset = Number(m[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${message.replace(/\s*\(line \d+ column \d+\)/, '')} (line ${line}, column ${column})`;
}

const ENV_OVERRIDES: Array<[string, (doc: Record<string, Record<string, unknown>>, value: string) => void]> =
  [
    ['KIOSK_API_CLIENT_SECRET', (d, v) => ((d.api ??= {}).clientSecret = v)],
    ['KIOSK_API_CLIENT_ID', (d, v) => ((d.api ??= {}).clientId = v)],
    ['KIOSK_API_BASE_URL', (d, v) => ((d.api ??= {}).baseUrl = v)],
    ['KIOSK_FLEET_PASSWORD', (d, v) => d.fleet && (d.fleet.password = v)],
    ['KIOSK_FLEET_URL', (d, v) => ((d.fleet ??= {}).url = v)],
    ['KIOSK_ID', (d, v) => ((d.kiosk ??= {}).id = v)],
  ];

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): KioskConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid JSON: ${jsonErrorWhere(text, (err as Error).message)}`]);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(file, ['the document must be a JSON object']);
  const d = doc as Record<string, Record<string, unknown>>;
  for (const [name, apply] of ENV_OVERRIDES) {
    const value = env[name];
    if (value) apply(d, value);
  }
  const checked = checkConfig(d);
  if (!checked.ok) throw new ConfigError(file, checked.errors);
  const config = checked.config;
  if (config.api.baseUrl !== 'standin' && !config.api.clientSecret && !config.api.refreshTokenFile) {
    throw new ConfigError(file, [
      'api.clientSecret: missing (set KIOSK_API_CLIENT_SECRET, or pair the kiosk and set api.refreshTokenFile)',
    ]);
  }
  // Relative paths are relative to the config file, so a config works from any working directory.
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  config.journal.dir = abs(config.journal.dir);
  config.api.standIn.ledger = abs(config.api.standIn.ledger);
  if (config.api.refreshTokenFile) config.api.refreshTokenFile = abs(config.api.refreshTokenFile);
  if (config.fleet) config.fleet.outboxDir = abs(config.fleet.outboxDir);
  if (config.vouchers.keyFile) config.vouchers.keyFile = abs(config.vouchers.keyFile);
  return config;
}
