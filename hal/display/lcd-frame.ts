/**
 * From text lines to the fewest bytes on the I2C bus. Pure: the driver keeps a shadow of what is
 * on the glass (codes per cell, glyph per CGRAM slot) and asks this module what to send.
 */
import { BYTES_PER_WRITE, CMD_SET_CGRAM, CMD_SET_DDRAM, byteBytes, rowStarts } from './hd44780.js';
import { mapChar } from './lcd-charset.js';
import type { CustomGlyph, LcdRom, MappedChar } from './lcd-charset.js';

export const CGRAM_SLOTS = 8;
const SPACE = 0x20;
const QUESTION = 0x3f;

export interface LcdGeometry {
  cols: number;
  rows: number;
}

/** Which glyph (by its character) each of the 8 CGRAM slots holds; `undefined` = unknown/free. */
export type CgramSlots = ReadonlyArray<string | undefined>;

export interface RenderedFrame {
  /** DDRAM code per cell, row-major, `rows * cols` long. */
  codes: number[];
  /** Slot assignment after this frame. */
  slots: Array<string | undefined>;
  /** Glyphs to write into CGRAM before the cells. */
  uploads: Array<{ slot: number; glyph: CustomGlyph }>;
}

/**
 * Maps `lines` to cell codes. Custom glyphs already in a slot keep it (no upload, and cells showing
 * them need no rewrite); new ones take slots whose glyph this frame does not use; when more than 8
 * are needed the later ones (in reading order) get their text fallback.
 */
export function renderFrame(
  lines: readonly string[],
  geometry: LcdGeometry,
  rom: LcdRom,
  slots: CgramSlots,
): RenderedFrame {
  const mapped: MappedChar[][] = [];
  for (let r = 0; r < geometry.rows; r++) mapped.push([...(lines[r] ?? '')].map((c) => mapChar(c, rom)));

  const needed: CustomGlyph[] = [];
  for (const row of mapped) {
    let width = 0;
    for (const m of row) {
      if (width >= geometry.cols) break;
      if (m.kind === 'custom' && !needed.includes(m.glyph)) needed.push(m.glyph);
      width += m.kind === 'text' ? m.text.length : 1;
    }
  }

  const next: Array<string | undefined> = Array.from({ length: CGRAM_SLOTS }, (_, i) => slots[i]);
  const neededChars = new Set(needed.map((g) => g.char));
  const uploads: RenderedFrame['uploads'] = [];
  const slotOf = new Map<string, number>();
  next.forEach((char, slot) => {
    if (char !== undefined && neededChars.has(char)) slotOf.set(char, slot);
  });
  for (const g of needed) {
    if (slotOf.has(g.char)) continue;
    const free = next.findIndex((char) => char === undefined || !neededChars.has(char));
    if (free < 0) break;
    next[free] = g.char;
    slotOf.set(g.char, free);
    uploads.push({ slot: free, glyph: g });
  }

  const codes: number[] = [];
  for (const row of mapped) {
    const cells: number[] = [];
    const pushText = (text: string): void => {
      for (const c of text) {
        const m = mapChar(c, rom);
        cells.push(m.kind === 'rom' ? m.code : QUESTION);
      }
    };
    for (const m of row) {
      if (cells.length >= geometry.cols) break;
      if (m.kind === 'rom') cells.push(m.code);
      else if (m.kind === 'text') pushText(m.text);
      else {
        const slot = slotOf.get(m.glyph.char);
        if (slot === undefined) pushText(m.glyph.fallback);
        else cells.push(slot);
      }
    }
    while (cells.length < geometry.cols) cells.push(SPACE);
    codes.push(...cells.slice(0, geometry.cols));
  }
  return { codes, slots: next, uploads };
}

export interface UpdatePlan {
  /** Everything for one `i2cWrite`; empty when nothing changed. */
  bytes: number[];
  changedCells: number;
  /** Cursor commands sent (one per run after merging). */
  runs: number;
  cgramBytes: number;
}

/**
 * Bytes that turn the glass from `shadow` (code per cell, `undefined` = unknown) into `frame`.
 * Changed cells are walked in DDRAM address order, so a run may flow from the end of row 0 into
 * row 2 on a 20x4 (their addresses are contiguous) without a new cursor command. A gap of up to
 * `maxMergedGap` unchanged cells inside a run is rewritten instead of starting a new run: a cursor
 * command costs 4 bytes and so does each rewritten cell, so a gap of 1 costs the same and longer
 * gaps cost more (the benchmark measures both settings).
 */
export function planUpdate(
  shadow: ReadonlyArray<number | undefined>,
  frame: RenderedFrame,
  geometry: LcdGeometry,
  backlight: boolean,
  maxMergedGap = 1,
): UpdatePlan {
  const bytes: number[] = [];
  const uploads = [...frame.uploads].sort((a, b) => a.slot - b.slot);
  let lastSlot = -2;
  for (const { slot, glyph } of uploads) {
    // Consecutive slots share one address command: CGRAM auto-increments like DDRAM.
    if (slot !== lastSlot + 1) bytes.push(...byteBytes(CMD_SET_CGRAM | (slot << 3), false, backlight));
    for (const row of glyph.rows) bytes.push(...byteBytes(row & 0x1f, true, backlight));
    lastSlot = slot;
  }
  const cgramBytes = bytes.length;

  const starts = rowStarts(geometry.cols, geometry.rows);
  const order: Array<{ addr: number; index: number }> = [];
  for (let r = 0; r < geometry.rows; r++) {
    for (let c = 0; c < geometry.cols; c++)
      order.push({ addr: (starts[r] ?? 0) + c, index: r * geometry.cols + c });
  }
  order.sort((a, b) => a.addr - b.addr);

  const changed = (pos: number): boolean => {
    const index = order[pos]?.index ?? 0;
    return shadow[index] !== frame.codes[index];
  };
  const contiguous = (from: number, to: number): boolean => {
    for (let k = from; k < to; k++)
      if ((order[k + 1]?.addr ?? -1) !== (order[k]?.addr ?? 0) + 1) return false;
    return true;
  };

  const runs: Array<{ start: number; end: number }> = [];
  let changedCells = 0;
  for (let pos = 0; pos < order.length; pos++) {
    if (!changed(pos)) continue;
    changedCells++;
    const current = runs.at(-1);
    if (current && pos - current.end - 1 <= maxMergedGap && contiguous(current.end, pos)) current.end = pos;
    else runs.push({ start: pos, end: pos });
  }
  for (const run of runs) {
    bytes.push(...byteBytes(CMD_SET_DDRAM | (order[run.start]?.addr ?? 0), false, backlight));
    for (let pos = run.start; pos <= run.end; pos++) {
      bytes.push(...byteBytes(frame.codes[order[pos]?.index ?? 0] ?? SPACE, true, backlight));
    }
  }
  return { bytes, changedCells, runs: runs.length, cgramBytes };
}

/** Bytes a cursor command or one cell costs; exported for the benchmark's lower bound. */
export const CELL_BYTES = BYTES_PER_WRITE;
