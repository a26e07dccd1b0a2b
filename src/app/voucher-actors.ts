/**
 * The flows' voucher actors: money nobody could be served for is recorded as unclaimed with a new
 * signed voucher (durable before its code is shown or printed), and a scanned voucher is checked and
 * journaled in the session's money chain before the machine counts its value.
 */
import { fromPromise } from 'xstate';
import type { SessionJournal } from '../bookkeeping/session-journal.js';
import type { VoucherBook } from '../bookkeeping/voucher-book.js';
import type { IssuesVouchers } from '../bookkeeping/voucher-code.js';
import { signedVoucherParts } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import type {
  RecordUnclaimedInput,
  RecordUnclaimedOutput,
  RedeemVoucherInput,
  RedeemVoucherOutput,
} from '../../machines/ports.js';

export interface VoucherActorsDeps {
  vouchers: IssuesVouchers;
  sessions: Pick<SessionJournal, 'unclaimed' | 'redeem'>;
  book: Pick<VoucherBook, 'check'>;
  logger: Logger;
}

export function createVoucherActors(deps: VoucherActorsDeps) {
  const recordUnclaimed = fromPromise<RecordUnclaimedOutput, RecordUnclaimedInput>(async ({ input }) => {
    const voucherCode = deps.vouchers.issue(input.cents);
    // Durable before the code is shown or printed: the operator's books must know it first.
    await deps.sessions.unclaimed(input.cents, voucherCode, input.jobId, input.reason);
    // The reference only: the code pays, and the log leaves the kiosk (journald, support bundles).
    deps.logger.warn(
      { cents: input.cents, reason: input.reason, voucher: signedVoucherParts(voucherCode).ref ?? '-' },
      'money recorded as unclaimed',
    );
    return { voucherCode };
  });
  const redeemVoucher = fromPromise<RedeemVoucherOutput, RedeemVoucherInput>(async ({ input }) => {
    // Checked and journaled in the money chain before the machine counts the value.
    const r = await deps.sessions.redeem(input.sessionId, () => deps.book.check(input.code));
    deps.logger.info(
      r.ok ? { voucher: r.ref, cents: r.cents } : { refused: r.reason },
      r.ok ? 'voucher redeemed' : 'voucher refused',
    );
    return r;
  });
  return { recordUnclaimed, redeemVoucher };
}
