/**
 * Schemas for what the Smart Transactions API sends back. Tolerant where the real API varies
 * (articleNumber string or number, ean "" or null, unknown fields kept: loose objects), strict
 * where the kiosk acts on a field (status, missing_sum, receipt lines, card balance and lock state).
 */
import { z } from 'zod';

const cents = z.int().refine(Number.isSafeInteger, 'not a safe integer');
const nonNegativeCents = cents.refine((v) => v >= 0, 'must not be negative');

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
export type TransactionStatus = z.infer<typeof TransactionStatusSchema>;

export const TOPUP_EAN = '4260447149502';

export const ProductSchema = z.looseObject({
  id: z.int(),
  parent: z.int().nullable().optional(),
  item_type: z.string().default('article'),
  desc: z.string(),
  articleNumber: z.union([z.string(), z.number()]).nullable().optional(),
  ean: z.string().nullable().optional(),
  quantity: z.int().positive(),
  priceOne: cents,
  tax: z.number().min(0).max(100),
  group: z.array(z.unknown()).optional(),
  serialNumber: z.string().nullable().optional(),
  reference_id: z.union([z.string(), z.number()]).nullable().optional(),
  contract_id: z.union([z.string(), z.number()]).nullable().optional(),
  sum: cents.nullable().optional(),
});
export type Product = z.infer<typeof ProductSchema>;

export const BasketSchema = z.looseObject({
  products: z.array(ProductSchema),
  texts: z.array(z.unknown()).optional(),
  type: z.string().optional(),
});

export const BasketInfoSchema = z.looseObject({
  sum: cents,
  currency: z.string().length(3),
  gratuity: cents.nullable().optional(),
  missing_sum: nonNegativeCents.optional(),
});

const Decorations = z.array(z.string()).default([]);

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
]);
export type ReceiptLine = z.infer<typeof ReceiptLineSchema>;

export const LOCK_STATUSES = ['locked', 'unlocked'] as const;
export const STOCK_STATUSES = ['active', 'inactive', 'stored'] as const;

export const MerchantCardSchema = z
  .looseObject({
    id: z.string(),
    card: z.looseObject({ cardnumber: z.string() }).optional(),
    cardgroup: z.looseObject({ display_name: z.string().nullable().optional() }).nullable().optional(),
    points: z.number().optional(),
    cash_balance: cents,
    bonus_balance: cents,
    balance: cents,
    lock_status: z.enum(LOCK_STATUSES),
    stock_status: z.enum(STOCK_STATUSES),
    passcode: z.int().min(0).max(6),
    expiry_date: z.string().nullable().optional(),
  })
  .refine((c) => c.balance === c.cash_balance + c.bonus_balance, {
    message: 'balance must equal cash_balance + bonus_balance',
    path: ['balance'],
  });
export type MerchantCard = z.infer<typeof MerchantCardSchema>;

export const IdentSchema = z.looseObject({
  object: z.string().optional(),
  id: z.string().optional(),
  prefix: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  type: z.string(),
  value: z.string(),
  valid: z.boolean(),
  merchantcard: MerchantCardSchema.nullable().optional(),
});
export type Ident = z.infer<typeof IdentSchema>;

export const TransactionSchema = z.looseObject({
  object: z.literal('smart.transactions').optional(),
  id: z.string().min(1),
  status: TransactionStatusSchema,
  created: z.string().optional(),
  updated: z.string().nullable().optional(),
  merchantRef: z.string().nullable().optional(),
  transactionRef: z.string().nullable().optional(),
  intent: z.string().nullable().optional(),
  basket: BasketSchema.optional(),
  basket_info: BasketInfoSchema,
  receipt: z.array(ReceiptLineSchema).optional(),
  idents: z.array(IdentSchema).optional(),
  transactions: z.array(z.looseObject({ object: z.string(), id: z.string() })).optional(),
  payment_method: z.string().nullable().optional(),
  trans_id: z.union([z.string(), z.number()]).nullable().optional(),
  is_demo: z.boolean().optional(),
});
export type Transaction = z.infer<typeof TransactionSchema>;

export const PreTransactionResultSchema = z.looseObject({
  missing_sum: nonNegativeCents,
  bonus_products: z.array(ProductSchema).default([]),
});
export type PreTransactionResult = z.infer<typeof PreTransactionResultSchema>;

export const ApiErrorBodySchema = z.looseObject({
  status: z.literal('error'),
  error: z.string(),
  error_details: z.string().optional(),
  error_user: z.string().nullable().optional(),
  code: z.number().optional(),
  supportId: z.string().nullable().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

export const OAuthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
});

export const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type must be bearer'),
  scope: z.string().nullable().optional(),
  refresh_token: z.string().min(1).optional(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

export const DeviceCodeResponseSchema = z.looseObject({
  device_code: z.string().min(1),
  user_code: z.string().min(1),
  verification_url: z.string(),
  expires_in: z.number().positive(),
  interval: z.number().positive(),
});
export type DeviceCodeResponse = z.infer<typeof DeviceCodeResponseSchema>;

/** What the kiosk sends to create a transaction: validated before it leaves, so a bad basket never reaches the API. */
export const NewProductSchema = z.object({
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
});
export const CreateTransactionSchema = z
  .object({
    basket: z.object({ products: z.array(NewProductSchema).min(1), type: z.string().default('default') }),
    basket_info: z.object({ sum: nonNegativeCents, currency: z.string().length(3) }),
    idents: z.array(z.object({ type: z.literal('card'), value: z.string().regex(/^\d{8,20}$/) })).optional(),
    intent: z.string().optional(),
    merchantRef: z.string().max(64).optional(),
    transactionRef: z.string().max(64).optional(),
    device_source: z.object({ id: z.string() }).optional(),
    is_demo: z.boolean().optional(),
  })
  .refine((t) => t.basket.products.reduce((s, p) => s + p.priceOne * p.quantity, 0) === t.basket_info.sum, {
    message: 'basket_info.sum must equal the basket total',
    path: ['basket_info', 'sum'],
  });
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
