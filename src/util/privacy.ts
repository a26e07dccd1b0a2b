/**
 * Card numbers, tokens and names never leave the kiosk in full: not in logs, not over MQTT.
 * Masking keeps the first four and last four digits, which is what an operator needs to match a
 * complaint with a receipt (`9276********2845`).
 */

// 14 to 20 digits: card numbers (16 in this scheme), but not EAN-13 product codes, which stay readable.
const CARD_LIKE = /\b(\d{4})(\d{6,12})(\d{4})\b/g;

export function maskCard(cardNumber: string): string {
  const digits = cardNumber.replace(/\s+/g, '');
  if (digits.length <= 8) return '*'.repeat(digits.length);
  return `${digits.slice(0, 4)}${'*'.repeat(digits.length - 8)}${digits.slice(-4)}`;
}

/** Masks every run of 14 to 20 digits inside free text (log lines, receipt text sent upstream). */
export function maskCardsInText(text: string): string {
  return text.replace(
    CARD_LIKE,
    (_m, a: string, mid: string, b: string) => `${a}${'*'.repeat(mid.length)}${b}`,
  );
}

/** Keeps only a short, non-reversible hint of a secret: enough to tell two tokens apart in a log. */
export function redactSecret(secret: string | undefined): string {
  if (!secret) return '(none)';
  return `***(${secret.length})`;
}
