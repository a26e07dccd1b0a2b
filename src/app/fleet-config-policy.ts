/**
 * What the fleet may set through `config/desired`, by allow-list. The fleet is one leaked operator
 * account away from an attacker, so it may change what a shop manager changes (texts, language,
 * catalogue and prices, top-up amounts, timeouts within bounds) and nothing that decides where money,
 * secrets or coins go: never the API or token URLs, client id or secret, the kiosk's id or mode, any
 * hardware driver or pin, the control port or anything under `sim` or `api.standIn`, the journal or
 * fleet settings and paths, the service PIN, receipt masking, or the card pattern.
 *
 * A document is the set of fleet-settable values the operator wants, with a rising `version`:
 *
 *   { "version": 13, "kiosk": { "language": "en" }, "receipts": { "footer": ["Danke!"] },
 *     "catalogue": [...], "topup": { "amounts": [500, 1000] }, "timeouts": { "inactivityMs": 45000 } }
 *
 * Whatever it leaves out is the kiosk's own (file) value, so the same document always gives the same
 * configuration, whatever came before. A document with one forbidden or unknown field is rejected
 * whole, and the field names are reported; nothing of it is applied or stored.
 */
import * as z from 'zod';
import { describeIssue } from '../config/config.js';
import { ProductConfigSchema, vendingConfigErrors, type KioskConfig } from '../config/config-schema.js';

/** Printable text only: a control character in a receipt line would reach the ESC/POS printer as a command. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'printable characters only (no control characters)');
const cents = z.int().min(0).max(1_000_000);
const between = (min: number, max: number) => z.int().min(min).max(max);

/** The fleet's schema: only settable fields, each within bounds a kiosk stays usable and safe with. */
export const FleetDesiredSchema = z.strictObject({
  version: z.int().min(0),
  kiosk: z
    .strictObject({
      language: z.enum(['de', 'en']),
      name: text(40),
    })
    .partial()
    .optional(),
  receipts: z
    .strictObject({
      header: z.array(text(48)).max(6),
      footer: z.array(text(48)).max(6),
    })
    .partial()
    .optional(),
  catalogue: z
    .array(ProductConfigSchema.extend({ desc: text(60).min(1) }))
    .max(200)
    .optional(),
  topup: z
    .strictObject({
      amounts: z.array(cents.positive()).min(1).max(4),
      minCents: cents,
      maxCents: cents,
    })
    .partial()
    .optional(),
  timeouts: z
    .strictObject({
      inactivityMs: between(5_000, 600_000),
      warningMs: between(1_000, 120_000),
      terminalMs: between(30_000, 600_000),
      resultMs: between(1_000, 60_000),
      recheckMs: between(5_000, 3_600_000),
    })
    .partial()
    .optional(),
});
export type FleetDesired = z.infer<typeof FleetDesiredSchema>;

type Allowed = true | { readonly [key: string]: Allowed };

/** The allow-list as a tree (`true`: the whole value may be set). Kept in step with FleetDesiredSchema by a test. */
export const FLEET_SETTABLE: { readonly [key: string]: Allowed } = {
  version: true,
  kiosk: { language: true, name: true },
  receipts: { header: true, footer: true },
  catalogue: true,
  topup: { amounts: true, minCents: true, maxCents: true },
  timeouts: { inactivityMs: true, warningMs: true, terminalMs: true, resultMs: true, recheckMs: true },
};

/** Keys of the kiosk's full configuration per section: a key there but not allowed is "forbidden", else "unknown". */
const LOCAL_KEYS: Record<string, readonly string[]> = {
  '': [
    'version',
    'kiosk',
    'api',
    'fleet',
    'hardware',
    'sim',
    'catalogue',
    'topup',
    'timeouts',
    'receipts',
    'journal',
    'service',
    'cardPattern',
  ],
  kiosk: ['id', 'mode', 'language', 'name', 'cardTerminal', 'endOfDayAt', 'site', 'location', 'tenant'],
  receipts: ['mandatory', 'header', 'footer', 'maskCardNumber'],
  topup: ['amounts', 'minCents', 'maxCents'],
  timeouts: ['inactivityMs', 'warningMs', 'terminalMs', 'resultMs', 'recheckMs'],
};

