/**
 * Coins from the acceptor into the journal, and the acceptor's inhibit line under storage faults.
 *
 * One coin at a time, in order: journaled (fsync) before the machine counts it. A coin taken while
 * the journal cannot write is held here in memory (in order, with the session it was for), shown in
 * the state, named to the fleet, and written the moment the disk allows, oldest first, in the same
 * chain as new coins so that none overtakes it. While the storage may not take money the acceptor
 * stays inhibited whatever the flows ask, so that no coin is taken that is neither durable nor held.
 */
import type { ResultsLost, SessionJournal } from '../bookkeeping/session-journal.js';
import { LOST_IN_UNKNOWN } from '../journal/entries.js';
import type { Logger } from '../util/logger.js';
import type { CoinAcceptor } from '../../hal/coin-acceptor/coin-acceptor.js';
import { sessionIdOf } from '../../machines/kiosk.machine.js';
import type { KioskInputEvent } from '../../machines/events.js';

/** A coin physically taken, and the session it was for (null: nobody is served). */
export interface TakenCoin {
  cents: number;
  source: string;
  target: string | null;
  at: number;
  ev?: number;
}

/** A held coin, and the losses read after the coin held before it and before this one. */
type HeldCoin = TakenCoin & { lostBefore?: ResultsLost[] };

/** The session journal's coin records. */
export type CoinBook = Pick<
  SessionJournal,
  'coin' | 'strayCoin' | 'coinNotCounted' | 'acceptorCounter' | 'acceptorLost'
>;

export interface CoinIntakeDeps {
  /** The session journal (built after the journal opens; the intake exists from the start). */
  book: () => CoinBook;
  /** The acceptor, once the devices are built; until then the machine is told nothing. */
  acceptor: () => Pick<CoinAcceptor, 'setAccepting'> | undefined;
  /** The session a coin arriving now belongs to (`coinTarget`). */
  target: () => string | null;
  /** To the kiosk machine: COIN, COINS_HELD and the `storage` DEVICE. */
  send: (event: KioskInputEvent) => void;
  /** The storage watch hears of a refused write (no more money until its check passes). */
  degraded: (why: string) => void;
  /** The storage is fine again (after the acceptor and the machine were told): settle what it left open. */
  storageBack: () => void;
  /** Something the state shows changed (held coins, the acceptor, the storage). */
  changed: () => void;
  logger: Logger;
}

/** The snapshot of the kiosk machine, as far as a coin's session goes. */
export interface CoinTargetSnapshot {
  matches(state: 'serving' | 'idle'): boolean;
  context: unknown;
}

/** The session a coin arriving now belongs to (idle: the one it starts); null: nobody is served. */
export function coinTarget(snap: CoinTargetSnapshot, bootId: string): string | null {
  const seq = (snap.context as { sessionSeq: number }).sessionSeq;
  if (snap.matches('serving')) return sessionIdOf(bootId, seq);
  if (snap.matches('idle')) return sessionIdOf(bootId, seq + 1);
  return null;
}

/** The served-session changes kept for telling whose lost results are (a loss read after more: unknown). */
const SERVED_KEPT = 64;

export class CoinIntake {
  private coinChain: Promise<void> = Promise.resolve();
  private storageOk = true;
  /** What the flows last asked of the acceptor (applied again when the storage is fine again). */
  private acceptorWanted = false;
  /** The coin values the flows last wanted (undefined: all), applied again with `acceptorWanted`. */
  private acceptorAccept: readonly number[] | undefined;
  /**
   * Coins physically taken whose journal write failed, in order, with the session they were for:
   * held here, shown in the state, named to the fleet, and written the moment the disk allows.
   */
  private readonly heldCoins: HeldCoin[] = [];
  /** Losses read after the last held coin: journaled after it, before any coin that comes later. */
  private lostAfterHeld: ResultsLost[] = [];
  /** The held cents and the storage health the machine was last told (COINS_HELD, DEVICE storage). */
  private heldTold = 0;
  /** A validator counter that came while coins were held: journaled once they are. */
  private counterAfterHeld: number | undefined;
  private storageTold = true;
  /** The session served from `at` on (null: none), the latest last; an entry where it changed. */
  private readonly served: Array<{ at: number; session: string | null }> = [
    { at: Number.NEGATIVE_INFINITY, session: null },
  ];

