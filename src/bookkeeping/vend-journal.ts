/**
 * The vending counter's money trail (issue 15): releases and hopper payouts are money steps, written
 * to the same journal as payments (intent durable before the output fires or the hopper is asked,
 * outcome after), and the stock of each slot follows from it (`stock_set` by a technician, minus what
 * was released since). No hardware here: the app's actors (src/app/vend-actors.ts) call these around
 * the drivers.
 *
 * After a restart (`afterRestart`): a release whose intent has no outcome becomes `unknown` (never
 * released again automatically, the slot blocked, the operator settles it), and the basket's slotted
 * units a paid session never got to are recorded `failed` (`not_tried`) so that recovery pays their
 * price back. Payouts without an outcome are settled by the app from the hopper's counters.
 */
import type { Journal } from '../journal/journal.js';
import type { ReleaseResultKind } from '../journal/entries.js';
import {
  slotStock,
  unsettledSaleCents,
  type OpenSession,
  type PayoutState,
  type ReleaseState,
} from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { plainVouchers } from './session-journal.js';
import type { IssuesVouchers } from './voucher-code.js';
import { jobRef } from '../../machines/job-ref.js';

export interface VendSlotSettings {
  id: string;
  product: number;
  capacity: number;
  initialStock: number;
  lowAt: number;
}

export interface SlotView {
  id: string;
  product: number;
  stock: number;
  capacity: number;
  lowAt: number;
  blocked: string | null;
}

export interface ReleaseIntentInput {
  sessionId: string;
  jobId: string;
  slot: string;
  productId: number;
  cents: number;
  transactionId: string | null;
  /** The units planned after this one (the machine's plan; absent for the units recovery records). */
  later?: readonly { slot: string; productId: number; cents: number }[];
}

export interface PayoutCounters {
  event: number;
  remaining: number;
  paid: number;
  unpaid: number;
  lifetime?: number;
}

/**
 * The most a refund the operator names may be (1.000 EUR): far above any basket of a vending counter,
 * low enough that a slip of the keyboard (cents for euros times 100) is refused, not paid.
 */
export const MAX_SETTLE_CENTS = 100_000;

/** Why a settle was refused; the message is short, names the job and is safe to send to the operator. */
export class SettleRefused extends Error {
  constructor(
    readonly why: 'unknown' | 'settled' | 'in_progress' | 'session_open' | 'amount',
    message: string,
  ) {
    super(message);
    this.name = 'SettleRefused';
  }
}

/** Why a slot was not unblocked; the message names the slot and is safe to send to the operator. */
export class UnblockRefused extends Error {
  constructor(
    readonly why: 'unknown_slot' | 'not_blocked' | 'release_unsettled' | 'sensor_active',
    message: string,
  ) {
    super(message);
    this.name = 'UnblockRefused';
  }
}

/** The block an unknown release leaves (`release_outcome` unknown): `release <reason>`. */
const RELEASE_BLOCK = /^release /;

/**
 * A checkout session, also when its `session_started` (which names the mode) was damaged: a basket
 * or a release is a sale's, and a counter with slots is configured for checkout only (config-schema).
 * Before, such a session's untried units were neither released nor paid back (chaos seed 45001 run 1).
 */
function isSale(s: OpenSession, vendingCounter: boolean): boolean {
  if (s.mode !== undefined) return s.mode === 'checkout';
  return vendingCounter || s.tx !== undefined || (s.releaseIntents ?? 0) > 0;
}

export class VendJournal {
  private readonly byId: Map<string, VendSlotSettings>;

  constructor(
    private readonly journal: Journal,
    readonly slots: readonly VendSlotSettings[],
    private readonly logger: Logger,
    private readonly vouchers: IssuesVouchers = plainVouchers,
  ) {
    this.byId = new Map(slots.map((s) => [s.id, s]));
  }

  slotFor(productId: number): VendSlotSettings | undefined {
    return this.slots.find((s) => s.product === productId);
  }

