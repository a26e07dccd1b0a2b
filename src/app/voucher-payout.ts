/**
 * The service menu's "Gutscheine" page (issue 14): the vouchers the kiosk owes, and a cash payout by
 * the technician at the kiosk. The payout is `payOutVoucher` (voucher-book.ts), the one `kiosk
 * vouchers payout` uses, so the two cannot differ in what they journal or refuse; the fleet hears of
 * it as `evt/voucher` `paid_out` from the journal record (voucher-events.ts), like every other path.
 *
 * A voucher's code is what pays: the menu never gets it. A signed voucher is named by its reference
 * `<issuer>.<id>` and shown by the short id printed under its QR; an old plain code (its own name) by
 * a hash of it, shown masked to its last four characters.
 */
import { createHash } from 'node:crypto';
import type { Journal } from '../journal/journal.js';
import type { Voucher } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { PayoutRefused, payOutVoucher } from '../bookkeeping/voucher-book.js';
import type { OpenVoucherItem, PayOutVoucherOutput } from '../../machines/ports.js';
import { releaseTime } from './release-settle.js';

export interface VoucherPayoutDeps {
  journal: Pick<Journal, 'state' | 'append'>;
  logger: Logger;
  lang: () => 'de' | 'en';
}

/** How the menu names a voucher back to the payout: never the code. */
export function voucherKey(v: Voucher): string {
  return v.ref ?? `old:${createHash('sha256').update(v.voucher).digest('hex').slice(0, 16)}`;
}

/** As the technician sees it: the short id under the QR (`QX7M-D2KA`), or an old code's last four. */
export function voucherLabel(v: Voucher): string {
  const id = v.ref?.split('.')[1];
  if (id && id.length === 8) return `${id.slice(0, 4)}-${id.slice(4)}`;
  return `...${v.voucher.slice(-4)}`;
}

const REFUSED = {
  de: { redeemed: 'Schon eingelöst', not_open: 'Nicht mehr offen', ambiguous: 'Nicht eindeutig' },
  en: { redeemed: 'Redeemed already', not_open: 'No longer open', ambiguous: 'Ambiguous' },
} as const;

export function createVoucherPayout(deps: VoucherPayoutDeps) {
  const open = (): OpenVoucherItem[] =>
    deps.journal.state.unclaimedVouchers.map((v) => ({
      key: voucherKey(v),
      label: voucherLabel(v),
      cents: v.cents,
      when: releaseTime(v.ts),
    }));

  /**
   * Journals the payout (`unclaimed_settled` `cash_refund`, by `by`) before the technician hands out
   * the cash. Refused, with a short text in the kiosk's language (it is shown as is), when the
   * voucher is no longer open: redeemed, paid out or expired since the list was read.
   */
  async function payOut(key: string, by: string): Promise<PayOutVoucherOutput> {
    const st = deps.journal.state;
    const v = st.unclaimedVouchers.find((o) => voucherKey(o) === key);
    const text = REFUSED[deps.lang()];
    try {
      if (!v)
        throw new PayoutRefused(
          st.redeemedVouchers.includes(key) ? 'redeemed' : 'not_open',
          `no open voucher ${key}`,
        );
      const paid = await payOutVoucher(deps.journal, v.ref ?? v.voucher, by);
      deps.logger.info({ voucher: v.ref ?? voucherLabel(v), cents: paid.cents, by }, 'voucher paid out');
      return { cents: paid.cents, label: voucherLabel(v) };
    } catch (err) {
      if (!(err instanceof PayoutRefused)) throw err;
      // The refusal's own message may name an old code: the log and the screen get the label only.
      deps.logger.warn(
        { voucher: v ? (v.ref ?? voucherLabel(v)) : key, refused: err.reason },
        'voucher payout refused',
      );
      throw new Error(text[err.reason], { cause: err });
    }
  }

  return { open, payOut };
}

export type VoucherPayout = ReturnType<typeof createVoucherPayout>;
