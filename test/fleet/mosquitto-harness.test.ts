import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startMosquitto, type MosquittoBroker } from '../../src/harness/mosquitto.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';

async function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...opts });
}

describe('test harness: real Mosquitto', function () {
  this.timeout(20_000);
  let broker: MosquittoBroker | undefined;

  before(async function () {
    await needs(this, MOSQUITTO);
  });

  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('keeps retained messages and persistent sessions across restart() on the same port', async () => {
    broker = await startMosquitto();
    const url = broker.url;
    const sub = await connect(url, {
      clientId: 'h-sub',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    await sub.subscribeAsync('h/queued', { qos: 1 });
    await sub.endAsync();

    const pub = await connect(url);
    await pub.publishAsync('h/retained', 'kept', { qos: 1, retain: true });
    await pub.publishAsync('h/queued', 'while-away', { qos: 1 });
    await pub.endAsync();

    await broker.restart();
    assert.equal(broker.url, url);

    const got: string[] = [];
    const again = mqtt.connect(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'h-sub',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    again.on('message', (topic, payload) => got.push(`${topic}=${payload.toString()}`));
    await new Promise<void>((resolve) => again.once('connect', () => resolve()));
    await again.subscribeAsync('h/retained', { qos: 1 });
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await again.endAsync();
    assert.deepEqual(got.sort(), ['h/queued=while-away', 'h/retained=kept']);
  });

  it('pause() freezes the broker and resume() brings it back', async () => {
    broker = await startMosquitto({ persistence: false });
    const c = await connect(broker.url);
    broker.pause();
    const pending = c.publishAsync('h/x', 'y', { qos: 1 });
    const raced = await Promise.race([
      pending.then(() => 'acked'),
      new Promise((r) => setTimeout(() => r('waiting'), 300)),
    ]);
    assert.equal(raced, 'waiting');
    broker.resume();
    await pending;
    await c.endAsync();
  });
});
