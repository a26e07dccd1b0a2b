/**
 * The kiosk's one configuration document, validated at start and for every `config/desired` the
 * fleet sends. A bad file stops the kiosk with a message naming the field; a bad desired config is
 * rejected and reported, never applied.
 */
import * as z from 'zod';
import { hardwareConfigSchema } from '../../hal/hardware-config.js';
import { CardRuleSchema } from './card-rule.js';

const cents = z.int().min(0).max(1_000_000);
const ms = (def: number) => z.int().min(0).max(3_600_000).default(def);

export const ProductConfigSchema = z.strictObject({
  id: z.int().positive(),
  desc: z.string().min(1).max(60),
  ean: z
    .string()
    .regex(/^(\d{8}|\d{13})$/, 'EAN-8 or EAN-13 digits')
    .nullable()
    .default(null),
  priceOne: z.int().positive().max(1_000_000),
  tax: z.number().min(0).max(100),
  /** A button that adds it to the basket, e.g. `amount1`. */
  button: z.enum(['amount1', 'amount2', 'amount3', 'amount4']).optional(),
});

export const KioskConfigSchema = z
  .strictObject({
    /** Config document version; the fleet's `config/desired` carries a rising one. */
    version: z.int().min(0).default(0),
    kiosk: z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, e.g. k-0042'),
      mode: z.enum(['topup', 'checkout']),
      language: z.enum(['de', 'en']).default('de'),
      /** Shown on the attract screen and the receipt header. */
      name: z.string().max(40).default('Kiosk'),
      /**
       * Where it stands, for the operators' dashboard (birth `site`, `location`), e.g. `Hamburg Hbf` and
       * `Halle, Gleis 4`; and whose it is (`tenant`: the merchant), when one back office serves several.
       */
      site: z.string().min(1).max(60).optional(),
      location: z.string().min(1).max(80).optional(),
      tenant: z.string().min(1).max(60).optional(),
      /** A card terminal for `start/cashless` is attached (checkout only). */
      cardTerminal: z.boolean().default(false),
      /**
       * Local time (`HH:MM`) of the terminal's daily end-of-day, run once the kiosk is idle after it
       * (girocard is paid out only after one). Absent: only from the service menu or the fleet.
       */
      endOfDayAt: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'local time HH:MM, e.g. 23:30')
        .optional(),
    }),
    api: z.strictObject({
      /** e.g. `https://connect-testing.secuconnect.com/api/v2`; `standin` starts the local stand-in in-process. */
      baseUrl: z.union([z.url({ protocol: /^https?$/ }), z.literal('standin')]),
      tokenUrl: z.url().optional(),
      clientId: z.string().min(1),
      /** Prefer the environment variable KIOSK_API_CLIENT_SECRET over a secret in a file. */
      clientSecret: z.string().min(1).optional(),
      /** File with the refresh token from `kiosk pair` (device grant); used when present. */
      refreshTokenFile: z.string().optional(),
      deviceUuid: z.string().optional(),
      /** The Smart Device (`SDV_...`) this kiosk is registered as, for `device_source`; omitted when absent. */
      smartDeviceId: z
        .string()
        .regex(/^SDV_[A-Z0-9]{1,60}$/, 'a Smart Device id, e.g. SDV_2YJDXYESB2YBHECVB5GQGSYPNM8UA6')
        .optional(),
      timeoutMs: ms(15_000),
      cashlessTimeoutMs: ms(180_000),
      /**
       * A start in doubt is repeated only when this many further reads, after the first, still say
       * "not started" (reads may lag a start that took effect); recovery aborts instead of repeating.
       */
      noEffectReads: z.int().min(0).max(10).default(3),
      /** Pause before the first confirming read of the credit actor; doubled each read (at most 8x). */
      noEffectPauseMs: ms(1000),
      isDemo: z.boolean().default(false),
      standIn: z
        .strictObject({
          port: z.int().min(0).max(65535).default(0),
          ledger: z.string().default('var/sim-ledger.json'),
          terminalDelayMs: ms(1500),
          /**
           * Where the API's docs are silent, which behaviour the stand-in plays: a profile name of
           * src/sim/profiles.ts (checked when the stand-in starts; config may not import the stand-in).
           */
          profile: z
            .string()
            .regex(/^[a-z0-9-]{1,40}$/)
            .default('default'),
        })
        .default({ port: 0, ledger: 'var/sim-ledger.json', terminalDelayMs: 1500, profile: 'default' }),
    }),
    fleet: z
      .strictObject({
        url: z.string().regex(/^mqtts?:\/\/\S+$/, 'mqtt://host:port or mqtts://host:port'),
        username: z.string().optional(),
        /** Prefer KIOSK_FLEET_PASSWORD. */
        password: z.string().optional(),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        heartbeatS: z.int().min(5).max(3600).default(30),
        willDelayS: z.int().min(0).max(600).default(45),
        outboxDir: z.string().default('var/outbox'),
      })
      .optional(),
    /** Device settings belong to the drivers: the schema is theirs (hal/hardware-config.ts), shared with the doctor. */
    hardware: hardwareConfigSchema.superRefine((hw, ctx) => {
      for (const device of ['display', 'reader', 'buttons', 'coin', 'printer'] as const) {
        if (!hw[device])
          ctx.addIssue({
            code: 'custom',
            path: [device],
            message: `missing: give its settings or {"driver":"simulated"}`,
          });
      }
    }),
    sim: z
      .strictObject({
        /** NDJSON control port on 127.0.0.1 (tests, demos); absent: off. */
        controlPort: z.int().min(0).max(65535).optional(),
        /**
         * The control port can insert coins and press buttons: it never opens beside a real coin
         * acceptor unless this local setting says so (a bench with a real acceptor). The fleet can never
         * set anything under `sim` (src/app/fleet-config-policy.ts).
         */
        controlPortWithRealAcceptor: z.boolean().default(false),
        /** The terminal face of the simulator; off for headless runs. */
        tui: z.boolean().default(true),
        /** Coins the simulator's keys insert (cents). */
        coins: z.array(cents.positive()).min(1).max(8).default([10, 20, 50, 100, 200, 500, 1000]),
        /** Size of a simulated display and width of a simulated printer. */
        displayCols: z.union([z.literal(16), z.literal(20)]).default(20),
        displayRows: z.union([z.literal(2), z.literal(4)]).default(4),
        printerColumns: z.union([z.literal(32), z.literal(48)]).default(32),
      })
      .default({
        controlPortWithRealAcceptor: false,
        tui: true,
        coins: [10, 20, 50, 100, 200, 500, 1000],
        displayCols: 20,
        displayRows: 4,
        printerColumns: 32,
      }),
    catalogue: z.array(ProductConfigSchema).max(200).default([]),
    topup: z
      .strictObject({
        amounts: z.array(cents.positive()).min(1).max(4).default([500, 1000, 2000, 5000]),
        minCents: cents.default(100),
        maxCents: cents.default(10_000),
      })
      .default({ amounts: [500, 1000, 2000, 5000], minCents: 100, maxCents: 10_000 }),
    timeouts: z
      .strictObject({
        inactivityMs: ms(30_000),
        warningMs: ms(10_000),
        terminalMs: ms(120_000),
        resultMs: ms(8_000),
        /** Out of service for a reason that may pass (API, recovery): how long until the self-test runs again. */
        recheckMs: ms(30_000),
      })
      .default({
        inactivityMs: 30_000,
        warningMs: 10_000,
        terminalMs: 120_000,
        resultMs: 8_000,
        recheckMs: 30_000,
      }),
    receipts: z
      .strictObject({
        /** When true, the kiosk is out of service while the printer has no paper. */
        mandatory: z.boolean().default(false),
        header: z.array(z.string().max(48)).max(6).default([]),
        footer: z.array(z.string().max(48)).max(6).default([]),
        maskCardNumber: z.boolean().default(true),
        /** The seller on every customer receipt (§33 UStDV: name and address). */
        merchant: z
          .strictObject({
            name: z.string().min(1).max(48),
            address: z.array(z.string().max(48)).max(4).default([]),
            vatId: z.string().max(20).optional(),
          })
          .optional(),
      })
      .default({ mandatory: false, header: [], footer: [], maskCardNumber: true }),
    journal: z
      .strictObject({
        dir: z.string().default('var/journal'),
        maxAgeDays: z.int().min(1).max(3650).default(90),
        maxBytes: z
          .int()
          .min(1_000_000)
          .default(64 * 1024 * 1024),
        /** When the API is unreachable at boot with unfinished transactions: stay out of service, or serve and keep the debt in the journal. */
        onApiDown: z.enum(['out_of_service', 'serve']).default('serve'),
        /** Space kept in a reserve file, released only to finish the open sessions when the disk is full. */
        reserveBytes: z
          .int()
          .min(0)
          .default(1024 * 1024),
        /** Free space below which the fleet gets `disk_low` (warning). */
        lowFreeBytes: z
          .int()
          .min(0)
          .default(32 * 1024 * 1024),
        /** Free space below which the kiosk takes no money (out of service `storage`, `disk_low` critical). */
        minFreeBytes: z
          .int()
          .min(0)
          .default(8 * 1024 * 1024),
        /** How often free space is checked (and a failed journal retried). */
        spaceCheckMs: z.int().min(50).max(3_600_000).default(30_000),
      })
      .default({
        dir: 'var/journal',
        maxAgeDays: 90,
        maxBytes: 64 * 1024 * 1024,
        onApiDown: 'serve',
        reserveBytes: 1024 * 1024,
        lowFreeBytes: 32 * 1024 * 1024,
        minFreeBytes: 8 * 1024 * 1024,
        spaceCheckMs: 30_000,
      }),
    /**
     * Signed vouchers (src/bookkeeping/voucher-code.ts) for money the kiosk owes. The key file is the
     * secret store (mode 0600, made on first start when missing): `{"signing":"<kid>","keys":{"<kid>":
     * "<base64 secret>"}}`; keys besides the signing one are accepted for redeeming (a fleet-wide key,
     * an old key after a rotation). Local only: the fleet can change neither.
     */
    vouchers: z
      .strictObject({
        /** Default: `voucher-keys.json` beside the journal directory. */
        keyFile: z.string().optional(),
        /** Days a voucher can be redeemed after the day it is issued; 0: no expiry. */
        validDays: z.int().min(0).max(3650).default(1095),
      })
      .default({ validDays: 1095 }),
    /**
     * The technician's service menu (long press of `service`, then the PIN). Without `pinHash` the menu
     * cannot be opened. Make the hash with `npx tsx src/app/service-pin-hash.ts <PIN>`.
     */
    service: z
      .strictObject({
        /** `scrypt:<salt-hex>:<hash-hex>`; the PIN itself is never stored. */
        pinHash: z
          .string()
          .regex(
            /^scrypt:[0-9a-f]{16,128}:[0-9a-f]{32,128}$/,
            'scrypt:<salt-hex>:<hash-hex> (service-pin-hash)',
          )
          .optional(),
        /** Digits of the PIN (must match the PIN the hash was made from). */
        pinLength: z.int().min(4).max(8).default(4),
        /** Wrong PINs in a row before the lock-out. */
        maxTries: z.int().min(1).max(10).default(3),
        lockoutMs: ms(300_000),
        /** A logged-in technician who pressed nothing this long is logged out. */
        idleMs: ms(300_000),
      })
      .default({ pinLength: 4, maxTries: 3, lockoutMs: 300_000, idleMs: 300_000 }),
    /**
     * What a loyalty card number looks like on the reader (anything else is tried as an EAN): a
     * digits-and-length rule, never a free RegExp (src/config/card-rule.ts); the old `^9276\\d{12}$` form is
     * still read. Local only: the fleet cannot change it (fleet-config-policy.ts).
     */
    cardPattern: CardRuleSchema,
  })
  .superRefine((config, ctx) => {
    for (const e of vendingConfigErrors(config))
      ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  });

