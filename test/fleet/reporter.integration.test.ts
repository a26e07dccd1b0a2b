/**
 * The reporter against a real Mosquitto (MQTT 5: Will Delay, session expiry, message expiry).
 * Short timings (Will Delay 1 s, back-off 100-400 ms) keep the suite fast; the behaviour is the same.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
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
import { findMosquitto, startMosquitto, type MosquittoBroker } from '../support/mosquitto.js';
import { FakeKiosk, birthFacts, healthFacts } from './support/fake-kiosk.js';
import { Observer, sleep } from './support/observer.js';

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
    if (!findMosquitto()) {
      console.log('mosquitto not installed: skipping fleet integration tests');
      this.skip();
    }
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
    const state = StateMessageSchema.parse(observer.on('/state')[0]?.json);
    assert.equal(state.state, 'online');
    const health = HealthMessageSchema.parse(observer.on('/health')[0]?.json);
    assert.equal(health.outbox.size, 0);
    assert.equal(health.counters.sinceInstall.sales.cents, 2388);
    assert.ok(observer.on('/birth')[0]?.retain === false); // live delivery: retain flag only on replays
  });
});