  stockOf(slot: string): number {
    return slotStock(this.journal.state.vend, slot, this.byId.get(slot)?.initialStock ?? 0);
  }

  blockedWhy(slot: string): string | null {
    return this.journal.state.vend.slots[slot]?.blocked ?? null;
  }

  view(): SlotView[] {
    return this.slots.map((s) => ({
      id: s.id,
      product: s.product,
      stock: this.stockOf(s.id),
      capacity: s.capacity,
      lowAt: s.lowAt,
      blocked: this.blockedWhy(s.id),
    }));
  }

  /** What each slot can still release: blocked slots count 0 (the machine refuses sold-out products). */
  available(): Record<string, number> {
    return Object.fromEntries(this.view().map((s) => [s.id, s.blocked ? 0 : s.stock]));
  }

  releasesInDoubt(): ReleaseState[] {
    return Object.values(this.journal.state.vend.releasesInDoubt);
  }

  payoutsInDoubt(): PayoutState[] {
    return Object.values(this.journal.state.vend.payoutsInDoubt);
  }

  async releaseIntent(input: ReleaseIntentInput): Promise<void> {
    await this.journal.append({
      type: 'release_intent',
      sessionId: input.sessionId,
      jobId: input.jobId,
      slot: input.slot,
      productId: input.productId,
      cents: input.cents,
      ...(input.transactionId ? { transactionId: input.transactionId } : {}),
      ...(input.later && input.later.length > 0
        ? { later: input.later.map(({ slot, productId, cents }) => ({ slot, productId, cents })) }
        : {}),
    });
  }

  /**
   * A unit refused before anything fired (sold out, blocked, no such slot): intent and `failed` outcome
   * in one group commit, so a crash between them cannot leave a never-fired unit `unknown` (kept from
   * the customer) at the next boot.
   */
  async releaseRefused(input: ReleaseIntentInput, reason: string): Promise<void> {
    // Same batch: the fold has not seen the intent yet, so the outcome repeats it from the input.
    await Promise.all([
      this.releaseIntent(input),
      this.releaseOutcome(input.jobId, 'failed', reason, false, input),
    ]);
  }

  /**
   * `of`: the release as its intent said (default: the intent as the journal folded it). The outcome
   * repeats it: it keeps a failed unit's price owed back, and an unknown one for the operator to
   * settle, when the intent's record is damaged.
   */
  async releaseOutcome(
    jobId: string,
    result: ReleaseResultKind,
    reason?: string,
    fired?: boolean,
    of?: Pick<ReleaseIntentInput, 'sessionId' | 'slot' | 'productId' | 'cents'>,
  ): Promise<void> {
    const intent = of ?? this.journal.state.vend.releasesInDoubt[jobId];
    await this.journal.append({
      type: 'release_outcome',
      jobId,
      ...(intent
        ? { ofSession: intent.sessionId, slot: intent.slot, productId: intent.productId, cents: intent.cents }
        : {}),
      result,
      ...(reason ? { reason: reason.slice(0, 60) } : {}),
      ...(fired === undefined ? {} : { fired }),
    });
  }

  async payoutIntent(
    sessionId: string,
    jobId: string,
    coins: number,
    coinCents: number,
    before: PayoutCounters,
  ): Promise<void> {
    await this.journal.append({ type: 'payout_intent', sessionId, jobId, coins, coinCents, before });
  }

  async payoutOutcome(
    jobId: string,
    result: 'complete' | 'short' | 'not_sent' | 'unknown',
    paidCents: number,
    extra: { fault?: string; after?: PayoutCounters } = {},
  ): Promise<void> {
    // Its intent's session and coin go with it: they keep the paid cents counted if the intent is damaged.
    const intent = this.journal.state.vend.payoutsInDoubt[jobId];
    await this.journal.append({
      type: 'payout_outcome',
      jobId,
      ...(intent ? { ofSession: intent.sessionId, coinCents: intent.coinCents } : {}),
      result,
      paidCents,
      ...(extra.fault ? { fault: extra.fault } : {}),
      ...(extra.after ? { after: extra.after } : {}),
    });
  }

