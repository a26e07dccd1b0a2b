/**
 * Schemas for what the Smart Transactions API sends back. As tolerant as the official SDKs' models
 * (every field optional, `status` a free string, error `code` a number or a numeric string, unknown
 * fields kept, receipt lines of any shape), and strict only where the kiosk acts on a value: an
 * amount it charges or collects must be integer cents, a transaction must have an id. A breach of
 * those is a `bad_response` with outcome `unknown` (src/api/client.ts), never a crash.
 */
import * as z from 'zod';

/*
 * The answers' schemas are built when first parsed (z.lazy), not when the kiosk starts: a kiosk
 * takes coins and shows the idle screen before it sees a transaction; building them was part of
 * the start-up's module load (docs/performance.md). The token and error answers stay eager, the
 * self-test parses them anyway; so does ReceiptLineSchema, which the journal's schemas embed.
 */
const cents = z.int().refine(Number.isSafeInteger, 'not a safe integer');
const nonNegativeCents = cents.refine((v) => v >= 0, 'must not be negative');
/** A field the kiosk does not act on: kept when readable, dropped (undefined) when it is not. */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
/** A list the kiosk reads but does not need: missing or null is empty, an unreadable one too. */
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullable()
    .optional()
    .transform((v) => v ?? [])
    .catch([]);

/** The statuses the docs list; the API may send others, so `Transaction.status` is a free string. */
export const TRANSACTION_STATUSES = [
  'created',
  'processing',
  'approved',
  'pending',
  'ok',
  'failed',
  'cancelled',
  'received',
  'shipped',
  'collection',
  'collected',
] as const;
export const TransactionStatusSchema = z.enum(TRANSACTION_STATUSES);
/** A documented status; what the API sends is `string` (see `isKnownStatus`). */
export type TransactionStatus = z.infer<typeof TransactionStatusSchema>;
export function isKnownStatus(status: string): status is TransactionStatus {
  return (TRANSACTION_STATUSES as readonly string[]).includes(status);
}

export const TOPUP_EAN = '4260447149502';

/**
 * A Smart Device id as the API gives them (`SDV_2YJDXYESB2YBHECVB5GQGSYPNM8UA6`): the only thing
 * `device_source.id` may carry. The kiosk's own name (`k-0042`) is not one and is never sent there.
 */
export const SMART_DEVICE_ID = /^SDV_[A-Z0-9]{1,60}$/;

const idLike = z.union([z.string(), z.number()]).nullable();

/** A basket line as the API echoes it. The kiosk never acts on the echo, so nothing in it is required. */
export const ProductSchema = z.lazy(() =>
  z.looseObject({
    id: lenient(idLike),
    parent: lenient(idLike),
    item_type: lenient(z.string().nullable()),
    desc: lenient(z.string().nullable()),
    articleNumber: lenient(idLike),
    ean: lenient(z.string().nullable()),
    quantity: lenient(z.number().nullable()),
    priceOne: lenient(cents.nullable()),
    tax: lenient(z.number().nullable()),
    group: lenient(z.array(z.unknown()).nullable()),
    serialNumber: lenient(idLike),
    reference_id: lenient(idLike),
    contract_id: lenient(idLike),
    sum: lenient(cents.nullable()),
  }),
);
export type Product = z.infer<typeof ProductSchema>;

export const BasketSchema = z.lazy(() =>
  z.looseObject({
    products: listOf(ProductSchema),
    texts: lenient(z.array(z.unknown()).nullable()),
    type: lenient(z.string().nullable()),
  }),
);

/**
 * The kiosk keeps its own basket total and acts on preTransaction's `missing_sum`, not on these:
 * an amount here that is not integer cents is dropped (never used), not fatal for a paid answer.
 */
export const BasketInfoSchema = z.lazy(() =>
  z.looseObject({
    sum: lenient(cents.nullable()),
    currency: lenient(z.string().nullable()),
    gratuity: lenient(cents.nullable()),
    missing_sum: lenient(nonNegativeCents.nullable()),
  }),
);

const Decorations = z.array(z.string()).default([]);

/**
 * A receipt line as the kiosk keeps, journals and prints it: one of the four documented kinds,
 * every text present. `ApiReceiptLineSchema` turns whatever the API sent into one of these.
 */
