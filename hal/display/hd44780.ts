/**
 * HD44780 instructions and how one instruction or character travels through a PCF8574 backpack.
 * Pure functions: the driver, the recording fake bus and the benchmark all build bytes here, so
 * what the tests decode is exactly what the driver sends.
 *
 * PCF8574 bits (the common backpack wiring): P0 RS, P1 RW (always 0: we never read), P2 EN,
 * P3 backlight, P4-P7 = D4-D7. The controller latches a nibble on the falling edge of EN, so a
 * nibble costs two bytes (EN high, then EN low) and a full byte in 4-bit mode four bytes.
 */

export const PCF_RS = 0x01;
export const PCF_RW = 0x02;
export const PCF_EN = 0x04;
export const PCF_BACKLIGHT = 0x08;

export const CMD_CLEAR = 0x01;
export const CMD_HOME = 0x02;
/** Entry mode: cursor moves right, no display shift. */
export const CMD_ENTRY_INCREMENT = 0x06;
/** Display on, cursor off, blink off. */
export const CMD_DISPLAY_ON = 0x0c;
export const CMD_DISPLAY_OFF = 0x08;
/** Function set: 4-bit interface, 2 lines (also right for 4-line modules), 5x8 font. */
export const CMD_FUNCTION_4BIT_2LINE = 0x28;
export const CMD_SET_CGRAM = 0x40;
export const CMD_SET_DDRAM = 0x80;

/** Bytes on the bus for one command or character. */
export const BYTES_PER_WRITE = 4;

/** Waits of the 4-bit initialisation (datasheet figure 24), in milliseconds, rounded up to what timers can do. */
export const INIT_WAITS_MS = {
  powerUp: 50, // >= 40 ms after Vcc reaches 2.7 V
  afterFirst: 5, // >= 4.1 ms
  afterSecond: 1, // >= 100 us
  afterClear: 2, // clear takes 1.52 ms
} as const;

export type RowStarts = readonly number[];

/** DDRAM address of column 0 of each row. 20x4 modules continue row 0 in row 2 and row 1 in row 3. */
export function rowStarts(cols: number, rows: number): RowStarts {
  if (rows === 1) return [0x00];
  if (rows === 2) return [0x00, 0x40];
  if (rows === 4) return [0x00, 0x40, cols, 0x40 + cols];
  throw new RangeError(`unsupported display geometry ${cols}x${rows}`);
}

/** The two bytes that clock one nibble (upper 4 bits of `nibble << 4`). */
export function nibbleBytes(nibble: number, rs: boolean, backlight: boolean): [number, number] {
  const low = ((nibble & 0x0f) << 4) | (rs ? PCF_RS : 0) | (backlight ? PCF_BACKLIGHT : 0);
  return [low | PCF_EN, low];
}

/** The four bytes of one instruction (`rs` false) or one character/CGRAM row (`rs` true). */
export function byteBytes(value: number, rs: boolean, backlight: boolean): number[] {
  return [...nibbleBytes(value >> 4, rs, backlight), ...nibbleBytes(value & 0x0f, rs, backlight)];
}

/**
 * The initialisation as separate bursts with the wait required after each. The first burst drives
 * EN low, because a PCF8574 powers up with all outputs high (EN high).
 */
export function initBursts(backlight: boolean): Array<{ bytes: number[]; waitAfterMs: number }> {
  const bl = backlight ? PCF_BACKLIGHT : 0;
  return [
    { bytes: [bl], waitAfterMs: INIT_WAITS_MS.powerUp },
    { bytes: nibbleBytes(0x3, false, backlight), waitAfterMs: INIT_WAITS_MS.afterFirst },
    { bytes: nibbleBytes(0x3, false, backlight), waitAfterMs: INIT_WAITS_MS.afterSecond },
    { bytes: nibbleBytes(0x3, false, backlight), waitAfterMs: 0 },
    {
      bytes: [
        ...nibbleBytes(0x2, false, backlight),
        ...byteBytes(CMD_FUNCTION_4BIT_2LINE, false, backlight),
        ...byteBytes(CMD_DISPLAY_ON, false, backlight),
        ...byteBytes(CMD_CLEAR, false, backlight),
      ],
      waitAfterMs: INIT_WAITS_MS.afterClear,
    },
    { bytes: byteBytes(CMD_ENTRY_INCREMENT, false, backlight), waitAfterMs: 0 },
  ];
}
