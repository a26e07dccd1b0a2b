/**
 * One reader reads both loyalty cards and product barcodes: this tells them apart by pattern.
 * Card numbers in the merchant's examples are 16 digits starting 9276 (no check digit), so the card
 * rule is configuration; EAN-8/EAN-13 are products only when their check digit is right.
 *
 * The rule is digits and length, not a regular expression: a configured RegExp (the old `cardPattern`)
 * could backtrack catastrophically on a crafted scan and freeze the kiosk mid-session, and was compiled
 * on every scan. Checking a rule is linear in the scan's length and needs no compiling at all; the
 * config loader turns the old regex form into a rule once (src/config/card-rule.ts).
 */

export type ScanKind =
  | { kind: 'card'; cardNumber: string }
  | { kind: 'ean'; ean: string }
  | { kind: 'voucher'; code: string }
  | { kind: 'unreadable' };

/** Signed voucher codes (src/bookkeeping/voucher-code.ts) start so; whether one is genuine the app decides. */
export const VOUCHER_SCAN_PREFIX = 'KV1.';

/** What a customer and staff are told of a voucher code: its id (a signed code is too long for 20 columns). */
export function voucherShortCode(code: string): string {
  const parts = code.split('.');
  return parts.length === 7 && parts[0] === 'KV1' ? `${parts[3]!.slice(0, 4)}-${parts[3]!.slice(4)}` : code;
}

import type { CardRule } from '../src/contracts/card-rule.js';

export type { CardRule };

export const DEFAULT_CARD_RULE: CardRule = { prefix: '9276', minLength: 16, maxLength: 16 };

/** Whether `data` is a card number under `rule`: one pass over the characters, no RegExp. */
export function matchesCardRule(data: string, rule: CardRule): boolean {
  if (data.length < rule.minLength || data.length > rule.maxLength) return false;
  if (!data.startsWith(rule.prefix)) return false;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** True when the last digit of an EAN-8 or EAN-13 is its GS1 check digit. */
export function isValidEan(code: string): boolean {
  if (!/^(\d{8}|\d{13})$/.test(code)) return false;
  const digits = [...code].map(Number);
  const check = digits.pop() ?? 0;
  // GS1: weights 3,1,3,... from the rightmost data digit.
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const fromRight = digits.length - 1 - i;
    sum += (digits[i] ?? 0) * (fromRight % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10 === check;
}

export function classifyScan(raw: string, cardRule: CardRule = DEFAULT_CARD_RULE): ScanKind {
  // Readers add CR/LF, spaces or a leading ';' (magstripe track 2) around the number.
  const data = raw
    .trim()
    .replace(/^;|\?$/g, '')
    .replace(/\s+/g, '');
  if (data.startsWith(VOUCHER_SCAN_PREFIX)) return { kind: 'voucher', code: data };
  if (matchesCardRule(data, cardRule)) return { kind: 'card', cardNumber: data };
  if (isValidEan(data)) return { kind: 'ean', ean: data };
  return { kind: 'unreadable' };
}