  constructor(private readonly deps: CoinIntakeDeps) {}

  /**
   * Whether the journal's storage lets the kiosk take money (storage-watch.ts). Off from the first
   * failed write (disk full, I/O error, read-only remount) or below the free-space floor.
   */
  get storageFine(): boolean {
    return this.storageOk;
  }

  /** A coin from the acceptor: in the chain, after every coin before it. */
  arrived(cents: number, source: string, ev?: number): void {
    // One coin at a time, in order: journaled (fsync) before the machine counts it.
    this.coinChain = this.coinChain
      .then(() => this.takeCoin(cents, source, ev))
      .catch((err: Error) => this.deps.logger.error({ err: err.message }, 'coin handling failed'));
  }

  /**
   * The validator's counter moved without a coin (reset, baseline): journaled in the chain, after the
   * coins before it, so that none of them is journaled after it and moves the resume point back.
   * Behind held coins it waits for them; a write that fails is logged (no money moved).
   */
  counterAt(ev: number): void {
    this.coinChain = this.coinChain
      .then(() => {
        if (this.holding()) this.counterAfterHeld = ev;
        else return this.journalCounter(ev);
      })
      .catch((err: Error) => this.deps.logger.error({ err: err.message }, 'coin handling failed'));
  }

  /**
   * The session the kiosk serves from now (null: none, also while idle): kept for `resultsLost`, which
   * must tell whose results were lost between two reads. Called on every machine snapshot.
   */
  serving(session: string | null, at = Date.now()): void {
    if (this.served.at(-1)?.session === session) return;
    this.served.push({ at, session });
    if (this.served.length > SERVED_KEPT) this.served.shift();
  }

  /**
   * Results the validator's buffer lost unread (`lost`): journaled in the chain, after the coins read
   * before them, for the operator (any may be a coin in the box nobody counted), with whose they are:
   * the session served throughout since the read before them (`readAt`), else unknown, and the
   * sessions served at both ends. Not the coins' target: while idle that is the next session's id.
   */
  resultsLost(results: number, ev: number, readAt?: number): void {
    const lost: ResultsLost = { results, ev, ...this.servedSince(readAt) };
    this.coinChain = this.coinChain
      .then(() => {
        // Behind held coins (older events) and before the coins read after it (newer): a loss written
        // before a held coin would have the held coin's event taken for the resume point, and the
        // coins after the loss read and credited again at the next start.
        if (this.holding()) this.lostAfterHeld.push(lost);
        else return this.journalLost(lost);
      })
      .catch((err: Error) => {
        // Held, so that the coins read after it are journaled behind it (the next coin writes it).
        this.lostAfterHeld.push(lost);
        this.deps.logger.error(
          { err: err.message, results, ev },
          'validator results lost, not journaled yet',
        );
      });
  }

  private journalLost(lost: ResultsLost): Promise<void> {
    return this.deps.book().acceptorLost(lost);
  }

