/**
 * The architecture rules, checked: every import in the kiosk's code, the dashboard, the benchmarks and
 * the scripts against the table in ./layers.ts, and docs/architecture.md naming each layer of it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '../../src/harness/kiosk-process.js';
import { importEdges, LAYERS, layerOf, violations } from './layers.js';

const ROOTS = ['src', 'machines', 'hal', 'bench', 'scripts', 'bin'];

describe('architecture: import rules', () => {
  const edges = importEdges(REPO_ROOT, ROOTS);

  it('finds the imports it checks (static, type-only, re-exports and dynamic)', () => {
    assert.ok(edges.length > 500, `only ${edges.length} imports found`);
    assert.ok(
      edges.some((e) => e.file.startsWith('machines/') && 'pkg' in e.target && e.target.pkg === 'xstate'),
    );
    assert.ok(
      edges.some(
        (e) => e.file.startsWith('src/app/') && 'layer' in e.target && e.target.layer === 'machines',
      ),
    );
  });

  it('every import follows the layer rules', () => {
    assert.deepEqual(violations(edges), []);
  });

  it('reports a broken rule with the file, the import and why', () => {
    const found = violations([
      { file: 'machines/x.ts', specifier: '../hal/display/display.js', target: { layer: 'hal' } },
      { file: 'machines/y.ts', specifier: 'node:fs', target: { pkg: 'node:fs' } },
      { file: 'bench/z.ts', specifier: '../test/support/x.js', target: { layer: 'test' } },
      { file: 'src/newroom/a.ts', specifier: '../util/logger.js', target: { layer: 'src/util' } },
    ]);
    assert.equal(found.length, 4);
    assert.match(
      found[0]!,
      /machines\/x\.ts imports \.\.\/hal\/display\/display\.js: machines may not import hal/,
    );
    assert.match(found[1]!, /package node:fs: machines may import only xstate/);
    assert.match(found[2]!, /bench may not import test/);
    assert.match(found[3]!, /layer src\/newroom has no rule/);
  });

  it('docs/architecture.md lists every layer of the table, and the table every folder of the code', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/architecture.md'), 'utf8');
    const missing = Object.keys(LAYERS).filter((l) => l !== 'src(root)' && !doc.includes(`\`${l}/\``));
    assert.deepEqual(missing, [], 'layers without a row in docs/architecture.md');
    const folders = new Set(edges.map((e) => layerOf(e.file)));
    assert.deepEqual(
      [...folders].filter((f) => !(f in LAYERS)),
      [],
    );
  });
});