  /** A technician counted the slot (refill): its stock from now on, and its block lifted. */
  async setStock(slot: string, count: number, by: string): Promise<void> {
    const s = this.byId.get(slot);
    if (!s) throw new Error(`no slot ${slot}`);
    if (!Number.isInteger(count) || count < 0 || count > s.capacity)
      throw new Error(`slot ${slot}: count must be 0..${s.capacity}, got ${count}`);
    await this.journal.append({ type: 'stock_set', slot, count, by });
  }

  /**
   * An operator cleared a blocked slot (service menu, fleet `unblock-slot`): it releases again, its
   * stock unchanged. Refused (`UnblockRefused`, nothing journaled): no such slot, not blocked, a
   * release of it still in doubt (settle that first: it says whether the unit dropped), or its sensor
   * reads active now (`sensorActive`: a unit in the beam or a broken sensor; the next release would
   * fail at once). Returns the slot's stock.
   */
  async unblockSlot(slot: string, by: string, sensorActive: boolean): Promise<number> {
    if (!this.byId.has(slot)) throw new UnblockRefused('unknown_slot', `no slot ${slot}`);
    const blocked = this.blockedWhy(slot);
    if (!blocked) throw new UnblockRefused('not_blocked', `slot ${slot} is not blocked`);
    const doubt = this.unsettled().find((r) => r.slot === slot);
    if (doubt)
      throw new UnblockRefused(
        'release_unsettled',
        `slot ${slot}: release ${doubt.jobId} is still in doubt, settle it first`,
      );
    if (sensorActive)
      throw new UnblockRefused('sensor_active', `slot ${slot}: its sensor still reads active`);
    await this.journal.append({ type: 'slot_unblocked', slot, by });
    return this.stockOf(slot);
  }

  /**
   * After a release was settled `delivered`: the unit dropped, so the block its unknown outcome left
   * is lifted (journaled `slot_unblocked` with the job), unless the slot is blocked for another
   * reason, another of its releases is still in doubt, or its sensor reads active (a unit stuck in the
   * beam: the technician clears it and unblocks the slot explicitly). Returns why the slot stays
   * blocked, or null when it works.
   */
  async unblockAfterDelivered(
    jobId: string,
    slot: string,
    by: string,
    sensorActive: boolean,
  ): Promise<string | null> {
    const blocked = this.blockedWhy(slot);
    if (!blocked) return null;
    if (!RELEASE_BLOCK.test(blocked)) return blocked;
    if (this.unsettled().some((r) => r.slot === slot)) return blocked;
    if (sensorActive) return 'sensor_active';
    await this.journal.append({ type: 'slot_unblocked', slot, by, releaseJob: jobId });
    return null;
  }

  /**
   * A technician put `coins` into the hopper (> 0) or took them out (< 0): journaled before the books'
   * count changes. Taking out more than the books hold is refused (count it, then fill it again).
   */
  async hopperFilled(coins: number, coinCents: number, by: string): Promise<void> {
    if (!Number.isInteger(coins) || coins === 0 || Math.abs(coins) > 100_000)
      throw new Error(`hopper: coins must be a whole number, not 0, got ${coins}`);
    const held = this.hopperCoins();
    if (coins < 0 && held !== null && -coins > held)
      throw new Error(`hopper: the books hold ${held} coins, not ${-coins}`);
    await this.journal.append({ type: 'hopper_filled', coins, coinCents, by });
  }

  /** The coins in the hopper by the books; null until the first fill. */
  hopperCoins(): number | null {
    return this.journal.state.vend.hopper.coins;
  }

  /** Releases whose outcome is unknown, waiting for the operator (oldest first). */
  unsettled(): ReleaseState[] {
    return this.releasesInDoubt()
      .filter((r) => r.outcome === 'unknown')
      .sort((a, b) => a.intentSeq - b.intentSeq);
  }

