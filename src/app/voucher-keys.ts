/**
 * The voucher keys' file, the kiosk's secret store for them: `{"signing":"<kid>","keys":{"<kid>":
 * "<base64 secret>", ...}}`, mode 0600. Made with one fresh key on first start; more keys (a
 * fleet-wide key, the previous key after a rotation) are added by hand or by provisioning, and every
 * key in it is accepted when a voucher is scanned.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import type { VoucherKey, VoucherKeyRing } from '../bookkeeping/voucher-code.js';
import type { Logger } from '../util/logger.js';

const KeyFileSchema = z.object({
  signing: z.string().regex(/^[A-Za-z0-9]{1,16}$/),
  keys: z.record(z.string().regex(/^[A-Za-z0-9]{1,16}$/), z.string().min(1)),
});

export function voucherKeyFile(keyFile: string | undefined, journalDir: string): string {
  return keyFile ?? join(dirname(journalDir), 'voucher-keys.json');
}

/** Reads (or on first start makes) the key file; a file others can read is closed to 0600 first. */
export function loadVoucherKeys(file: string, logger: Logger): VoucherKeyRing {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const kid = `K${randomBytes(2).toString('hex').toUpperCase()}`;
    const doc = { signing: kid, keys: { [kid]: randomBytes(32).toString('base64') } };
    // `wx`: two processes starting at once must not each write a different key.
    try {
      writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      logger.info({ file, kid }, 'voucher key made');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    logger.warn({ file }, 'voucher key file was readable by others: set to 0600');
    chmodSync(file, 0o600);
  }
  const parsed = KeyFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file}: not a voucher key file (${parsed.error.issues[0]?.message})`);
  const accepted = new Map<string, VoucherKey>();
  for (const [kid, b64] of Object.entries(parsed.data.keys)) {
    const secret = Buffer.from(b64, 'base64');
    if (secret.length < 16) throw new Error(`${file}: key ${kid} is shorter than 16 bytes`);
    accepted.set(kid, { kid, secret });
  }
  const signing = accepted.get(parsed.data.signing);
  if (!signing) throw new Error(`${file}: signing key ${parsed.data.signing} is not in keys`);
  return { signing, accepted };
}
