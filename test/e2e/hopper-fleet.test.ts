/**
 * The change hopper as the fleet sees it (issue 15), in the real kiosk program over a real Mosquitto:
 * the journal's coin count (`bookedCoins`, null until a technician books a fill in the service menu's
 * "Wechselgeld") in `health` and `birth`, `hopper_low` at or below `hardware.hopper.lowAt` booked
 * coins, `hopper_empty` at 0, and `hopper_offline` (health `offline`) when the hopper stops answering.
 */
import assert from 'node:assert/strict';
import { hashPin } from '../../src/app/service-pin.js';
import { SERVICE_ENTRIES } from '../../machines/service-menu.machine.js';
import { simulatorCatalogue, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { BirthMessageSchema, HealthMessageSchema } from '../../src/fleet/envelope.js';
import { watchedKiosk, type Seen } from '../fleet/support/observer.js';

describe('e2e: the change hopper on the fleet (real Mosquitto)', function () {
  this.timeout(90_000);
  const id = 'k-hopper-01';
  const watched = watchedKiosk(id);
  const { topic } = watched;

  /** The hopper in the last `health` since `after` (messages index). */
  const healthHopper = (after: number) =>
    watched.observer.messages
      .slice(after)
      .filter((m) => m.topic === topic('health') && m.json)
      .map((m) => HealthMessageSchema.parse(m.json).devices.hopper)
      .at(-1);
  const alert = (name: string, after: number, on: boolean): Promise<Seen> =>
    watched.observer.message(
      (m) =>
        watched.observer.messages.indexOf(m) >= after &&
        m.topic === topic(`alert/${name}`) &&
        (on ? m.payload.length > 0 : m.payload.length === 0),
      `alert/${name} ${on ? 'raised' : 'cleared'}`,
      15_000,
    );

  /** Service menu "Wechselgeld": `key` 1 = fill, 2 = take out; `tens` steps of 10 coins. */
  async function book(k: KioskProcess, key: 'amount1' | 'amount2', tens: number, ones = 0): Promise<void> {
    await k.longPress('service');
    await k.waitForScreen(/Service-PIN/);
    for (const d of '1234') await k.press(`amount${d}`);
    await k.waitForScreen(/^Service 1\/\d+/);
    for (let i = 0; i < SERVICE_ENTRIES.indexOf('hopper'); i++) await k.press('down');
    await k.waitForScreen(/>Wechselgeld/);
    await k.press('ok');
    await k.waitForScreen(/^1=Auffüllen\n2=Entnehmen/);
    await k.press(key);
    await k.press('amount2');
    for (let i = 0; i < tens; i++) await k.press('up');
    await k.press('amount1');
    for (let i = 0; i < ones; i++) await k.press('up');
    await k.press('ok');
    await k.waitForScreen(/Münzen buchen\?/);
    await k.press('ok');
    await k.waitForScreen(/^Münzen gebucht/);
    await k.press('ok');
    await k.longPress('service');
    await k.waitForIdle();
  }

  it('bookedCoins in health and birth, hopper_low, hopper_empty and hopper_offline as the books and the hopper say', async () => {
    const k = watched.keep(
      await startKiosk({
        config: {
          kiosk: { id, mode: 'checkout' },
          catalogue: simulatorCatalogue(),
          timeouts: { resultMs: 1500 },
          service: { pinHash: await hashPin('1234') },
          fleet: { url: watched.brokerUrl, heartbeatS: 5, willDelayS: 1, outboxDir: 'outbox' },
          hardware: {
            slots: { driver: 'simulated', slots: [{ id: 'A1', product: 1, initialStock: 3, lowAt: 0 }] },
            hopper: { driver: 'simulated', coinCents: 10, coins: 0, lowAt: 29 },
          },
        },
      }),
    );
    await k.waitForIdle(20_000);
    const first = await watched.observer.waitFor('health with the hopper', () => healthHopper(0), 15_000);
    assert.equal(first.bookedCoins, null, 'unknown until a technician books coins');
    assert.equal(first.lowAt, 29);
    const birth = BirthMessageSchema.parse(
      (await watched.observer.message((m) => m.topic === topic('birth') && !!m.json, 'birth')).json,
    );
    assert.equal(birth.devices.find((d) => d.device === 'hopper')?.bookedCoins, null);
    assert.equal(
      watched.observer.on('alert/hopper_low').filter((m) => m.payload).length,
      0,
      'no level known',
    );

    // 30 coins booked in: above lowAt.
    let mark = watched.observer.messages.length;
    await book(k, 'amount1', 3);
    await watched.observer.waitFor('health: 30 booked', () => healthHopper(mark)?.bookedCoins === 30, 15_000);
    const rebirth = await watched.command('rebirth');
    assert.equal(rebirth.json?.status, 'succeeded');
    const born = await watched.observer.message(
      (m) => watched.observer.messages.indexOf(m) >= mark && m.topic === topic('birth') && !!m.json,
      'birth after rebirth',
    );
    assert.equal(
      BirthMessageSchema.parse(born.json).devices.find((d) => d.device === 'hopper')?.bookedCoins,
      30,
    );

    // A coffee (1,80) paid with 2,00: two coins of change, 28 by the books: at or below 29.
    mark = watched.observer.messages.length;
    await k.press('amount1');
    await k.press('ok');
    await k.waitForScreen(/Noch 1,80 EUR/);
    await k.coin(200);
    await k.waitForSettled();
    const low = await alert('hopper_low', mark, true);
    assert.equal(low.json?.severity, 'warning');
    assert.match(String(low.json?.message), /28 coins by the books/);
    await watched.observer.waitFor('health: 28 booked', () => healthHopper(mark)?.bookedCoins === 28, 15_000);

    // All 28 taken out: empty by the books, low cleared.
    mark = watched.observer.messages.length;
    await book(k, 'amount2', 2, 8);
    await alert('hopper_empty', mark, true);
    await alert('hopper_low', mark, false);
    await watched.observer.waitFor('health: 0 booked', () => healthHopper(mark)?.bookedCoins === 0, 15_000);

    // Filled again, then the hopper stops answering.
    mark = watched.observer.messages.length;
    await book(k, 'amount1', 5);
    await alert('hopper_empty', mark, false);
    mark = watched.observer.messages.length;
    await k.request({ cmd: 'hopper', action: 'offline' });
    const off = await alert('hopper_offline', mark, true);
    assert.match(String(off.json?.message), /not answering/);
    await watched.observer.waitFor(
      'health: hopper offline',
      () => healthHopper(mark)?.health === 'offline',
      15_000,
    );
    mark = watched.observer.messages.length;
    await k.request({ cmd: 'hopper', action: 'online' });
    await alert('hopper_offline', mark, false);
  });
});
