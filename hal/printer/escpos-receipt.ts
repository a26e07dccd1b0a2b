/**
 * Receipt rows -> ESC/POS bytes, built with node-thermal-printer's EPSON command set. The job starts
 * with ESC @ (reset whatever a previous job left: bold, size, code page) and then selects PC858
 * (ESC t 19) once; the rows are already reduced to CP858 characters, so the library never switches
 * code pages on its own. Bold is ESC E 1/0, double height ESC ! 0x10, the cut GS V 0 after a feed.
 */
import { BreakLine, CharacterSet, PrinterTypes, ThermalPrinter } from 'node-thermal-printer';
import type { ReceiptRow } from './receipt-layout.js';

/** What node-thermal-printer needs from a custom interface; the real TCP and file ones are built in. */
export interface PrinterDataInterface {
  execute(buffer: Buffer): Promise<unknown>;
  isPrinterConnected?(): Promise<boolean>;
}

export const ESC_POS = {
  init: [0x1b, 0x40],
  codePagePc858: [0x1b, 0x74, 19],
  boldOn: [0x1b, 0x45, 0x01],
  boldOff: [0x1b, 0x45, 0x00],
  doubleHeight: [0x1b, 0x21, 0x10],
  normalSize: [0x1b, 0x21, 0x00],
  fullCut: [0x1d, 0x56, 0x00],
} as const;

/** A ThermalPrinter configured the way this project uses it (EPSON, PC858, no library line-breaking). */
export function thermalPrinter(iface: string | PrinterDataInterface, width: number): ThermalPrinter {
  return new ThermalPrinter({
    type: PrinterTypes.EPSON,
    // The typings only admit a string, the library also takes an object with `execute(buffer)`.
    interface: iface as string,
    width,
    breakLine: BreakLine.NONE,
    removeSpecialCharacters: false,
  });
}

/**
 * node-thermal-printer's typings give code128 the STAR options (`width: 'SMALL'`, `text`); its EPSON
 * type reads `hriPos`, `hriFont`, `width` (module dots, 2..6) and `height`, and wrote `'SMALL'` as GS w 0,
 * out of range, with the human-readable text off. Module 2: a 20-character code (255 modules) is 510
 * dots, inside 80 mm paper (576).
 */
const CODE128_EPSON = { hriPos: 2, hriFont: 0, width: 2, height: 60 } as unknown as Parameters<
  ThermalPrinter['code128']
>[1];

const nullInterface: PrinterDataInterface = { execute: async () => undefined };

export function receiptBytes(rows: readonly ReceiptRow[], width: number): Buffer {
  const p = thermalPrinter(nullInterface, width);
  p.add(Buffer.from(ESC_POS.init));
  p.setCharacterSet(CharacterSet.PC858_EURO);
  for (const row of rows) {
    if (row.code) {
      p.alignCenter();
      if (row.code.symbology === 'qr') p.printQR(row.code.data, { cellSize: 4, correction: 'M', model: 2 });
      else p.code128(row.code.data, CODE128_EPSON);
      p.alignLeft();
      continue;
    }
    if (row.bold) p.bold(true);
    if (row.doubleHeight) p.setTextDoubleHeight();
    p.println(row.text);
    if (row.doubleHeight) p.setTextNormal();
    if (row.bold) p.bold(false);
  }
  // The cutter sits a few lines above the print head: feed so the last line is not cut off.
  p.cut({ verticalTabAmount: 1 });
  return Buffer.from(p.getBuffer());
}