/**
 * What only holds across sections: each vend slot releases a product of the catalogue (a slot for a
 * product nobody can buy, or a catalogue without the slot's product after a fleet document, is a
 * mistake), and slots belong to a checkout kiosk. Also checked for the fleet's desired documents.
 */
export function vendingConfigErrors(config: {
  kiosk: { mode: string };
  catalogue: readonly { id: number }[];
  hardware: { slots?: { slots: readonly { id: string; product: number }[] } | undefined };
}): { path: (string | number)[]; message: string }[] {
  const slots = config.hardware.slots?.slots ?? [];
  const errors: { path: (string | number)[]; message: string }[] = [];
  if (slots.length > 0 && config.kiosk.mode !== 'checkout')
    errors.push({ path: ['hardware', 'slots'], message: 'vend slots need kiosk.mode "checkout"' });
  const ids = new Set(config.catalogue.map((p) => p.id));
  slots.forEach((s, i) => {
    if (!ids.has(s.product))
      errors.push({
        path: ['hardware', 'slots', 'slots', i, 'product'],
        message: `slot ${s.id}: product ${s.product} is not in the catalogue`,
      });
  });
  return errors;
}

export type KioskConfig = z.infer<typeof KioskConfigSchema>;
export type KioskConfigInput = z.input<typeof KioskConfigSchema>;