  /**
   * The operator settles a release whose outcome was unknown (service menu, fleet `settle-release`):
   * the customer got it, or did not (a voucher for its price is recorded, durable before it is shown).
   * Returns the voucher's code (`null` for `delivered` or a unit of 0 ct): the caller prints it and
   * tells anyone else only its reference. Refused (`SettleRefused`, nothing journaled): a job that is
   * not a release, one settled already, one still in flight, or one whose session is still open
   * (recovery owes that session's money first; a voucher beside it would pay the price twice).
   * A paid sale whose amount no record names (`amountUnknown`) is refunded only with the amount the
   * operator gives (`cents`: a whole number of cents, 1 to MAX_SETTLE_CENTS, e.g. from the terminal's
   * receipt or the API's transaction): without it the refund is refused, never a voucher of 0 ct. `cents`
   * is refused anywhere else (the journal knows the price; `delivered` moves no money).
   */
  async settleRelease(
    jobId: string,
    how: 'delivered' | 'refunded',
    by: string,
    cents?: number,
  ): Promise<string | null> {
    const vend = this.journal.state.vend;
    const r = vend.releasesInDoubt[jobId];
    if (!r) {
      const done = vend.settled[jobId];
      if (done) throw new SettleRefused('settled', `release ${jobId} already settled (${done.how})`);
      throw new SettleRefused('unknown', `no release in doubt ${jobId}`);
    }
    if (r.outcome !== 'unknown')
      throw new SettleRefused('in_progress', `release ${jobId} is still in progress`);
    if (this.journal.state.sessions[r.sessionId])
      throw new SettleRefused('session_open', `release ${jobId}: its session is still open (recovery first)`);
    const given = how === 'refunded' && r.amountUnknown === true;
    if (cents !== undefined && !given)
      throw new SettleRefused(
        'amount',
        how === 'delivered'
          ? `release ${jobId}: delivered takes no amount`
          : `release ${jobId}: its amount is known (${r.cents} ct), give none`,
      );
    if (given && cents === undefined)
      throw new SettleRefused(
        'amount',
        `release ${jobId}: the sale's amount is unknown (damaged journal records): refund it with the amount paid (cents, from the terminal's receipt or the API's transaction)`,
      );
    if (
      given &&
      (!Number.isSafeInteger(cents) || (cents as number) <= 0 || (cents as number) > MAX_SETTLE_CENTS)
    )
      throw new SettleRefused(
        'amount',
        `release ${jobId}: amount ${String(cents)} refused (whole cents, 1 to ${MAX_SETTLE_CENTS})`,
      );
    const refund = given ? (cents as number) : r.cents;
    const voucher = how === 'refunded' && refund > 0 ? this.vouchers.issue(refund) : null;
    // One group commit: a cut between a voucher and its settlement would leave the release unknown
    // beside an open voucher, and a second settle would pay its price again.
    await Promise.all([
      ...(voucher
        ? [this.journal.append({ type: 'unclaimed', sessionId: r.sessionId, cents: refund, voucher })]
        : []),
      this.journal.append({
        type: 'release_settled',
        jobId,
        how,
        by,
        ...(voucher ? { voucher } : {}),
        ...(given ? { cents: refund } : {}),
      }),
    ]);
    return voucher;
  }

  /**
   * After a restart, before recovery: releases cut off mid-way become `unknown`; the slotted units of
   * a paid checkout session that were never tried are recorded not delivered, so recovery pays their
   * price back with the session's other money.
   */
  async afterRestart(): Promise<{ unknown: number; notTried: number }> {
    let unknown = 0;
    let notTried = 0;
    for (const r of this.releasesInDoubt()) {
      if (r.outcome === 'unknown') continue;
      await this.releaseOutcome(r.jobId, 'unknown', 'power_cut');
      unknown += 1;
      this.logger.error(
        { jobId: r.jobId, slot: r.slot, cents: r.cents },
        'release cut off: outcome unknown, slot blocked, operator must settle it',
      );
    }
    for (const s of Object.values(this.journal.state.sessions)) notTried += await this.notServed(s.sessionId);
    return { unknown, notTried };
  }

