/**
 * Writes docs/machines/<name>.md: a Mermaid state diagram of each machine, generated from its
 * definition. `--check` writes nothing and exits 1 when a committed page is stale.
 * Run: npx tsx scripts/machines-docs.ts [--check]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MACHINE_PAGES } from '../machines/machine-pages.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const page of MACHINE_PAGES) {
  const file = join(root, 'docs', 'machines', `${page.name}.md`);
  const text = page.render();
  if (check) {
    const old = existing(file);
    if (old !== text) {
      stale++;
      console.error(`stale: docs/machines/${page.name}.md (run npm run docs:machines)`);
    }
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote docs/machines/${page.name}.md`);
}
process.exitCode = stale > 0 ? 1 : 0;

function existing(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
