/**
 * The reporter against a real Mosquitto (MQTT 5: Will Delay, session expiry, message expiry).
 * Short timings (Will Delay 1 s, back-off 100-400 ms) keep the suite fast; the behaviour is the same.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  BirthMessageSchema,
  CmdresMessageSchema,
  ConfigReportedMessageSchema,
  HealthMessageSchema,
  StateMessageSchema,
  TransactionEventMessageSchema,
} from '../../src/fleet/envelope.js';
import { FleetReporter, type FleetReporterOptions } from '../../src/fleet/reporter.js';
import { unpackEvents } from '../../src/fleet/event-batch.js';
import { MqttClient, type IClientPublishOptions, type PacketCallback } from 'mqtt';
import sinon from 'sinon';
import { recordingLogger } from '../../src/util/logger.js';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { FakeKiosk, birthFacts, healthFacts } from './support/fake-kiosk.js';
import { Observer, sleep } from './support/observer.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

describe('fleet reporter against a real Mosquitto', function () {
  this.timeout(30_000);
  let broker: MosquittoBroker;
  let dataDir: string;
  let kiosk: FakeKiosk;
  let observer: Observer;
  const reporters: FleetReporter[] = [];
  let n = 0;
  let id: string;

  before(async function () {
    await needs(this, MOSQUITTO);
    broker = await startMosquitto();
  });
  after(async () => {
    await broker?.stop();
  });

  beforeEach(async () => {
    id = `k-test${++n}`;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-'));
    kiosk = new FakeKiosk();
    observer = await Observer.connect(broker.url, [`kiosk/v1/${id}/#`]);
  });
  afterEach(async () => {
    if (!broker.running) await broker.start(); // a test that failed while the broker was down
    for (const r of reporters.splice(0)) await r.kill().catch(() => undefined);
    await observer.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function reporter(over: Partial<FleetReporterOptions> = {}): FleetReporter {
    const r = new FleetReporter({
      kioskId: id,
      url: broker.url,
      dataDir,
      port: kiosk,
      birth: birthFacts,
      health: healthFacts,
      validateConfig: (doc) =>
        typeof (doc as { prices?: unknown }).prices === 'object'
          ? { ok: true }
          : { ok: false, errors: ['prices: required'] },
      heartbeatMs: 60_000,
      willDelayS: 1,
      sessionExpiryS: 60,
      reconnectMinMs: 100,
      reconnectMaxMs: 400,
      connectTimeoutMs: 2000,
      commandIdlePollMs: 50,
      commandIdleWaitMs: 500,
      ...over,
    });
    reporters.push(r);
    return r;
  }

  it('publishes birth, then state, then health on connect, all valid against the schemas', async () => {
    const r = reporter();
    await r.start();
    await observer.waitFor('health', () => observer.on('/health').length > 0);
    const topics = observer.messages.map((m) => m.topic.split('/').slice(3).join('/'));
    assert.deepEqual(topics.slice(0, 2), ['birth', 'state']);
    const birth = BirthMessageSchema.parse(observer.on('/birth')[0]?.json);
    assert.equal(birth.id, id);
    assert.equal(birth.sid, 1);
    assert.equal(birth.firmware, '0.1.0-test');
    // The kiosk's display name survives the privacy scrub (which drops any key called `name`).
    assert.deepEqual([birth.kioskName, birth.site], ['Bahnhof Süd', 'test-site']);
    const state = StateMessageSchema.parse(observer.on('/state')[0]?.json);
    assert.equal(state.state, 'online');
    const health = HealthMessageSchema.parse(observer.on('/health')[0]?.json);
    assert.equal(health.outbox.size, 0);
    assert.equal(health.counters.sinceInstall.sales.cents, 2388);
    assert.ok(observer.on('/birth')[0]?.retain === false); // live delivery: retain flag only on replays
  });

  it("writes its packets without mqtt-packet's number cache (65,536 Buffers: 6 MB of the kiosk's heap)", async () => {
    // the mqtt-packet that mqtt itself loads; the cache is one switch for the whole process
    const packets = createRequire(createRequire(import.meta.url).resolve('mqtt'))('mqtt-packet') as {
      writeToStream: { cacheNumbers: boolean };
    };
    packets.writeToStream.cacheNumbers = true; // as in a process that has not connected a reporter yet
    const r = reporter();
    await r.start();
    await observer.waitFor('health', () => observer.on('/health').length > 0);
    assert.equal(packets.writeToStream.cacheNumbers, false);
  });

  it('publishes birth and state again on every reconnect, with a rising sid', async () => {
    const r = reporter();
    await r.start();
    await observer.waitFor('first birth', () => observer.on('/birth').length === 1);
    const sid1 = BirthMessageSchema.parse(observer.on('/birth')[0]?.json).sid;
    r.dropConnectionForTest();
    await observer.waitFor('second birth', () => observer.on('/birth').length === 2);
    await observer.waitFor('second state', () => observer.on('/state').length === 2);
    const sid2 = BirthMessageSchema.parse(observer.on('/birth')[1]?.json).sid;
    const state2 = StateMessageSchema.parse(observer.on('/state')[1]?.json);
    assert.ok(sid2 > sid1, `sid ${sid2} should be above ${sid1}`);
    assert.equal(state2.sid, sid2);
    const order = observer.messages
      .map((m) => m.topic.split('/')[3])
      .filter((t) => t === 'birth' || t === 'state');
    assert.deepEqual(order, ['birth', 'state', 'birth', 'state']);
    assert.equal(r.metrics().connects, 2);
  });

  it('keeps sid on disk: a new process continues above the last one', async () => {
    const r1 = reporter();
    await r1.start();
    await observer.waitFor('birth', () => observer.on('/birth').length === 1);
    await r1.stop();
    const r2 = reporter();
    await r2.start();
    await observer.waitFor('second birth', () => observer.on('/birth').length === 2);
    const sids = observer.on('/birth').map((m) => BirthMessageSchema.parse(m.json).sid);
    assert.ok(sids[1]! > sids[0]!, `sids ${sids.join(',')}`);
  });

  it('the Will: state=lost with the current sid after the Will Delay when the kiosk dies', async () => {
    const r = reporter({ willDelayS: 1 });
    await r.start();
    await observer.waitFor('birth', () => observer.on('/birth').length === 1);
    const sid = BirthMessageSchema.parse(observer.on('/birth')[0]?.json).sid;
    const killedAt = Date.now();
    await r.kill();
    const lost = await observer.waitFor('lost', () =>
      observer.on('/state').find((m) => m.json?.state === 'lost'),
    );
    const state = StateMessageSchema.parse(lost.json);
    assert.equal(state.sid, sid);
    assert.ok(lost.at - killedAt >= 900, `lost after ${lost.at - killedAt} ms, before the Will Delay`);
  });

  it('clean shutdown: state=offline, and no lost afterwards', async () => {
    const r = reporter({ willDelayS: 1 });
    await r.start();
    await observer.waitFor('state', () => observer.on('/state').length === 1);
    await r.stop({ reason: 'update' });
    const off = await observer.waitFor('offline', () =>
      observer.on('/state').find((m) => m.json?.state === 'offline'),
    );
    assert.equal(StateMessageSchema.parse(off.json).reason, 'update');
    await sleep(1600); // longer than the Will Delay: a Will would have arrived by now
    assert.equal(observer.on('/state').filter((m) => m.json?.state === 'lost').length, 0);
  });

  it('alerts: set retained, cleared with an empty retained payload, repeated sets publish once', async () => {
    const r = reporter();
    await r.start();
    await observer.waitFor('state', () => observer.on('/state').length === 1);
    r.setAlert('paper_out', { severity: 'critical', message: 'printer paper out' });
    r.setAlert('paper_out', { severity: 'critical', message: 'printer paper out' });
    await observer.waitFor('alert', () => observer.on('/alert/paper_out').length === 1);
    r.clearAlert('paper_out');
    await observer.waitFor('clear', () => observer.on('/alert/paper_out').length === 2);
    const [set, clear] = observer.on('/alert/paper_out');
    assert.equal(set?.json?.severity, 'critical');
    assert.equal(clear?.payload, '');
    // a late subscriber sees no retained alert any more
    const late = await Observer.connect(broker.url, [`kiosk/v1/${id}/alert/#`]);
    await sleep(200);
    assert.equal(late.messages.length, 0);
    await late.close();
  });

  it('an alert left by an earlier run is cleared at the next run unless set again', async () => {
    const r1 = reporter();
    await r1.start();
    r1.setAlert('paper_out', { severity: 'critical' });
    r1.setAlert('cashbox_full');
    await observer.waitFor(
      'alerts',
      () => observer.messages.filter((m) => m.topic.includes('/alert/')).length === 2,
    );
    await r1.stop();
    const r2 = reporter();
    r2.setAlert('cashbox_full'); // still true at start-up
    await r2.start();
    await observer.waitFor('paper_out cleared', () =>
      observer.on('/alert/paper_out').find((m) => m.payload === ''),
    );
    r2.clearAlert('paper_out');
    r2.clearAlert('paper_out');
    await observer.waitFor('cashbox_full again', () => observer.on('/alert/cashbox_full').length === 2);
    const late = await Observer.connect(broker.url, [`kiosk/v1/${id}/alert/#`]);
    await late.waitFor('retained cashbox_full', () => late.messages.length === 1);
    assert.equal(late.messages[0]?.topic, `kiosk/v1/${id}/alert/cashbox_full`);
    await late.close();
    assert.ok(
      observer.on('/alert/paper_out').filter((m) => m.payload === '').length <= 2,
      'repeated clears publish once',
    );
  });

  it('broker restart: reconnects by itself, birth and state again, retained state kept', async () => {
    const r = reporter();
    await r.start();
    await observer.waitFor('birth', () => observer.on('/birth').length === 1);
    await broker.restart();
    await observer.waitFor('birth after restart', () => observer.on('/birth').length >= 2, 10_000);
    assert.ok(r.isConnected);
    const late = await Observer.connect(broker.url, [`kiosk/v1/${id}/state`]);
    const retained = await late.waitFor('retained state', () => late.messages[0]);
    assert.equal(retained.retain, true);
    assert.equal(retained.json?.state, 'online');
    await late.close();
  });

  it('broker down for a while: every event arrives afterwards, in seq order, none twice', async () => {
    // the back end keeps a persistent session, so the broker queues for it while it reconnects too
    const backend = await Observer.connect(broker.url, [`kiosk/v1/${id}/evt/#`], {
      clientId: `backend-${id}`,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      reconnectPeriod: 200,
    });
    const log = recordingLogger();
    const r = reporter({ logger: log });
    await r.start();
    await observer.waitFor('online', () => observer.on('/state').length === 1);
    const sale = (i: number) =>
      r.event('transaction', {
        kind: 'sale',
        outcome: 'completed',
        amountCents: 100 + i,
        currency: 'EUR',
        paymentMethod: 'card_balance',
        card: '9276000011112845',
      });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(sale(i).eventId);
    await broker.halt();
    // sales go on while the broker is away: event() returns at once, never throws
    for (let i = 10; i < 60; i++) {
      // event() answers synchronously (no promise to wait on): a sale never waits for the broker.
      const rec = sale(i);
      assert.equal(typeof (rec as unknown as Promise<unknown>).then, 'undefined', 'event() must not block');
      assert.equal(rec.accepted, true, JSON.stringify(log.records.filter((x) => x.level === 'error')));
      ids.push(rec.eventId);
      if (i % 10 === 0) await sleep(500);
    }
    r.event('fault', { device: 'printer', code: 'paper_low' });
    assert.ok(r.metrics().outbox.size > 0, 'events wait in the outbox');
    await broker.start();
    // a replay may come packed in evt/batch messages: the back end unpacks them (unpackEvents)
    const events = () =>
      backend.messages.flatMap((m) =>
        unpackEvents(m.topic, Buffer.from(m.payload)).map(
          (e) => JSON.parse(Buffer.from(e.payload).toString('utf8')) as { eventId: string; seq: number },
        ),
      );
    const distinct = () => new Set(events().map((e) => e.eventId));
    await backend.waitFor('all events', () => distinct().size === 61, 15_000);
    // de-duplicate by eventId and check the order
    const seen = new Set<string>();
    const seqs: number[] = [];
    for (const evt of events()) {
      if (seen.has(evt.eventId)) continue;
      seen.add(evt.eventId);
      seqs.push(evt.seq);
    }
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'seq order',
    );
    assert.equal(seqs[seqs.length - 1]! - seqs[0]! + 1, seqs.length, 'no gaps');
    for (const id2 of ids) assert.ok(seen.has(id2), `event ${id2} arrived`);
    const first = TransactionEventMessageSchema.parse(events()[0]);
    assert.equal(first.card, '9276********2845');
    await observer.waitFor('outbox empty', () => r.metrics().outbox.size === 0 || undefined);
    await backend.close();
  });

  it("honours the broker's Receive Maximum; a backlog travels in evt/batch, each event once when unpacked", async () => {
    // Mosquitto advertises max_inflight_messages as Receive Maximum in the CONNACK (but does not enforce
    // it; other brokers disconnect with 0x93), so the test counts the QoS 1 publishes awaiting a PUBACK
    // at the MQTT.js client itself.
    const small = await startMosquitto({ extraConfig: ['max_inflight_messages 6'] });
    let outstanding = 0;
    let peak = 0;
    const publish = MqttClient.prototype.publish;
    const spy = sinon.stub(MqttClient.prototype, 'publish').callsFake(function (
      this: MqttClient,
      ...args: unknown[]
    ) {
      const [topic, message, opts, cb] = args as [string, string, IClientPublishOptions, PacketCallback];
      if (this.options.clientId !== id || opts?.qos !== 1)
        return publish.call(this, topic, message, opts, cb);
      outstanding++;
      peak = Math.max(peak, outstanding);
      return publish.call(this, topic, message, opts, (err, packet) => {
        outstanding--;
        cb?.(err, packet);
      });
    });
    const backend = await Observer.connect(small.url, [`kiosk/v1/${id}/evt/#`]);
    try {
      const r = reporter({ url: small.url, fsync: false });
      await small.halt();
      await r.start();
      const ids: string[] = [];
      for (let i = 0; i < 1000; i++) {
        ids.push(r.event('cash', { action: 'inserted', amountCents: 10 * (i + 1), currency: 'EUR' }).eventId);
      }
      r.setAlert('printer', { severity: 'warning', message: 'paper low' });
      assert.equal(r.metrics().outbox.size, 1000);
      await small.start();
      await backend.client.reconnect();
      const events = () =>
        backend.messages.flatMap((m) =>
          unpackEvents(m.topic, Buffer.from(m.payload)).map(
            (e) => JSON.parse(Buffer.from(e.payload).toString('utf8')) as { eventId: string; seq: number },
          ),
        );
      await backend.waitFor(
        '1000 events',
        () => new Set(events().map((e) => e.eventId)).size === 1000,
        15_000,
      );
      await backend.waitFor('outbox empty', () => r.metrics().outbox.size === 0 || undefined);
      assert.ok(peak <= 6, `at most Receive Maximum (6) unacknowledged, saw ${peak}`);
      assert.ok(peak >= 2, `the window was used (${peak})`);
      assert.ok(backend.on('/evt/batch').length > 0, 'the backlog went in batches');
      assert.ok(backend.messages.length < 100, `${backend.messages.length} messages for 1000 events`);
      const seqs = events().map((e) => e.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'in seq order',
      );
      assert.deepEqual(new Set(events().map((e) => e.eventId)), new Set(ids));
      await observer.close();
      observer = await Observer.connect(small.url, [`kiosk/v1/${id}/alert/#`]);
      await observer.waitFor(
        'the alert got through the budget too',
        () => observer.on('/alert/printer').length > 0,
      );
    } finally {
      spy.restore();
      await backend.close();
      for (const r of reporters.splice(0)) await r.kill().catch(() => undefined);
      await small.stop();
    }
  });

  describe('commands', () => {
    let r: FleetReporter;
    const cmd = (name: string, args: object = {}, over: object = {}) => ({
      cmdId: randomUUID(),
      issuedAt: Date.now(),
      expiresAt: Date.now() + 60_000,
      args,
      ...over,
    });
    const send = (name: string, payload: object | string | Buffer) =>
      observer.publish(
        `kiosk/v1/${id}/cmd/${name}`,
        typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
      );
    const answers = (cmdId: string | null) =>
      observer
        .on('/cmdres')
        .map((m) => CmdresMessageSchema.parse(m.json))
        .filter((a) => a.cmdId === cmdId);

    beforeEach(async () => {
      r = reporter();
      await r.start();
      await observer.waitFor('online', () => observer.on('/state').length === 1);
    });

    it('ping: accepted, then succeeded with a pong, on its own cmdres topic', async () => {
      const c = cmd('ping');
      await send('ping', c);
      await observer.waitFor('answers', () => answers(c.cmdId).length === 2);
      const [a, b] = answers(c.cmdId);
      assert.equal(a?.status, 'accepted');
      assert.equal(b?.status, 'succeeded');
      assert.equal((b?.result as { pong: boolean }).pong, true);
    });

    it('a duplicate cmdId is not run twice; the answer is repeated, marked duplicate', async () => {
      const c = cmd('lock', { reason: 'vandalism' });
      await send('lock', c);
      await observer.waitFor('answers', () => answers(c.cmdId).length === 2);
      await send('lock', c);
      await observer.waitFor('duplicate answer', () => answers(c.cmdId).length === 3);
      assert.equal(answers(c.cmdId)[2]?.duplicate, true);
      assert.deepEqual(kiosk.calls, ['lock:vandalism']);
      await observer.waitFor('state out_of_service', () =>
        observer.on('/state').find((m) => m.json?.state === 'out_of_service'),
      );
    });

    it('an expired command is refused', async () => {
      const c = cmd('maintenance', { on: true }, { expiresAt: Date.now() - 1000 });
      await send('maintenance', c);
      await observer.waitFor('answer', () => answers(c.cmdId).length === 1);
      assert.equal(answers(c.cmdId)[0]?.status, 'rejected');
      assert.equal(answers(c.cmdId)[0]?.reason, 'expired');
      assert.deepEqual(kiosk.calls, []);
    });

    it('malformed payloads are rejected, and the kiosk keeps working', async () => {
      await send('ping', 'not json {');
      await send('ping', { cmdId: 42, issuedAt: 'yesterday', expiresAt: null, args: [] });
      await send('ping', Buffer.alloc(20 * 1024, 0x41));
      await send('ping', { ...cmd('ping'), cmdId: 'not-a-uuid' });
      await observer.waitFor(
        'answers',
        () => answers(null).length === 3 && answers('not-a-uuid').length === 1,
      );
      const reasons = answers(null).map((a) => a.reason);
      assert.deepEqual(reasons.sort(), ['malformed', 'malformed', 'too_large']);
      assert.equal(answers('not-a-uuid')[0]?.reason, 'malformed');
      const c = cmd('ping');
      await send('ping', c);
      await observer.waitFor('still answering', () => answers(c.cmdId).length === 2);
    });

    it('unknown commands and bad arguments: rejected with a reason', async () => {
      const unknown = cmd('self-destruct');
      const bad = cmd('maintenance', { on: 'yes' });
      await send('self-destruct', unknown);
      await send('maintenance', bad);
      await observer.waitFor(
        'answers',
        () => answers(unknown.cmdId).length === 1 && answers(bad.cmdId).length === 1,
      );
      assert.equal(answers(unknown.cmdId)[0]?.reason, 'unknown_command');
      assert.equal(answers(bad.cmdId)[0]?.reason, 'bad_args');
      assert.match(answers(bad.cmdId)[0]?.errors?.[0] ?? '', /^on:/);
      assert.deepEqual(kiosk.calls, []);
    });

    it('never interrupts a paying customer: busy after the bounded wait, runs when idle', async () => {
      kiosk.serving = true;
      const c1 = cmd('maintenance', { on: true });
      await send('maintenance', c1);
      await observer.waitFor('busy', () => answers(c1.cmdId).length === 1);
      assert.equal(answers(c1.cmdId)[0]?.reason, 'busy');
      assert.deepEqual(kiosk.calls, []);
      const c2 = cmd('maintenance', { on: true });
      await send('maintenance', c2);
      await sleep(100);
      kiosk.serving = false; // the customer leaves within the wait
      await observer.waitFor('done', () => answers(c2.cmdId).length === 2);
      assert.equal(answers(c2.cmdId)[1]?.status, 'succeeded');
      assert.deepEqual(kiosk.calls, ['maintenance:true']);
      await observer.waitFor('state maintenance', () =>
        observer.on('/state').find((m) => m.json?.state === 'maintenance'),
      );
    });

    it('a failing command answers failed with the reason', async () => {
      kiosk.failNext = new Error('printer offline');
      const c = cmd('reprint');
      await send('reprint', c);
      await observer.waitFor('answers', () => answers(c.cmdId).length === 2);
      assert.equal(answers(c.cmdId)[1]?.status, 'failed');
      assert.equal(answers(c.cmdId)[1]?.reason, 'printer offline');
    });
  });

  describe('config/desired (retained)', () => {
    const reported = () =>
      observer.on('/config/reported').map((m) => ConfigReportedMessageSchema.parse(m.json));

    it('a retained document that breaks the schema is rejected with the reasons, and nothing crashes', async () => {
      await observer.publish(`kiosk/v1/${id}/config/desired`, JSON.stringify({ version: 3, pricez: {} }), {
        qos: 1,
        retain: true,
      });
      const r = reporter();
      await r.start();
      await observer.waitFor('reported', () => reported().length === 1);
      assert.equal(reported()[0]?.status, 'rejected');
      assert.equal(reported()[0]?.version, 3);
      assert.deepEqual(reported()[0]?.errors, ['prices: required']);
      assert.equal(reported()[0]?.appliedVersion, null);
      // not JSON at all
      await observer.publish(`kiosk/v1/${id}/config/desired`, '{{{', { qos: 1, retain: true });
      await observer.waitFor('second report', () => reported().length === 2);
      assert.equal(reported()[1]?.version, null);
      // a valid one is applied and the kiosk is still fine
      await observer.publish(`kiosk/v1/${id}/config/desired`, JSON.stringify({ version: 4, prices: {} }), {
        qos: 1,
        retain: true,
      });
      await observer.waitFor('applied', () => reported().length === 3);
      assert.equal(reported()[2]?.status, 'applied');
      assert.equal(reported()[2]?.appliedVersion, 4);
      assert.deepEqual(kiosk.calls, ['applyConfig:4']);
      assert.ok(r.isConnected);
    });
  });

  it('privacy: card numbers only masked and no names in anything published', async () => {
    const r = reporter();
    await r.start();
    await observer.waitFor('online', () => observer.on('/state').length === 1);
    r.event('transaction', {
      kind: 'topup',
      outcome: 'completed',
      amountCents: 2000,
      currency: 'EUR',
      card: '9276 0000 1111 2845',
      reason: 'card 9276000011112845 topped up',
      // fields the contract does not have are stripped, a name never leaves
      ...({ customerName: 'Erika Mustermann', name: 'Erika' } as object),
    });
    const eventId = '6f1c2a57-1234-5678-9012-345678901234'; // digit groups like a card: must stay intact
    r.event('cash', {
      eventId,
      action: 'credited',
      amountCents: 500,
      currency: 'EUR',
      card: '9276000011112845',
    });
    r.event('cash', { action: 'inserted', amountCents: 200, currency: 'EUR', card: '12345' }); // odd shape
    r.setAlert('reader_offline', { message: 'last card 9276000011112845' });
    await observer.waitFor(
      'events',
      () => observer.on('/evt/cash').length === 2 && observer.on('/alert/reader_offline').length === 1,
    );
    await observer.waitFor('topup', () => observer.on('/evt/transaction').length === 1);
    const strings = (v: unknown): string[] =>
      typeof v === 'string'
        ? [v]
        : v && typeof v === 'object'
          ? Object.entries(v).flatMap(([k, x]) => (k === 'eventId' ? [] : [k, ...strings(x)]))
          : [];
    for (const m of observer.messages) {
      for (const text of strings(m.json)) {
        assert.doesNotMatch(
          text.replace(/[ -]/g, ''),
          /\d{12,}/,
          `${m.topic} carries a card number: ${text}`,
        );
      }
      assert.doesNotMatch(m.payload, /Erika|Mustermann/, `${m.topic} carries a name`);
    }
    assert.equal(observer.on('/evt/transaction')[0]?.json?.card, '9276********2845');
    assert.equal(observer.on('/evt/cash')[0]?.json?.eventId, eventId);
    await observer.waitFor('odd card event', () => observer.on('/evt/cash').length === 2);
    assert.equal(observer.on('/evt/cash')[1]?.json?.card, '*****', 'masked, and the money event still sent');
  });
});
