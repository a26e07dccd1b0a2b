/**
 * The stand-in's books: loyalty cards and Smart Transactions with the documented semantics.
 * Persisted to one JSON file, replaced atomically (write, fsync, rename) after every change, so a
 * killed stand-in restarts with exactly what it had committed: the chaos harness relies on it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { basketTotal, formatCents } from '../api/money.js';
import {
  CreateTransactionSchema,
  TOPUP_EAN,
  describeZodError,
  type TransactionStatus,
} from '../api/schemas.js';
import { DEMO_CARDS, type LedgerCard } from './demo-cards.js';
import { cardReceipt } from './receipts.js';
import { DEFAULT_BEHAVIOUR, type SimBehaviour } from './profiles.js';

export class SimApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly details: string,
    readonly user: string,
  ) {
    super(details);
  }

  body(supportId: string): object {
    return {
      status: 'error',
      error: this.error,
      error_details: this.details,
      error_user: this.user,
      code: this.code,
      supportId,
    };
  }
}

const invalid = (details: string, user = 'Ungültige Anfrage.') =>
  new SimApiError(400, 'ProductBadRequestException', 1001, details, user);
const notFound = (details: string) =>
  new SimApiError(404, 'ProductNotFoundException', 1001, details, 'Vorgang nicht gefunden.');
/**
 * A card the operation cannot use. Not 1016: the docs list that as a backend failure ("Card validation
 * failed: Unknown value was returned by procedure call"); what the real API answers here is not
 * documented, so the stand-in refuses it as a bad request (see docs/api-stand-in.md).
 */
const cardFailed = (details: string, user: string) =>
  new SimApiError(400, 'ProductBadRequestException', 1001, details, user);
const wrongState = (details: string) =>
  new SimApiError(409, 'ProductStatusException', 1001, details, 'Der Vorgang ist bereits abgeschlossen.');

interface Product {
  id: number;
  parent?: number | null;
  item_type: string;
  desc: string;
  articleNumber?: string | number | null;
  ean?: string | null;
  quantity: number;
  priceOne: number;
  tax: number;
  group?: unknown[];
  [k: string]: unknown;
}

export interface StoredTransaction {
  id: string;
  status: TransactionStatus;
  created: string;
  updated: string;
  intent: string | null;
  merchantRef: string | null;
  transactionRef: string | null;
  is_demo: boolean;
  device_source: { id: string } | null;
  products: Product[];
  currency: string;
  sum: number;
  card: string | null;
  /** preTransaction: what the card will pay, not yet charged. */
  applied: { cash: number; bonus: number } | null;
  missing_sum: number | null;
  bonusProducts: Product[];
  /** After start: what was actually taken from / put on the card, to undo on cancel. */
  redeemed: { cash: number; bonus: number } | null;
  loaded: number;
  points: number;
  payment_method: string | null;
  trans_id: string | null;
  ltx: string[];
  receipt: unknown[];
  /** Terminal payments: the terminal's receipt number (what `cancelTrx` takes), its batch, the merchant copy. */
  receipt_number?: string | null;
  terminalBatch?: number;
  receipt_merchant?: unknown[];
}

export interface SaleRecord {
  txId: string;
  method: string;
  /** Money collected outside the card (cash or terminal). */
  collected: number;
  redeemed: number;
  loaded: number;
  cancelled: boolean;
  at: string;
}

interface LedgerFile {
  version: 1;
  cards: Record<string, LedgerCard>;
  transactions: Record<string, StoredTransaction>;
  nextTransId: number;
  sales: SaleRecord[];
  /** The card terminal: the open batch (cleared by end-of-day) and the next receipt number. Older files have none. */
  terminal?: { batch: number; nextReceiptNo: number; endOfDays: number };
}

/** What end-of-day cleared: the batch's terminal payments and their total. */
export interface EndOfDayResult {
  batch: number;
  count: number;
  cents: number;
  reversed: number;
  receipt_merchant: unknown[];
}

const TERMINAL_ID = 'SIM00001';

const TOPUP = (p: Product) => p.ean === TOPUP_EAN;
const ID_CHARS = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

