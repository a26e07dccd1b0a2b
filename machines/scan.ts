/**
 * One reader reads both loyalty cards and product barcodes: this tells them apart by pattern.
 * Card numbers in the merchant's examples are 16 digits starting 9276 (no check digit), so the card
 * pattern is configuration; EAN-8/EAN-13 are products only when their check digit is right.
 */

export type ScanKind =
  { kind: 'card'; cardNumber: string } | { kind: 'ean'; ean: string } | { kind: 'unreadable' };

export const DEFAULT_CARD_PATTERN = '^9276\\d{12}$';

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

export function classifyScan(raw: string, cardPattern: string = DEFAULT_CARD_PATTERN): ScanKind {
  // Readers add CR/LF, spaces or a leading ';' (magstripe track 2) around the number.
  const data = raw
    .trim()
    .replace(/^;|\?$/g, '')
    .replace(/\s+/g, '');
  if (new RegExp(cardPattern).test(data)) return { kind: 'card', cardNumber: data };
  if (isValidEan(data)) return { kind: 'ean', ean: data };
  return { kind: 'unreadable' };
}