export const ReceiptLineSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('separator'),
    value: z.looseObject({ caption: z.string().nullable().optional() }).nullable().optional(),
  }),
  z.looseObject({
    type: z.literal('textline'),
    value: z.looseObject({ text: z.string(), decoration: Decorations }),
  }),
  z.looseObject({
    type: z.literal('name-value'),
    value: z.looseObject({ name: z.string(), value: z.string(), decoration: Decorations }),
  }),
  z.looseObject({ type: z.literal('space') }),
  // The kiosk's own (never from the API): a voucher's code as QR or Code128, so a reader can take it.
  z.looseObject({
    type: z.literal('barcode'),
    value: z.looseObject({ data: z.string().min(1).max(200), symbology: z.enum(['qr', 'code128']) }),
  }),
]);
export type ReceiptLine = z.infer<typeof ReceiptLineSchema>;

const textOf = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;

/**
 * Any receipt line the API may send (the SDK's `SmartTransactionsReceipt {type, value}` with every
 * field optional) as a printable `ReceiptLine`: missing or null texts become empty, decorations
 * that are not strings are dropped, and a line of a type we do not know is kept as the closest
 * printable kind (name-value, textline or separator by the fields it has; `apiType` keeps its name).
 * Only a line with nothing printable at all (null, a bare unknown type) is left out.
 */
export function normaliseReceiptLine(raw: unknown): ReceiptLine | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { type?: unknown; value?: unknown };
  const type = typeof r.type === 'string' ? r.type : '';
  const v = (typeof r.value === 'object' && r.value !== null ? r.value : {}) as Record<string, unknown>;
  const decoration = Array.isArray(v.decoration)
    ? v.decoration.filter((d): d is string => typeof d === 'string')
    : [];
  const caption = textOf(v.caption);
  switch (type) {
    case 'separator':
      return { type: 'separator', value: caption !== undefined ? { caption } : {} };
    case 'space':
      return { type: 'space' };
    case 'textline':
      return { type: 'textline', value: { text: textOf(v.text) ?? '', decoration } };
    case 'name-value':
      return {
        type: 'name-value',
        value: { name: textOf(v.name) ?? '', value: textOf(v.value) ?? '', decoration },
      };
  }
  const apiType = type || undefined;
  const name = textOf(v.name);
  const value = textOf(v.value);
  const text = textOf(v.text);
  if (name !== undefined || value !== undefined)
    return { type: 'name-value', value: { name: name ?? '', value: value ?? '', decoration }, apiType };
  if (text !== undefined) return { type: 'textline', value: { text, decoration }, apiType };
  if (caption !== undefined) return { type: 'separator', value: { caption }, apiType };
  return undefined;
}

// Optional: an answer before `start` (a create, a PUT) may carry no receipt at all.
export const ApiReceiptSchema = z
  .unknown()
  .optional()
  .transform((raw): ReceiptLine[] =>
    Array.isArray(raw) ? raw.flatMap((l) => normaliseReceiptLine(l) ?? []) : [],
  );

/** Values the API documents; others are possible and are not trusted (see src/flows/api-actors.ts). */
export const LOCK_STATUSES = ['locked', 'unlocked'] as const;
export const STOCK_STATUSES = ['active', 'inactive', 'stored'] as const;

/**
 * The card behind an ident. No `balance === cash_balance + bonus_balance` rule: cards can be
 * overdrawn where `limit_allowed`, and the balances are read before the operation anyway.
 */
export const MerchantCardSchema = z.lazy(() =>
  z.looseObject({
    id: lenient(z.string().nullable()),
    card: lenient(z.looseObject({ cardnumber: lenient(z.string().nullable()) }).nullable()),
    cardgroup: lenient(z.looseObject({ display_name: lenient(z.string().nullable()) }).nullable()),
    points: lenient(z.number().nullable()),
    cash_balance: lenient(cents.nullable()),
    bonus_balance: lenient(cents.nullable()),
    balance: lenient(cents.nullable()),
    limit_allowed: lenient(z.boolean().nullable()),
    limit: lenient(cents.nullable()),
    lock_status: lenient(z.string().nullable()),
    stock_status: lenient(z.string().nullable()),
    passcode: lenient(z.int().nullable()),
    expiry_date: lenient(z.string().nullable()),
  }),
);
export type MerchantCard = z.infer<typeof MerchantCardSchema>;