export function newId(prefix: string): string {
  const bytes = randomBytes(30);
  let s = '';
  for (const b of bytes) s += ID_CHARS[b % ID_CHARS.length];
  return `${prefix}_${s}`;
}

export class Ledger {
  private data: LedgerFile;
  /** The switches where the docs are silent (src/sim/profiles.ts); the stand-in sets them. */
  behaviour: SimBehaviour = { ...DEFAULT_BEHAVIOUR };

  constructor(
    private readonly path?: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.data = path ? (Ledger.load(path) ?? Ledger.fresh()) : Ledger.fresh();
    this.save();
  }

  private static fresh(): LedgerFile {
    const cards: Record<string, LedgerCard> = {};
    for (const c of DEMO_CARDS) cards[c.cardnumber] = { ...c };
    return {
      version: 1,
      cards,
      transactions: {},
      nextTransId: 29_300_000,
      sales: [],
      terminal: { batch: 1, nextReceiptNo: 1, endOfDays: 0 },
    };
  }

  private static load(path: string): LedgerFile | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    const parsed = JSON.parse(text) as LedgerFile;
    if (parsed.version !== 1 || typeof parsed.cards !== 'object')
      throw new Error(`ledger ${path}: unknown format`);
    return parsed;
  }

  private save(): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  /** Runs a change and persists it before anyone is answered. */
  private commit<T>(change: () => T): T {
    const before = JSON.stringify(this.data);
    try {
      const result = change();
      this.save();
      return result;
    } catch (err) {
      this.data = JSON.parse(before) as LedgerFile;
      throw err;
    }
  }

  // ----- views -----

  card(cardnumber: string): LedgerCard | undefined {
    const c = this.data.cards[cardnumber];
    return c ? { ...c } : undefined;
  }

  cards(): LedgerCard[] {
    return Object.values(this.data.cards).map((c) => ({ ...c }));
  }

  transaction(id: string): StoredTransaction | undefined {
    return this.data.transactions[id];
  }

  sales(): SaleRecord[] {
    return this.data.sales.map((s) => ({ ...s }));
  }

  setCard(card: LedgerCard): void {
    this.commit(() => {
      this.data.cards[card.cardnumber] = { ...card };
    });
  }

  reset(): void {
    this.commit(() => {
      this.data = Ledger.fresh();
    });
  }

  // ----- API semantics -----

  create(body: unknown): StoredTransaction {
    const parsed = CreateTransactionSchema.safeParse(body);
    if (!parsed.success) {
      const sumIssue = parsed.error.issues.find((i) => i.path.join('.') === 'basket_info.sum');
      throw invalid(
        sumIssue ? 'basket_info.sum does not match the basket total' : describeZodError(parsed.error),
      );
    }
    const b = parsed.data;
    // A card the stand-in does not know is accepted into the transaction and echoed as an ident with
    // `valid: false` (src/sim/render.ts): create validates nothing about the card.
    const card = b.idents?.[0]?.value ?? null;
    const ts = this.now().toISOString();
    const tx: StoredTransaction = {
      id: newId('STX'),
      status: 'created',
      created: ts,
      updated: ts,
      intent: b.intent ?? null,
      merchantRef: b.merchantRef ?? null,
      transactionRef: b.transactionRef ?? null,
      is_demo: b.is_demo ?? true,
      device_source: b.device_source ?? null,
      products: b.basket.products.map((p) => ({ ...p, item_type: p.item_type ?? 'article' })) as Product[],
      currency: b.basket_info.currency,
      sum: b.basket_info.sum,
      card,
      applied: null,
      missing_sum: null,
      bonusProducts: [],
      redeemed: null,
      loaded: 0,
      points: 0,
      payment_method: null,
      trans_id: null,
      ltx: [],
      receipt: [],
    };
    return this.commit(() => {
      this.data.transactions[tx.id] = tx;
      return tx;
    });
  }

  update(id: string, body: unknown): StoredTransaction {
    const tx = this.mustGet(id);
    if (tx.status !== 'created' && tx.status !== 'processing')
      throw wrongState(`transaction ${id} is ${tx.status}; only unpaid ones can be replaced`);
    const fresh = this.create(body);
    return this.commit(() => {
      delete this.data.transactions[fresh.id];
      const replaced: StoredTransaction = { ...fresh, id, created: tx.created, status: 'created' };
      this.data.transactions[id] = replaced;
      return replaced;
    });
  }

  preTransaction(id: string): { tx: StoredTransaction; missing_sum: number; bonus_products: Product[] } {
    const tx = this.mustGet(id);
    if (tx.status !== 'created' && tx.status !== 'processing')
      throw wrongState(`transaction ${id} is ${tx.status}`);
    if (!tx.card) throw invalid('preTransaction needs a card ident');
    const card = this.usableCard(tx.card);
    const payable = basketTotal(tx.products.filter((p) => !TOPUP(p)));
    const cash = Math.min(card.cash_balance, Math.max(payable, 0));
    const bonus = Math.min(card.bonus_balance, Math.max(payable - cash, 0));
    const bonusProducts = splitPerVat(
      tx.products.filter((p) => !TOPUP(p)),
      this.behaviour.bonusLines === 'bonus' ? bonus : cash + bonus,
      tx.products.length,
    );
    const missing = basketTotal(tx.products) - cash - bonus;
    return this.commit(() => {
      tx.applied = { cash, bonus };
      tx.bonusProducts = bonusProducts;
      tx.missing_sum = missing;
      tx.status = 'processing';
      tx.updated = this.now().toISOString();
      return { tx, missing_sum: missing, bonus_products: bonusProducts };
    });
  }

  start(
    id: string,
    method: 'loyalty' | 'cash' | 'cashless',
    opts: { declined?: boolean } = {},
  ): StoredTransaction {
    const tx = this.mustGet(id);
    // Profile `second-start-charges`: nothing stops a second start, it is executed (and charged) again.
    const again = tx.status === 'ok' && this.behaviour.secondStart === 'charges';
    if (tx.status === 'ok' && !again)
      throw wrongState(`transaction ${id} is already paid; it is not charged again`);
    if (tx.status !== 'created' && tx.status !== 'processing' && !again)
      throw wrongState(`transaction ${id} is ${tx.status}`);
    if (method === 'loyalty' && ((tx.status !== 'processing' && !again) || tx.missing_sum !== 0)) {
      throw invalid(
        'start/loyalty needs a preTransaction with missing_sum 0',
        'Das Guthaben reicht nicht aus.',
      );
    }
    if (opts.declined) {
      this.commit(() => {
        tx.status = 'failed';
        tx.updated = this.now().toISOString();
      });
      // Profile `decline-200-failed`: the call was taken, its status says no money moved.
      if (this.behaviour.decline === 'status') return tx;
      throw new SimApiError(
        400,
        'PaymentDeclinedException',
        1009,
        'the terminal declined the payment',
        'Die Kartenzahlung wurde abgelehnt.',
      );
    }
    const card = tx.card ? this.data.cards[tx.card] : undefined;
    if (card && tx.applied) this.usableCard(card.cardnumber);
    return this.commit(() => {
      const applied = tx.applied ?? { cash: 0, bonus: 0 };
      const total = basketTotal(tx.products);
      const collected = method === 'loyalty' ? 0 : total - applied.cash - applied.bonus;
      const topup = basketTotal(tx.products.filter(TOPUP));
      // The receipt's "Umsatz erfasst" is the whole sale, a top-up included (seed 004).
      const turnover = total;
      const pointsBase = total - topup;
      this.data.nextTransId += 1;
      tx.trans_id = String(this.data.nextTransId);
      tx.ltx = [newId('LTX')];
      let topUpFacts: { transId: string; amount: number; balanceAfter: number } | undefined;
      if (card) {
        if (card.cash_balance < applied.cash || card.bonus_balance < applied.bonus) {
          throw invalid('card balance changed since preTransaction', 'Das Guthaben hat sich geändert.');
        }
        card.cash_balance -= applied.cash;
        card.bonus_balance -= applied.bonus;
        const balanceAfterSale = card.cash_balance + card.bonus_balance;
        if (topup > 0) {
          card.cash_balance += topup;
          this.data.nextTransId += 1;
          tx.ltx.push(newId('LTX'));
          topUpFacts = {
            transId: String(this.data.nextTransId),
            amount: topup,
            balanceAfter: card.cash_balance + card.bonus_balance,
          };
        }
        tx.points = card.owner === 'own' && pointsBase > 0 ? Math.floor(pointsBase / 100) : 0;
        card.points += tx.points;
        tx.receipt = cardReceipt({
          cardnumber: card.cardnumber,
          transId: tx.trans_id,
          redeemed: applied.cash + applied.bonus,
          turnover,
          balanceAfterSale,
          topUp: topUpFacts,
        });
      } else {
        tx.receipt = [];
      }
      if (method === 'cashless') {
        const t = this.terminalBook();
        tx.receipt_number = String(t.nextReceiptNo++).padStart(4, '0');
        tx.terminalBatch = t.batch;
        tx.receipt = [...terminalReceipt('Kundenbeleg', tx.receipt_number, collected), ...tx.receipt];
        tx.receipt_merchant = terminalReceipt('Händlerbeleg', tx.receipt_number, collected);
      }
      tx.redeemed = { ...applied };
      tx.loaded = card ? topup : 0;
      tx.status = 'ok';
      tx.payment_method = method;
      tx.missing_sum = 0;
      tx.updated = this.now().toISOString();
      this.data.sales.push({
        txId: tx.id,
        method,
        collected,
        redeemed: applied.cash + applied.bonus,
        loaded: tx.loaded,
        cancelled: false,
        at: tx.updated,
      });
      return tx;
    });
  }

  cancel(id: string): StoredTransaction {
    const tx = this.mustGet(id);
    if (tx.status !== 'ok')
      throw wrongState(`transaction ${id} is ${tx.status}; only paid ones can be cancelled`);
    // Profile `cancel-keeps-receipts`: as cancelTrx is documented, the receipts stay unchanged.
    return this.reversePaid(tx, this.behaviour.cancelReceipt === 'storno');
  }

  /**
   * A paid transaction undone (`cancel`, `cancelTrx`): its card part goes back on the card, refused
   * when the loaded amount was spent since; with `storno`, the receipt becomes the reversal's.
   */
  private reversePaid(tx: StoredTransaction, storno: boolean): StoredTransaction {
    return this.commit(() => {
      const card = tx.card ? this.data.cards[tx.card] : undefined;
      if (card) {
        if (card.cash_balance < tx.loaded) {
          throw new SimApiError(
            400,
            'LoyaltyCancelException',
            1007,
            'the loaded amount was already spent',
            'Storno nicht möglich.',
          );
        }
        card.cash_balance += (tx.redeemed?.cash ?? 0) - tx.loaded;
        card.bonus_balance += tx.redeemed?.bonus ?? 0;
        card.points = Math.max(0, card.points - tx.points);
        // The reversal's own booking on the card (with or without a storno receipt).
        this.data.nextTransId += 1;
        if (storno) {
          tx.receipt = cardReceipt({
            cardnumber: card.cardnumber,
            transId: String(this.data.nextTransId),
            redeemed: 0,
            turnover: basketTotal(tx.products.filter((p) => !TOPUP(p))),
            balanceAfterSale: card.cash_balance + card.bonus_balance,
            topUp:
              tx.loaded > 0
                ? {
                    transId: String(this.data.nextTransId),
                    amount: tx.loaded,
                    balanceAfter: card.cash_balance + card.bonus_balance,
                  }
                : undefined,
            storno: true,
          });
        }
      } else if (storno) {
        tx.receipt = [{ type: 'textline', value: { text: 'STORNO', decoration: ['important'] } }];
      }
      tx.status = 'cancelled';
      tx.updated = this.now().toISOString();
      const sale = this.data.sales.find((s) => s.txId === tx.id);
      if (sale) sale.cancelled = true;
      return tx;
    });
  }

  private terminalBook(): NonNullable<LedgerFile['terminal']> {
    return (this.data.terminal ??= { batch: 1, nextReceiptNo: 1, endOfDays: 0 });
  }

  /**
   * `POST /Smart/Transactions/{receipt_number}/cancelTrx`: reverses a terminal payment of the open
   * batch (documented: before end-of-day; receipts kept unchanged; status `cancelled`). The card part
   * of the transaction goes back on the card as with `cancel`.
   */
  /** The terminal payment with this receipt number (what `cancelTrx` names), if any. */
  terminalPayment(receiptNumber: string): StoredTransaction | undefined {
    return Object.values(this.data.transactions).find((t) => t.receipt_number === receiptNumber);
  }

  cancelTrx(receiptNumber: string): StoredTransaction {
    const tx = this.terminalPayment(receiptNumber);
    if (!tx) throw notFound(`no terminal payment with receipt number ${receiptNumber}`);
    if (tx.status !== 'ok') throw wrongState(`transaction ${tx.id} is ${tx.status}; it cannot be reversed`);
    if (tx.terminalBatch !== this.terminalBook().batch)
      throw new SimApiError(
        400,
        'ProductBadRequestException',
        1001,
        'the terminal payment was cleared by end-of-day; it can no longer be reversed',
        'Storno nicht mehr möglich.',
      );
    // Documented for cancelTrx: the receipts stay unchanged.
    return this.reversePaid(tx, false);
  }

  /** `POST /Smart/Transactions/me/EndOfDay`: the open batch is cleared; its payments can no longer be reversed. */
  endOfDay(): EndOfDayResult {
    return this.commit(() => {
      const t = this.terminalBook();
      const inBatch = Object.values(this.data.transactions).filter((x) => x.terminalBatch === t.batch);
      const paid = inBatch.filter((x) => x.status === 'ok');
      const cents = paid.reduce(
        (sum, x) => sum + (this.data.sales.find((s) => s.txId === x.id)?.collected ?? 0),
        0,
      );
      const result: EndOfDayResult = {
        batch: t.batch,
        count: paid.length,
        cents,
        reversed: inBatch.length - paid.length,
        receipt_merchant: [
          { type: 'separator', value: { caption: 'Kassenschnitt' } },
          { type: 'name-value', value: { name: 'Terminal-ID:', value: TERMINAL_ID, decoration: [] } },
          { type: 'name-value', value: { name: 'Batch:', value: String(t.batch), decoration: [] } },
          { type: 'name-value', value: { name: 'Umsätze:', value: String(paid.length), decoration: [] } },
          { type: 'name-value', value: { name: 'Summe:', value: formatCents(cents), decoration: [] } },
          {
            type: 'name-value',
            value: { name: 'Storniert:', value: String(inBatch.length - paid.length), decoration: [] },
          },
          { type: 'textline', value: { text: 'Kassenschnitt erfolgreich', decoration: ['important'] } },
        ],
      };
      t.batch += 1;
      t.endOfDays += 1;
      return result;
    });
  }

  /** `POST /Smart/Transactions/me/diagnosis`: the stand-in's terminal is always ready. */
  diagnosis(): { terminal_id: string; batch: number; open: number; receipt_merchant: unknown[] } {
    const t = this.terminalBook();
    const open = Object.values(this.data.transactions).filter(
      (x) => x.terminalBatch === t.batch && x.status === 'ok',
    ).length;
    return {
      terminal_id: TERMINAL_ID,
      batch: t.batch,
      open,
      receipt_merchant: [
        { type: 'separator', value: { caption: 'Diagnose' } },
        { type: 'name-value', value: { name: 'Terminal-ID:', value: TERMINAL_ID, decoration: [] } },
        { type: 'textline', value: { text: 'Diagnose erfolgreich', decoration: ['important'] } },
      ],
    };
  }

  abort(id: string): StoredTransaction {
    const tx = this.mustGet(id);
    if (tx.status === 'ok') throw wrongState(`transaction ${id} is paid; cancel it instead`);
    if (tx.status !== 'created' && tx.status !== 'processing')
      throw wrongState(`transaction ${id} is ${tx.status}`);
    return this.commit(() => {
      tx.status = 'cancelled';
      tx.applied = null;
      tx.missing_sum = null;
      tx.updated = this.now().toISOString();
      return tx;
    });
  }

  /** `q=merchantRef:<value>` (the value optionally in double quotes); oldest first. Other queries find nothing. */
  search(q: string): StoredTransaction[] {
    const m = /^\s*merchantRef:(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/.exec(q);
    if (!m) return [];
    const ref = m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : (m[2] ?? '');
    return Object.values(this.data.transactions)
      .filter((t) => t.merchantRef === ref)
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  /**
   * `GET /Loyalty/MerchantCards?q=card.cardnumber:<number>` (quoted or not): this merchant's own cards
   * with that number. Other queries find nothing.
   */
  merchantCards(q: string): LedgerCard[] {
    const m = /^\s*card\.cardnumber:(?:"(\d{1,20})"|(\d{1,20}))\s*$/.exec(q);
    const number = m?.[1] ?? m?.[2];
    const card = number ? this.data.cards[number] : undefined;
    return card && card.owner === 'own' ? [{ ...card }] : [];
  }

  /** `GET /Loyalty/MerchantCards/{id}` by the rendered id `MCD_<last 12 digits>`. */
  merchantCardById(id: string): LedgerCard {
    const card = Object.values(this.data.cards).find(
      (c) => c.owner === 'own' && `MCD_${c.cardnumber.slice(-12)}` === id,
    );
    if (!card) throw notFound(`merchant card ${id} not found`);
    return { ...card };
  }

  mustGet(id: string): StoredTransaction {
    const tx = this.data.transactions[id];
    if (!tx) throw notFound(`transaction ${id} not found`);
    return tx;
  }

  private usableCard(cardnumber: string): LedgerCard {
    const card = this.data.cards[cardnumber];
    if (!card) throw cardFailed('card unknown', 'Karte unbekannt.');
    if (card.owner !== 'own')
      throw cardFailed('card is not valid at this merchant', 'Diese Karte gilt hier nicht.');
    if (card.lock_status === 'locked') throw cardFailed('card is locked', 'Karte gesperrt.');
    if (card.stock_status !== 'active') throw cardFailed('card is not active', 'Karte nicht aktiv.');
    return card;
  }
}

/** A terminal's slip (customer or merchant copy) for a payment of `cents`. */
function terminalReceipt(copy: string, receiptNumber: string, cents: number): unknown[] {
  return [
    { type: 'separator', value: { caption: `Kartenzahlung ${copy}` } },
    { type: 'name-value', value: { name: 'Terminal-ID:', value: TERMINAL_ID, decoration: [] } },
    { type: 'name-value', value: { name: 'Beleg-Nr.:', value: receiptNumber, decoration: [] } },
    { type: 'name-value', value: { name: 'Betrag:', value: formatCents(cents), decoration: ['important'] } },
    { type: 'textline', value: { text: 'Zahlung erfolgt', decoration: ['align-center'] } },
    { type: 'space' },
  ];
}

/** Bonus products: the applied amount split over the VAT rates in proportion to their gross, one negative line per rate. */
function splitPerVat(products: Product[], applied: number, lastId: number): Product[] {
  if (applied <= 0) return [];
  const byRate = new Map<number, number>();
  for (const p of products) byRate.set(p.tax, (byRate.get(p.tax) ?? 0) + p.priceOne * p.quantity);
  const total = [...byRate.values()].reduce((a, b) => a + b, 0);
  const rates = [...byRate.entries()].sort(([a], [b]) => a - b);
  let given = 0;
  return rates.map(([rate, gross], i) => {
    const share = i === rates.length - 1 ? applied - given : Math.floor((applied * gross) / total);
    given += share;
    return {
      id: lastId + i + 1,
      parent: null,
      item_type: 'coupon',
      desc: `Guthaben ${rate} %`,
      articleNumber: null,
      ean: null,
      quantity: 1,
      priceOne: -share,
      tax: rate,
      group: [],
    };
  });
}
