/**
 * An in-process "kiosk world" for recovery tests: a real journal in a temp dir, the real API
 * stand-in (ledger on disk), and the app's SessionJournal wrapping a real client, so that every
 * step before the crash writes exactly what the running kiosk writes. `crash()` closes the journal
 * (every append was already fsynced: nothing more survives a power cut) and opens it again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionJournal } from '../../src/bookkeeping/session-journal.js';
import { recoverOpenSessions, type RecoveryReport } from '../../src/bookkeeping/recovery.js';
import { reconcile, type LedgerFileView, type Reconciliation } from '../../src/chaos/books.js';
import { Journal } from '../../src/journal/journal.js';
import type { SmartTransactionsApi } from '../../src/api/types.js';
import type { SessionMode } from '../../src/journal/entries.js';
import { silentLogger } from '../../src/util/logger.js';
import { startRig, type ApiRig } from '../support/api.js';
import type { StandInOptions } from '../../src/sim/api-server.js';
import { tempDirs } from '../journal/helpers.js';

export const PLENTY = '9276000000000059'; // 30,00 EUR
export const EMPTY = '9276000000000018'; // 0,00 EUR
export const LOCKED = '9276000000000026';

export class World {
  journal!: Journal;
  sj!: SessionJournal;
  api!: SmartTransactionsApi;
  accepted = 0;
  private constructor(
    readonly rig: ApiRig,
    readonly dir: string,
    private readonly dirs: ReturnType<typeof tempDirs>,
    readonly mode: SessionMode,
  ) {}

  static async create(
    mode: SessionMode = 'topup',
    opts: Pick<StandInOptions, 'profile'> = {},
  ): Promise<World> {
    const dirs = tempDirs();
    const w = new World(await startRig({ terminalDelayMs: 10, ...opts }), dirs.make(), dirs, mode);
    await w.open();
    return w;
  }

  private async open(): Promise<void> {
    this.journal = await Journal.open(this.dir, { logger: silentLogger });
    this.sj = new SessionJournal(this.journal, this.mode, silentLogger);
    this.api = this.sj.wrapApi(this.rig.client);
  }

  async coin(sessionId: string, cents: number): Promise<void> {
    this.accepted += cents;
    await this.sj.coin(sessionId, cents, 'coin');
  }

  /** The power cut and the reboot. */
  async crash(): Promise<void> {
    await this.journal.close();
    await this.open();
  }

  /** The power cut, then `damage` done to the journal files (a flipped byte...), then the reboot. */
  async crashWith(damage: (dir: string) => void): Promise<void> {
    await this.journal.close();
    damage(this.dir);
    await this.open();
  }

  async recover(): Promise<RecoveryReport> {
    return recoverOpenSessions({ journal: this.journal, api: this.rig.client, logger: silentLogger });
  }

  ledger(): LedgerFileView {
    return JSON.parse(readFileSync(join(this.rig.dir, 'ledger.json'), 'utf8')) as LedgerFileView;
  }

  /** The books; `extra`: records a test damaged, given back as the chaos harness does, and the hopper's count. */
  async books(
    extra: Pick<Parameters<typeof reconcile>[0], 'damaged' | 'hopperPaidCents'> = {},
  ): Promise<Reconciliation> {
    const { records, state } = await Journal.read(this.dir);
    return reconcile({
      acceptor: { cents: this.accepted, coins: 0, unconfirmedAtKill: 0 },
      journal: { records, state },
      ledger: this.ledger(),
      ...extra,
    });
  }

  balance(card: string): number {
    const c = this.ledger().cards[card];
    return c ? c.cash_balance + c.bonus_balance : NaN;
  }

  async close(): Promise<void> {
    await this.journal.close().catch(() => undefined);
    await this.rig.close();
    this.dirs.cleanup();
  }
}

/** No cent lost, nothing charged twice or booked twice, nothing left open (src/chaos/books.ts). */
export function assertNothingLost(b: Reconciliation, what?: string): void {
  assert.deepEqual(
    {
      lost: b.lostCents,
      double: b.doubleCharges,
      over: b.overBookedCents,
      open: b.openSessions,
      findings: b.findings,
    },
    { lost: 0, double: 0, over: 0, open: 0, findings: [] },
    what,
  );
}
