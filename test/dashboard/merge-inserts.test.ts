/**
 * Merging a batch's single-row INSERTs into multi-row ones (fewer round trips to PostgreSQL) keeps
 * the meaning of running them one by one: only DO NOTHING / plain inserts merge, never across another
 * statement of the same table, in chunks whose SQL repeats. The store tests run the merged SQL on a
 * real PostgreSQL.
 */
import assert from 'node:assert/strict';

import type { Statement } from '../../src/dashboard/store/database.js';
import { mergeInserts } from '../../src/dashboard/store/merge-inserts.js';

const ledger = (id: string): Statement => ({
  sql: 'INSERT INTO ledger (kiosk_id, event_id) VALUES (?, ?) ON CONFLICT (kiosk_id, event_id) DO NOTHING',
  params: ['k-1', id],
});
const ensure = (id: string): Statement => ({
  sql: 'INSERT INTO kiosks (id) VALUES (?) ON CONFLICT (id) DO NOTHING',
  params: [id],
});
const touch = (id: string): Statement => ({
  sql: 'INSERT INTO kiosks (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen',
  params: [id],
});
const close = (name: string): Statement => ({
  sql: 'UPDATE alerts SET closed_at = ? WHERE name = ?',
  params: [1, name],
});
const open = (name: string): Statement => ({
  sql: 'INSERT INTO alerts (name) VALUES (?) ON CONFLICT (name) WHERE closed_at IS NULL DO NOTHING',
  params: [name],
});

describe('dashboard store: merging single-row inserts', () => {
  it('turns interleaved event inserts into one statement per table, rows in order', () => {
    const out = mergeInserts([
      ensure('k-1'),
      ledger('e1'),
      ensure('k-2'),
      ledger('e2'),
      ensure('k-1'),
      ledger('e3'),
    ]);
    assert.equal(out.length, 4); // kiosks 2+1, ledger 2+1 (chunks of powers of two)
    assert.equal(out[0]!.sql, 'INSERT INTO kiosks (id) VALUES (?), (?) ON CONFLICT (id) DO NOTHING');
    assert.deepEqual(out[0]!.params, ['k-1', 'k-2']);
    assert.deepEqual(out[1]!.params, ['k-1']);
    const ledgerRows = out.filter((s) => s.sql.includes('ledger')).flatMap((s) => s.params);
    assert.deepEqual(ledgerRows, ['k-1', 'e1', 'k-1', 'e2', 'k-1', 'e3']);
  });

  it('never merges DO UPDATE, and never moves an insert across another statement of its table', () => {
    const out = mergeInserts([touch('k-1'), touch('k-2'), open('a'), close('a'), open('a')]);
    assert.deepEqual(
      out.map((s) => s.sql.slice(0, 22)),
      [
        'INSERT INTO kiosks (id',
        'INSERT INTO kiosks (id',
        'INSERT INTO alerts (na',
        'UPDATE alerts SET clos',
        'INSERT INTO alerts (na',
      ],
    );
    // an unrelated table in between does not stop the merge
    assert.equal(mergeInserts([ledger('e1'), close('a'), ledger('e2')]).length, 2);
  });

  it('keeps statements under the parameter limit and reuses a few SQL texts', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ledger(`e${i}`));
    const out = mergeInserts(many, { maxParams: 200 });
    assert.ok(out.every((s) => s.params.length <= 200));
    assert.equal(out.flatMap((s) => s.params).length, 2000);
    assert.ok(new Set(out.map((s) => s.sql)).size <= 8, 'row counts are powers of two');
  });

  it('leaves statements it does not understand as they are', () => {
    const odd: Statement = { sql: 'INSERT INTO audit (a) VALUES (?) RETURNING id', params: [1] };
    assert.deepEqual(mergeInserts([odd, odd]), [odd, odd]);
  });
});
