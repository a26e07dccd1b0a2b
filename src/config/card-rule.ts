/**
 * The config's `cardPattern`: what a loyalty card number looks like on the reader. It is a
 * digits-and-length rule `{ "prefix": "9276", "minLength": 16, "maxLength": 16 }`, checked in one
 * linear pass per scan (machines/scan.ts), never a free regular expression: a configured RegExp could
 * backtrack catastrophically on a crafted scan (`(\d+)+$` against 30 digits and a letter) and freeze
 * the kiosk while it holds a customer's coins.
 *
 * Older configs wrote a RegExp source. The forms they used, `^<digits>\d{n}$` and `^<digits>\d{n,m}$`
 * (also with `[0-9]` for `\d`), are still accepted and turned into the same rule once, at config load;
 * anything else is refused with a message that shows the rule form.
 */
import * as z from 'zod';
import type { CardRule } from '../contracts/card-rule.js';

/** 16 digits starting 9276, as the merchant's cards (the same default as machines/scan.ts). */
const DEFAULT_CARD_RULE: CardRule = { prefix: '9276', minLength: 16, maxLength: 16 };

/** Card numbers longer than this are not loyalty cards on any reader the kiosk supports. */
const MAX_DIGITS = 32;

const digitsRule = z
  .strictObject({
    /** Digits every card number starts with; may be empty. */
    prefix: z.string().regex(/^\d{0,32}$/, 'digits only'),
    minLength: z.int().min(1).max(MAX_DIGITS),
    maxLength: z.int().min(1).max(MAX_DIGITS),
  })
  .refine((r) => r.minLength <= r.maxLength, { message: 'minLength must not exceed maxLength' })
  .refine((r) => r.prefix.length <= r.maxLength, { message: 'prefix is longer than maxLength' });

/** `^9276\d{12}$`, `^9276[0-9]{10,12}$`, `^\d{16}$`: the only RegExp sources still understood. */
const LEGACY_FORM = /^\^(\d*)(?:\\d|\[0-9\])\{(\d{1,2})(?:,(\d{1,2}))?\}\$$/;

/** The rule an old RegExp-source `cardPattern` meant, or null when it is not one of the safe forms. */
export function cardRuleFromLegacyPattern(source: string): CardRule | null {
  const m = LEGACY_FORM.exec(source);
  if (!m) return null;
  const prefix = m[1] ?? '';
  const least = Number(m[2]);
  const most = m[3] === undefined ? least : Number(m[3]);
  const rule = { prefix, minLength: prefix.length + least, maxLength: prefix.length + most };
  return digitsRule.safeParse(rule).success && rule.minLength >= 1 ? rule : null;
}

const LEGACY_HELP =
  'give a digits-and-length rule such as {"prefix":"9276","minLength":16,"maxLength":16} ' +
  '(a RegExp source is only accepted in the form ^<digits>\\d{n}$ or ^<digits>\\d{n,m}$)';

/** The rule, or an old RegExp source turned into it here, once: scans never see a RegExp. */
export const CardRuleSchema = z
  .preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    const rule = cardRuleFromLegacyPattern(value);
    if (!rule) ctx.addIssue({ code: 'custom', message: LEGACY_HELP, input: value });
    return rule ?? value;
  }, digitsRule)
  .default({ ...DEFAULT_CARD_RULE });
