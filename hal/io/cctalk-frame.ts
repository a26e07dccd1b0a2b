/**
 * ccTalk frames (coin hoppers and validators): `[destination][data length][source][header][data...][checksum]`
 * with the simple 8-bit checksum, chosen so that all bytes of the frame sum to 0 modulo 256. A reply
 * goes to the host (address 1) with header 0 (ACK, with data) or 5 (NAK).
 *
 * ccTalk runs on one shared data line, so the host also reads its own request back as an echo; the
 * parser hands every well-formed frame over and the caller drops those not addressed to it.
 */

/** Host (the kiosk) address by convention. */
export const CCTALK_HOST = 1;
/** Default address of a payout hopper (several hoppers use 3..10). */
export const CCTALK_HOPPER = 3;
/** Default address of a coin validator. */
export const CCTALK_VALIDATOR = 2;

/** The headers the kiosk uses (generic ccTalk spec; check the device's manual). */
export const HEADER = {
  ACK: 0,
  NAK: 5,
  BUSY: 6,
  RESET_DEVICE: 1,
  TEST_HOPPER: 163,
  ENABLE_HOPPER: 164,
  REQUEST_HOPPER_STATUS: 166,
  DISPENSE_HOPPER_COINS: 167,
  /** Lifetime coins paid out (3 bytes, LSB first; kept in the hopper's non-volatile memory). */
  REQUEST_HOPPER_DISPENSE_COUNT: 168,
  EMERGENCY_STOP: 172,
  /** Validator: the coin id of a channel (6 ASCII characters, e.g. `EU200A`). */
  REQUEST_COIN_ID: 184,
  /** Validator: master inhibit (1 byte: bit 0 set = accept, clear = refuse every coin). */
  MODIFY_MASTER_INHIBIT: 228,
  /** Validator: event counter and the last 5 results (channel + sorter, or 0 + error code), newest first. */
  READ_BUFFERED_CREDIT: 229,
  /** Validator: per-channel inhibit, 2 bytes (channels 1-8, 9-16), a set bit enables the channel. */
  MODIFY_INHIBIT_STATUS: 231,
  REQUEST_SERIAL_NUMBER: 242,
  REQUEST_EQUIPMENT_CATEGORY: 245,
  SIMPLE_POLL: 254,
} as const;

/**
 * The data length of the ACK to the requests whose reply has one fixed length (ccTalk generic
 * specification). A reply of another length answers some other request: the link refuses it.
 */
export const REPLY_LENGTH: Readonly<Partial<Record<number, number>>> = {
  [HEADER.SIMPLE_POLL]: 0,
  [HEADER.RESET_DEVICE]: 0,
  [HEADER.ENABLE_HOPPER]: 0,
  [HEADER.REQUEST_HOPPER_STATUS]: 4,
  [HEADER.REQUEST_HOPPER_DISPENSE_COUNT]: 3,
  [HEADER.REQUEST_SERIAL_NUMBER]: 3,
  [HEADER.REQUEST_COIN_ID]: 6,
  [HEADER.MODIFY_MASTER_INHIBIT]: 0,
  [HEADER.READ_BUFFERED_CREDIT]: 11,
  [HEADER.MODIFY_INHIBIT_STATUS]: 0,
};

/** The most data one frame can carry (the length byte; 255 total frame bytes minus the 5 fixed ones). */
export const MAX_DATA = 250;

export interface CctalkFrame {
  destination: number;
  source: number;
  header: number;
  data: Buffer;
}

export class CctalkFrameError extends Error {
  override readonly name = 'CctalkFrameError';
}

function byte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new CctalkFrameError(`${what} must be a byte (0..255), got ${value}`);
  }
  return value;
}

/** The checksum byte that makes `bytes` plus itself sum to 0 modulo 256. */
export function checksumOf(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (256 - sum) & 0xff;
}

export function buildFrame(frame: {
  destination: number;
  source: number;
  header: number;
  data?: Uint8Array | readonly number[];
}): Buffer {
  const raw = [...(frame.data ?? [])];
  if (raw.length > MAX_DATA) throw new CctalkFrameError(`data too long: ${raw.length} > ${MAX_DATA}`);
  const data = Buffer.from(raw.map((b) => byte(b, 'data')));
  const head = Buffer.from([
    byte(frame.destination, 'destination'),
    data.length,
    byte(frame.source, 'source'),
    byte(frame.header, 'header'),
  ]);
  const body = Buffer.concat([head, data]);
  return Buffer.concat([body, Buffer.from([checksumOf(body)])]);
}

/** Parses one complete frame; throws on a wrong length or checksum. */
export function parseFrame(bytes: Uint8Array): CctalkFrame {
  const buf = Buffer.from(bytes);
  if (buf.length < 5) throw new CctalkFrameError(`frame too short: ${buf.length} bytes`);
  const length = buf[1] ?? 0;
  if (buf.length !== length + 5) {
    throw new CctalkFrameError(`length byte says ${length} data bytes, frame has ${buf.length - 5}`);
  }
  let sum = 0;
  for (const b of buf) sum = (sum + b) & 0xff;
  if (sum !== 0) throw new CctalkFrameError(`bad checksum (sum ${sum})`);
  return {
    destination: buf[0] ?? 0,
    source: buf[2] ?? 0,
    header: buf[3] ?? 0,
    data: Buffer.from(buf.subarray(4, buf.length - 1)),
  };
}

/**
 * Splits a byte stream into frames. Bytes can arrive in chunks split anywhere. A candidate whose
 * checksum is wrong is noise or a lost byte: the search goes on byte by byte, so the parser
 * resynchronises on the next good frame. `reset()` drops a partial frame (the driver calls it before
 * each request: ccTalk is strictly request/reply, stale bytes are never an answer).
 */
export class CctalkFrameParser {
  private buffer = Buffer.alloc(0);
  /** Bytes thrown away while resynchronising (for the log and the tests). */
  dropped = 0;

  push(chunk: Uint8Array): CctalkFrame[] {
    this.buffer = Buffer.concat([this.buffer, Buffer.from(chunk)]);
    const frames: CctalkFrame[] = [];
    for (;;) {
      const found = this.nextFrame();
      if (!found) break;
      this.dropped += found.offset;
      frames.push(found.frame);
      this.buffer = this.buffer.subarray(found.offset + found.length);
    }
    return frames;
  }

  /**
   * The first complete, valid frame in the buffer. A start whose length byte asks for more bytes than
   * have arrived may be garbage (a noise byte read as a length of 200 would otherwise block the stream
   * until 200 bytes came): a valid frame further on wins over it.
   */
  private nextFrame(): { frame: CctalkFrame; offset: number; length: number } | undefined {
    for (let offset = 0; offset + 5 <= this.buffer.length; offset++) {
      const length = (this.buffer[offset + 1] ?? 0) + 5;
      if (offset + length > this.buffer.length) continue;
      try {
        const frame = parseFrame(this.buffer.subarray(offset, offset + length));
        return { frame, offset, length };
      } catch {
        // not a frame start: try the next byte
      }
    }
    return undefined;
  }

  get pending(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}

/** A 3-byte little-endian number (serial numbers, lifetime counters). */
export function readUint24(data: Uint8Array, offset = 0): number {
  return (data[offset] ?? 0) | ((data[offset + 1] ?? 0) << 8) | ((data[offset + 2] ?? 0) << 16);
}

export function uint24(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff];
}