  /**
   * The slotted units of a paid checkout session that were never tried are recorded not delivered
   * (`not_tried`), so that recovery pays their price back. Also for a session that recovery finds
   * paid only now (a cut during `start/...`): it never got to a release. Returns how many.
   */
  async notServed(sessionId: string): Promise<number> {
    const s = this.journal.state.sessions[sessionId];
    if (!s || !s.paid || !isSale(s, this.slots.length > 0)) return 0;
    const tried = s.releaseIntents ?? 0;
    // The basket, or where its record was damaged, the plan journaled with the last release.
    const untried = s.tx ? this.unitsOf(s.tx.basket.products).slice(tried) : (s.releaseLater ?? []);
    if (!s.tx && tried === 0) await this.goodsUnsettled(s);
    let notTried = 0;
    for (const [k, u] of untried.entries()) {
      const i = tried + k;
      // The machine's own job for this unit would be `release-<i>` too: `boot` keeps it apart.
      const jobId = jobRef(s.sessionId, `release-${i}`, 'boot');
      await this.releaseIntent({
        sessionId: s.sessionId,
        jobId,
        slot: u.slot,
        productId: u.productId,
        cents: u.cents,
        transactionId: s.apiId ?? null,
      });
      await this.releaseOutcome(jobId, 'failed', 'not_tried', false);
      notTried += 1;
      this.logger.warn(
        { sessionId: s.sessionId, slot: u.slot, cents: u.cents },
        'paid unit never released before the restart: its price goes back to the customer',
      );
    }
    return notTried;
  }

  /**
   * A paid sale whose basket was in damaged records and that released nothing: no unit can be told by
   * slot, so what it paid (the payment's outcome repeats it, else the terminal's payment record) is journaled for the operator
   * (`goods_unsettled`, a release in doubt of the whole sale: settle-release, delivered or refunded
   * with a voucher), once. Before it, the log line was all there was (chaos seed 31418 `--first 3`).
   */
  private async goodsUnsettled(s: OpenSession): Promise<void> {
    const jobId = jobRef(s.sessionId, 'recovery-goods', 'boot');
    const vend = this.journal.state.vend;
    if (vend.releasesInDoubt[jobId] || vend.settled[jobId]) return;
    // Unknown (payment outcomes journaled by firmware from before they repeated the amount, no terminal
    // record): said so, never 0 ct, so that a refund asks the operator for the amount.
    const cents = unsettledSaleCents(s, this.journal.state.terminal);
    await this.journal.append({
      type: 'goods_unsettled',
      sessionId: s.sessionId,
      jobId,
      cents: cents ?? 0,
      ...(s.apiId ? { transactionId: s.apiId } : {}),
      ...(cents === undefined ? { amountUnknown: true as const } : {}),
    });
    this.logger.error(
      { sessionId: s.sessionId, jobId, cents: cents ?? 'unknown' },
      'paid session whose basket was in damaged journal records and that released nothing: journaled for the operator to settle',
    );
  }

  /** The basket as the machine expands it (machines/session.setup.ts `releaseUnits`): slotted units in order. */
  private unitsOf(
    products: readonly Record<string, unknown>[],
  ): { slot: string; productId: number; cents: number }[] {
    const units: { slot: string; productId: number; cents: number }[] = [];
    for (const p of products) {
      const id = typeof p.id === 'number' ? p.id : Number.NaN;
      const slot = this.slotFor(id);
      const quantity = typeof p.quantity === 'number' ? p.quantity : 0;
      const cents = typeof p.priceOne === 'number' ? p.priceOne : 0;
      if (!slot) continue;
      for (let i = 0; i < quantity; i++) units.push({ slot: slot.id, productId: id, cents });
    }
    return units;
  }
}
