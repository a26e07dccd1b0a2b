/**
 * The `hardware` section of the kiosk's config file, as far as the doctor and the drivers need it.
 * Every device is either `{ "driver": "simulated" }` or its real settings; a device that is left out is
 * not part of this kiosk. Pins are BCM numbers (the header chip's base is added at start, never here).
 *
 * Display and printer settings belong to their drivers (hal/display/pcf8574-lcd.ts, hal/printer/escpos-printer.ts);
 * only what the doctor needs to open them is checked here, and unknown keys pass through.
 */
import * as z from 'zod';
// Named, not `z.core.…`: a use of the namespace `z.core` bundles all of zod's core (+0.5 MB).
import { $constructor, type $ZodLazyDef } from 'zod/v4/core';
import { BUTTON_NAMES } from '../src/contracts/buttons.js';

const bcm = () => z.number().int().min(0).max(57);
const ms = () => z.number().int().positive();
const required = () => z.boolean().optional();
const simulated = () => z.object({ driver: z.literal('simulated') });

/**
 * A device's settings: a union on `driver` whose members are built when a config first names their
 * driver (issue 17: building every driver's schema at start cost ~+52 M instructions, and a kiosk uses
 * one driver per device). `z.lazy` alone cannot defer it: an object asks an optional key's schema
 * whether it is optional at the first parse, which resolves it. So the parse is in two stages, inside
 * zod's own: an object whose `driver` names a member is run through that member alone, which is
 * exactly what `z.discriminatedUnion` does once it has picked the member (same issues, paths and abort
 * flags, the same parse context); anything else (not an object, no driver, an unknown one) is run
 * through the whole discriminated union, built then, so its issues are the union's own.
 */
interface DeviceUnionDef extends $ZodLazyDef {
  members: Record<string, () => z.ZodObject>;
  /** Built members by driver name; in the def, so that clones (`.superRefine`) share them. */
  built: Map<string, z.ZodObject>;
}

function memberOf(def: DeviceUnionDef, driver: string): z.ZodObject {
  let schema = def.built.get(driver);
  if (!schema) {
    schema = def.members[driver]!();
    // The dispatch below takes the key for the member's `driver`: a member filed under another name
    // would be chosen for the wrong settings.
    if ((schema.shape.driver as z.ZodLiteral | undefined)?.value !== driver)
      throw new Error(`device union: member '${driver}' has another driver literal`);
    def.built.set(driver, schema);
  }
  return schema;
}

const lazyInit: (inst: z.ZodLazy, def: DeviceUnionDef) => void = z.ZodLazy.init;

const ZodDeviceUnion = $constructor('ZodDeviceUnion', (inst: z.ZodLazy, def: DeviceUnionDef) => {
  // A ZodLazy (classic methods, innerType = the whole union) whose parse picks the member first.
  lazyInit(inst, def);
  // A union of objects is neither optional nor defaulted; said here, so that `.optional()` around it
  // does not build the whole union to ask.
  inst._zod.optin = undefined;
  inst._zod.optout = undefined;
  inst._zod.parse = (payload, ctx) => {
    const input = payload.value;
    const driver =
      input !== null && typeof input === 'object' && !Array.isArray(input)
        ? (input as Record<string, unknown>).driver
        : undefined;
    const chosen =
      typeof driver === 'string' && Object.hasOwn(def.members, driver)
        ? memberOf(def, driver)
        : inst._zod.innerType;
    return chosen._zod.run(payload, ctx);
  };
});

/** `members`: driver name -> a function that builds its settings' schema (`driver: z.literal(<name>)`). */
function deviceUnion<M extends Record<string, () => z.ZodObject>>(
  members: M,
): z.ZodType<z.output<ReturnType<M[keyof M]>>, z.input<ReturnType<M[keyof M]>>> {
  const def: DeviceUnionDef = {
    type: 'lazy',
    members,
    built: new Map(),
    getter: () =>
      z.discriminatedUnion(
        'driver',
        Object.keys(members).map((name) => memberOf(def, name)) as [z.ZodObject, ...z.ZodObject[]],
      ),
  };
  return new ZodDeviceUnion(def) as unknown as z.ZodType<
    z.output<ReturnType<M[keyof M]>>,
    z.input<ReturnType<M[keyof M]>>
  >;
}

/** `0x27` or 39: I2C addresses are usually written in hex. */
const i2cAddress = () =>
  z.union([
    z.number().int().min(0x03).max(0x77),
    z
      .string()
      .regex(/^0x[0-9a-f]{1,2}$/i, 'an address like "0x27"')
      .transform((s) => Number.parseInt(s, 16)),
  ]);

export const buttonsConfigSchema = deviceUnion({
  simulated,
  gpio: () =>
    z.object({
      driver: z.literal('gpio'),
      /** name -> BCM pin, e.g. { "ok": 17, "cancel": 27, "service": 22 } */
      pins: z
        .partialRecord(z.enum(BUTTON_NAMES), bcm())
        .refine((p) => Object.keys(p).length > 0, 'at least one button'),
      activeLow: z.boolean().optional(),
      debounceMs: ms().optional(),
      longPressMs: ms().optional(),
      longPressButtons: z.array(z.enum(BUTTON_NAMES)).optional(),
      required: required(),
    }),
});