export const IdentSchema = z.lazy(() =>
  z.looseObject({
    object: lenient(z.string().nullable()),
    id: lenient(z.string().nullable()),
    prefix: lenient(z.string().nullable()),
    name: lenient(z.string().nullable()),
    type: lenient(z.string().nullable()),
    value: lenient(z.string().nullable()),
    valid: lenient(z.boolean().nullable()),
    merchantcard: lenient(MerchantCardSchema.nullable()),
  }),
);
export type Ident = z.infer<typeof IdentSchema>;

export const TransactionSchema = z.lazy(() =>
  z.looseObject({
    object: lenient(z.string().nullable()),
    id: z.string().min(1),
    status: z.string(),
    created: lenient(z.string().nullable()),
    updated: lenient(z.string().nullable()),
    merchantRef: lenient(z.string().nullable()),
    transactionRef: lenient(z.string().nullable()),
    intent: lenient(z.string().nullable()),
    device_source: lenient(z.looseObject({ id: lenient(z.string().nullable()) }).nullable()),
    basket: lenient(BasketSchema.nullable()),
    basket_info: lenient(BasketInfoSchema.nullable()),
    receipt: ApiReceiptSchema,
    /** Terminal payments (SmartZVT): the merchant's copy, whether to print it, the terminal's receipt number. */
    receipt_merchant: lenient(z.unknown()),
    receipt_merchant_print: lenient(z.boolean().nullable()),
    /** What `cancelTrx` needs to reverse the payment (before end-of-day). */
    receipt_number: lenient(idLike),
    idents: lenient(z.array(IdentSchema).nullable()),
    transactions: lenient(z.array(z.looseObject({ object: lenient(z.string()), id: lenient(z.string()) }))),
    payment_method: lenient(z.string().nullable()),
    trans_id: lenient(idLike),
    is_demo: lenient(z.boolean().nullable()),
  }),
);
export type Transaction = z.infer<typeof TransactionSchema>;

/**
 * The answer of a terminal duty (`me/EndOfDay`, `me/diagnosis`): not documented beyond "terminal
 * answers carry `receipt_merchant`, `receipt_merchant_print`, `receipt_number`", so nothing is required.
 */
export const TerminalAnswerSchema = z.lazy(() =>
  z.looseObject({
    status: lenient(z.string().nullable()),
    receipt: ApiReceiptSchema,
    receipt_merchant: lenient(z.unknown()),
    receipt_merchant_print: lenient(z.boolean().nullable()),
    receipt_number: lenient(idLike),
  }),
);
export type TerminalAnswer = z.infer<typeof TerminalAnswerSchema>;

/**
 * The merchant's receipt of a terminal answer as printable lines: receipt lines as the customer's,
 * or a text with one line per row (terminals print fixed-width text); anything else is none.
 */
export function merchantReceiptOf(answer: { receipt_merchant?: unknown }): ReceiptLine[] {
  const raw = answer.receipt_merchant;
  if (typeof raw === 'string')
    return raw
      .split(/\r?\n/)
      .map((text): ReceiptLine => ({ type: 'textline', value: { text, decoration: [] } }));
  if (Array.isArray(raw))
    return raw.flatMap((l) =>
      typeof l === 'string'
        ? [{ type: 'textline', value: { text: l, decoration: [] } } as ReceiptLine]
        : (normaliseReceiptLine(l) ?? []),
    );
  return [];
}

/** The terminal's receipt number of an answer, as a string (the API may send a number). */
export function receiptNumberOf(answer: { receipt_number?: string | number | null }): string | undefined {
  const n = answer.receipt_number;
  return n === null || n === undefined || String(n).trim() === '' ? undefined : String(n).trim();
}

/** A search answer `{count, data[]}`: an entry that breaks the item schema is dropped, not fatal. */
function searchAnswer<T extends z.ZodType>(item: T) {
  return z.looseObject({
    count: lenient(z.number()),
    data: z
      .array(z.unknown())
      .nullable()
      .default([])
      .transform((items) =>
        (items ?? []).flatMap((i) => {
          const parsed = item.safeParse(i);
          return parsed.success ? [parsed.data as z.infer<T>] : [];
        }),
      ),
  });
}

/**
 * `GET /Smart/Transactions?q=...` (the SDK's `getAll`): `{count, data[]}`. A list entry that breaks
 * the transaction schema is dropped rather than failing the whole search.
 */
