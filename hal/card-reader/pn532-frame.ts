/**
 * PN532 frames (NXP UM0701-02, section 6.2): `00 00 FF LEN LCS TFI PD0..PDn DCS 00`.
 * LEN counts TFI and data; LEN + LCS = 0 and TFI + data + DCS = 0 (mod 256). TFI is D4 from host to
 * chip and D5 back. ACK is `00 00 FF 00 FF 00`, NACK `00 00 FF FF 00 00`; an application error is the
 * one-byte frame with TFI 7F.
 */

export const TFI_HOST = 0xd4;
export const TFI_CHIP = 0xd5;
export const TFI_ERROR = 0x7f;

export const ACK = Buffer.from([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);
export const NACK = Buffer.from([0x00, 0x00, 0xff, 0xff, 0x00, 0x00]);

/**
 * HSU wake-up: a long 0x55 preamble and zeros keep the PN532's UART busy long enough to leave power-down.
 * It must be followed directly by SAMConfiguration.
 */
export const WAKE_UP = Buffer.from([0x55, 0x55, ...new Array<number>(14).fill(0x00)]);

export const CMD = {
  GetFirmwareVersion: 0x02,
  SAMConfiguration: 0x14,
  RFConfiguration: 0x32,
  InListPassiveTarget: 0x4a,
} as const;

/** SAMConfiguration: normal mode, timeout 0x14 (x 50 ms = 1 s), use the IRQ pin. */
export const SAM_CONFIGURATION = Buffer.from([CMD.SAMConfiguration, 0x01, 0x14, 0x01]);
/**
 * RFConfiguration item 5 (MaxRetries): ATR 0xFF, PSL 0x01, passive activation 0x02. The default passive
 * activation retry count 0xFF makes InListPassiveTarget wait for a card forever, so a poll would never
 * come back empty and a card taken away would never be noticed.
 */
export const RF_MAX_RETRIES = Buffer.from([CMD.RFConfiguration, 0x05, 0xff, 0x01, 0x02]);
/** InListPassiveTarget: at most one target, 106 kbps type A (MIFARE, NTAG, most loyalty cards). */
export const IN_LIST_PASSIVE_TARGET = Buffer.from([CMD.InListPassiveTarget, 0x01, 0x00]);
export const GET_FIRMWARE_VERSION = Buffer.from([CMD.GetFirmwareVersion]);

function sum(bytes: Iterable<number>): number {
  let s = 0;
  for (const b of bytes) s += b;
  return s & 0xff;
}

/** Builds a normal information frame around `data` (command code and parameters). */
export function buildFrame(data: Buffer | readonly number[], tfi: number = TFI_HOST): Buffer {
  const body = [tfi, ...data];
  if (body.length > 0xfe)
    throw new RangeError(`PN532 normal frame holds at most 254 bytes, got ${body.length}`);
  const len = body.length;
  const lcs = (0x100 - len) & 0xff;
  const dcs = (0x100 - sum(body)) & 0xff;
  return Buffer.from([0x00, 0x00, 0xff, len, lcs, ...body, dcs, 0x00]);
}
