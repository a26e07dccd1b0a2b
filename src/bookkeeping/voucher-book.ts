/**
 * The kiosk's vouchers as the journal knows them: which are open, whether a scanned code may be
 * redeemed, and the staff payout and expiry records. Every decision reads the journal's state, so a
 * voucher redeemed, paid out or expired before a restart stays so after it.
 *
 * A code is redeemable when its signature and day check offline (voucher-code.ts) and:
 *  - issued by this kiosk: it is still in the open list, with the value the journal recorded;
 *  - issued by another kiosk (a key of the fleet in the key file): its reference was never redeemed here.
 */
import type { Journal } from '../journal/journal.js';
import type { Voucher as OpenVoucher } from '../journal/state.js';
import {
  readVoucher,
  utcDay,
  verifyVoucher,
  type VoucherKeyRing,
  type VoucherRefusal,
} from './voucher-code.js';

export type RedeemRefusal = VoucherRefusal | 'used';
export type RedeemCheck = { ok: true; ref: string; cents: number } | { ok: false; reason: RedeemRefusal };

/** An open voucher as staff see it: the reference they are told, the value, the last day. */
export interface OpenVoucherView {
  ref: string;
  cents: number;
  issuedTs: number;
  sessionId: string;
  expires: string | null;
}

export function viewOf(v: OpenVoucher): OpenVoucherView {
  return {
    ref: v.ref ?? v.voucher,
    cents: v.cents,
    issuedTs: v.ts,
    sessionId: v.sessionId,
    expires: v.expires ?? null,
  };
}

/** The open vouchers of a journal state (for the CLI, the service menu and the fleet's counters). */
export function openVouchers(state: Journal['state']): OpenVoucherView[] {
  return state.unclaimedVouchers.map(viewOf);
}

/** Why a payout was refused: redeemed at this kiosk already, not open here (unknown, paid out, expired), or ambiguous. */
export type PayoutRefusal = 'redeemed' | 'not_open' | 'ambiguous';

export class PayoutRefused extends Error {
  constructor(
    readonly reason: PayoutRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'PayoutRefused';
  }
}

/**
 * Staff paid an open voucher out in cash (service menu, `kiosk vouchers payout`): journaled as
 * `unclaimed_settled` `cash_refund` with who did it and the value. Named by its reference
 * (`<issuer>.<id>`), its short id as printed (`ABCD-EFGH`) or the whole code; an unknown, redeemed or
 * already settled voucher is refused (`PayoutRefused`, nothing written).
 */
export async function payOutVoucher(
  journal: Pick<Journal, 'state' | 'append'>,
  refOrCode: string,
  by: string,
): Promise<OpenVoucherView> {
  const name = refOrCode.trim();
  const ref = readVoucher(name)?.ref ?? name;
  const short = name.replace('-', '').toUpperCase();
  const open = journal.state.unclaimedVouchers.filter(
    (o) =>
      (o.ref ?? o.voucher) === ref ||
      o.voucher === name ||
      (o.ref !== undefined && o.ref.endsWith(`.${short}`)),
  );
  if (open.length === 0)
    throw journal.state.redeemedVouchers.includes(ref)
      ? new PayoutRefused('redeemed', `no open voucher ${name}: it was redeemed already`)
      : new PayoutRefused('not_open', `no open voucher ${name}`);
  if (open.length > 1)
    throw new PayoutRefused('ambiguous', `${name} names ${open.length} vouchers: give the whole reference`);
  const v = open[0]!;
  await journal.append({
    type: 'unclaimed_settled',
    voucher: v.voucher,
    how: 'cash_refund',
    by,
    cents: v.cents,
  });
  return viewOf(v);
}

export class VoucherBook {
  constructor(
    private readonly journal: Journal,
    private readonly keys: VoucherKeyRing,
    /** This kiosk's id: the issuer of its own vouchers. */
    private readonly issuer: string,
    private readonly now: () => number = Date.now,
  ) {}

  open(): OpenVoucherView[] {
    return openVouchers(this.journal.state);
  }

  /** Whether `code` may be redeemed now (nothing written: the session journal writes the redemption). */
  check(code: string): RedeemCheck {
    const v = verifyVoucher(code, this.keys, utcDay(this.now()));
    if (!v.ok) return v;
    const { ref, cents, issuer } = v.voucher;
    const st = this.journal.state;
    if (st.redeemedVouchers.includes(ref)) return { ok: false, reason: 'used' };
    if (issuer === this.issuer) {
      const open = st.unclaimedVouchers.find((o) => o.ref === ref);
      // Paid out, voided, expired, or never issued by this journal: not money it owes.
      if (!open || open.cents !== cents) return { ok: false, reason: 'used' };
    }
    return { ok: true, ref, cents };
  }

  /** Staff paid an open voucher out in cash (service menu). */
  payout(refOrCode: string, by: string): Promise<OpenVoucherView> {
    return payOutVoucher(this.journal, refOrCode, by);
  }

  /** Own open vouchers past their last day leave the open list (journaled, so reported and exported). */
  async expire(): Promise<OpenVoucherView[]> {
    const today = utcDay(this.now());
    const due = this.journal.state.unclaimedVouchers.filter(
      (v) => v.expires !== undefined && v.expires < today,
    );
    for (const v of due)
      await this.journal.append({
        type: 'unclaimed_settled',
        voucher: v.voucher,
        how: 'expired',
        by: 'kiosk',
        cents: v.cents,
      });
    return due.map(viewOf);
  }
}
