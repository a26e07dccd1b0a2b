/**
 * The real kiosk program reporting to a real Mosquitto: birth and state on connect, money events
 * through the outbox with masked cards only, paper alerts, a maintenance command obeyed, and the
 * Will `lost` when the process dies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';
import { Observer, type Seen } from '../fleet/support/observer.js';

describe('kiosk program + fleet over a real Mosquitto', function () {
  this.timeout(60_000);
  let broker: MosquittoBroker;
  let observer: Observer;
  let kiosk: KioskProcess | undefined;
  const id = 'k-fleet-e2e-01';
  const topic = (t: string) => `kiosk/v1/${id}/${t}`;
  const waitFor = (pred: (m: Seen) => boolean, what: string, timeoutMs = 15_000): Promise<Seen> =>
    observer.message(pred, what, timeoutMs);

  before(async function () {
    await needs(this, MOSQUITTO);
    broker = await startMosquitto();
    // Retain As Published: live messages keep their retain flag, so the test sees what a late subscriber would get.
    observer = await Observer.connect(
      broker.url,
      [`kiosk/v1/${id}/#`],
      { clientId: `observer-${randomUUID()}` },
      { rap: true },
    );
  });

  after(async () => {
    await kiosk?.stop().catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await broker?.stop();
  });

  it('goes online, reports a top-up with masked card, raises paper_out, obeys maintenance, and is lost when killed', async () => {
    kiosk = await startKiosk({
      config: {
        kiosk: {
          id,
          mode: 'topup',
          name: 'Bahnhof Süd',
          site: 'Hamburg Hbf',
          location: 'Halle, Gleis 4',
          tenant: 'stadtwerke',
        },
        fleet: { url: broker.url, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
        timeouts: { resultMs: 500 },
      },
    });
    const birth = await waitFor((m) => m.topic === topic('birth'), 'birth');
    assert.equal(birth.json?.id, id);
    // Name, place and merchant from the config, for the dashboard's tiles, kiosk page and filter.
    assert.deepEqual(
      [birth.json?.kioskName, birth.json?.site, birth.json?.location, birth.json?.tenant],
      ['Bahnhof Süd', 'Hamburg Hbf', 'Halle, Gleis 4', 'stadtwerke'],
    );
    await waitFor((m) => m.topic === topic('state') && m.json?.state === 'online', 'state online');

    // A customer tops up 5 EUR with coins.
    await kiosk.scan('9276004429942845');
    await kiosk.waitForScreen(/Betrag/);
    await kiosk.press('amount1');
    await kiosk.waitForScreen(/einwerfen/);
    for (const c of [200, 200, 100]) assert.equal((await kiosk.coin(c)).accepted, true);
    const tx = await waitFor((m) => m.topic === topic('evt/transaction'), 'evt/transaction');
    assert.equal(tx.json?.outcome, 'completed');
    assert.equal(tx.json?.kind, 'topup');
    assert.equal(tx.json?.amountCents, 500);
    await waitFor(
      (m) => m.topic === topic('evt/cash') && m.json?.amountCents === 100,
      'evt/cash inserted 100',
    );
    const cash = observer.messages.filter(
      (m) => m.topic === topic('evt/cash') && m.json?.action === 'inserted',
    );
    assert.deepEqual(
      cash.map((m) => m.json?.amountCents),
      [200, 200, 100],
    );
    assert.ok(
      observer.messages.every((m) => !m.payload.includes('9276004429942845')),
      'no full card number on the wire',
    );
    assert.ok(
      observer.messages.every((m) => !/Mustermann/.test(m.payload)),
      'no customer name on the wire',
    );

    // Paper runs out: a retained alert.
    await kiosk.request({ cmd: 'paper', state: 'out' });
    const alert = await waitFor(
      (m) => m.topic === topic('alert/paper_out') && m.json !== undefined,
      'alert/paper_out',
    );
    assert.equal(alert.retain, true);

    // The operator sends maintenance on: accepted, succeeded, and the kiosk is in maintenance.
    await kiosk.waitForIdle();
    const maintenance = await observer.command(topic(''), 'maintenance', { on: true });
    assert.equal(maintenance.json?.status, 'succeeded', maintenance.payload);
    await kiosk.waitForState(/^maintenance/);
    await waitFor((m) => m.topic === topic('state') && m.json?.state === 'maintenance', 'state maintenance');

    // A desired config (fleet-settable fields only): receipt footer changes live; a broken one is
    // rejected with the reason.
    await observer.publish(
      topic('config/desired'),
      JSON.stringify({ version: 2, receipts: { footer: ['Danke vom Fleet'] } }),
      { qos: 1, retain: true },
    );
    const applied = await waitFor(
      (m) => m.topic === topic('config/reported') && m.json?.version === 2,
      'config/reported v2',
    );
    assert.equal(applied.json?.status, 'applied');
    assert.notEqual(applied.json?.restartRequired, true, 'a footer change needs no restart');
    await observer.publish(
      topic('config/desired'),
      JSON.stringify({ version: 3, topup: { amounts: [-5] } }),
      { qos: 1, retain: true },
    );
    const rejected = await waitFor(
      (m) => m.topic === topic('config/reported') && m.json?.version === 3,
      'config/reported v3',
    );
    assert.equal(rejected.json?.status, 'rejected');
    assert.match(JSON.stringify(rejected.json?.errors), /topup.amounts/);
    assert.ok(
      existsSync(join(kiosk.dir, 'desired-config.json')),
      'the applied document is kept for the next start',
    );

    // Power cut: the Will says lost after its delay.
    await kiosk.kill('SIGKILL');
    const lost = await waitFor(
      (m) => m.topic === topic('state') && m.json?.state === 'lost',
      'state lost',
      10_000,
    );
    assert.equal(lost.retain, true);
  });
});