/** Sections wholly outside the allow-list: their fields are named one by one (`api.baseUrl`). */
const FORBIDDEN_SECTIONS = new Set(['api', 'fleet', 'hardware', 'sim', 'journal', 'service']);

export type DesiredCheck =
  | { ok: true; config: KioskConfig; desired: FleetDesired }
  | { ok: false; errors: string[]; fields: string[] };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names every field of `doc` outside the allow-list, as `section.key`. */
export function fieldsOutsideAllowList(doc: Record<string, unknown>): {
  forbidden: string[];
  unknown: string[];
} {
  const forbidden: string[] = [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const allowed = FLEET_SETTABLE[key];
    if (allowed === true) continue;
    if (allowed !== undefined && isPlainObject(value)) {
      for (const sub of Object.keys(value)) {
        if (allowed[sub] !== undefined) continue;
        (LOCAL_KEYS[key]?.includes(sub) ? forbidden : unknown).push(`${key}.${sub}`);
      }
      continue;
    }
    if (allowed !== undefined) continue; // an allowed section of the wrong type: the schema names it
    if (!LOCAL_KEYS['']!.includes(key)) unknown.push(key);
    else if (FORBIDDEN_SECTIONS.has(key) && isPlainObject(value) && Object.keys(value).length > 0)
      forbidden.push(...Object.keys(value).map((sub) => `${key}.${sub}`));
    else forbidden.push(key);
  }
  return { forbidden, unknown };
}

const MAX_NAMED = 50;

/**
 * Checks a `config/desired` document against the allow-list and its bounds, and gives the configuration
 * it means on this kiosk: `local` (the kiosk's own file configuration) with the document's values.
 */
export function checkDesiredConfig(doc: unknown, local: KioskConfig): DesiredCheck {
  if (!isPlainObject(doc)) return { ok: false, errors: ['the document must be a JSON object'], fields: [] };
  const { forbidden, unknown } = fieldsOutsideAllowList(doc);
  if (forbidden.length > 0 || unknown.length > 0) {
    const errors: string[] = [];
    if (forbidden.length > 0)
      errors.push(`not settable from the fleet: ${forbidden.slice(0, MAX_NAMED).join(', ')}`);
    if (unknown.length > 0) errors.push(`unknown field(s): ${unknown.slice(0, MAX_NAMED).join(', ')}`);
    return { ok: false, errors, fields: [...forbidden, ...unknown].slice(0, MAX_NAMED) };
  }
  const parsed = FleetDesiredSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10);
    return {
      ok: false,
      errors: issues.map(describeIssue),
      fields: [...new Set(issues.map((i) => i.path.join('.') || '(document)'))],
    };
  }
  const desired = parsed.data;
  const config = structuredClone(local);
  config.version = desired.version;
  Object.assign(config.kiosk, desired.kiosk);
  Object.assign(config.receipts, desired.receipts);
  Object.assign(config.topup, desired.topup);
  Object.assign(config.timeouts, desired.timeouts);
  if (desired.catalogue) config.catalogue = desired.catalogue;

  // What only holds for the result: the document's top-up amounts against the kiosk's limits, and so on.
  const errors: string[] = [];
  const fields: string[] = [];
  const { amounts, minCents, maxCents } = config.topup;
  if (minCents > maxCents) {
    errors.push(`topup.minCents: ${minCents} is above topup.maxCents ${maxCents}`);
    fields.push('topup.minCents', 'topup.maxCents');
  }
  const outside = amounts.filter((a) => a < minCents || a > maxCents);
  if (outside.length > 0) {
    errors.push(`topup.amounts: ${outside.join(', ')} outside ${minCents}..${maxCents}`);
    fields.push('topup.amounts');
  }
  const ids = config.catalogue.map((p) => p.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0) {
    errors.push(`catalogue: product id(s) ${[...new Set(twice)].join(', ')} given more than once`);
    fields.push('catalogue');
  }
  for (const e of vendingConfigErrors(config)) {
    errors.push(e.message);
    fields.push('catalogue');
  }
  if (errors.length > 0) return { ok: false, errors, fields };
  return { ok: true, config, desired };
}
