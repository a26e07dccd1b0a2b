/**
 * Loads the merchant's example API answers from ../shared/seeds: prose around one JSON document,
 * with the inconsistencies real documents have (`// ...` elisions, a missing comma between two
 * objects). Extraction is forgiving; what the kiosk relies on is then checked by the schemas.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR =
  process.env.KIOSK_SHARED_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared');
export const SEEDS_DIR = join(SHARED_DIR, 'seeds');

export interface Seed {
  file: string;
  text: string;
  /** The transaction document found in the seed. */
  json: Record<string, unknown>;
}

/** Every balanced `{...}` block outside strings, in order. */
function balancedBlocks(text: string): string[] {
  const blocks: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0) blocks.push(text.slice(start, i + 1));
    }
  }
  return blocks;
}

/** Repairs the seeds' documentation shorthand into JSON. */
export function repairJson(block: string): string {
  return (
    block
      // `// ...` elisions, on their own line or inline; URLs inside strings have no space before `...`
      .replace(/\/\/\s*\.\.\./g, '')
      // a missing comma between two objects or arrays in a list: `}\n{`
      .replace(/}(\s*){/g, '},$1{')
      // trailing commas left by the removed elisions
      .replace(/,(\s*[}\]])/g, '$1')
  );
}

export function extractTransaction(text: string): Record<string, unknown> {
  const candidates = balancedBlocks(text).filter((b) => b.includes('smart.transactions'));
  const block = candidates.sort((a, b) => b.length - a.length)[0];
  if (!block) throw new Error('no transaction document found');
  return JSON.parse(repairJson(block)) as Record<string, unknown>;
}

export function loadSeeds(): Seed[] {
  return readdirSync(SEEDS_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(SEEDS_DIR, file), 'utf8');
      return { file, text, json: extractTransaction(text) };
    });
}

/** The seeds' transaction documents, keyed by their number prefix (`000`..`004`). */
export function loadSeedTransactions(): Map<string, Record<string, unknown>> {
  return new Map(loadSeeds().map((s) => [s.file.slice(0, 3), s.json]));
}
