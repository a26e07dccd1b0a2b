/** The simulator's face shows a vending counter's slots and hopper (src/app/tui-render.ts). */
import assert from 'node:assert/strict';
import { renderTui, type TuiModel } from '../../src/app/tui-render.js';

const model: TuiModel = {
  kioskId: 'k-sim-vend1',
  mode: 'checkout',
  state: 'idle',
  display: ['Willkommen!', '', '', ''],
  cols: 20,
  acceptor: 'inhibited',
  printer: 'ok',
  reader: 'online',
  fleet: 'off',
  typed: '',
  lastReceipt: [],
  logLines: [],
  coins: [10, 20],
  notice: null,
  showCards: null,
};

describe('simulator face', () => {
  it('shows the slots and the hopper when the kiosk has them, nothing of them otherwise', () => {
    const face = renderTui({ ...model, slots: 'A1 8  A2 0!', hopper: '10 ct x 98 ok' }).join('\n');
    assert.match(face, /Slots: {4}A1 8 {2}A2 0!/);
    assert.match(face, /Hopper: {3}10 ct x 98 ok/);
    assert.doesNotMatch(renderTui(model).join('\n'), /Slots:|Hopper:/);
  });
});
