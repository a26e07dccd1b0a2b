/**
 * Settling the releases whose outcome is unknown (issue 15): a paid unit whose release was cut off
 * (power cut, driver fault) is never released again and its price not given back until someone who
 * knows settles it. The service menu (a technician at the kiosk) and the fleet's `settle-release`
 * command both come here, so the two cannot differ in what they journal.
 *
 * `delivered`: the technician found the goods were given. The unit dropped, so the slot works: the
 * block its unknown outcome left is lifted (`slot_unblocked` with the job; its stock went down when
 * the release went unknown), unless its sensor reads active now (a unit stuck in the beam, a broken
 * sensor) or it is blocked for another reason: then it stays blocked and the answer says why.
 * `refunded`: a voucher for the price (a sale whose amount is unknown: the amount the operator gives,
 * refused without one) is journaled (`unclaimed` with the `release_settled`, one group
 * commit, see VendJournal) and then printed; the slot stays blocked (the unit did not come out: it may
 * hang in the spiral or the chute) until a technician counts it or unblocks it.
 * The voucher's code is what pays: it goes only to the printer. Everyone else (the log, the fleet's
 * answer, the service report) is told its reference `<issuer>.<id>` or the short id printed under its
 * QR.
 */
import type { ReceiptLine } from '../api/schemas.js';
import type { VendJournal } from '../bookkeeping/vend-journal.js';
import { voucherLines } from '../bookkeeping/receipt-jobs.js';
import { signedVoucherParts } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { voucherShortCode } from '../../machines/scan.js';
import type { SettleHow, UnsettledRelease } from '../../machines/ports.js';

export interface ReleaseSettlerDeps {
  book: Pick<VendJournal, 'unsettled' | 'settleRelease' | 'unblockAfterDelivered' | 'blockedWhy'>;
  /** The slot's sensor reads active now (VendSlots.sensorActive): a `delivered` settle keeps it blocked. */
  sensorActive: (slot: string) => boolean;
  /** Prints receipt lines with the kiosk's header and footer. */
  print: (lines: ReceiptLine[]) => Promise<void>;
  lang: () => 'de' | 'en';
  /** A product's name for the list (the catalogue's `desc`). */
  productName: (productId: number) => string | undefined;
  logger: Logger;
  /** After a settle: the slot alerts and the fleet's view change. */
  onSettled: () => void;
}

/** What came of a settle, safe for the log and the fleet: never the voucher's code. */
export interface ReleaseSettled {
  jobId: string;
  how: SettleHow;
  cents: number;
  /** `<issuer>.<id>` of the refund voucher; null for `delivered` (or a unit of 0 ct). */
  voucherRef: string | null;
  /** The short id printed under the voucher's QR (`ABCD-EFGH`). */
  voucherId: string | null;
  /** Whether the voucher printed; null when none was to be printed. */
  printed: boolean | null;
  /** The release's slot, and why it is still blocked after the settle (null: it releases again). */
  slot: string;
  slotBlocked: string | null;
}

/** Day and time in the kiosk's local time, as the service menu shows it: `03.12. 07:12`. */
export function releaseTime(ts: number): string {
  const d = new Date(ts);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getDate())}.${two(d.getMonth() + 1)}. ${two(d.getHours())}:${two(d.getMinutes())}`;
}

export function createReleaseSettler(deps: ReleaseSettlerDeps) {
  const unsettled = (): UnsettledRelease[] =>
    deps.book.unsettled().map((r) => ({
      jobId: r.jobId,
      slot: r.slot,
      desc: r.sale
        ? deps.lang() === 'de'
          ? 'Kauf, Waren unbekannt'
          : 'sale, goods unknown'
        : (deps.productName(r.productId) ?? `#${r.productId}`),
      cents: r.cents,
      ...(r.amountUnknown ? { amountUnknown: true } : {}),
      when: releaseTime(r.ts),
    }));

  /**
   * Journals the settlement (refused by VendJournal: unknown job, settled already, still in flight,
   * session still open), then prints the voucher when `print` (the fleet may settle with nobody at
   * the kiosk: a voucher in an empty tray is money anyone takes). A print failure does not undo it:
   * the voucher stays open in the journal and staff pay it out by its reference.
   */
  async function settle(
    jobId: string,
    how: SettleHow,
    by: string,
    print: boolean,
    amountCents?: number,
  ): Promise<ReleaseSettled> {
    const release = deps.book.unsettled().find((r) => r.jobId === jobId);
    const slot = release?.slot ?? '';
    // Refused by the book where the amount is unknown and none given (never a voucher of 0 ct).
    const code = await deps.book.settleRelease(jobId, how, by, amountCents);
    // What the voucher pays: the operator's amount where the journal knew none.
    const cents = release?.amountUnknown && how === 'refunded' ? (amountCents ?? 0) : (release?.cents ?? 0);
    let slotBlocked = deps.book.blockedWhy(slot);
    if (how === 'delivered') {
      try {
        slotBlocked = await deps.book.unblockAfterDelivered(jobId, slot, by, deps.sensorActive(slot));
      } catch (err) {
        // Settled all the same; the slot stays blocked (the safe side) for an explicit unblock.
        slotBlocked = 'unblock not journaled';
        deps.logger.error({ err: (err as Error).message, jobId, slot }, 'slot not unblocked after settle');
      }
    }
    deps.onSettled();
    const voucherRef = code ? (signedVoucherParts(code).ref ?? null) : null;
    // A plain (unsigned, older) code is its own name and pays: only a signed code has an id to tell.
    const voucherId = code && voucherRef ? voucherShortCode(code) : null;
    let printed: boolean | null = null;
    if (code && print) {
      try {
        await deps.print(voucherLines(code, cents, null, deps.lang()));
        printed = true;
      } catch (err) {
        printed = false;
        deps.logger.warn(
          { err: (err as Error).message, jobId, voucher: voucherRef },
          'refund voucher not printed',
        );
      }
    }
    deps.logger.info(
      { jobId, how, cents, by, voucher: voucherRef, printed, slot, slotBlocked },
      'release settled',
    );
    return { jobId, how, cents, voucherRef, voucherId, printed, slot, slotBlocked };
  }

  return { unsettled, settle };
}

export type ReleaseSettler = ReturnType<typeof createReleaseSettler>;
