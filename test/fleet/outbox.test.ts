import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Outbox } from '../../src/fleet/outbox.js';
import { OutboxPump, type PumpClient } from '../../src/fleet/outbox-pump.js';
import { unpackEvents } from '../../src/fleet/event-batch.js';
import { InflightBudget } from '../../src/fleet/inflight-budget.js';

describe('fleet outbox (durable, bounded)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const body = (seq: number) => JSON.stringify({ seq, pad: 'x'.repeat(50) });

  it('keeps unacknowledged messages, seq and sid across a reopen; seq never resets', async () => {
    const a = await Outbox.open({ dir });
    assert.equal(await a.nextSid(), 1);
    const r1 = a.enqueue('t/evt/transaction', true, 1000, body);
    const r2 = a.enqueue('t/evt/fault', false, 1001, body);
    a.enqueue('t/evt/cash', true, 1002, body);
    assert.deepEqual([r1.seq, r2.seq], [1, 2]);
    assert.equal(await r1.stored, true);
    a.ack(1);
    await a.close();

    const b = await Outbox.open({ dir });
    assert.equal(b.sid, 1);
    assert.equal(await b.nextSid(), 2);
    assert.deepEqual(
      [...b.pending()].map((r) => [r.seq, r.topic, r.money]),
      [
        [2, 't/evt/fault', false],
        [3, 't/evt/cash', true],
      ],
    );
    b.ack(2);
    b.ack(3);
    await b.close();

    const c = await Outbox.open({ dir });
    assert.equal(c.size, 0);
    assert.equal(
      c.enqueue('t/evt/x', false, 1, body).seq,
      4,
      'seq continues after everything was acknowledged',
    );
    await c.close();
  });

  it("an event enqueued the moment the last one's `stored` resolves is written at once (not left for the next write)", async () => {
    const box = await Outbox.open({ dir });
    // Awaiting `stored` resumes in the tick the writer saw its queue empty: before, the next add waited
    // for whatever write came next, in memory only (and flush() returned without it).
    const adds = (async () => {
      for (let i = 0; i < 3; i++)
        await box.enqueue('kiosk/v1/x/evt/cash', true, i, () => `{"n":${i}}`).stored;
      return 'written';
    })();
    const stuck = new Promise<string>((r) => setTimeout(() => r('stuck'), 2000));
    assert.equal(await Promise.race([adds, stuck]), 'written');
    await box.close();
  });

  it('cuts off a torn tail (power cut mid-write) and keeps everything before it', async () => {
    const a = await Outbox.open({ dir });
    a.enqueue('t/evt/cash', true, 1, body);
    a.enqueue('t/evt/cash', true, 2, body);
    await a.close();
    const log = path.join(dir, 'outbox.log');
    const good = (await stat(log)).size;
    await appendFile(log, Buffer.from([1, 200, 0, 0, 0, 1, 2, 3, 4, 123, 34])); // header promising 200 bytes
    const b = await Outbox.open({ dir });
    assert.deepEqual(
      [...b.pending()].map((r) => r.seq),
      [1, 2],
    );
    assert.equal((await stat(log)).size, good, 'tail truncated');
    assert.equal(b.enqueue('t/evt/cash', true, 3, body).seq, 3);
    await b.close();
    const c = await Outbox.open({ dir });
    assert.equal(c.size, 3, 'records written after the cut are readable');
    await c.close();
  });

  it('stops at a record whose CRC does not match', async () => {
    const a = await Outbox.open({ dir });
    a.enqueue('t/evt/cash', true, 1, body);
    a.enqueue('t/evt/cash', true, 2, body);
    await a.close();
    const log = path.join(dir, 'outbox.log');
    const data = await readFile(log);
    const at = data.length - 5; // a byte in the last record's payload
    data.writeUInt8(data.readUInt8(at) ^ 0xff, at);
    await writeFile(log, data);
    const b = await Outbox.open({ dir });
    assert.deepEqual(
      [...b.pending()].map((r) => r.seq),
      [1],
    );
    assert.equal(
      b.enqueue('t/evt/cash', true, 3, body).seq,
      3,
      'the seq of the corrupt record is not reused',
    );
    await b.close();
  });

  it('under pressure drops the oldest telemetry first and never a money event', async () => {
    const a = await Outbox.open({ dir, maxMessages: 5 });
    a.enqueue('t/evt/cash', true, 1, body); // 1 money
    a.enqueue('t/evt/fault', false, 2, body); // 2 telemetry
    a.enqueue('t/evt/fault', false, 3, body); // 3 telemetry
    a.enqueue('t/evt/transaction', true, 4, body); // 4 money
    a.enqueue('t/evt/fault', false, 5, body); // 5 telemetry
    a.enqueue('t/evt/transaction', true, 6, body); // over: drops 2
    assert.deepEqual(
      [...a.pending()].map((r) => r.seq),
      [1, 3, 4, 5, 6],
    );
    for (let i = 7; i <= 9; i++) a.enqueue('t/evt/cash', true, i, body); // drops 3 and 5, then money only
    assert.deepEqual(
      [...a.pending()].map((r) => r.seq),
      [1, 4, 6, 7, 8, 9],
    );
    const stats = a.stats();
    assert.equal(stats.size, 6);
    assert.equal(stats.money, 6);
    assert.equal(stats.dropped, 3);
    assert.equal(stats.oldestTs, 1);
    await a.close();
    const b = await Outbox.open({ dir, maxMessages: 5 });
    assert.equal(b.stats().dropped, 3, 'dropped count survives a reopen');
    assert.equal(b.size, 6);
    await b.close();
  });

  it('compacts the log once mostly acknowledged, keeping the live records and the seq', async () => {
    const a = await Outbox.open({ dir, compactBytes: 4096 });
    for (let i = 0; i < 200; i++) a.enqueue('t/evt/cash', true, i, body);
    for (let s = 1; s <= 195; s++) a.ack(s);
    await a.flush();
    a.enqueue('t/evt/cash', true, 999, body);
    await a.flush();
    const size = (await stat(path.join(dir, 'outbox.log'))).size;
    assert.ok(size < 4096, `log compacted to ${size} bytes`);
    await a.close();
    const b = await Outbox.open({ dir });
    assert.deepEqual(
      [...b.pending()].map((r) => r.seq),
      [196, 197, 198, 199, 200, 201],
    );
    assert.equal(b.enqueue('t', true, 1, body).seq, 202);
    await b.close();
  });

  it('the pump keeps at most `window` publishes in flight and removes each only on its acknowledgement', async () => {
    const box = await Outbox.open({ dir, fsync: false });
    for (let i = 0; i < 50; i++) box.enqueue('t/evt/cash', true, i, body);
    const pending: { topic: string; cb: (err?: Error) => void }[] = [];
    const client = {
      connected: true,
      publish: (topic: string, _b: string, _o: object, cb: (err?: Error) => void) => {
        pending.push({ topic, cb });
      },
    } as unknown as PumpClient;
    const pump = new OutboxPump({ outbox: box, window: 16 });
    pump.attach(client);
    assert.equal(pending.length, 16);
    assert.equal(box.size, 50, 'nothing removed before an acknowledgement');
    pending.shift()!.cb();
    assert.equal(box.size, 49);
    assert.equal(pending.length, 16, 'the window is refilled');
    pending.shift()!.cb(new Error('Publish error: Not authorized'));
    assert.equal(box.size, 49, 'a refused publish stays in the outbox');
    // connection lost: late callbacks are ignored, the next connection sends from the oldest again
    pump.detach();
    const late = pending.splice(0);
    late.forEach((p) => p.cb());
    assert.equal(box.size, 49);
    pump.attach(client);
    assert.equal(pending.length, 16);
    while (pending.length) pending.shift()!.cb();
    assert.equal(box.size, 0);
    assert.equal(pump.ackedCount, 50);
    await box.close();
  });

  it('after a crash (no clean close) seq jumps ahead of anything that may have been handed out', async () => {
    const a = await Outbox.open({ dir });
    for (let i = 0; i < 3; i++) a.enqueue('t/evt/cash', true, i, body);
    await a.flush(); // records on disk, but no close(): as if the power went
    const b = await Outbox.open({ dir });
    assert.equal(b.size, 3);
    const next = b.enqueue('t/evt/cash', true, 9, body).seq;
    assert.ok(next > 3, `seq ${next} continues above the old ones`);
    await b.close();
    const c = await Outbox.open({ dir });
    assert.equal(c.enqueue('t/evt/cash', true, 10, body).seq, next + 1, 'after a clean close: no gap');
    await c.close();
    // the "crashed" instance still holds its file handle
    await (a as unknown as { fh: { close(): Promise<void> } }).fh.close();
  });

  describe('pump: Receive Maximum and evt/batch', () => {
    interface Sent {
      topic: string;
      body: string;
      cb: (err?: Error) => void;
    }
    function fakeClient(): { client: PumpClient; sent: Sent[] } {
      const sent: Sent[] = [];
      const client = {
        connected: true,
        publish: (topic: string, b: string, _o: object, cb: (err?: Error) => void) => {
          sent.push({ topic, body: b, cb });
        },
      } as unknown as PumpClient;
      return { client, sent };
    }
    const kioskBody = (seq: number) =>
      JSON.stringify({ v: 1, id: 'k-1', sid: 1, seq, ts: seq, eventId: `e${seq}` });
    const batchOpts = {
      topic: 'kiosk/v1/k-1/evt/batch',
      header: (seq: number) => ({ v: 1, id: 'k-1', sid: 2, seq, ts: 0 }),
    };

    it('never has more in flight than the Receive Maximum, leaving room for the reporter', async () => {
      const box = await Outbox.open({ dir, fsync: false });
      for (let i = 0; i < 40; i++) box.enqueue('kiosk/v1/k-1/evt/cash', true, i, kioskBody);
      const { client, sent } = fakeClient();
      const budget = new InflightBudget(5);
      const pump = new OutboxPump({ outbox: box, window: 32 });
      pump.attach(client, { budget });
      assert.equal(sent.length, 3, 'Receive Maximum 5, two slots kept for birth/state/answers');
      assert.equal(budget.take(), true, 'the reporter still finds a slot');
      sent.shift()!.cb();
      assert.equal(sent.length, 3, 'a PUBACK frees one slot: the pump takes it, not more');
      assert.ok(budget.inUse <= budget.max);
      budget.release(); // the reporter's PUBACK
      assert.equal(sent.length, 3, 'still only Receive Maximum - 2 for the pump');
      assert.equal(box.size, 39);
      await box.close();
    });

    it('batches when the window is the limit; each event leaves the outbox only with its batch PUBACK', async () => {
      const box = await Outbox.open({ dir, fsync: false });
      for (let i = 0; i < 100; i++) box.enqueue('kiosk/v1/k-1/evt/transaction', true, i, kioskBody);
      const { client, sent } = fakeClient();
      const pump = new OutboxPump({ outbox: box, window: 32, batch: { ...batchOpts, maxEvents: 10 } });
      pump.attach(client, { budget: new InflightBudget(4) });
      assert.equal(sent.length, 2, 'Receive Maximum 4 - 2 kept');
      assert.deepEqual(
        sent.map((m) => m.topic),
        ['kiosk/v1/k-1/evt/batch', 'kiosk/v1/k-1/evt/batch'],
      );
      const seqsOf = (m: Sent) =>
        unpackEvents(m.topic, Buffer.from(m.body)).map(
          (x) => (JSON.parse(Buffer.from(x.payload).toString('utf8')) as { seq: number }).seq,
        );
      assert.deepEqual(seqsOf(sent[0]!), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(seqsOf(sent[1]!), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      assert.equal(box.size, 100, 'nothing removed before the broker acknowledged');
      sent[1]!.cb(new Error('Publish error: Quota exceeded'));
      assert.equal(box.size, 100, 'a refused batch keeps all its events');
      sent[0]!.cb();
      assert.equal(box.size, 90, 'the acknowledged batch removes exactly its ten');
      assert.ok(!box.has(10) && box.has(11));
      await box.close();
    });

    it('a live event with a free slot goes alone on its own topic; a batch respects the byte limit', async () => {
      const box = await Outbox.open({ dir, fsync: false });
      const { client, sent } = fakeClient();
      const pump = new OutboxPump({ outbox: box, window: 32, batch: { ...batchOpts, maxBytes: 1000 } });
      pump.attach(client, { budget: new InflightBudget(20) });
      box.enqueue('kiosk/v1/k-1/evt/cash', true, 1, kioskBody);
      pump.pump();
      assert.deepEqual(
        sent.map((m) => m.topic),
        ['kiosk/v1/k-1/evt/cash'],
      );
      sent.shift()!.cb();
      pump.detach();
      for (let i = 0; i < 200; i++) box.enqueue('kiosk/v1/k-1/evt/cash', true, i, kioskBody);
      pump.attach(client, { budget: new InflightBudget(4) });
      assert.equal(sent.length, 2);
      for (const m of sent) assert.ok(m.body.length <= 1000, `batch of ${m.body.length} bytes`);
      assert.ok(
        unpackEvents(sent[0]!.topic, Buffer.from(sent[0]!.body)).length > 5,
        'still several per batch',
      );
      while (sent.length) sent.shift()!.cb();
      assert.equal(box.size, 0);
      assert.equal(pump.ackedCount, 201);
      await box.close();
    });
  });
});
