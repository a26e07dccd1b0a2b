/**
 * The control port's door into the simulated devices (src/app/sim-controls.ts): a device not
 * simulated refuses by name, the acceptor and buttons have no cable, `slot hold` holds every release
 * until `fix`, a hopper action tells the vending counter, and the twins are read at each call.
 */
import assert from 'node:assert/strict';
import { simControls } from '../../src/app/sim-controls.js';
import type { SimHandles } from '../../src/app/devices.js';

function rig(sim: SimHandles) {
  const calls: string[] = [];
  let handles = sim;
  const controls = simControls({
    sim: () => handles,
    printer: () => ({ status: async () => (calls.push('status'), 'ok' as const) }),
    screen: () => ['last', 'screen'],
    state: () => ({ state: 'idle' }) as never,
    vendChanged: () => void calls.push('vendChanged'),
    changed: () => void calls.push('changed'),
  });
  return { controls, calls, swap: (next: SimHandles) => (handles = next) };
}

describe('sim controls', () => {
  it('refuses a device that is not simulated, and cables the acceptor and buttons do not have', () => {
    const { controls } = rig({});
    assert.throws(() => controls.press('ok' as never), /buttons is not simulated in this configuration/);
    assert.throws(() => controls.unplug('reader'), /reader is not simulated/);
    assert.throws(() => controls.unplug('acceptor'), /has no cable to pull/);
    assert.deepEqual(controls.display(), ['last', 'screen']);
    assert.deepEqual(controls.receipts(), []);
  });

  it('slot hold: every release waits until fix lets it go', async () => {
    const fixed: string[] = [];
    const slots = { gate: undefined as Promise<void> | undefined, fix: (s: string) => void fixed.push(s) };
    const { controls, calls } = rig({ slots: slots as never });
    controls.slot('A1', 'hold');
    const gate = slots.gate;
    assert.ok(gate);
    let released = false;
    void gate.then(() => (released = true));
    await Promise.resolve();
    assert.equal(released, false);
    controls.slot('A1', 'fix');
    await gate;
    assert.equal(released, true);
    assert.equal(slots.gate, undefined);
    assert.deepEqual(fixed, ['A1']);
    assert.deepEqual(calls, ['changed', 'changed']);
  });

  it('a hopper action tells the vending counter; the twins are read at each call', () => {
    const { controls, calls, swap } = rig({});
    assert.throws(() => controls.hopper('empty'), /hopper is not simulated/);
    let emptied = 0;
    swap({ hopper: { coins: 0, empty: () => void emptied++ } as never });
    assert.deepEqual(controls.hopper('empty'), { coins: 0 });
    assert.equal(emptied, 1);
    assert.deepEqual(calls, ['vendChanged']);
  });
});
