/**
 * Receipts kept for a reprint: the open sessions' receipts and those of the last closed sessions
 * (`RECENT_RECEIPTS`), both from the folded state, so a reprint works after a reboot too.
 */
import type { LedgerState, ReceiptState } from './state.js';

/** The last receipt of a session, open or recently closed. */
export function receiptOf(state: LedgerState, sessionId: string): ReceiptState | undefined {
  const open = state.sessions[sessionId]?.receipt;
  if (open) return open;
  for (let i = state.recentReceipts.length - 1; i >= 0; i--) {
    const r = state.recentReceipts[i] as ReceiptState;
    if (r.sessionId === sessionId) return r;
  }
  return undefined;
}

/** The newest receipt the kiosk has (the "reprint last receipt" button), open sessions first. */
export function lastReceipt(state: LedgerState): ReceiptState | undefined {
  const open = Object.values(state.sessions)
    .map((s) => s.receipt)
    .filter((r): r is ReceiptState => r !== undefined)
    .sort((a, b) => b.ts - a.ts)[0];
  return open ?? state.recentReceipts[state.recentReceipts.length - 1];
}

/** Receipts journaled but not known to be printed (a print interrupted by a power cut or out of paper). */
export function unprintedReceipts(state: LedgerState): ReceiptState[] {
  return Object.values(state.sessions)
    .map((s) => s.receipt)
    .filter((r): r is ReceiptState => r !== undefined && !r.printed);
}
