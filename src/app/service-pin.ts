/**
 * The service menu's PIN: stored only as `scrypt:<salt-hex>:<hash-hex>` in the config (`service.pinHash`),
 * compared in constant time. The machine never sees the hash; it gets `checkPin`'s verdict.
 * scrypt with N=2^14, r=8 takes a fraction of a second and 16 MiB on a Pi Zero: slow enough that the
 * hash leaked from a config is not cracked in no time, fast enough for a technician.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_BYTES = 16;
const PARAMS: ScryptOptions = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export const PIN_HASH_PATTERN = /^scrypt:[0-9a-f]{16,128}:[0-9a-f]{32,128}$/;
export const PIN_PATTERN = /^\d{4,8}$/;

function scrypt(pin: string, salt: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(pin, salt, length, PARAMS, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** A hash for the config; `salt` only for tests (a fresh random salt otherwise). */
export async function hashPin(pin: string, salt: Buffer = randomBytes(SALT_BYTES)): Promise<string> {
  if (!PIN_PATTERN.test(pin)) throw new Error('a PIN is 4 to 8 digits');
  const key = await scrypt(pin, salt, KEY_LENGTH);
  return `scrypt:${salt.toString('hex')}:${key.toString('hex')}`;
}

/** `not_configured` when there is no (usable) hash: the menu stays closed, and no try is counted. */
export async function verifyPin(
  pin: string,
  stored: string | undefined,
): Promise<'ok' | 'wrong' | 'not_configured'> {
  if (!stored || !PIN_HASH_PATTERN.test(stored)) return 'not_configured';
  const [, saltHex = '', hashHex = ''] = stored.split(':');
  const expected = Buffer.from(hashHex, 'hex');
  const key = await scrypt(pin, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(key, expected) ? 'ok' : 'wrong';
}
