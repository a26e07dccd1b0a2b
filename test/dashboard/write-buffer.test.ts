/**
 * The write buffer between the broker and the store, with a store whose reachability the test
 * switches: writes wait through an outage and land once when it ends, the outage is reported once and
 * its end too, the buffer stays bounded by dropping snapshots (never money), and one row the database
 * refuses does not block the others.
 */
import assert from 'node:assert/strict';

import type { Statement } from '../../src/dashboard/store/database.js';
import type { StoreOp } from '../../src/dashboard/store/ops.js';
import { WriteBuffer, type WriteBufferHealth } from '../../src/dashboard/store/write-buffer.js';

class FlakyStore {
  down = false;
  rows: string[] = [];
  async write(statements: Statement[]): Promise<void> {
    if (this.down)
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const bad = statements.find((s) => s.sql === 'bad');
    if (bad) throw Object.assign(new Error('value too long'), { code: '22001' });
    this.rows.push(...statements.map((s) => String(s.params[0])));
  }
}

const op = (name: string, durable: boolean, key?: string): StoreOp => ({
  durable,
  ...(key ? { key } : {}),
  statements: [{ sql: 'insert', params: [name] }],
});

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
}

describe('dashboard write buffer', () => {
  it('keeps money waiting through an outage, says so once, and writes it once when the store is back', async () => {
    const store = new FlakyStore();
    const reports: WriteBufferHealth[] = [];
    const buffer = new WriteBuffer({
      write: (s) => store.write(s),
      onHealth: (h) => reports.push(h),
      minRetryMs: 5,
      maxRetryMs: 20,
    });
    store.down = true;
    let committed = false;
    const money = buffer.add([op('sale-1', true), op('sale-2', true)]).then(() => (committed = true));
    await until('the outage is reported', () => reports.length === 1);
    assert.equal(reports[0]?.ok, false);
    assert.match(reports[0]?.error ?? '', /ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(committed, false, 'not acknowledged while not stored');
    assert.equal(buffer.pending, 2);
    store.down = false;
    await money;
    assert.deepEqual(store.rows, ['sale-1', 'sale-2']);
    assert.deepEqual(
      reports.map((r) => r.ok),
      [false, true],
    );
    assert.equal(buffer.health.ok, true);
  });

  it('stays bounded: a newer snapshot replaces a waiting one, snapshots go oldest first, money never', async () => {
    const store = new FlakyStore();
    const buffer = new WriteBuffer({
      write: (s) => store.write(s),
      maxOps: 4,
      minRetryMs: 5,
      maxRetryMs: 10,
    });
    store.down = true;
    const waits = [
      buffer.add([op('sale-1', true)]),
      buffer.add([op('health-k1-a', false, 'health:k1')]),
      buffer.add([op('sample-1', false)]),
      buffer.add([op('health-k1-b', false, 'health:k1')]),
      buffer.add([op('sample-2', false)]),
      buffer.add([op('sale-2', true)]),
      buffer.add([op('sale-3', true)]),
    ];
    assert.ok(buffer.pending <= 4, `pending ${buffer.pending}`);
    assert.ok(buffer.full);
    assert.equal(buffer.health.dropped, 2);
    store.down = false;
    await Promise.all(waits);
    assert.deepEqual(store.rows.sort(), ['sale-1', 'sale-2', 'sale-3', 'sample-2'].sort());
  });

  it('writes the rest of a batch when the database refuses one row for its data', async () => {
    const store = new FlakyStore();
    const buffer = new WriteBuffer({ write: (s) => store.write(s) });
    const bad: StoreOp = { durable: true, statements: [{ sql: 'bad', params: [] }] };
    await Promise.all([buffer.add([op('a', true)]), buffer.add([bad]), buffer.add([op('b', true)])]);
    assert.deepEqual(store.rows, ['a', 'b']);
    assert.equal(buffer.health.rejected, 1);
    assert.equal(buffer.health.ok, true);
  });
});
