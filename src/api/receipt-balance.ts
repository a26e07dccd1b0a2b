/**
 * The card balance after an operation, as the API's receipt states it. `idents[].merchantcard`
 * in the answer to `start` is read *before* the operation (seed 004: `balance: 0`, receipt
 * "Aktuelles Guthaben: 15,00 EUR" after a 15 EUR top-up), so it must never be shown as the new
 * balance. The receipt is split into sections by its captioned separators ("Kundenkarte",
 * "Kundenkarte Aufladung"); the balance of the section that belongs to the operation counts:
 *  - a top-up: the last section whose caption names the load ("Aufladung"); a top-up receipt
 *    without such a section gives no balance (its other sections were booked before the load);
 *  - a payment: the last section that is not a load section.
 * Within a section the balance is the money after an "Aktuelles Guthaben" label: the value of a
 * name-value line, or the next text line. Nothing found, or text that is not an amount: null
 * (the kiosk then shows no balance rather than a stale one).
 */
import type { Cents } from './money.js';

/** As loose as the SDK model (`SmartTransactionsReceipt {type, value}`): every field optional. */
export interface ReceiptLineLike {
  type?: string | null;
  value?: {
    caption?: string | null;
    text?: string | null;
    name?: string | null;
    value?: string | null;
    /** Kiosk barcode lines carry their code here (not a balance text). */
    data?: string;
  } | null;
}

export type BalanceOperation = 'topup' | 'payment';

const LABEL = /aktuelles\s+guthaben/i;
const LOAD_CAPTION = /aufladung/i;
/** German money as the receipts write it: "15,00 EUR", "-1,50 EUR", "1.234,56 EUR", "€ 3,20". */
const MONEY = /^(?:€\s*)?([-−]?)\s*(\d{1,3}(?:\.\d{3})*|\d+),(\d{2})\s*(?:EUR|€)?$/i;

interface Section {
  caption: string | null;
  lines: ReceiptLineLike[];
}

function sectionsOf(lines: readonly ReceiptLineLike[]): Section[] {
  const out: Section[] = [{ caption: null, lines: [] }];
  for (const line of lines) {
    const caption = line?.type === 'separator' ? line.value?.caption : null;
    if (typeof caption === 'string' && caption.trim() !== '')
      out.push({ caption: caption.trim(), lines: [] });
    else out[out.length - 1]!.lines.push(line);
  }
  return out;
}

/** "15,00 EUR" -> 1500; anything else -> null. */
export function parseReceiptMoney(text: string | null | undefined): Cents | null {
  if (typeof text !== 'string') return null;
  const m = MONEY.exec(text.trim());
  if (!m) return null;
  const cents = Number(m[2]!.replace(/\./g, '')) * 100 + Number(m[3]);
  if (!Number.isSafeInteger(cents)) return null;
  return m[1] ? -cents : cents;
}

function textOf(line: ReceiptLineLike | undefined): string | null {
  if (!line || line.type !== 'textline') return null;
  return typeof line.value?.text === 'string' ? line.value.text : null;
}

/** The last "Aktuelles Guthaben" of one section. */
function balanceInSection(section: Section): Cents | null {
  let found: Cents | null = null;
  section.lines.forEach((line, i) => {
    if (line?.type === 'name-value' && LABEL.test(line.value?.name ?? '')) {
      const v = parseReceiptMoney(line.value?.value);
      if (v !== null) found = v;
    } else if (LABEL.test(textOf(line) ?? '')) {
      // The amount is on the next text line (spaces between are skipped).
      const next = section.lines.slice(i + 1).find((l) => l?.type !== 'space');
      const v = parseReceiptMoney(textOf(next));
      if (v !== null) found = v;
    }
  });
  return found;
}

/** The balance after `operation` as the receipt says it, or null. */
export function balanceFromReceipt(
  receipt: readonly ReceiptLineLike[] | null | undefined,
  operation: BalanceOperation,
): Cents | null {
  if (!Array.isArray(receipt)) return null;
  const sections = sectionsOf(receipt).filter((s) => {
    const isLoad = s.caption !== null && LOAD_CAPTION.test(s.caption);
    return operation === 'topup' ? isLoad : !isLoad;
  });
  for (let i = sections.length - 1; i >= 0; i--) {
    const b = balanceInSection(sections[i]!);
    if (b !== null) return b;
  }
  return null;
}
