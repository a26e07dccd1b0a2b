/**
 * The last privacy guard before anything leaves the kiosk over MQTT: card-number-like digit runs in any
 * string are masked, and fields that name a person are removed. Event payloads are already strict
 * schemas; this covers the free-form parts (command results, diagnostics, device status texts).
 */
import { maskCardsInText } from '../util/privacy.js';

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
  if (typeof value === 'string') return maskCardsInText(value);
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
