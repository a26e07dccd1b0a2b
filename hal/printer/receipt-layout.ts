/**
 * The API's receipt lines laid out for a paper width (32 or 48 characters). Pure: the printer turns
 * the rows into ESC/POS, the display and the operator page show the same rows as text.
 *
 * - `separator`: a rule across the paper, with its caption centred in it when there is one.
 * - `name-value`: name left, value right; when both do not fit, the value goes right-aligned on
 *   the next line (and long texts wrap).
 * - `textline`: wrapped at word boundaries; decorations `important` (bold and/or double height)
 *   and `align-left` / `align-center` / `align-right`; unknown decorations are ignored.
 * - `space`: an empty line.
 * - `barcode`: a QR code or Code128 of `data`; on paper the symbol, as text `[qr: <data>]` /
 *   `[barcode: <data>]` (what the simulator's receipts show, so a test can scan what was printed); data
 *   beyond printable ASCII is printed as that text only.
 */
import { toCp858Printable } from './escpos-charset.js';
import type { ReceiptLine } from '../../src/api/schemas.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export interface ReceiptRow {
  /** Exactly what goes on paper, without trailing blanks; never longer than the width. */
  text: string;
  bold: boolean;
  doubleHeight: boolean;
  /** A symbol printed instead of the text (the text says what it holds). */
  code?: { symbology: 'qr' | 'code128'; data: string };
}

export interface ReceiptLayoutOptions {
  width: number;
  /** Character the separator rules are drawn with. */
  rule?: string;
  /** How `important` lines stand out; default both. */
  important?: 'bold' | 'double-height' | 'both';
}

export interface ReceiptContent {
  lines: readonly ReceiptLine[];
  header?: readonly string[];
  footer?: readonly string[];
}

type Align = 'left' | 'center' | 'right';

const len = (s: string): number => [...s].length;

/** Splits at blanks so that no line exceeds `width`; a word longer than the width is cut. */
export function wrap(text: string, width: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (let word of words) {
    while (len(word) > width) {
      if (line) lines.push(line);
      line = '';
      lines.push([...word].slice(0, width).join(''));
      word = [...word].slice(width).join('');
    }
    if (!word) continue;
    if (!line) line = word;
    else if (len(line) + 1 + len(word) <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

function aligned(text: string, width: number, align: Align): string {
  const free = Math.max(0, width - len(text));
  if (align === 'right') return ' '.repeat(free) + text;
  if (align === 'center') return ' '.repeat(Math.floor(free / 2)) + text;
  return text;
}

function separator(caption: string, width: number, rule: string): string[] {
  if (!caption) return [rule.repeat(width)];
  const label = ` ${caption} `;
  // Keep at least two rule characters on each side, or the caption stops reading as a separator.
  if (len(label) > width - 4)
    return [rule.repeat(width), ...wrap(caption, width).map((l) => aligned(l, width, 'center'))];
  const left = Math.floor((width - len(label)) / 2);
  return [rule.repeat(left) + label + rule.repeat(width - left - len(label))];
}

function nameValue(name: string, value: string, width: number): string[] {
  if (len(name) + 1 + len(value) <= width) return [name + ' '.repeat(width - len(name) - len(value)) + value];
  return [...(name ? wrap(name, width) : []), ...wrap(value, width).map((l) => aligned(l, width, 'right'))];
}

export function layoutReceipt(content: ReceiptContent, options: ReceiptLayoutOptions): ReceiptRow[] {
  const { width } = options;
  const rule = options.rule ?? '-';
  const style = options.important ?? 'both';
  const clean = (s: string | null | undefined): string => toCp858Printable(s ?? '').trim();
  const plain = (text: string): ReceiptRow => ({ text: text.trimEnd(), bold: false, doubleHeight: false });
  const rows: ReceiptRow[] = [];

  for (const line of content.header ?? []) {
    rows.push(...wrap(clean(line), width).map((l) => plain(aligned(l, width, 'center'))));
  }
  if (content.header?.length) rows.push(plain(''));

  for (const line of content.lines) {
    switch (line.type) {
      case 'separator':
        rows.push(...separator(clean(line.value?.caption), width, rule).map(plain));
        break;
      case 'name-value': {
        const bold = line.value.decoration.includes('important');
        for (const text of nameValue(clean(line.value.name), clean(line.value.value), width)) {
          rows.push({ text: text.trimEnd(), bold, doubleHeight: false });
        }
        break;
      }
      case 'textline': {
        const decorations = line.value.decoration;
        const important = decorations.includes('important');
        const align: Align = decorations.includes('align-center')
          ? 'center'
          : decorations.includes('align-right')
            ? 'right'
            : 'left';
        for (const text of wrap(clean(line.value.text), width)) {
          rows.push({
            text: aligned(text, width, align).trimEnd(),
            bold: important && style !== 'double-height',
            doubleHeight: important && style !== 'bold',
          });
        }
        break;
      }
      case 'space':
        rows.push(plain(''));
        break;
      case 'barcode': {
        const { data, symbology } = line.value;
        const text = symbology === 'qr' ? `[qr: ${data}]` : `[barcode: ${data}]`;
        // The ESC/POS symbol commands frame the data by its character count but send its bytes: beyond
        // printable ASCII (Code128 set B's range too) the bytes past the count would reach the printer
        // as commands. Such a code is printed as the text it stands for, never as a symbol.
        if (!PRINTABLE_ASCII.test(data)) {
          rows.push(...wrap(clean(text), width).map((l) => plain(l)));
          break;
        }
        // Never wrapped: the text row stands for the symbol and must hold the whole code.
        rows.push({ ...plain(text), code: { symbology, data } });
        break;
      }
    }
  }

  if (content.footer?.length) rows.push(plain(''));
  for (const line of content.footer ?? []) {
    rows.push(...wrap(clean(line), width).map((l) => plain(aligned(l, width, 'center'))));
  }
  return rows;
}

/** The rows as text lines, e.g. for the display or the operator. */
export function receiptText(rows: readonly ReceiptRow[]): string[] {
  return rows.map((r) => r.text);
}
