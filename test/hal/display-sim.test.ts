import assert from 'node:assert/strict';
import { SimulatedDisplay } from '../../hal/display/sim-display.js';
import type { DisplayStatusEvent } from '../../hal/display/display.js';

describe('hal/display/sim-display (simulated twin)', () => {
  it('keeps the screen as fixed-width text and emits change only on visible changes', async () => {
    const display = new SimulatedDisplay(16, 2);
    const changes: string[][] = [];
    display.on('change', (lines) => changes.push(lines));
    await display.show(['Guthaben: 12,50 €', 'OK']);
    await display.show(['Guthaben: 12,50 €', 'OK']);
    assert.deepEqual(display.lines(), ['Guthaben: 12,50 ', 'OK              ']);
    assert.deepEqual(display.text(), ['Guthaben: 12,50', 'OK']);
    assert.equal(changes.length, 1);
    await display.show(['Über 5 €']);
    assert.deepEqual(display.text(), ['Über 5 €', '']);
    assert.equal(changes.length, 2);
  });

  it('unplug: show resolves, health goes offline once; replug: blank glass, recovery reported', async () => {
    const display = new SimulatedDisplay();
    const events: DisplayStatusEvent[] = [];
    display.on('status', (e) => events.push(e));
    await display.show(['before']);
    display.unplug();
    await display.show(['lost']);
    await display.show(['lost again']);
    assert.equal(display.health(), 'offline');
    assert.equal((await display.probe()).found, false);
    assert.deepEqual(display.text()[0], 'before');
    display.replug();
    await display.show(['after']);
    assert.equal(display.health(), 'ok');
    assert.deepEqual(events, [
      { health: 'offline', cause: 'EREMOTEIO', reinitialised: false },
      { health: 'ok', cause: 'EREMOTEIO', reinitialised: true },
    ]);
    assert.equal(display.text()[0], 'after');
  });

  it('backlight is a visible state', async () => {
    const display = new SimulatedDisplay();
    await display.setBacklight(false);
    assert.equal(display.isBacklightOn(), false);
  });
});
