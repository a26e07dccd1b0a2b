/**
 * An HD44780 as seen through a PCF8574: fed the expander's output bytes, it latches a nibble on
 * every falling edge of EN (RS selects instruction or data) and keeps what the real controller
 * keeps: DDRAM, CGRAM, the address counter, display on/off and the backlight pin. Tests compare
 * its decoded screen with what the driver was asked to show.
 */
import { PCF_BACKLIGHT, PCF_EN, PCF_RS, PCF_RW, rowStarts } from './hd44780.js';
import { CUSTOM_GLYPHS, charOfRomCode } from './lcd-charset.js';
import type { LcdRom } from './lcd-charset.js';

export interface DecodedInstruction {
  rs: boolean;
  value: number;
}

export class Hd44780Model {
  readonly ddram = new Array<number>(128).fill(0x20);
  readonly cgram = new Array<number>(64).fill(0);
  addressCounter = 0;
  /** Whether the address counter points into CGRAM (after a Set CGRAM address). */
  inCgram = false;
  displayOn = false;
  backlight = false;
  eightBitMode = true;
  twoLine = false;
  /** Every complete instruction or data byte, in order. */
  readonly log: DecodedInstruction[] = [];
  /** Bytes that violated the protocol (RW high). */
  readonly errors: string[] = [];
  private pins = 0x00;
  private highNibble: { value: number; rs: boolean } | undefined;

  /** One byte written to the PCF8574: its new output state. */
  feed(byte: number): void {
    if (byte & PCF_RW) this.errors.push(`RW high in 0x${byte.toString(16)}`);
    const falling = (this.pins & PCF_EN) !== 0 && (byte & PCF_EN) === 0;
    // Data is sampled on the falling edge: the data and RS lines are those held while EN was high.
    if (falling) this.latch(this.pins >> 4, (this.pins & PCF_RS) !== 0);
    this.pins = byte;
    this.backlight = (byte & PCF_BACKLIGHT) !== 0;
  }

  private latch(nibble: number, rs: boolean): void {
    if (this.eightBitMode) {
      // In 8-bit mode D0-D3 are not wired on a backpack and read as 0.
      this.execute(nibble << 4, rs);
      return;
    }
    if (!this.highNibble) {
      this.highNibble = { value: nibble, rs };
      return;
    }
    const value = (this.highNibble.value << 4) | nibble;
    this.highNibble = undefined;
    this.execute(value, rs);
  }

  private execute(value: number, rs: boolean): void {
    this.log.push({ rs, value });
    if (rs) {
      if (this.inCgram) {
        this.cgram[this.addressCounter & 0x3f] = value & 0x1f;
        this.addressCounter = (this.addressCounter + 1) & 0x3f;
      } else {
        this.ddram[this.addressCounter & 0x7f] = value;
        this.addressCounter = this.nextDdram(this.addressCounter);
      }
      return;
    }
    if (value & 0x80) {
      this.inCgram = false;
      this.addressCounter = value & 0x7f;
    } else if (value & 0x40) {
      this.inCgram = true;
      this.addressCounter = value & 0x3f;
    } else if (value & 0x20) {
      this.eightBitMode = (value & 0x10) !== 0;
      this.twoLine = (value & 0x08) !== 0;
      this.highNibble = undefined;
    } else if (value & 0x08) {
      this.displayOn = (value & 0x04) !== 0;
    } else if (value === 0x01) {
      this.ddram.fill(0x20);
      this.addressCounter = 0;
      this.inCgram = false;
    } else if (value === 0x02 || value === 0x03) {
      this.addressCounter = 0;
      this.inCgram = false;
    }
  }

  private nextDdram(address: number): number {
    if (!this.twoLine) return (address + 1) % 80;
    if (address === 0x27) return 0x40;
    if (address === 0x67) return 0x00;
    return address + 1;
  }

  /** The 8 rows of CGRAM slot `slot`. */
  glyphRows(slot: number): number[] {
    return this.cgram.slice((slot & 7) * 8, (slot & 7) * 8 + 8);
  }

  /** Screen as text: ROM codes decoded for `rom`, CGRAM cells matched against the known glyphs. */
  screen(cols: number, rows: number, rom: LcdRom = 'A00'): string[] {
    const starts = rowStarts(cols, rows);
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      let line = '';
      for (let c = 0; c < cols; c++) line += this.charAt((starts[r] ?? 0) + c, rom);
      lines.push(line);
    }
    return lines;
  }

  private charAt(address: number, rom: LcdRom): string {
    const code = this.ddram[address] ?? 0x20;
    if (code < 0x10) {
      const rows = this.glyphRows(code).join(',');
      for (const g of CUSTOM_GLYPHS.values()) if (g.rows.join(',') === rows) return g.char;
      return '\ufffd';
    }
    return charOfRomCode(code, rom);
  }
}
