/**
 * The answer to InListPassiveTarget (106 kbps type A) and how a UID becomes the text a card reader
 * reports. `D5 4B NbTg [Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1... (ATS)]`; the frame parser has
 * already removed the TFI, so `data` starts at the response code 4B.
 */

export interface PassiveTarget {
  uid: Buffer;
  sensRes: number;
  selRes: number;
}

/** The target in an InListPassiveTarget response, undefined when no card is there. Throws on a short answer. */
export function parseInListPassiveTarget(data: Buffer): PassiveTarget | undefined {
  if (data[0] !== 0x4b) throw new Error(`not an InListPassiveTarget response: ${data.toString('hex')}`);
  const count = data[1] ?? 0;
  if (count === 0) return undefined;
  const uidLength = data[6];
  if (data.length < 7 || uidLength === undefined || data.length < 7 + uidLength || uidLength === 0) {
    throw new Error(`truncated InListPassiveTarget response: ${data.toString('hex')}`);
  }
  return {
    sensRes: ((data[3] ?? 0) << 8) | (data[4] ?? 0),
    selRes: data[5] ?? 0,
    uid: Buffer.from(data.subarray(7, 7 + uidLength)),
  };
}

/**
 * - `hex`: uppercase hex as printed on most cards' documentation (`04A224B2C35E80`).
 * - `decimal`: the UID read as one big-endian number, zero-padded to the digits its length can need
 *   (4 bytes -> 10 digits), which is what "10-digit" keyboard readers print.
 * - `decimal-reversed`: the same with the bytes reversed (little-endian), which other readers print.
 */
export type UidFormat = 'hex' | 'decimal' | 'decimal-reversed';

export function formatUid(uid: Buffer, format: UidFormat = 'hex'): string {
  if (format === 'hex') return uid.toString('hex').toUpperCase();
  const bytes = format === 'decimal-reversed' ? Buffer.from(uid).reverse() : uid;
  const value = bytes.length ? BigInt(`0x${bytes.toString('hex')}`) : 0n;
  const digits = ((1n << BigInt(8 * uid.length)) - 1n).toString().length;
  return value.toString().padStart(digits, '0');
}
