/**
 * The real kiosk program reporting to a real Mosquitto: birth and state on connect, money events
 * through the outbox with masked cards only, paper alerts, a maintenance command obeyed, and the
 * Will `lost` when the process dies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

interface Seen {
  topic: string;
  body: Record<string, unknown> | null;
  retain: boolean;
  raw: string;
}

describe('kiosk program + fleet over a real Mosquitto', function () {
  this.timeout(60_000);
  let broker: MosquittoBroker;
  let observer: MqttClient;
  let kiosk: KioskProcess | undefined;
  const seen: Seen[] = [];
  const id = 'k-fleet-e2e-01';
  const topic = (t: string) => `kiosk/v1/${id}/${t}`;
  const waitFor = async (pred: (m: Seen) => boolean, what: string, timeoutMs = 15_000): Promise<Seen> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = seen.find(pred);
      if (hit) return hit;
      if (Date.now() > end)
        assert.fail(`timed out waiting for ${what}; saw ${seen.map((s) => s.topic).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async function () {
    await needs(this, MOSQUITTO);
    broker = await startMosquitto();
    observer = mqtt.connect(broker.url, { protocolVersion: 5, clientId: `observer-${randomUUID()}` });
    await new Promise<void>((resolve, reject) => {
      observer.once('connect', () => resolve());
      observer.once('error', reject);
    });
    observer.on('message', (t, payload, packet) => {
      const raw = payload.toString('utf8');
      let body: Record<string, unknown> | null;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      seen.push({ topic: t, body, retain: packet.retain, raw });
    });
    // Retain As Published: live messages keep their retain flag, so the test sees what a late subscriber would get.
    await observer.subscribeAsync(`kiosk/v1/${id}/#`, { qos: 1, rap: true });
  });

  after(async () => {
    await kiosk?.stop().catch(() => undefined);
    await observer?.endAsync().catch(() => undefined);
    await broker?.stop();
  });

  it('goes online, reports a top-up with masked card, raises paper_out, obeys maintenance, and is lost when killed', async () => {
    kiosk = await startKiosk({
      config: {
        kiosk: { id, mode: 'topup' },
        fleet: { url: broker.url, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
        timeouts: { resultMs: 500 },
      },
    });
    const birth = await waitFor((m) => m.topic === topic('birth'), 'birth');
    assert.equal(birth.body?.id, id);
    await waitFor((m) => m.topic === topic('state') && m.body?.state === 'online', 'state online');

    // A customer tops up 5 EUR with coins.
    await kiosk.scan('9276004429942845');
    await kiosk.waitForScreen(/Betrag/);
    await kiosk.press('amount1');
    await kiosk.waitForScreen(/einwerfen/);
    for (const c of [200, 200, 100]) assert.equal((await kiosk.coin(c)).accepted, true);
    const tx = await waitFor((m) => m.topic === topic('evt/transaction'), 'evt/transaction');
    assert.equal(tx.body?.outcome, 'completed');
    assert.equal(tx.body?.kind, 'topup');
    assert.equal(tx.body?.amountCents, 500);
    await waitFor(
      (m) => m.topic === topic('evt/cash') && m.body?.amountCents === 100,
      'evt/cash inserted 100',
    );
    const cash = seen.filter((m) => m.topic === topic('evt/cash') && m.body?.action === 'inserted');
    assert.deepEqual(
      cash.map((m) => m.body?.amountCents),
      [200, 200, 100],
    );
    assert.ok(
      seen.every((m) => !m.raw.includes('9276004429942845')),
      'no full card number on the wire',
    );
    assert.ok(
      seen.every((m) => !/Mustermann/.test(m.raw)),
      'no customer name on the wire',
    );

    // Paper runs out: a retained alert.
    await kiosk.request({ cmd: 'paper', state: 'out' });
    const alert = await waitFor(
      (m) => m.topic === topic('alert/paper_out') && m.body !== null,
      'alert/paper_out',
    );
    assert.equal(alert.retain, true);

    // The operator sends maintenance on: accepted, succeeded, and the kiosk is in maintenance.
    await kiosk.waitForIdle();
    const cmdId = randomUUID();
    const now = Date.now();
    await observer.publishAsync(
      topic('cmd/maintenance'),
      JSON.stringify({ cmdId, issuedAt: now, expiresAt: now + 60_000, args: { on: true } }),
      { qos: 1 },
    );
    await waitFor(
      (m) => m.topic === topic('cmdres') && m.body?.cmdId === cmdId && m.body?.status === 'succeeded',
      'cmdres succeeded',
    );
    await kiosk.waitForState(/^maintenance/);
    await waitFor((m) => m.topic === topic('state') && m.body?.state === 'maintenance', 'state maintenance');

    // A desired config (fleet-settable fields only): receipt footer changes live; a broken one is
    // rejected with the reason.
    await observer.publishAsync(
      topic('config/desired'),
      JSON.stringify({ version: 2, receipts: { footer: ['Danke vom Fleet'] } }),
      { qos: 1, retain: true },
    );
    const applied = await waitFor(
      (m) => m.topic === topic('config/reported') && m.body?.version === 2,
      'config/reported v2',
    );
    assert.equal(applied.body?.status, 'applied');
    assert.notEqual(applied.body?.restartRequired, true, 'a footer change needs no restart');
    await observer.publishAsync(
      topic('config/desired'),
      JSON.stringify({ version: 3, topup: { amounts: [-5] } }),
      { qos: 1, retain: true },
    );
    const rejected = await waitFor(
      (m) => m.topic === topic('config/reported') && m.body?.version === 3,
      'config/reported v3',
    );
    assert.equal(rejected.body?.status, 'rejected');
    assert.match(JSON.stringify(rejected.body?.errors), /topup.amounts/);
    assert.ok(
      existsSync(join(kiosk.dir, 'desired-config.json')),
      'the applied document is kept for the next start',
    );

    // Power cut: the Will says lost after its delay.
    await kiosk.kill('SIGKILL');
    const lost = await waitFor(
      (m) => m.topic === topic('state') && m.body?.state === 'lost',
      'state lost',
      10_000,
    );
    assert.equal(lost.retain, true);
  });
});