  private async journalCounter(ev: number): Promise<void> {
    try {
      await this.deps.book().acceptorCounter(ev);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, ev }, 'validator counter not journaled');
    }
  }

  /** Resolves once the coins that arrived so far are handled (journaled, held or refused). */
  settled(): Promise<void> {
    return this.coinChain;
  }

  /** The flows' wish for the acceptor; open only while the storage is fine. */
  setAcceptor(enabled: boolean, accept?: readonly number[]): void {
    this.acceptorWanted = enabled;
    this.acceptorAccept = accept;
    const open = enabled && this.storageOk;
    this.acceptor()
      .setAccepting(open, open ? accept : undefined)
      .catch((err: Error) =>
        this.deps.logger.error({ err: err.message, enabled }, 'acceptor inhibit line failed'),
      );
    this.deps.changed();
  }

  /** The storage health the self-test tells the machine (remembered as told). */
  storageForSelfTest(): 'ok' | 'offline' {
    this.storageTold = this.storageOk;
    return this.storageOk ? 'ok' : 'offline';
  }

  private acceptor(): Pick<CoinAcceptor, 'setAccepting'> {
    const acceptor = this.deps.acceptor();
    if (!acceptor) throw new Error('coin acceptor not built yet');
    return acceptor;
  }

  private async takeCoin(cents: number, source: string, ev?: number): Promise<void> {
    // The machine may move on while the coin is being written (the session ends, the kiosk goes
    // out of service): the coin is counted by the machine only if it still goes where it was journaled.
    const target = this.deps.target();
    const coin = { cents, source, target, at: Date.now(), ...(ev !== undefined ? { ev } : {}) };
    if (this.holding()) {
      // Behind the coins (or losses) already held: the journal gets them in the order they came. A counter that
      // came before this coin is older than the coin's own: the coin's is the resume point.
      this.counterAfterHeld = undefined;
      this.heldCoins.push(this.withLostBefore(coin));
      await this.writeHeldCoins();
      return;
    }
    try {
      await this.journalCoin(coin);
    } catch (err) {
      this.coinNotJournaled(coin, err as Error);
      return;
    }
    await this.coinJournaled(coin);
  }

  private async journalCoin(coin: {
    cents: number;
    source: string;
    target: string | null;
    ev?: number;
  }): Promise<void> {
    // The validator's event counter goes with the coin: a restart resumes after the last one journaled.
    if (coin.target) await this.deps.book().coin(coin.target, coin.cents, coin.source, coin.ev);
    else {
      const voucher = await this.deps.book().strayCoin(coin.cents, coin.source, coin.ev);
      this.deps.logger.warn({ cents: coin.cents, voucher }, 'coin while not serving: recorded as unclaimed');
    }
  }

  /** The coin is durable: counted by its session if that is still served, else settled by the journal. */
  private async coinJournaled(coin: { cents: number; target: string | null }): Promise<void> {
    const { cents, target } = coin;
    try {
      if (this.deps.target() === target) {
        // (null: nobody is served; the machine reports the stray coin as debt.)
        this.deps.send({ type: 'COIN', cents });
      } else if (target) {
        const voucher = await this.deps.book().coinNotCounted(target);
        this.deps.logger.warn(
          { cents, sessionId: target, voucher },
          'coin landed after its session: settled by the journal',
        );
      }
    } catch (err) {
      // The coin is in the journal: recovery settles its session whatever failed here.
      this.deps.logger.error(
        { err: (err as Error).message, cents, sessionId: target },
        'coin journaled, not settled',
      );
    }
  }

  /** The sessions served from `readAt` to now: at both ends, and the one throughout if there was one. */
  private servedSince(readAt: number | undefined): Omit<ResultsLost, 'results' | 'ev'> {
    const servedSession = this.served.at(-1)?.session ?? null;
    const unknown = { servedSession, lostIn: LOST_IN_UNKNOWN };
    // The read before was before this start (a resume point from the journal), or older than kept.
    const from = readAt === undefined ? -1 : this.served.findLastIndex((s) => s.at <= readAt);
    if (from < 0) return unknown;
    const readSession = this.served[from]!.session;
    // Entries are kept only where the session changed: one since the read means none changed.
    const throughout = from === this.served.length - 1 && readSession !== null;
    return { ...unknown, readSession, ...(throughout ? { lostIn: readSession } : {}) };
  }

  /** Writes the held coins, oldest first, in the coin chain (so no new coin overtakes them). */
  writeHeldCoinsInOrder(): Promise<void> {
    const run = this.coinChain.then(() => this.writeHeldCoins());
    this.coinChain = run.catch(() => undefined);
    return run;
  }

  private async writeHeldCoins(): Promise<void> {
    while (this.heldCoins.length > 0) {
      const coin = this.heldCoins[0]!;
      try {
        while (coin.lostBefore?.length) {
          await this.journalLost(coin.lostBefore[0]!);
          coin.lostBefore.shift();
        }
        await this.journalCoin(coin);
      } catch {
        return; // still refused: the storage watch tries again
      }
      this.heldCoins.shift();
      this.deps.logger.warn(
        { cents: coin.cents, sessionId: coin.target, heldCents: this.heldCents() },
        'held coin journaled',
      );
      await this.coinJournaled(coin);
      this.deps.changed();
    }
    while (this.lostAfterHeld.length > 0) {
      try {
        await this.journalLost(this.lostAfterHeld[0]!);
      } catch {
        return;
      }
      this.lostAfterHeld.shift();
    }
    const counter = this.counterAfterHeld;
    this.counterAfterHeld = undefined;
    if (counter !== undefined) await this.journalCounter(counter);
  }

  /** Coins or losses wait to be journaled: whatever comes next goes behind them. */
  private holding(): boolean {
    return this.heldCoins.length > 0 || this.lostAfterHeld.length > 0;
  }

  /** The coin to hold, carrying the losses read since the coin held before it. */
  private withLostBefore(coin: TakenCoin): HeldCoin {
    if (this.lostAfterHeld.length === 0) return coin;
    const held: HeldCoin = { ...coin, lostBefore: this.lostAfterHeld };
    this.lostAfterHeld = [];
    return held;
  }

  /**
   * The journal refused a coin's record. The coin is in the cash box: it is held in memory and named
   * in the log and in the fleet alert, and the acceptor is inhibited at once and kept so, so that the
   * failure costs at most the coins already in the chute. The storage watch writes it when it can.
   */
  private coinNotJournaled(coin: TakenCoin, err: Error): void {
    this.heldCoins.push(this.withLostBefore(coin));
    this.onStorageHealth(false);
    this.deps.logger.error(
      { err: err.message, cents: coin.cents, heldCents: this.heldCents(), heldCoins: this.heldCoins.length },
      'coin not journaled: acceptor inhibited, coin held for the operator',
    );
    this.deps.degraded(err.message);
    this.deps.changed();
  }

  heldCents(): number {
    return this.heldCoins.reduce((sum, c) => sum + c.cents, 0);
  }

  /**
   * The storage may (not) take money: the acceptor follows at once; the machine hears it as the
   * `storage` device (out of service once no customer is paying, back in service when fine).
   */
  onStorageHealth(ok: boolean): void {
    if (this.storageOk !== ok) {
      this.storageOk = ok;
      if (!this.deps.acceptor()) return;
      if (!ok) this.setAcceptor(this.acceptorWanted, this.acceptorAccept);
      else if (this.acceptorWanted) this.setAcceptor(true, this.acceptorAccept);
      if (ok) this.tellStorage();
      // The flow settles its session on "storage offline" once no coin is held unwritten: a coin
      // being written as the storage failed must be journaled or held (and told) before it hears that.
      else void this.coinChain.then(() => this.tellStorage());
      if (ok) this.deps.storageBack();
      this.deps.changed();
    }
    this.tellHeld();
  }

  /** The machine hears the storage as it is now (once per change); held coins before a failure, after a recovery. */
  private tellStorage(): void {
    const ok = this.storageOk;
    if (!ok) this.tellHeld();
    if (this.storageTold !== ok) {
      this.storageTold = ok;
      this.deps.send({ type: 'DEVICE', device: 'storage', health: ok ? 'ok' : 'offline' });
    }
    if (ok) this.tellHeld();
  }

  /** The machine shows the held coins (they are not counted before they are durable). */
  private tellHeld(): void {
    const cents = this.heldCents();
    if (cents === this.heldTold || !this.deps.acceptor()) return;
    this.heldTold = cents;
    this.deps.send({ type: 'COINS_HELD', cents });
  }
}
