/**
 * The fleet's events told from the journal's records (issue 14): a voucher issued, redeemed, paid
 * out, voided or expired, whichever path or process wrote the record (the flow, recovery, the service
 * menu, the expiry sweep, `kiosk vouchers payout` while the kiosk was stopped), a sale recovery
 * found paid (its receipt record's `paid`), and the cash events: a coin taken (`coin_accepted`), money
 * booked to a card (`credited`, the flow's or recovery's) and money left unclaimed (`unclaimed`). These
 * are told only from here (the flow sends no `evt/cash` of its own), so none is sent both ways.
 *
 * Each event enters the fleet outbox with the seq of the record it is told from (`src`); the outbox
 * keeps the highest one on disk in the same write as the event (`FleetReporter.journalTold`). When the
 * reporter comes up, the records after it are told first: those written before the reporter was up
 * (boot recovery runs first, and a power cut may come before the reporter starts) and those another
 * process wrote while the kiosk was stopped. So such an event survives a power cut at any point and
 * enters the outbox once. Its `eventId` is derived from the kiosk and the record (a paid sale's from
 * the kiosk and the transaction, as the flow's own event), so should it ever be sent twice (an outbox
 * write that failed) the dashboard still counts it once.
 */
import { createHash } from 'node:crypto';
import type { EventInput } from '../fleet/envelope.js';
import type { FleetReporter } from '../fleet/reporter.js';
import type { JournalEntry } from '../journal/entries.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../util/logger.js';
import { salePartsOfFigures, type SaleParts } from '../util/sale-value.js';
import { voucherEventsOf } from './voucher-events.js';

export type JournalFleetEvent =
  | { type: 'voucher'; input: EventInput<'voucher'>; src: number }
  | { type: 'transaction'; input: EventInput<'transaction'>; src: number }
  | { type: 'cash'; input: EventInput<'cash'>; src: number };

/** The masked card of a session, where the journal still knows it (an open session's state). */
export type CardOf = (sessionId: string) => string | undefined;

