/**
 * Where the public documentation is silent, the real API may behave in more than one plausible
 * way. Each such behaviour is a switch of the stand-in, and a profile is a named set of switches,
 * so the kiosk's money paths can be run under every one of them (docs/api-stand-in.md says which
 * behaviour is documented and which profile covers each assumption). Selected by
 * `StandInOptions.profile`, `api.standIn.profile` in the kiosk's config, `--profile` of
 * `npm run sim:api`, or at run time with `POST /__sim/profile`.
 */
import * as z from 'zod';

export const SimBehaviourSchema = z.strictObject({
  /** A terminal that declines `start/cashless`: an HTTP 400 error body, or a 200 whose transaction is `failed`. */
  decline: z.enum(['http', 'status']),
  /** A `start` on a transaction already paid: refused with 409, or executed again (a second charge). */
  secondStart: z.enum(['refused', 'charges']),
  /** After each change, `GET /Smart/Transactions/{id}` shows the transaction as before it for this many reads. */
  readLag: z.int().min(0).max(20),
  /** preTransaction answers the whole transaction, or only `{missing_sum, bonus_products}` (SDK model). */
  preTransaction: z.enum(['transaction', 'minimal']),
  /**
   * Which balance becomes negative bonus lines: everything the card pays (cash and bonus), or the
   * bonus balance only ("Apply the Loyalty Card for Payment": 2,00 cash + 0,20 bonus, one 0,20 line).
   */
  bonusLines: z.enum(['applied', 'bonus']),
  /** `cancel` replaces the receipt with a STORNO receipt, or keeps the customer's receipt unchanged. */
  cancelReceipt: z.enum(['storno', 'keep']),
  /** An expired or unknown token: 401, or 403 `ProductNotAllowedException` code 2003 (documented). */
  expiredToken: z.enum(['401', '403']),
  /** Device pairing codes live this long (`expires_in`; the docs' example: 1200 s). */
  deviceCodeTtlS: z.int().min(1).max(86_400),
});
export type SimBehaviour = z.infer<typeof SimBehaviourSchema>;

/** What the stand-in did before profiles existed: the documented parts, and one guess for each silent one. */
export const DEFAULT_BEHAVIOUR: SimBehaviour = {
  decline: 'http',
  secondStart: 'refused',
  readLag: 0,
  preTransaction: 'transaction',
  bonusLines: 'applied',
  cancelReceipt: 'storno',
  expiredToken: '401',
  deviceCodeTtlS: 1200,
};

export const PROFILES = {
  default: {},
  'decline-http': { decline: 'http' },
  'decline-200-failed': { decline: 'status' },
  'second-start-refused': { secondStart: 'refused' },
  'second-start-charges': { secondStart: 'charges' },
  'read-lag': { readLag: 2 },
  'pretransaction-minimal': { preTransaction: 'minimal', bonusLines: 'bonus' },
  'cancel-keeps-receipts': { cancelReceipt: 'keep' },
  'expired-token-403': { expiredToken: '403' },
  'device-code-1200': { deviceCodeTtlS: 1200 },
  /** Every unkind guess at once: a read lag with a second start that charges is the double-charge trap. */
  hostile: {
    decline: 'status',
    secondStart: 'charges',
    readLag: 2,
    preTransaction: 'minimal',
    bonusLines: 'bonus',
    cancelReceipt: 'keep',
    expiredToken: '403',
  },
} as const satisfies Record<string, Partial<SimBehaviour>>;
export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}

/** A profile by name, or switches given one by one (over the defaults). */
export type ProfileSelection = ProfileName | Partial<SimBehaviour>;

export function behaviourOf(sel: ProfileSelection | undefined): SimBehaviour {
  if (sel === undefined) return { ...DEFAULT_BEHAVIOUR };
  if (typeof sel === 'string') {
    if (!isProfileName(sel)) throw new Error(`unknown stand-in profile ${sel} (${PROFILE_NAMES.join(', ')})`);
    return { ...DEFAULT_BEHAVIOUR, ...PROFILES[sel] };
  }
  return SimBehaviourSchema.parse({ ...DEFAULT_BEHAVIOUR, ...sel });
}

/** The body of `POST /__sim/profile`: `{"name": "read-lag"}`, or `{"set": {"readLag": 3}}` over the current one. */
export const ProfileRequestSchema = z.union([
  z.strictObject({ name: z.string() }),
  z.strictObject({ set: SimBehaviourSchema.partial() }),
]);
