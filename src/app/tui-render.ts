/**
 * The simulator's face as pure text: what `npm start` shows in a terminal. A pure function of a
 * small view model, so it can be tested and the runner only paints what this returns.
 */
import { formatCents } from '../api/money.js';

export interface TuiModel {
  kioskId: string;
  mode: string;
  state: string;
  display: string[];
  cols: number;
  acceptor: 'accepting' | 'inhibited';
  printer: string;
  reader: string;
  fleet: string;
  typed: string;
  lastReceipt: string[];
  logLines: string[];
  coins: number[];
  notice: string | null;
  showCards: Array<{ cardnumber: string; note: string }> | null;
  /** A vending counter: `A1 8  A2 0!` (stock, `!` blocked) and the hopper (`10 ct x 98 ok`). */
  slots?: string;
  hopper?: string;
}

export const COIN_KEYS = ['q', 'w', 'e', 'r', 't', 'y', 'u', 'i'];

export const KEY_HELP: Array<[string, string]> = [
  ['Enter', 'OK (or scan what you typed)'],
  ['Esc / x', 'Cancel'],
  ['\u2191 \u2193', 'Up / Down'],
  ['a s d f', 'amount 1-4'],
  ['m', 'service (long press)'],
  ['digits+Enter', 'scan a card or EAN'],
  ['c', 'demo cards'],
  ['p', 'paper ok/low/out'],
  ['v', 'unplug/replug reader'],
  ['Ctrl-C', 'quit'],
];

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));

export function renderTui(m: TuiModel, width = 100, height = 40): string[] {
  const box = [
    `\u250c${'\u2500'.repeat(m.cols)}\u2510`,
    ...m.display.map((l) => `\u2502${pad(l, m.cols)}\u2502`),
    `\u2514${'\u2500'.repeat(m.cols)}\u2518`,
  ];
  const coinHelp = m.coins.map((c, i) => `${COIN_KEYS[i] ?? '?'}=${formatCents(c, '')}`).join(' ');
  const side = [
    `Kiosk ${m.kioskId}  (${m.mode})`,
    `State:    ${m.state}`,
    `Acceptor: ${m.acceptor === 'accepting' ? 'ACCEPTING coins' : 'inhibited'}`,
    `Printer:  ${m.printer}    Reader: ${m.reader}`,
    `Fleet:    ${m.fleet}`,
    `Coins:    ${coinHelp}`,
    `Typed:    ${m.typed ? `${m.typed}_` : '(type a card number, Enter scans)'}`,
    ...(m.slots ? [`Slots:    ${m.slots}`] : []),
    ...(m.hopper ? [`Hopper:   ${m.hopper}`] : []),
  ];
  const lines: string[] = [];
  const leftWidth = m.cols + 4;
  for (let i = 0; i < Math.max(box.length, side.length); i++) {
    lines.push(`${pad(box[i] ?? '', leftWidth)}${side[i] ?? ''}`.slice(0, width));
  }
  lines.push('');
  let help = '';
  for (const [k, v] of KEY_HELP) {
    const item = `${k}: ${v}`;
    if (help && help.length + item.length + 3 > width) {
      lines.push(help);
      help = '';
    }
    help = help ? `${help} | ${item}` : item;
  }
  if (help) lines.push(help);
  if (m.notice) lines.push(`> ${m.notice}`);
  if (m.showCards) {
    lines.push('', 'Demo cards (type the number and press Enter):');
    for (const c of m.showCards) lines.push(`  ${c.cardnumber}  ${c.note}`);
  }
  // The log keeps its last lines; the receipt gets what is left of the terminal.
  const logLines = m.logLines.slice(-5);
  const room = Math.max(4, height - lines.length - logLines.length - 4);
  lines.push('', 'Last receipt:');
  const receipt = m.lastReceipt.length ? m.lastReceipt : ['(none yet)'];
  const shown = receipt.length > room ? ['...', ...receipt.slice(-(room - 1))] : receipt;
  for (const r of shown) lines.push(`  | ${r}`);
  lines.push('', 'Log:');
  for (const l of logLines) lines.push(`  ${l.slice(0, width - 2)}`);
  return lines;
}