export const TransactionListSchema = z.lazy(() => searchAnswer(TransactionSchema));
export type TransactionList = z.infer<typeof TransactionListSchema>;

/**
 * `GET /Loyalty/MerchantCards?q=...` (the SDK's `LoyaltyMerchantCardsApi.getAll`): `{count, data[]}`
 * of merchant cards. An entry that breaks the merchant-card schema is dropped, not fatal.
 */
export const MerchantCardListSchema = z.lazy(() => searchAnswer(MerchantCardSchema));

/**
 * The answer to preTransaction (`SmartTransactionsPreTransactionModel {missing_sum, bonus_products}`).
 * `missing_sum` is money the kiosk will collect: integer, not negative. That it is not above the
 * basket is checked where the basket is known (src/flows/api-actors.ts).
 */
export const PreTransactionResultSchema = z.lazy(() =>
  z.looseObject({
    missing_sum: nonNegativeCents,
    bonus_products: listOf(ProductSchema),
  }),
);
export type PreTransactionResult = z.infer<typeof PreTransactionResultSchema>;

/** The SDK types `code` as a string, the guides show a number: both become a number here. */
const errorCodeSchema = z
  .union([
    z.int(),
    z
      .string()
      .regex(/^\s*\d+\s*$/)
      .transform((c) => Number(c.trim())),
  ])
  .optional()
  .catch(undefined);

export const ApiErrorBodySchema = z.looseObject({
  status: z.literal('error'),
  error: z.string(),
  error_details: lenient(z.string().nullable()),
  error_user: lenient(z.string().nullable()),
  code: errorCodeSchema,
  supportId: lenient(z.string().nullable()),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

export const OAuthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: lenient(z.string().nullable()).transform((d) => d ?? undefined),
});

export const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type must be bearer'),
  scope: z.string().nullable().optional(),
  refresh_token: z.string().min(1).optional(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

export const DeviceCodeResponseSchema = z.lazy(() =>
  z.looseObject({
    device_code: z.string().min(1),
    user_code: z.string().min(1),
    verification_url: z.string(),
    expires_in: z.number().positive(),
    interval: z.number().positive(),
  }),
);
export type DeviceCodeResponse = z.infer<typeof DeviceCodeResponseSchema>;

/** What the kiosk sends to create a transaction: validated before it leaves, so a bad basket never reaches the API. */
export const NewProductSchema = z.lazy(() =>
  z.object({
    id: z.int().positive(),
    parent: z.int().nullable().optional(),
    item_type: z.string().default('article'),
    desc: z.string().min(1),
    articleNumber: z.union([z.string(), z.number()]).nullable().optional(),
    ean: z.string().nullable().optional(),
    quantity: z.int().positive(),
    priceOne: cents,
    tax: z.number().min(0).max(100),
    group: z.array(z.unknown()).optional(),
  }),
);
export const CreateTransactionSchema = z.lazy(() =>
  z
    .object({
      // An empty basket with `basket_info.sum: 0` is a valid create ("Create and Update a Smart
      // Transaction"): the card look-up opens its transaction that way.
      basket: z.object({ products: z.array(NewProductSchema), type: z.string().default('default') }),
      basket_info: z.object({ sum: nonNegativeCents, currency: z.string().length(3) }),
      idents: z
        .array(z.object({ type: z.literal('card'), value: z.string().regex(/^\d{8,20}$/) }))
        .optional(),
      intent: z.string().optional(),
      merchantRef: z.string().max(64).optional(),
      transactionRef: z.string().max(64).optional(),
      device_source: z.object({ id: z.string() }).optional(),
      is_demo: z.boolean().optional(),
    })
    .refine((t) => t.basket.products.reduce((s, p) => s + p.priceOne * p.quantity, 0) === t.basket_info.sum, {
      message: 'basket_info.sum must equal the basket total',
      path: ['basket_info', 'sum'],
    }),
);
export type CreateTransaction = z.input<typeof CreateTransactionSchema>;

/** One-line summary of a zod error: names the field and what is wrong. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** The card of a transaction's first card ident, if the API sent one. */
export function cardOf(tx: Pick<Transaction, 'idents'>): Ident | undefined {
  return tx.idents?.find((i) => i.type === 'card');
}
