/**
 * CRC-32 (IEEE 802.3, the one zip, gzip and PNG use), table driven, in plain JS. `zlib.crc32` only
 * exists from Node 20.15 / 22.2; the journal's file format must not depend on which Node a kiosk
 * happens to run, so it carries its own (the tests cross-check it against zlib where present).
 * The table is computed once and never written again.
 */

function makeTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const TABLE = makeTable();

/** CRC-32 of `bytes[start, end)`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc = (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
