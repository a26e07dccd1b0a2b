/**
 * Unicode -> HD44780 character codes. The controller's character ROM differs per module: A00
 * (Japanese, by far the most common) lacks capital umlauts and the euro sign; A02 (European) has
 * Latin-1 in its upper half. What the ROM lacks is drawn into the 8 CGRAM slots on demand; what
 * does not fit there gets a readable text fallback.
 */
import { PLAIN_FALLBACK, withoutAccent } from '../text-fallback.js';

export type LcdRom = 'A00' | 'A02';

/** A 5x8 custom character: 8 rows, the low 5 bits of each row are pixels (bit 4 = leftmost). */
export interface CustomGlyph {
  /** The character it draws; also its identity in CGRAM bookkeeping. */
  char: string;
  rows: readonly number[];
  /** Text used when no CGRAM slot is free. */
  fallback: string;
}

export type MappedChar =
  { kind: 'rom'; code: number } | { kind: 'custom'; glyph: CustomGlyph } | { kind: 'text'; text: string };

const glyph = (char: string, fallback: string, rows: number[]): CustomGlyph => ({ char, fallback, rows });

/** Glyphs either ROM may lack; which ones a ROM actually needs is decided by the ROM tables below. */
export const CUSTOM_GLYPHS: ReadonlyMap<string, CustomGlyph> = new Map(
  [
    glyph('Ä', 'Ae', [0x0a, 0x00, 0x0e, 0x11, 0x1f, 0x11, 0x11, 0x00]),
    glyph('Ö', 'Oe', [0x0a, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e, 0x00]),
    glyph('Ü', 'Ue', [0x0a, 0x00, 0x11, 0x11, 0x11, 0x11, 0x0e, 0x00]),
    glyph('€', 'E', [0x06, 0x09, 0x1c, 0x08, 0x1c, 0x09, 0x06, 0x00]),
    glyph('é', 'e', [0x02, 0x04, 0x0e, 0x11, 0x1f, 0x10, 0x0e, 0x00]),
    glyph('è', 'e', [0x08, 0x04, 0x0e, 0x11, 0x1f, 0x10, 0x0e, 0x00]),
    glyph('ê', 'e', [0x04, 0x0a, 0x0e, 0x11, 0x1f, 0x10, 0x0e, 0x00]),
    glyph('à', 'a', [0x08, 0x04, 0x0e, 0x01, 0x0f, 0x11, 0x0f, 0x00]),
    glyph('â', 'a', [0x04, 0x0a, 0x0e, 0x01, 0x0f, 0x11, 0x0f, 0x00]),
    glyph('ç', 'c', [0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e, 0x04, 0x0c]),
    glyph('\\', '/', [0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00, 0x00]),
    glyph('~', '-', [0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00, 0x00]),
  ].map((g) => [g.char, g]),
);

/** Characters of ROM A00 beyond ASCII that a kiosk may print (datasheet table 4, ROM code A00). */
const A00_EXTRA: ReadonlyMap<string, number> = new Map([
  ['ä', 0xe1],
  ['ß', 0xe2], // the ROM's beta, the usual stand-in for sharp s
  ['ö', 0xef],
  ['ü', 0xf5],
  ['°', 0xdf],
  ['µ', 0xe4],
  ['ñ', 0xee],
  ['→', 0x7e],
  ['←', 0x7f],
  ['÷', 0xfd],
  ['█', 0xff],
]);

/** A00 puts the yen sign at 0x5C and an arrow at 0x7E: backslash and tilde need CGRAM there. */
const A00_NOT_ASCII = new Set(['\\', '~']);

/**
 * ROM A02: ASCII in the lower half, and its upper half follows ISO 8859-1 from 0xC0 on, plus a few
 * symbols below (datasheet table 5). The euro sign is not in it.
 */
const A02_EXTRA: ReadonlyMap<string, number> = new Map([
  ['°', 0xb0],
  ['£', 0xa3],
  ['§', 0xa7],
  ['µ', 0xb5],
]);

function romCode(char: string, rom: LcdRom): number | undefined {
  const cp = char.codePointAt(0) ?? 0;
  if (cp >= 0x20 && cp <= 0x7d && !(rom === 'A00' && A00_NOT_ASCII.has(char))) return cp;
  if (rom === 'A02' && cp === 0x7e) return cp;
  if (rom === 'A00') return A00_EXTRA.get(char);
  if (cp >= 0xc0 && cp <= 0xff && cp !== 0xd7) return cp;
  return A02_EXTRA.get(char);
}

/** How one Unicode character (one code point) is shown on a module with `rom`. */
export function mapChar(char: string, rom: LcdRom): MappedChar {
  const code = romCode(char, rom);
  if (code !== undefined) return { kind: 'rom', code };
  const custom = CUSTOM_GLYPHS.get(char);
  if (custom) return { kind: 'custom', glyph: custom };
  const text = PLAIN_FALLBACK.get(char) ?? withoutAccent(char, (c) => romCode(c, rom) !== undefined) ?? '?';
  return { kind: 'text', text };
}

/** The Unicode character a ROM code shows; for the fake bus that decodes the screen back to text. */
export function charOfRomCode(code: number, rom: LcdRom): string {
  if (code >= 0x20 && code <= 0x7d && !(rom === 'A00' && code === 0x5c)) return String.fromCodePoint(code);
  const table = rom === 'A00' ? A00_EXTRA : A02_EXTRA;
  for (const [char, c] of table) if (c === code) return char;
  if (rom === 'A02' && ((code >= 0xc0 && code <= 0xff) || code === 0x7e)) return String.fromCodePoint(code);
  return '\ufffd';
}
