/**
 * Signed voucher codes: `KV1.<KID>.<ISSUER>.<ID>.<CENTS>.<YYYYMMDD|0>.<MAC>`.
 *
 * - `KID` names the key that signed it, so one key file can hold several keys (this kiosk's own and,
 *   later, a fleet-wide one that lets any kiosk of the fleet redeem another's vouchers) and a key can
 *   be rotated without voiding the vouchers already printed.
 * - `ISSUER` is the kiosk id that owes the money; `ID` is random (40 bits), unique per issuer.
 *   `<ISSUER>.<ID>` is the voucher's reference: what the journal, the fleet and staff name it by (the
 *   whole code is a bearer instrument and never leaves the kiosk).
 * - `CENTS` is the value, `YYYYMMDD` the last day (UTC) it can be redeemed, `0` for no expiry.
 * - `MAC` is HMAC-SHA256 over everything before it, truncated to 80 bits, base32: a forged or altered
 *   code is refused offline, without asking anyone.
 *
 * Upper-case letters, digits and dots only where the issuer allows, so a QR code can use its compact
 * alphanumeric mode and a Code128 stays short enough for a 58 mm roll.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const VOUCHER_PREFIX = 'KV1';
const MAC_BYTES = 10;
const ID_BYTES = 5;
const KID = /^[A-Za-z0-9]{1,16}$/;
const ISSUER = /^[a-z0-9][a-z0-9-]{1,62}$/;
const ID = /^[A-Z2-7]{8}$/;
const CENTS = /^[1-9]\d{0,8}$/;
const EXPIRES = /^(0|\d{8})$/;
const MAC = /^[A-Z2-7]{16}$/;

export interface VoucherKey {
  kid: string;
  secret: Buffer;
}

/** The keys a kiosk knows: the one it signs with, and every key it accepts (its own included). */
export interface VoucherKeyRing {
  signing: VoucherKey;
  accepted: ReadonlyMap<string, VoucherKey>;
}

export interface VoucherFields {
  kid: string;
  issuer: string;
  id: string;
  cents: number;
  /** Last valid day `YYYYMMDD` (UTC), or null: never expires. */
  expires: string | null;
}

export interface Voucher extends VoucherFields {
  code: string;
  /** `<issuer>.<id>`: the name the journal, the fleet and staff use. */
  ref: string;
}

export type VoucherRefusal = 'malformed' | 'unknown_key' | 'forged' | 'expired';
export type VoucherCheck = { ok: true; voucher: Voucher } | { ok: false; reason: VoucherRefusal };

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function mac(body: string, key: VoucherKey): string {
  return base32(createHmac('sha256', key.secret).update(body, 'utf8').digest().subarray(0, MAC_BYTES));
}

/** Whether a scan looks like a voucher at all (then it is never taken for a card or a product). */
export function isVoucherCode(data: string): boolean {
  return data.trim().startsWith(`${VOUCHER_PREFIX}.`);
}

export function voucherRef(issuer: string, id: string): string {
  return `${issuer}.${id}`;
}

export function encodeVoucher(fields: VoucherFields, key: VoucherKey): string {
  if (fields.kid !== key.kid) throw new Error(`voucher kid ${fields.kid} is not the key's ${key.kid}`);
  const body = [
    VOUCHER_PREFIX,
    fields.kid,
    fields.issuer,
    fields.id,
    String(fields.cents),
    fields.expires ?? '0',
  ].join('.');
  if (!parseFields(body.split('.'))) throw new Error(`voucher fields not encodable: ${body}`);
  return `${body}.${mac(body, key)}`;
}

function parseFields(parts: readonly string[]): VoucherFields | undefined {
  const [prefix, kid, issuer, id, cents, expires] = parts;
  if (prefix !== VOUCHER_PREFIX || kid === undefined || issuer === undefined || id === undefined) return;
  if (cents === undefined || expires === undefined) return;
  if (!KID.test(kid) || !ISSUER.test(issuer) || !ID.test(id) || !CENTS.test(cents) || !EXPIRES.test(expires))
    return;
  return { kid, issuer, id, cents: Number(cents), expires: expires === '0' ? null : expires };
}

/** The fields of a code without checking its signature (for what the journal already holds). */
export function readVoucher(code: string): Voucher | undefined {
  const parts = code.trim().split('.');
  if (parts.length !== 7) return undefined;
  const fields = parseFields(parts);
  return fields ? { ...fields, code: code.trim(), ref: voucherRef(fields.issuer, fields.id) } : undefined;
}

/** `YYYYMMDD` of a moment, in UTC (the day the expiry is compared with). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}

/** Checks a scanned code offline: shape, a key we accept, the MAC, the expiry (`today` as `YYYYMMDD`). */
export function verifyVoucher(raw: string, keys: VoucherKeyRing, today: string): VoucherCheck {
  const code = raw.trim();
  const parts = code.split('.');
  if (parts.length !== 7) return { ok: false, reason: 'malformed' };
  const fields = parseFields(parts);
  const given = parts[6] ?? '';
  if (!fields || !MAC.test(given)) return { ok: false, reason: 'malformed' };
  const key = keys.accepted.get(fields.kid);
  if (!key) return { ok: false, reason: 'unknown_key' };
  const expected = Buffer.from(mac(parts.slice(0, 6).join('.'), key));
  if (!timingSafeEqual(expected, Buffer.from(given))) return { ok: false, reason: 'forged' };
  if (fields.expires !== null && fields.expires < today) return { ok: false, reason: 'expired' };
  return { ok: true, voucher: { ...fields, code, ref: voucherRef(fields.issuer, fields.id) } };
}

/** Makes this kiosk's codes: its id as issuer, the signing key, the configured validity. */
export class VoucherIssuer {
  constructor(
    private readonly keys: VoucherKeyRing,
    readonly issuer: string,
    /** Days a voucher stays redeemable after the day it is issued; 0: no expiry. */
    private readonly validDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  issue(cents: number): string {
    const expires = this.validDays > 0 ? utcDay(this.now() + this.validDays * 86_400_000) : null;
    const id = base32(randomBytes(ID_BYTES));
    return encodeVoucher(
      { kid: this.keys.signing.kid, issuer: this.issuer, id, cents, expires },
      this.keys.signing,
    );
  }
}

/** What issues a voucher code for an amount: the signed issuer in the kiosk, a plain one in tests. */
export interface IssuesVouchers {
  issue(cents: number): string;
}
