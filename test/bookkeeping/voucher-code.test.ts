/**
 * Signed voucher codes: what a kiosk prints is accepted back, anything altered, forged, signed with
 * an unknown key or past its day is refused offline; a second key in the ring (a fleet-wide key)
 * lets one kiosk accept another's codes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  VoucherIssuer,
  base32,
  encodeVoucher,
  isVoucherCode,
  readVoucher,
  utcDay,
  verifyVoucher,
  type VoucherKey,
  type VoucherKeyRing,
} from '../../src/bookkeeping/voucher-code.js';
import { classifyScan, voucherShortCode } from '../../machines/scan.js';

const key = (kid: string): VoucherKey => ({ kid, secret: randomBytes(32) });
const ring = (signing: VoucherKey, ...more: VoucherKey[]): VoucherKeyRing => ({
  signing,
  accepted: new Map([signing, ...more].map((k) => [k.kid, k])),
});
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2, 12);

describe('voucher codes (src/bookkeeping/voucher-code.ts)', () => {
  const own = key('K1');
  const keys = ring(own);
  const issuer = new VoucherIssuer(keys, 'k-0042', 30, () => NOW);

  it('base32 of 10 bytes is 16 characters (RFC 4648 alphabet)', () => {
    assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI');
    assert.equal(base32(randomBytes(10)).length, 16);
  });

  it('an issued code has the documented shape and verifies with its value, issuer and expiry', () => {
    const code = issuer.issue(471);
    assert.match(code, /^KV1\.K1\.k-0042\.[A-Z2-7]{8}\.471\.20270101\.[A-Z2-7]{16}$/);
    const v = verifyVoucher(code, keys, utcDay(NOW));
    assert.ok(v.ok);
    assert.equal(v.voucher.cents, 471);
    assert.equal(v.voucher.issuer, 'k-0042');
    assert.equal(v.voucher.expires, '20270101');
    assert.equal(v.voucher.ref, `k-0042.${code.split('.')[3]}`);
    assert.ok(isVoucherCode(code));
    assert.deepEqual(classifyScan(`${code}\r\n`), { kind: 'voucher', code });
    assert.match(voucherShortCode(code), /^[A-Z2-7]{4}-[A-Z2-7]{4}$/);
  });

  it('two codes never share an id', () => {
    const ids = new Set(Array.from({ length: 200 }, () => readVoucher(issuer.issue(100))!.id));
    assert.equal(ids.size, 200);
  });

  it('refuses a changed amount, issuer, id, expiry or MAC (forged), offline', () => {
    const code = issuer.issue(471);
    const p = code.split('.');
    const swap = (i: number, v: string) => p.map((x, j) => (j === i ? v : x)).join('.');
    const today = utcDay(NOW);
    assert.deepEqual(verifyVoucher(swap(4, '4710'), keys, today), { ok: false, reason: 'forged' });
    assert.deepEqual(verifyVoucher(swap(2, 'k-0043'), keys, today), { ok: false, reason: 'forged' });
    assert.deepEqual(verifyVoucher(swap(3, 'AAAAAAAA'), keys, today), { ok: false, reason: 'forged' });
    assert.deepEqual(verifyVoucher(swap(5, '0'), keys, today), { ok: false, reason: 'forged' });
    const mac = p[6]!;
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    assert.deepEqual(verifyVoucher(swap(6, flipped), keys, today), { ok: false, reason: 'forged' });
  });

  it('refuses a code signed with a key it does not hold, and malformed text', () => {
    const other = new VoucherIssuer(ring(key('K9')), 'k-0099', 0, () => NOW);
    assert.deepEqual(verifyVoucher(other.issue(100), keys, utcDay(NOW)), {
      ok: false,
      reason: 'unknown_key',
    });
    const stranger = new VoucherIssuer(ring(key('K1')), 'k-0042', 0, () => NOW);
    assert.deepEqual(verifyVoucher(stranger.issue(100), keys, utcDay(NOW)), { ok: false, reason: 'forged' });
    for (const bad of [
      'KV1.',
      'KV1.K1.k-0042.AAAAAAAA.0.0.AAAAAAAAAAAAAAAA',
      'KV1.K1.k-0042.AAAAAAAA.-5.0.X',
      'hello',
    ])
      assert.deepEqual(verifyVoucher(bad, keys, utcDay(NOW)), { ok: false, reason: 'malformed' });
  });

  it('is redeemable on its last day and refused the day after; 0 days means no expiry', () => {
    const code = issuer.issue(100);
    assert.ok(verifyVoucher(code, keys, utcDay(NOW + 30 * DAY)).ok);
    assert.deepEqual(verifyVoucher(code, keys, utcDay(NOW + 31 * DAY)), { ok: false, reason: 'expired' });
    const forever = new VoucherIssuer(keys, 'k-0042', 0, () => NOW).issue(100);
    assert.equal(forever.split('.')[5], '0');
    assert.ok(verifyVoucher(forever, keys, '29991231').ok);
  });

  it('a fleet key in both rings lets one kiosk accept what another signed with it', () => {
    const fleet = key('F1');
    const a = new VoucherIssuer(ring(fleet, key('KA')), 'k-000a', 0, () => NOW);
    const bKeys = ring(key('KB'), fleet);
    const v = verifyVoucher(a.issue(250), bKeys, utcDay(NOW));
    assert.ok(v.ok);
    assert.equal(v.voucher.issuer, 'k-000a');
  });

  it('encodeVoucher refuses fields that would not read back', () => {
    assert.throws(() =>
      encodeVoucher({ kid: 'K1', issuer: 'k.42', id: 'AAAAAAAA', cents: 1, expires: null }, own),
    );
    assert.throws(() =>
      encodeVoucher({ kid: 'K1', issuer: 'k-42', id: 'AAAAAAAA', cents: 0, expires: null }, own),
    );
  });
});
