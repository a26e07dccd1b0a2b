import assert from 'node:assert/strict';
import { encodeEventBatch, unpackEvents } from '../../src/fleet/event-batch.js';
import { envelope } from '../../src/fleet/envelope.js';
import { kioskTopics } from '../../src/fleet/topics.js';

describe('evt/batch (several outbox events in one message)', () => {
  const t = kioskTopics('k-0042');
  const sale = (seq: number) =>
    JSON.stringify({ ...envelope('k-0042', 7, seq, 1000 + seq), eventId: `e-${seq}`, kind: 'sale' });
  const text = (p: Uint8Array) => Buffer.from(p).toString('utf8');

  it('unpacks into the messages each event would have been on its own topic, in order', () => {
    const body = encodeEventBatch(envelope('k-0042', 8, 3, 5000), [
      { topic: t.evt('transaction'), body: sale(1) },
      { topic: t.evt('cash'), body: sale(2) },
      { topic: t.evt('transaction'), body: sale(3) },
    ]);
    const doc = JSON.parse(body) as { v: number; batch: number; seq: number; sid: number; events: unknown[] };
    assert.deepEqual([doc.v, doc.batch, doc.seq, doc.sid, doc.events.length], [1, 1, 3, 8, 3]);
    const out = unpackEvents(t.evt('batch'), Buffer.from(body));
    assert.deepEqual(
      out.map((m) => m.topic),
      [t.evt('transaction'), t.evt('cash'), t.evt('transaction')],
    );
    assert.deepEqual(
      out.map((m) => JSON.parse(text(m.payload)) as unknown),
      [1, 2, 3].map((s) => JSON.parse(sale(s)) as unknown),
      'each event keeps its own envelope, seq and eventId',
    );
  });

  it('passes anything that is not a batch through unchanged', () => {
    const payload = Buffer.from(sale(9));
    for (const topic of [t.evt('transaction'), t.state, 'other/topic']) {
      const out = unpackEvents(topic, payload);
      assert.equal(out.length, 1);
      assert.equal(out[0]?.topic, topic);
      assert.equal(out[0]?.payload, payload);
    }
  });

  it('a malformed batch comes back whole, for the consumer to reject visibly, never half-read', () => {
    const good = { ...envelope('k-0042', 8, 3, 5000), batch: 1 };
    const bad = [
      'not json',
      JSON.stringify({ ...good, batch: 2, events: [] }), // a batch format this code does not know
      JSON.stringify({ ...good, events: 'x' }),
      JSON.stringify({ ...good, id: 'k-0043', events: [] }), // names another kiosk
      JSON.stringify({
        ...good,
        events: [{ type: 'transaction', msg: JSON.parse(sale(1)) }, { type: 'cash' }],
      }),
      JSON.stringify({ ...good, events: [{ type: 'batch', msg: JSON.parse(sale(1)) }] }), // no nesting
      JSON.stringify({ ...good, events: [{ type: 'a/b', msg: JSON.parse(sale(1)) }] }),
      JSON.stringify({ ...good, events: [{ type: 'cash', msg: { ...JSON.parse(sale(1)), id: 'k-0043' } }] }),
    ];
    for (const b of bad) {
      const payload = Buffer.from(b);
      const out = unpackEvents(t.evt('batch'), payload);
      assert.deepEqual(out, [{ topic: t.evt('batch'), payload }], b);
    }
  });
});
