/**
 * What a receipt may contain once the printer is on code page PC858 (CP850 with the euro sign):
 * ASCII, the Latin-1 letters and symbols, and the euro sign. Anything else is replaced here, so
 * node-thermal-printer never meets a character it would print by silently switching code pages.
 */
import { PLAIN_FALLBACK, withoutAccent } from '../text-fallback.js';

function printable(char: string): boolean {
  const cp = char.codePointAt(0) ?? 0;
  return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa1 && cp <= 0xff) || cp === 0x20ac;
}

/** `text` reduced to characters CP858 can print; one code point per printed column. */
export function toCp858Printable(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    if (printable(char)) {
      out += char;
      continue;
    }
    out += PLAIN_FALLBACK.get(char) ?? withoutAccent(char, printable) ?? (char < ' ' ? '' : '?');
  }
  return out;
}
