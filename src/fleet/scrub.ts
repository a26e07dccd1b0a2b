/**
 * The last privacy guard before anything leaves the kiosk over MQTT: card-number-like digit runs in any
 * string are masked, and fields that name a person are removed. Event payloads are already strict
 * schemas; this covers the free-form parts (command results, diagnostics, device status texts).
 */
import { maskCard, maskCardsInText } from '../util/privacy.js';

/** Card numbers written in groups (`9276 0000 1111 2845`, `9276-0000-...`), which maskCardsInText does not see. */
const GROUPED_CARD = /\b\d{4}(?:[ -]\d{4}){2,4}\b/g;

/** Masks card numbers in free text, grouped or not. */
export function maskCardText(text: string): string {
  return maskCardsInText(text.replace(GROUPED_CARD, (m) => maskCard(m.replace(/[ -]/g, ''))));
}

/** Keys that would carry a person's name or contact data; removed wherever they appear. */
const PERSONAL_KEYS = new Set([
  'name',
  'firstname',
  'lastname',
  'fullname',
  'customername',
  'cardholder',
  'holder',
  'holdername',
  'email',
  'phone',
  'address',
]);

/** A copy of `value` with card numbers masked and personal fields removed. JSON-like input only. */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (typeof value === 'string') return maskCardText(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (PERSONAL_KEYS.has(k.toLowerCase().replace(/[_-]/g, ''))) continue;
      out[k] = scrub(v, depth + 1);
    }
    return out;
  }
  return value;
}