const pulseInput = () =>
  z.object({
    bcm: bcm(),
    centsPerPulse: z.number().int().positive(),
    activeLow: z.boolean().optional(),
    quietGapMs: ms().optional(),
    minPulseMs: ms().optional(),
    stuckMs: ms().optional(),
    coinPulses: z.array(z.number().int().positive()).optional(),
  });

const inhibit = () => z.object({ bcm: bcm(), activeLow: z.boolean().optional() });

/** A coin or bill value in cents (up to a 500 euro note). */
const moneyValue = () => z.number().int().positive().max(50_000);

export const coinConfigSchema = deviceUnion({
  simulated: () =>
    z.object({
      driver: z.literal('simulated'),
      /** The values the twin is programmed for (default: the simulator's keys, `sim.coins`). */
      coins: z.array(moneyValue()).min(1).max(16).optional(),
    }),
  pulse: () =>
    z.object({
      driver: z.literal('pulse'),
      coin: pulseInput(),
      bill: pulseInput().optional(),
      inhibit: inhibit().optional(),
      billInhibit: inhibit().optional(),
      required: required(),
    }),
  cctalk: () =>
    z.object({
      driver: z.literal('cctalk'),
      path: z.string().startsWith('/dev/', 'a device path such as /dev/serial/by-id/...'),
      /** The validator's ccTalk address (2 by default). */
      address: z.number().int().min(2).max(255).optional(),
      /** Channel (1..16) -> cents, for channels whose coin id (184) is not of the `EU200A` form. */
      channels: z.record(z.string().regex(/^([1-9]|1[0-6])$/, 'a channel 1..16'), moneyValue()).optional(),
      baudRate: z.number().int().positive().optional(),
      timeoutMs: ms().max(10_000).optional(),
      pollMs: ms().max(1_000).optional(),
      required: required(),
    }),
});

const serialPath = () => z.string().startsWith('/dev/', 'a device path such as /dev/serial/by-id/...');
const backoff = () =>
  z
    .object({ initialMs: ms().optional(), maxMs: ms().optional(), presenceCheckMs: ms().optional() })
    .optional();

export const readerConfigSchema = deviceUnion({
  simulated,
  line: () =>
    z.object({
      driver: z.literal('line'),
      path: serialPath(),
      baudRate: z.number().int().positive().optional(),
      maxLength: z.number().int().positive().max(1024).optional(),
      backoff: backoff(),
      required: required(),
    }),
  pn532: () =>
    z.object({
      driver: z.literal('pn532'),
      path: serialPath(),
      baudRate: z.number().int().positive().optional(),
      pollIntervalMs: ms().optional(),
      uidFormat: z.enum(['hex', 'decimal', 'decimal-reversed']).optional(),
      backoff: backoff(),
      required: required(),
    }),
});

export const displayConfigSchema = deviceUnion({
  simulated,
  'hd44780-pcf8574': () =>
    z.looseObject({
      driver: z.literal('hd44780-pcf8574'),
      bus: z.number().int().min(0).optional(),
      address: i2cAddress().optional(),
      cols: z.union([z.literal(16), z.literal(20)]),
      rows: z.union([z.literal(2), z.literal(4)]),
      rom: z.enum(['A00', 'A02']).optional(),
      required: required(),
    }),
});

export const printerConfigSchema = deviceUnion({
  simulated,
  escpos: () =>
    z.looseObject({
      driver: z.literal('escpos'),
      /** `tcp://192.168.1.50:9100` or a device path such as `/dev/usb/lp0`. */
      interface: z.string().min(1),
      columns: z.union([z.literal(32), z.literal(48)]),
      /** Serial port that answers DLE EOT, when the data interface cannot be read (e.g. /dev/usb/lp0). */
      statusSerial: z
        .object({ path: serialPath(), baudRate: z.number().int().positive().optional() })
        .optional(),
      required: required(),
    }),
});

/**
 * One vend slot: which catalogue product it releases, its stock settings and (for GPIO) its output and
 * confirmation input (hal/vend-slot/gpio-vend-slots.ts has what each setting does).
 */
const slotCommon = () => ({
  /** As printed on the counter, e.g. `A1`. */
  id: z.string().regex(/^[A-Z0-9]{1,4}$/, 'an upper-case slot name such as "A1"'),
  /** The catalogue product (`catalogue[].id`) this slot releases. */
  product: z.number().int().positive(),
  /** Units the slot holds when full (the service menu refills up to it). */
  capacity: z.number().int().min(1).max(999).default(10),
  /** Stock assumed before the first refill is journaled (a new kiosk, the simulator). Default 0. */
  initialStock: z.number().int().min(0).max(999).default(0),
  /** `stock_low` is raised at or below this count. Default 2. */
  lowAt: z.number().int().min(0).max(999).default(2),
});

