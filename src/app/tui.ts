/**
 * Paints the simulator's face in a terminal and turns keys into button presses, coins and scans.
 * Plain ANSI and Node's readline keypress events: nothing to install, works over SSH to a Pi.
 */
import { emitKeypressEvents } from 'node:readline';
import type { SimControls } from './control-port.js';
import { COIN_KEYS, renderTui, type TuiModel } from './tui-render.js';

export interface TuiHost {
  controls: SimControls;
  /** Everything but the parts the TUI owns (typed text, notices, card list). */
  model(): Omit<TuiModel, 'typed' | 'notice' | 'showCards'>;
  onChange(listener: () => void): void;
  quit(): void;
}

const BUTTON_KEYS: Record<string, string> = {
  a: 'amount1',
  s: 'amount2',
  d: 'amount3',
  f: 'amount4',
  up: 'up',
  down: 'down',
  x: 'cancel',
  escape: 'cancel',
};
const PAPER_CYCLE = ['ok', 'low', 'out'] as const;

export function runTui(
  host: TuiHost,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): () => void {
  let typed = '';
  let notice: string | null =
    `Willkommen! Press c for demo cards, a s d f for amounts, ${COIN_KEYS.join(' ')} for coins, Enter = OK, Esc = cancel.`;
  let showCards: TuiModel['showCards'] = null;
  let paper = 0;
  let readerPlugged = true;
  let scheduled = false;

  const paint = () => {
    scheduled = false;
    const model: TuiModel = { ...host.model(), typed, notice, showCards };
    const lines = renderTui(model, output.columns ?? 100, output.rows ?? 40);
    // No newline after the last row: it would scroll the top line away.
    output.write(`\x1b[H\x1b[2J${lines.slice(0, output.rows ?? lines.length).join('\n')}`);
  };
  const repaint = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(paint, 30);
  };

  const onKey = (str: string | undefined, key: { name?: string; ctrl?: boolean; sequence?: string } = {}) => {
    if (key.ctrl && key.name === 'c') return host.quit();
    const name = key.name ?? str ?? '';
    notice = null;
    if (str && /^[0-9]$/.test(str)) typed += str;
    else if (name === 'backspace') typed = typed.slice(0, -1);
    else if (name === 'return' || name === 'enter') {
      if (typed) {
        host.controls.scan(typed);
        notice = `scanned ${typed}`;
        typed = '';
      } else host.controls.press('ok');
    } else if (BUTTON_KEYS[name]) host.controls.press(BUTTON_KEYS[name]);
    else if (name === 'm') host.controls.longPress('service');
    else if (COIN_KEYS.includes(name)) {
      const cents = host.model().coins[COIN_KEYS.indexOf(name)];
      if (cents !== undefined)
        notice = host.controls.coin(cents).accepted
          ? `coin ${cents} ct accepted`
          : `coin ${cents} ct returned (acceptor inhibited)`;
    } else if (name === 'c') showCards = showCards ? null : host.controls.cards();
    else if (name === 'p') {
      paper = (paper + 1) % PAPER_CYCLE.length;
      host.controls.paper(PAPER_CYCLE[paper]!);
      notice = `paper: ${PAPER_CYCLE[paper]}`;
    } else if (name === 'v') {
      readerPlugged = !readerPlugged;
      if (readerPlugged) host.controls.replug('reader');
      else host.controls.unplug('reader');
      notice = readerPlugged ? 'reader plugged in' : 'reader unplugged';
    }
    repaint();
  };

  emitKeypressEvents(input);
  if (input.isTTY) input.setRawMode(true);
  input.on('keypress', onKey);
  input.resume();
  host.onChange(repaint);
  output.write('\x1b[?25l');
  paint();
  return () => {
    input.off('keypress', onKey);
    if (input.isTTY) input.setRawMode(false);
    input.pause();
    output.write('\x1b[?25h');
  };
}
