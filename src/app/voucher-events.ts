/**
 * The fleet's `evt/voucher` events, told from journal records: whichever path recorded a voucher
 * (the flow, a session's close, recovery, a staff payout, the expiry sweep) the fleet hears of it
 * the same way. Only the reference travels (`<issuer>.<id>`), never the code, which is what pays.
 */
import type { JournalEntry } from '../journal/entries.js';
import { signedVoucherParts } from '../journal/state.js';
import type { EventInput } from '../fleet/envelope.js';

const SETTLED = {
  cash_refund: 'paid_out',
  expired: 'expired',
  credited: 'voided',
  written_off: 'written_off',
} as const;

export function voucherEventsOf(entries: readonly JournalEntry[]): EventInput<'voucher'>[] {
  const out: EventInput<'voucher'>[] = [];
  for (const e of entries) {
    if (e.type === 'unclaimed') {
      const { ref } = signedVoucherParts(e.voucher);
      out.push({ action: 'issued', amountCents: e.cents, currency: 'EUR', ...(ref ? { voucher: ref } : {}) });
    } else if (e.type === 'voucher_redeemed') {
      out.push({ action: 'redeemed', amountCents: e.cents, currency: 'EUR', voucher: e.ref });
    } else if (e.type === 'unclaimed_settled') {
      // A plain (unsigned, older) code is its own name and pays too: it is not sent.
      const { ref } = signedVoucherParts(e.voucher);
      out.push({
        action: SETTLED[e.how],
        amountCents: e.cents ?? 0,
        currency: 'EUR',
        ...(ref ? { voucher: ref.slice(0, 100) } : {}),
        ...(e.by ? { by: e.by.slice(0, 40) } : {}),
      });
    }
  }
  return out;
}