/** A name-based UUID (version 5 layout over SHA-1) of `parts`: the same parts, the same id. */
function nameUuid(parts: readonly string[]): string {
  const h = createHash('sha1').update(parts.join('\0')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The `eventId` of a paid transaction's `evt/transaction`, derived from the kiosk and the API
 * transaction: the flow's event and the one recovery's receipt tells are the same event to the
 * dashboard, which de-duplicates by eventId, so a sale is counted once whichever of them got out.
 */
export function paidEventId(kioskId: string, transactionId: string): string {
  return nameUuid(['kiosk-paid', kioskId, transactionId]);
}

/**
 * `evt/transaction`'s `discountCents`, only when there was one: the envelope schemas are strict, so a
 * dashboard of before refuses an event carrying it; a sale without a bonus stays readable by it.
 */
export function discountField(cents: number): { discountCents?: number } {
  return cents > 0 ? { discountCents: cents } : {};
}

/**
 * `evt/transaction`'s `parts`, a completed sale's only (a top-up is not a sale): the same split the
 * journal's sales-value odometer counts, so the dashboard's counters check compares like with like.
 */
export function partsField(kind: 'sale' | 'topup', parts: SaleParts | undefined): { parts?: SaleParts } {
  return kind === 'sale' && parts ? { parts } : {};
}

/** The fleet's name of how a sale was paid. */
export function fleetMethod(
  method: 'cash' | 'loyalty' | 'cashless' | null | undefined,
): EventInput<'transaction'>['paymentMethod'] {
  return method === 'loyalty'
    ? 'card_balance'
    : method === 'cashless'
      ? 'card_terminal'
      : method === 'cash'
        ? 'cash'
        : undefined;
}

/**
 * The `evt/cash` a record tells, if any. `credited`'s card is the session's masked card, from a
 * `session_started` among the records told with it or the journal's open session (`cardOf`); a credit
 * told after a restart whose session is closed and started before the told position goes without it
 * (the field is optional: the money and `transactionId` are what the books need).
 */
function cashEventOf(
  e: JournalEntry,
  cards: ReadonlyMap<string, string>,
  cardOf: CardOf,
): EventInput<'cash'> | undefined {
  if (e.type === 'coin_accepted') return { action: 'inserted', amountCents: e.cents, currency: 'EUR' };
  if (e.type === 'credited') {
    const card = cards.get(e.sessionId) ?? cardOf(e.sessionId);
    return {
      action: 'credited',
      amountCents: e.cents,
      currency: 'EUR',
      transactionId: e.apiId.slice(0, 100),
      ...(card ? { card } : {}),
    };
  }
  if (e.type === 'unclaimed')
    return {
      action: 'unclaimed',
      amountCents: e.cents,
      currency: 'EUR',
      ...(e.reason ? { reason: e.reason.slice(0, 200) } : {}),
    };
  return undefined;
}

/** The fleet events `entries` tell, in order, each with the seq of its record. */
export function journalEventsOf(
  entries: readonly JournalEntry[],
  kioskId: string,
  cardOf: CardOf = () => undefined,
): JournalFleetEvent[] {
  const out: JournalFleetEvent[] = [];
  const cards = new Map<string, string>();
  for (const e of entries) {
    if (e.type === 'session_started' && e.cardMasked) cards.set(e.sessionId, e.cardMasked);
    const cash = cashEventOf(e, cards, cardOf);
    if (cash)
      out.push({
        type: 'cash',
        // Its own name space: a record may also tell voucher events (an unclaimed one's `issued`).
        input: { ...cash, eventId: nameUuid(['kiosk-journal-cash', kioskId, String(e.seq)]) },
        src: e.seq,
      });
    voucherEventsOf([e]).forEach((input, i) =>
      out.push({
        type: 'voucher',
        input: { ...input, eventId: nameUuid(['kiosk-journal', kioskId, String(e.seq), String(i)]) },
        src: e.seq,
      }),
    );
    if (e.type === 'receipt' && e.paid && e.sale) {
      const p = e.paid;
      const method = fleetMethod(p.method);
      out.push({
        type: 'transaction',
        src: e.seq,
        input: {
          eventId: paidEventId(kioskId, p.transactionId),
          kind: e.sale.kind,
          outcome: 'completed',
          // What the flow's event says too: the goods delivered, before a bonus (the agreement rule).
          amountCents: e.sale.total + e.sale.discount,
          currency: 'EUR',
          transactionId: p.transactionId,
          ...(method ? { paymentMethod: method } : {}),
          ...(p.cardMasked ? { card: p.cardMasked } : {}),
          itemCount: p.itemCount,
          ...discountField(e.sale.discount),
          ...partsField(e.sale.kind, salePartsOfFigures(e.sale)),
        },
      });
    }
  }
  return out;
}

/**
 * How many records may pass between two notes of the position to the outbox: a kiosk is more often
 * switched off than stopped, and the next start reads the journal from the last note on.
 */
const NOTE_EVERY = 500;

/** Tells the fleet reporter the journal's events: the untold ones when it comes up, then each batch. */
export class JournalFleet {
  private fleet: FleetReporter | undefined;
  /** The highest seq handed to the reporter (or found to tell nothing) in this run. */
  private told = -1;
  /** Batches made durable while the untold records are being read (told after them). */
  private held: JournalEntry[] | undefined;
  /** The first seq of this run: what an outbox that never told any record starts from. */
  private readonly openSeq: number;
  /** The position last noted to the outbox (`keepPosition`). */
  private noted = -1;
  /**
   * The untold records could not be read at attach: this run tells its events without their seq and
   * notes no position, so the next start reads from the same place again (what it then tells twice
   * the dashboard counts once: the ids are derived).
   */
  private positionLost = false;

  constructor(
    private readonly journal: Journal,
    private readonly kioskId: string,
    private readonly logger: Logger,
  ) {
    this.openSeq = journal.nextSeq;
  }

  /** A batch the journal made durable (`Journal.onDurable`). Before the reporter is up: told when it is. */
  durable(entries: readonly JournalEntry[]): void {
    if (!this.fleet) return;
    if (this.held) this.held.push(...entries);
    else this.tell(entries);
    if (!this.held && this.told - this.noted >= NOTE_EVERY) void this.keepPosition();
  }

  /**
   * The reporter is up (its outbox open): the records after the last one it was told are read from
   * the journal and told, then the batches that came meanwhile. An outbox that never told a record
   * (a kiosk before this, a new outbox) or one that names a seq this journal never reached (a new
   * journal) starts with this run's records: nothing older is told a second time.
   */
  async attach(fleet: FleetReporter): Promise<void> {
    const told = fleet.journalTold;
    const from = told === undefined || told >= this.journal.nextSeq ? this.openSeq - 1 : told;
    this.told = from;
    this.fleet = fleet;
    this.held = [];
    let count = 0;
    try {
      const untold: JournalEntry[] = [];
      for await (const r of this.journal.entries(from)) if (r.type !== 'snapshot') untold.push(r);
      count = this.tell(untold);
    } catch (err) {
      // The records stay in the journal: the next start reads them again (see positionLost).
      this.positionLost = true;
      this.logger.error({ err: (err as Error).message, from }, 'fleet: untold journal records not read');
    } finally {
      const held = this.held;
      this.held = undefined;
      this.tell(held);
    }
    if (count > 0)
      this.logger.info({ from, events: count }, 'fleet: told the journal records after its outbox');
    await this.keepPosition();
  }

  /**
   * The outbox keeps how far the journal is told also when no record since told an event: the next
   * start reads from there (and an outbox new with this run knows it from now on). At attach, every
   * `NOTE_EVERY` records (a power cut is the usual end of a run) and at a clean stop.
   */
  async keepPosition(): Promise<void> {
    if (!this.fleet || this.told < 0 || this.positionLost) return;
    const told = this.told;
    this.noted = told;
    await this.fleet.noteJournalTold(told);
  }

  private tell(entries: readonly JournalEntry[]): number {
    const fleet = this.fleet;
    if (!fleet) return 0;
    const fresh = entries.filter((e) => e.seq > this.told);
    const events = journalEventsOf(
      fresh,
      this.kioskId,
      (sid) => this.journal.state.sessions[sid]?.cardMasked,
    );
    for (const e of events) {
      const src = this.positionLost ? undefined : e.src;
      if (e.type === 'voucher') fleet.event('voucher', e.input, src);
      else if (e.type === 'cash') fleet.event('cash', e.input, src);
      else fleet.event('transaction', e.input, src);
    }
    for (const e of fresh) this.told = Math.max(this.told, e.seq);
    return events.length;
  }
}