const gpioSlot = () =>
  z.object({
    ...slotCommon(),
    output: z.object({
      bcm: bcm(),
      activeLow: z.boolean().optional(),
      mode: z.enum(['pulse', 'hold']),
      pulseMs: ms().max(10_000).optional(),
    }),
    sensor: z.object({
      bcm: bcm(),
      activeLow: z.boolean().optional(),
      kind: z.enum(['drop', 'door', 'home']),
      debounceMs: ms().max(1000).optional(),
      stuckMs: ms().max(60_000).optional(),
    }),
    timeoutMs: ms().max(60_000).optional(),
  });

const slotIdsUnique = (slots: { id: string; product: number }[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  const products = new Set<number>();
  slots.forEach((s, i) => {
    if (seen.has(s.id))
      ctx.addIssue({ code: 'custom', path: ['slots', i, 'id'], message: `slot ${s.id} configured twice` });
    if (products.has(s.product))
      ctx.addIssue({
        code: 'custom',
        path: ['slots', i, 'product'],
        message: `product ${s.product} already has a slot (one slot per product)`,
      });
    seen.add(s.id);
    products.add(s.product);
  });
};

export const slotsConfigSchema = deviceUnion({
  simulated: () =>
    z.object({
      driver: z.literal('simulated'),
      slots: z.array(z.object(slotCommon())).min(1).max(64),
    }),
  gpio: () =>
    z.object({
      driver: z.literal('gpio'),
      slots: z.array(gpioSlot()).min(1).max(64),
      required: required(),
    }),
}).superRefine((cfg, ctx) => {
  slotIdsUnique(cfg.slots, ctx);
  if (cfg.driver !== 'gpio') return;
  const pins = new Map<number, string>();
  cfg.slots.forEach((s, i) => {
    for (const [what, pin] of [
      ['output', s.output.bcm],
      ['sensor', s.sensor.bcm],
    ] as const) {
      const other = pins.get(pin);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['slots', i, what, 'bcm'],
          message: `BCM ${pin} is already ${other}`,
        });
      pins.set(pin, `slot ${s.id} ${what}`);
    }
  });
});

const coinCents = () => z.number().int().positive().max(50_000);
/** `hopper_low` is raised at or below this many coins by the journal's books. Default 20. */
const hopperLowAt = () => z.number().int().min(0).max(10_000).default(20);

export const hopperConfigSchema = deviceUnion({
  simulated: () =>
    z.object({
      driver: z.literal('simulated'),
      /** Value of the one coin the hopper holds. */
      coinCents: coinCents(),
      /** Coins in the simulated hopper at start. Default 50. */
      coins: z.number().int().min(0).max(10_000).default(50),
      /**
       * Where the twin keeps its coins and counters across restarts, as a real hopper keeps them across
       * the kiosk's power cut (the chaos harness); absent: in memory, fresh at every start.
       */
      stateFile: z.string().min(1).optional(),
      /** Milliseconds per coin paid (0: at once). */
      coinMs: z.number().int().min(0).max(2000).default(0),
      lowAt: hopperLowAt(),
    }),
  cctalk: () =>
    z.object({
      driver: z.literal('cctalk'),
      path: serialPath(),
      /** The hopper's ccTalk address (3 by default; 3-10 for several hoppers). */
      address: z.number().int().min(2).max(255).optional(),
      coinCents: coinCents(),
      baudRate: z.number().int().positive().optional(),
      timeoutMs: ms().max(10_000).optional(),
      pollMs: ms().max(5_000).optional(),
      stallMs: ms().max(60_000).optional(),
      silentMs: ms().max(60_000).optional(),
      /** Simple poll between payouts (a hopper that lost its supply mid-session is noticed); 0: off. */
      idlePollMs: z.number().int().min(0).max(60_000).optional(),
      lowAt: hopperLowAt(),
      required: required(),
    }),
});

export const hardwareConfigSchema = z.object({
  /** For tests and unusual systems; default /sys/class/gpio. */
  gpioSysfsRoot: z.string().optional(),
  buttons: buttonsConfigSchema.optional(),
  coin: coinConfigSchema.optional(),
  reader: readerConfigSchema.optional(),
  display: displayConfigSchema.optional(),
  printer: printerConfigSchema.optional(),
  /** A vending counter's product slots; absent: goods are handed over by staff. */
  slots: slotsConfigSchema.optional(),
  /** The change hopper; absent: change goes on the card or a voucher. */
  hopper: hopperConfigSchema.optional(),
});

/** The config file: other sections (api, fleet...) belong to other modules and pass through. */
export const kioskHardwareFileSchema = z.looseObject({ hardware: hardwareConfigSchema });

export type HardwareConfig = z.infer<typeof hardwareConfigSchema>;
export type ButtonsDeviceConfig = z.infer<typeof buttonsConfigSchema>;
export type CoinDeviceConfig = z.infer<typeof coinConfigSchema>;
export type ReaderDeviceConfig = z.infer<typeof readerConfigSchema>;
export type DisplayDeviceConfig = z.infer<typeof displayConfigSchema>;
export type PrinterDeviceConfig = z.infer<typeof printerConfigSchema>;
export type SlotsDeviceConfig = z.infer<typeof slotsConfigSchema>;
export type HopperDeviceConfig = z.infer<typeof hopperConfigSchema>;
