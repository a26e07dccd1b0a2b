/**
 * The composition root: builds the devices, the API client (or the in-process stand-in), the
 * journal and the fleet reporter from the configuration, gives the machines their effects, and
 * wires hardware events in and screens out. The only module that knows all the others.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createActor, fromPromise, type Actor, type AnyActorRef, type Subscription } from 'xstate';
import type { TokenManager } from '../api/auth.js';
import { isPairingLost, type ApiError } from '../api/errors.js';
import type { SmartTransactionsApi } from '../api/types.js';
import { createApiActors } from '../flows/api-actors.js';
import { Journal, type JournalAlert } from '../journal/journal.js';
import { damageMessage } from '../journal/damage-message.js';
import type { StandIn } from '../sim/api-server.js';
import type { Logger } from '../util/logger.js';
import { saleParts } from '../util/sale-value.js';
import { kioskMachine, kioskPhaseOf, sessionIdOf, type KioskPhase } from '../../machines/kiosk.machine.js';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { TICK_MS, type KioskInputEvent } from '../../machines/events.js';
import { machineClock } from './machine-clock.js';
import type {
  FlowEvent,
  PrintInput,
  PrintOutput,
  RecoverOutput,
  SelfTestOutput,
  SetAcceptorParams,
} from '../../machines/ports.js';
import type { SessionOutput } from '../../machines/session-context.js';
import { screenFor, statePath } from '../../machines/screens.js';
import type { KioskConfig } from '../config/config-schema.js';
import type { SimControls } from './control-port.js';
import { buildDevices, type Devices, type SimHandles } from './devices.js';
import { bonusDiscountCents } from '../bookkeeping/receipt-jobs.js';
import { SessionRecovery } from '../bookkeeping/recovery.js';
import { TerminalDuties } from '../bookkeeping/terminal-duties.js';
import { TerminalService } from './terminal-service.js';
import { SessionJournal } from '../bookkeeping/session-journal.js';
import { VoucherIssuer } from '../bookkeeping/voucher-code.js';
import { VoucherBook } from '../bookkeeping/voucher-book.js';
import { loadVoucherKeys, voucherKeyFile } from './voucher-keys.js';
import { createVoucherPayout } from './voucher-payout.js';
import { JournalFleet, discountField, fleetMethod, paidEventId, partsField } from './journal-fleet.js';
import type { JournalEntry } from '../journal/entries.js';
import { VendJournal } from '../bookkeeping/vend-journal.js';
import { createVendActors } from './vend-actors.js';
import { createServiceMenu, httpReachable, reportServiceAction } from './service-menu-actors.js';
import { createReleaseSettler, type ReleaseSettler } from './release-settle.js';
import { StorageWatch } from './storage-watch.js';
import { createVoucherActors } from './voucher-actors.js';
import { apiClient, apiEndpoints } from './api-client.js';
import { kioskMachineInput } from './machine-input.js';
import { simControls } from './sim-controls.js';
import { VendingCounter } from './vending-counter.js';
import { ReceiptPrinting } from './receipt-printing.js';
import { CoinIntake, coinTarget } from './coin-intake.js';
import { printerHealthOf, type PrinterStatus } from '../../hal/printer/printer.js';
import type { DeviceHealth } from '../contracts/device.js';
import type { KioskSummary } from '../contracts/kiosk-summary.js';

import type { FleetReporter } from '../fleet/reporter.js';

export { paidEventId } from './journal-fleet.js';

export interface KioskAppOptions {
  config: KioskConfig;
  /**
   * The configuration from the kiosk's own file, before any desired document of the fleet: what the
   * fleet's documents are applied over. Default: `config` as it is at construction.
   */
  fileConfig?: KioskConfig;
  logger: Logger;
  /** Called when the fleet asks for a restart (the service manager brings the process back). */
  onRestart?: (reason: string) => void;
  /** Whether the device clock is synchronised (the fleet marks its messages otherwise). */
  clockSynced?: () => boolean;
  /** Start-up phases as they finish (`journal`, `self-test`), for the start-up timing line. */
  onPhase?: (phase: 'journal' | 'self-test') => void;
  /**
   * For tests: the fleet reporter starts this much later, a window in which a power cut finds boot
   * recovery done and the reporter not up (main.ts: `KIOSK_TEST_FLEET_DELAY_MS`).
   */
  fleetStartDelayMs?: number;
}

type KioskActor = Actor<typeof kioskMachine>;

export class KioskApp extends EventEmitter {
  readonly config: KioskConfig;
  private readonly logger: Logger;
  private devices!: Devices;
  private sim: SimHandles = {};
  private standIn: StandIn | undefined;
  private api!: SmartTransactionsApi;
  private tokens!: TokenManager;
  /** Why the device pairing is dead, once it is (the `repair_needed` alert's message). */
  private pairingLost: string | undefined;
  private journal!: Journal;
  private sessions!: SessionJournal;
  private recovery!: SessionRecovery;
  /** The card terminal's reversal, end-of-day and diagnosis (refused without `kiosk.cardTerminal`). */
  private terminal!: TerminalDuties;
  /** The terminal's duties as the kiosk offers them: the end-of-day schedule, the service menu, the fleet. */
  private terminalService!: TerminalService;
  /** The vending counter's stock, releases and payouts (empty without `hardware.slots`). */
  private vend!: VendJournal;
  /** What the machine may sell, the fleet's slot and hopper alerts, unblocks, fills (vending-counter.ts). */
  private vending!: VendingCounter;
  /** Settles the releases in doubt: service menu and fleet alike (release-settle.ts). */
  private releases!: ReleaseSettler;
  /** Signs the codes of the vouchers this kiosk records; the book checks scanned ones and keeps payouts. */
  private vouchers!: VoucherIssuer;
  private voucherBook!: VoucherBook;
  /** Receipts and vouchers: numbered, journaled, printed (receipt-printing.ts). */
  private receipts!: ReceiptPrinting;
  private expiryTimer: NodeJS.Timeout | undefined;
  private actor!: KioskActor;
  private readonly bootId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  private tickTimer: NodeJS.Timeout | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private childSub: { ref: AnyActorRef; sub: Subscription } | undefined;
  private lastScreen: string[] = [];
  private lastTopState = '';
  private servingSession: string | null = null;
  private stopped = false;
  private fleet: FleetReporter | undefined;
  /** The fleet's events told from journal records (vouchers, recovered sales), durable before the reporter is up. */
  private journalFleet!: JournalFleet;
  private printerStatus: PrinterStatus = 'ok';
  private stopPrinterWatch: (() => void) | undefined;
  /** What the journal found damaged at open, for the fleet alert once the fleet is up. */
  private journalDamage: string | undefined;
  /**
   * Whether the journal's storage lets the kiosk take money (storage-watch.ts). Off from the first
   * failed write (disk full, I/O error, read-only remount) or below the free-space floor: the
   * acceptor stays inhibited whatever the flows ask, so that no coin is taken that is neither
   * durable nor held.
   */
  private storage!: StorageWatch;
  /** Coins into the journal, held in memory while it cannot write; the acceptor's inhibit (coin-intake.ts). */
  private readonly coins: CoinIntake;
  /** Built at the first `controls()`: one `slot hold` is let go by any caller's `fix`. */
  private simControls: SimControls | undefined;

  /** A copy: live changes to the running config must not leak into what the fleet's documents start from. */
  private readonly fileConfig: KioskConfig;

  constructor(private readonly opts: KioskAppOptions) {
    super();
    this.config = opts.config;
    this.fileConfig = structuredClone(opts.fileConfig ?? opts.config);
    this.logger = opts.logger;
    this.coins = new CoinIntake({
      book: () => this.sessions,
      acceptor: () => this.devices?.acceptor,
      target: () => coinTarget(this.actor.getSnapshot(), this.bootId),
      send: (event) => this.send(event),
      degraded: (why) => this.storage.degraded(why),
      storageBack: () => {
        if (Object.keys(this.journal.state.sessions).some((id) => id !== this.servingSession))
          this.scheduleRecoveryRetry(1000); // sessions the failure left open are settled now
      },
      changed: () => this.emit('change'),
      logger: this.logger,
    });
  }

  /** Builds everything and starts the machines; resolves once the kiosk runs (it may be out of service). */
  async start(): Promise<void> {
    const c = this.config;
    this.journal = await Journal.open(c.journal.dir, {
      logger: this.logger,
      maxAgeDays: c.journal.maxAgeDays,
      maxBytes: c.journal.maxBytes,
      reserveBytes: c.journal.reserveBytes,
      onAlert: (alert) => this.onJournalAlert(alert),
    });
    this.storage = new StorageWatch({
      journal: this.journal,
      logger: this.logger,
      limits: {
        reserveBytes: c.journal.reserveBytes,
        lowFreeBytes: c.journal.lowFreeBytes,
        minFreeBytes: c.journal.minFreeBytes,
        intervalMs: c.journal.spaceCheckMs,
      },
      held: () => this.coins.heldCents(),
      writeHeld: () => this.coins.writeHeldCoinsInOrder(),
      onHealth: (status) => this.coins.onStorageHealth(status.ok),
      alert: (name, alert) => {
        if (alert) this.fleet?.setAlert(name, alert);
        else this.fleet?.clearAlert(name);
      },
    });
    // Before the self-test: a full disk at boot puts the kiosk out of service, not in service refusing coins.
    await this.storage.check();
    this.storage.start();
    this.opts.onPhase?.('journal');
    const keys = loadVoucherKeys(voucherKeyFile(c.vouchers.keyFile, c.journal.dir), this.logger);
    this.vouchers = new VoucherIssuer(keys, c.kiosk.id, c.vouchers.validDays);
    this.voucherBook = new VoucherBook(this.journal, keys, c.kiosk.id);
    // Told from the records, whichever path (or process) wrote them: flow, session close, recovery,
    // staff, expiry, the CLI; those written before the reporter is up are told when it is.
    this.journalFleet = new JournalFleet(this.journal, c.kiosk.id, this.logger);
    this.journal.onDurable((entries) => this.journalDurable(entries));
    this.vend = new VendJournal(this.journal, c.hardware.slots?.slots ?? [], this.logger, this.vouchers);
    // A session left open with a payment or credit in doubt is resolved soon, not only at the next boot.
    this.sessions = new SessionJournal(
      this.journal,
      c.kiosk.mode,
      this.logger,
      () => this.scheduleRecoveryRetry(5_000),
      this.vouchers,
    );
    this.receipts = new ReceiptPrinting({
      config: this.config,
      journal: this.journal,
      sessions: this.sessions,
      printer: () => this.devices.printer,
      logger: this.logger,
    });
    await this.buildApi();
    ({ devices: this.devices, sim: this.sim } = await buildDevices(c, this.logger));
    this.vending = new VendingCounter({
      book: this.vend,
      devices: this.devices,
      simHopper: this.sim.hopper,
      config: this.config,
      fleet: () => this.fleet,
      machineRunning: () => this.actor !== undefined,
      send: (event) => this.send(event),
      onChange: () => this.emit('change'),
      logger: this.logger,
    });
    // A ccTalk validator's credits after the last one journaled are reported once more, none before.
    this.devices.acceptor.resumeFrom?.(this.journal.state.acceptorEvent);
    this.wireDevices();
    this.releases = createReleaseSettler({
      book: this.vend,
      print: (lines) => this.receipts.printLines(lines),
      lang: () => this.config.kiosk.language,
      productName: (id) => this.config.catalogue.find((p) => p.id === id)?.desc,
      logger: this.logger,
      sensorActive: (slot) => this.devices.slots?.sensorActive(slot) ?? false,
      onSettled: () => this.vending.changed(),
    });
    await Promise.all([
      this.devices.buttons.start(),
      this.devices.acceptor.start(),
      this.devices.slots?.start(),
    ]);
    this.devices.reader.start();
    this.devices.hopper?.start();
    // A ccTalk validator knows its coins once it answered (184): the next session takes them (STOCK).
    const acceptor = this.devices.acceptor;
    if (acceptor.coinValues.length === 0 && acceptor.initialised)
      void acceptor.initialised(60_000).then((ok) => ok && this.vending.changed());
    this.actor = createActor(this.provideMachines(), {
      input: { bootId: this.bootId, config: kioskMachineInput(this.config, this.vend, this.devices) },
    });
    // Every outgoing event, the sessions' and the menu's too: the kiosk emits what its children emit.
    const menuDeps = { logger: this.logger, journal: this.journal, fleet: () => this.fleet };
    this.actor.on('*', (e) =>
      e.type === 'service_report' ? reportServiceAction(menuDeps, e.report) : this.onFlowEvent(e),
    );
    this.actor.subscribe({
      next: () => this.onSnapshot(),
      error: (err) => this.logger.error({ err: String(err) }, 'kiosk machine failed'),
    });
    this.actor.start();
    // The machines' clock starts at 0: without a TICK now, a session begun before the first interval
    // would date its waits from 1970 and show "Server langsam" at once.
    this.send({ type: 'TICK', now: machineClock() });
    this.tickTimer = setInterval(() => this.send({ type: 'TICK', now: machineClock() }), TICK_MS);
    this.tickTimer.unref?.();
    if (c.fleet) {
      if (this.opts.fleetStartDelayMs) await new Promise((r) => setTimeout(r, this.opts.fleetStartDelayMs));
      await this.startFleet();
    }
    this.terminalService.start();
    if (this.journalDamage)
      this.fleet?.setAlert('journal_damaged', { severity: 'critical', message: this.journalDamage });
    // The first self-test may have found it before the reporter existed.
    if (this.pairingLost)
      this.fleet?.setAlert('repair_needed', { severity: 'critical', message: this.pairingLost });
    this.storage.republish();
    this.vending.changed();
    await this.expireVouchers();
    this.expiryTimer = setInterval(() => void this.expireVouchers(), 3_600_000);
    this.expiryTimer.unref?.();
    this.logger.info(
      { kiosk: c.kiosk.id, mode: c.kiosk.mode, api: this.standIn ? this.standIn.baseUrl : c.api.baseUrl },
      'kiosk started',
    );
  }

  private async buildApi(): Promise<void> {
    const c = this.config;
    const endpoints = await apiEndpoints(c, this.logger);
    this.standIn = endpoints.standIn;
    const built = await apiClient(c, endpoints, this.logger, (err) => this.onPairingLost(err));
    this.tokens = built.tokens;
    if (built.pairingLost) this.pairingLost = built.pairingLost;
    const creating = built.client;
    this.api = this.sessions.wrapApi(creating);
    this.terminal = new TerminalDuties({
      journal: this.journal,
      api: creating,
      logger: this.logger,
      enabled: c.kiosk.cardTerminal,
    });
    this.terminalService = new TerminalService({
      duties: this.terminal,
      fleet: () => this.fleet,
      logger: this.logger,
      idle: () => this.actor !== undefined && kioskPhaseOf(this.actor.getSnapshot()) === 'idle',
      endOfDayAt: c.kiosk.endOfDayAt,
      lastEndOfDay: () => this.journal.state.terminal.lastEndOfDay,
    });
    // Recovery journals its own steps: it gets the client without the session journal, one at a time.
    this.recovery = new SessionRecovery({
      journal: this.journal,
      api: creating,
      logger: this.logger,
      deviceId: c.api.smartDeviceId,
      terminal: this.terminal,
      servePaid: async (sessionId) => {
        if ((await this.vend.notServed(sessionId)) > 0) this.vending.changed();
      },
      printReceipt: (r) => this.receipts.printRecovered(r),
      vouchers: this.vouchers,
    });
  }

  /** Own vouchers past their last day leave the open list (journaled, so reported and exported). */
  private async expireVouchers(): Promise<void> {
    try {
      const gone = await this.voucherBook.expire();
      if (gone.length > 0) this.logger.info({ count: gone.length }, 'vouchers expired');
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'voucher expiry not written');
    }
  }

  /**
   * The fleet hears of every voucher issued, redeemed, paid out or expired, of a sale recovery found
   * paid, and of every coin taken, credit and unclaimed sum (evt/cash), from the journal's records
   * (journal-fleet.ts).
   */
  private journalDurable(entries: readonly JournalEntry[]): void {
    this.journalFleet.durable(entries);
    if (
      entries.some(
        (e) => e.type === 'unclaimed' || e.type === 'unclaimed_settled' || e.type === 'voucher_redeemed',
      )
    )
      this.emit('change');
  }

  /** The open vouchers and a staff payout (service menu, control port). */
  vouchersOpen() {
    return this.voucherBook.open();
  }

  payOutVoucher(ref: string, by: string) {
    return this.voucherBook.payout(ref, by);
  }

  private provideMachines() {
    const apiActors = createApiActors(this.api, {
      deviceId: this.config.api.smartDeviceId,
      isDemo: this.config.api.isDemo,
      ledger: this.sessions.startLedger(),
      logger: this.logger,
      noEffect: { reads: this.config.api.noEffectReads, pauseMs: this.config.api.noEffectPauseMs },
    });
    const actions = {
      setAcceptor: (_: unknown, params: SetAcceptorParams) =>
        this.coins.setAcceptor(params.enabled, params.accept),
    };
    const print = fromPromise<PrintOutput | undefined, PrintInput>(async ({ input }) =>
      this.receipts.print(input),
    );
    const { recordUnclaimed, redeemVoucher } = createVoucherActors({
      vouchers: this.vouchers,
      sessions: this.sessions,
      book: this.voucherBook,
      logger: this.logger,
    });
    const vendActors = createVendActors({
      book: this.vend,
      slots: this.devices.slots,
      hopper: this.devices.hopper,
      logger: this.logger,
      onSlotChange: () => this.vending.changed(),
      onPayout: () => this.vending.changed(),
      terminal: this.terminalService,
    });
    const flowActors = { ...apiActors, print, recordUnclaimed, redeemVoucher, ...vendActors };
    return kioskMachine.provide({
      actions,
      actors: {
        selfTest: fromPromise<SelfTestOutput>(async () => this.selfTest()),
        recover: fromPromise<RecoverOutput>(async () => this.recover()),
        topup: topupMachine.provide({ actions, actors: flowActors }),
        checkout: checkoutMachine.provide({ actions, actors: flowActors }),
        serviceMenu: createServiceMenu({
          config: this.config,
          logger: this.logger,
          journal: this.journal,
          printer: this.devices.printer,
          probe: () => {
            const d = this.devices;
            const terminal = this.terminalService.enabled ? [this.terminalService] : [];
            return Promise.all(
              [d.display, d.reader, d.buttons, d.acceptor, d.printer, ...terminal].map((x) => x.probe()),
            );
          },
          terminal: this.terminalService,
          releases: this.releases,
          vouchers: createVoucherPayout({
            journal: this.journal,
            logger: this.logger,
            lang: () => this.config.kiosk.language,
          }),
          ...(this.devices.hopper ? { hopper: this.vending.hopperBook(this.devices.hopper) } : {}),
          fleet: () => this.fleet,
          fleetConfigured: this.config.fleet !== undefined,
          apiReachable: () => httpReachable(this.standIn?.baseUrl ?? this.config.api.baseUrl),
          stock: {
            slots: () =>
              this.vend.view().map((v) => ({
                id: v.id,
                desc: this.config.catalogue.find((p) => p.id === v.product)?.desc ?? `#${v.product}`,
                stock: v.stock,
                capacity: v.capacity,
                blocked: v.blocked,
              })),
            set: async (slot, count) => {
              await this.vend.setStock(slot, count, 'technician');
              this.vending.changed();
            },
            unblock: (slot) => this.vending.unblockSlot(slot, 'technician'),
          },
        }),
      },
    });
  }

  /**
   * Resolves what a crash left open. With `journal.onApiDown: 'serve'` the kiosk serves while the
   * journal holds the debt, and retries in the background; otherwise it stays out of service.
   */
  private async recover(): Promise<RecoverOutput> {
    // Releases and payouts cut off by the restart first: what the hopper paid and which units were
    // never released decide what recovery owes each session.
    await this.vend.afterRestart();
    await this.vending.settlePayouts();
    this.vending.changed();
    const report = await this.recovery.run(this.sessions.sessionId);
    if (report.unresolved === 0 || this.config.journal.onApiDown === 'out_of_service')
      return { unresolved: report.unresolved };
    this.scheduleRecoveryRetry();
    return { unresolved: 0 };
  }

  /**
   * The journal's alerts. Damage found at open (valid records kept, damaged bytes quarantined) goes
   * to the fleet as the critical alert `journal_damaged` with what the operator must look at.
   */
  private onJournalAlert(alert: JournalAlert): void {
    if (alert.kind === 'writable') {
      this.logger.warn({ alert: alert.kind }, 'journal alert');
      void this.storage?.check();
      return;
    }
    this.logger.error({ alert: alert.kind }, 'journal alert');
    if (alert.kind === 'unwritable' || alert.kind === 'reserve_released') {
      // Before the write is retried: no more money from this instant (the storage watch is built after open).
      this.coins.onStorageHealth(false);
      this.storage?.degraded(alert.kind === 'unwritable' ? alert.error : 'journal space reserve in use');
    } else if (alert.kind === 'damaged') {
      this.journalDamage = damageMessage(alert);
      this.logger.error({ detail: this.journalDamage }, 'journal damaged: operator must check');
      this.fleet?.setAlert('journal_damaged', { severity: 'critical', message: this.journalDamage });
    } else if (alert.kind === 'corrupt_segment') {
      this.journalDamage = `${alert.file} unreadable (${alert.damage.kind}), moved to ${alert.movedTo}`;
      this.fleet?.setAlert('journal_damaged', { severity: 'critical', message: this.journalDamage });
    }
  }

  private scheduleRecoveryRetry(delayMs = 60_000): void {
    if (this.recoveryTimer || this.stopped) return;
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = undefined;
      const retry = async () => {
        const r = await this.recovery.run(this.sessions.sessionId);
        if (r.unresolved > 0) this.scheduleRecoveryRetry(Math.min(delayMs * 2, 15 * 60_000));
      };
      void retry().catch((err: Error) => this.logger.error({ err: err.message }, 'recovery retry failed'));
    }, delayMs);
    this.recoveryTimer.unref?.();
  }

  /**
   * The API refused the device session and its renewal: not an outage. Out of service (as soon as no
   * customer is served) with the fleet told why; a new `kiosk pair` and a restart bring it back.
   */
  private onPairingLost(err: ApiError): void {
    this.pairingLost = `device pairing refused (${err.oauthError ?? `HTTP ${err.httpStatus ?? '?'}`}): run kiosk pair`;
    this.fleet?.setAlert('repair_needed', { severity: 'critical', message: this.pairingLost });
    this.send({ type: 'PAIRING_LOST' });
  }

  private async selfTest(): Promise<SelfTestOutput> {
    let apiReachable = true;
    let pairingLost = false;
    try {
      await this.tokens.token();
    } catch (err) {
      // A dead pairing is an answer from the API, not the API out of reach.
      pairingLost = isPairingLost(err);
      apiReachable = pairingLost;
      this.logger.warn({ err: (err as Error).message, pairingLost }, 'self-test: no API token');
    }
    this.printerStatus = await this.devices.printer.status();
    const devices: SelfTestOutput['devices'] = {
      printer: printerHealthOf(this.printerStatus),
      reader: this.devices.reader.status === 'online' ? 'ok' : 'offline',
      display: this.devices.display.health() === 'offline' ? 'offline' : 'ok',
      storage: this.coins.storageForSelfTest(),
    };
    this.opts.onPhase?.('self-test');
    if (this.fleet) {
      if (apiReachable) this.fleet.clearAlert('api_unreachable');
      else this.fleet.setAlert('api_unreachable', { severity: 'critical' });
      // Set by onPairingLost; a token obtained means the pairing is alive.
      if (apiReachable && !pairingLost) this.fleet.clearAlert('repair_needed');
    }
    return { apiReachable, pairingLost, devices };
  }

  private onFlowEvent(e: FlowEvent): void {
    this.logger.info(
      {
        event: e.type,
        ...('cents' in e ? { cents: e.cents } : {}),
        ...('id' in e ? { transactionId: e.id } : {}),
      },
      'flow event',
    );
    const fleet = this.fleet;
    // evt/cash (inserted, credited, unclaimed) is told from the journal's records (journal-fleet.ts),
    // once they are durable: a power cut before the outbox add loses none, and none is sent twice.
    switch (e.type) {
      case 'credited':
        void this.sessions
          .credited(e.cents, e.transactionId)
          .catch((err: Error) => this.logger.error({ err: err.message }, 'journal: credited not written'));
        break;
      case 'transaction_finished': {
        const method = fleetMethod(e.method);
        const kind = this.config.kiosk.mode === 'topup' ? 'topup' : 'sale';
        // The parts of the goods delivered, as the receipt's figures will say them (saleParts lays
        // the value on the payments, cash last, so the change still to be paid changes nothing).
        const parts =
          e.outcome === 'paid' && e.sale
            ? saleParts(e.amount, {
                cardBalance: e.sale.parts.card,
                voucher: e.sale.voucherIn ?? 0,
                terminal: e.sale.parts.terminal,
                cash: e.sale.cashIn,
              })
            : undefined;
        fleet?.event('transaction', {
          // One id per paid transaction: recovery may tell the same sale again (printRecovered).
          ...(e.outcome === 'paid' ? { eventId: paidEventId(this.config.kiosk.id, e.id) } : {}),
          kind,
          outcome: e.outcome === 'paid' ? 'completed' : e.outcome === 'aborted' ? 'cancelled' : 'failed',
          amountCents: e.amount,
          currency: 'EUR',
          transactionId: e.id,
          ...(method ? { paymentMethod: method } : {}),
          ...(e.cardMasked ? { card: e.cardMasked } : {}),
          itemCount: e.itemCount,
          // The receipt's bonus split (bonusDiscounts), so the event and the paper cannot differ.
          ...discountField(e.sale ? bonusDiscountCents(e.sale) : 0),
          ...partsField(kind, parts),
        });
        break;
      }
      case 'debt':
        this.logger.warn({ cents: e.cents, detail: e.detail }, 'money the kiosk owes');
        fleet?.event('fault', {
          device: 'kiosk',
          code: 'debt',
          message: `${e.cents} ct: ${e.detail}`.slice(0, 500),
          severity: 'critical',
        });
        break;
      case 'fault':
        fleet?.event('fault', {
          device: 'kiosk',
          code: e.what.slice(0, 100),
          message: e.detail?.slice(0, 500),
        });
        break;
      default:
        break;
    }
  }

  private wireDevices(): void {
    const d = this.devices;
    d.buttons.on('press', (name) => this.send({ type: 'BUTTON', name }));
    d.buttons.on('longpress', (name) => this.send({ type: 'BUTTON_LONG', name }));
    d.reader.on('read', (text) => this.send({ type: 'SCAN', data: text }));
    d.reader.on('status', (s) => {
      this.device('reader', s === 'online' ? 'ok' : 'offline');
      this.alert('reader_offline', s === 'offline');
    });
    d.acceptor.on('coin', (coin) => this.coins.arrived(coin.cents, coin.source, coin.event));
    d.acceptor.on('counter', (ev) => this.coins.counterAt(ev));
    d.acceptor.on('lost', (results, ev, readAt) => this.coins.resultsLost(results, ev, readAt));
    d.acceptor.on('fault', (message) => {
      this.logger.error({ message }, 'acceptor fault');
      this.fleet?.event('fault', { device: 'acceptor', code: 'fault', message: message.slice(0, 500) });
    });
    d.printer.on('status', (ev) => {
      this.printerStatus = ev.status;
      this.device('printer', printerHealthOf(ev.status), ev.status);
      this.alert('paper_low', ev.status === 'paper_low');
      this.alert('paper_out', ev.status === 'paper_out');
      this.alert('printer_offline', ev.status === 'offline');
    });
    this.stopPrinterWatch = d.printer.watch(5000);
    d.slots?.on('fault', (slot, reason) => {
      this.logger.error({ slot, reason }, 'vend slot fault');
      this.fleet?.event('fault', { device: 'slots', code: reason.slice(0, 100), message: `slot ${slot}` });
    });
    d.hopper?.on('status', (status) => {
      this.logger.info({ status }, 'hopper status');
      this.vending.changed();
    });
    d.display.on('status', (ev) =>
      this.device('display', ev.health === 'offline' ? 'offline' : 'ok', ev.cause),
    );
  }

  private device(
    device: 'printer' | 'reader' | 'display' | 'acceptor',
    health: DeviceHealth,
    detail?: string,
  ): void {
    this.send({ type: 'DEVICE', device, health, ...(detail ? { detail } : {}) });
  }

  private alert(name: string, on: boolean): void {
    if (!this.fleet) return;
    if (on) this.fleet.setAlert(name, { severity: name === 'paper_low' ? 'warning' : 'critical' });
    else this.fleet.clearAlert(name);
  }

  send(event: KioskInputEvent): void {
    // Device events before the machine runs are not lost: the self-test reads the devices itself.
    if (this.stopped || !this.actor) return;
    this.actor.send(event);
  }

  private onSnapshot(): void {
    const snap = this.actor.getSnapshot();
    const child = snap.children.flow as AnyActorRef | undefined;
    if (child && this.childSub?.ref !== child) {
      this.childSub?.sub.unsubscribe();
      this.childSub = { ref: child, sub: child.subscribe(() => this.render()) };
    }
    const top = statePath(snap.value).split('.')[0] ?? '';
    if (top !== this.lastTopState) {
      this.lastTopState = top;
      if (top === 'idle') this.terminalService.idleNow();
      // The fleet sees online / maintenance / out of service as soon as it changes, not at the next heartbeat.
      this.fleet?.publishState();
    }
    const serving = snap.matches('serving');
    const seq = (snap.context as { sessionSeq: number }).sessionSeq;
    // Whose validator results a loss read later are: the intake keeps who was served when.
    this.coins.serving(serving ? sessionIdOf(this.bootId, seq) : null);
    this.trackSession(serving, seq, (snap.context as { lastSession: SessionOutput | null }).lastSession);
    this.render();
  }

  private trackSession(serving: boolean, seq: number, last: SessionOutput | null): void {
    const id = sessionIdOf(this.bootId, seq);
    if (serving && this.servingSession !== id) {
      this.servingSession = id;
      void this.sessions
        .beginSession(id)
        .catch((err: Error) => this.logger.error({ err: err.message }, 'journal: session not started'));
    } else if (!serving && this.servingSession) {
      const ended = this.servingSession;
      this.servingSession = null;
      void this.sessions
        .closeSession(ended, last?.outcome ?? 'failed')
        .catch((err: Error) => this.logger.error({ err: err.message }, 'journal: session not closed'));
      this.logger.info(
        {
          sessionId: ended,
          outcome: last?.outcome,
          inserted: last?.inserted,
          paid: last?.paid,
          credited: last?.credited,
          unclaimed: last?.unclaimed,
        },
        'session ended',
      );
    }
  }

  private render(): void {
    const d = this.devices.display;
    const lines = screenFor(this.actor.getSnapshot(), {
      cols: d.cols as 16 | 20,
      rows: d.rows as 2 | 4,
      lang: this.config.kiosk.language,
      now: machineClock(),
    });
    if (lines.join('\n') !== this.lastScreen.join('\n')) {
      this.lastScreen = lines;
      void d.show(lines);
      this.emit('change');
    }
  }

  /** State for the control port, the simulator and the fleet. */
  /** What the kiosk is doing now (the fleet reads this, see fleet-bridge.ts `KioskView`). */
  phase(): KioskPhase {
    return kioskPhaseOf(this.actor.getSnapshot());
  }

  /** Why the kiosk is out of service, when it is. */
  reason(): string | null {
    return (this.actor.getSnapshot().context as { reason: string | null }).reason;
  }

  summary(): KioskSummary {
    const snap = this.actor.getSnapshot();
    const ctx = snap.context as { reason: string | null };
    const child = snap.children.flow?.getSnapshot() as
      { value: unknown; context: { inserted?: number } } | undefined;
    const st = this.journal.state;
    return {
      state: statePath(snap.value),
      flow: child ? statePath(child.value) : null,
      reason: ctx.reason,
      acceptor: this.devices.acceptor.accepting ? 'accepting' : 'inhibited',
      sessionId: this.servingSession,
      inserted: child?.context.inserted ?? null,
      journal: {
        openSessions: Object.keys(st.sessions).length,
        cashBoxCents: st.cashBox.cents,
        unclaimedVouchers: st.unclaimedVouchers.length,
        ...(this.coins.storageFine
          ? {}
          : {
              unwritable: this.storage.status.why ?? this.journal.failureMessage ?? 'journal unwritable',
              unjournaledCents: this.coins.heldCents(),
            }),
      },
      ...(this.devices.slots || this.devices.hopper ? { vend: this.vending.summary() } : {}),
    };
  }

  /** Each device's health as last seen, for the health file and `kiosk status`. */
  deviceHealth(): Record<string, string> {
    const d = this.devices;
    return {
      printer: this.printerStatus,
      reader: d.reader.status,
      display: d.display.health(),
      acceptor: d.acceptor.accepting ? 'accepting' : 'inhibited',
    };
  }

  screen(): string[] {
    return this.lastScreen;
  }

  get printerState(): PrinterStatus {
    return this.printerStatus;
  }

  /** The control port's and simulator's door into the simulated devices (sim-controls.ts). */
  controls(): SimControls {
    return (this.simControls ??= simControls({
      sim: () => this.sim,
      printer: () => this.devices.printer,
      screen: () => this.lastScreen,
      state: () => this.summary(),
      vendChanged: () => this.vending.changed(),
      changed: () => this.emit('change'),
    }));
  }

  private async startFleet(): Promise<void> {
    const { startFleetBridge } = await import('./fleet-bridge.js');
    this.fleet = await startFleetBridge(this, {
      config: this.config,
      fileConfig: this.fileConfig,
      logger: this.logger,
      journal: this.journal,
      devices: this.devices,
      lock: (on) => this.send(on ? { type: 'LOCK' } : { type: 'UNLOCK' }),
      maintenance: (on) => this.send({ type: 'MAINTENANCE', on }),
      onRestart: (reason) => this.opts.onRestart?.(reason),
      clockSynced: () => this.opts.clockSynced?.() ?? true,
      vend: () => (this.devices.slots || this.devices.hopper ? this.vending.summary() : undefined),
      terminal: this.terminalService,
      releases: this.releases,
      ...(this.devices.slots
        ? { unblockSlot: (slot: string, by: string) => this.vending.unblockSlot(slot, by) }
        : {}),
    });
    // Before anything else the journal tells: the records recovery (or the CLI) wrote before this.
    await this.journalFleet.attach(this.fleet);
  }

  get standInUrl(): string | undefined {
    return this.standIn?.url;
  }

  /** Parks the kiosk safely: inhibit first, then stop the machines, then close everything. */
  async stop(reason = 'shutdown'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.logger.info({ reason }, 'kiosk stopping');
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.terminalService?.stop();
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.storage?.stop();
    // The status poll re-arms itself: left running it polls a closed printer and keeps the process alive.
    this.stopPrinterWatch?.();
    await this.devices?.acceptor.setAccepting(false).catch(() => undefined);
    await this.coins.settled();
    this.childSub?.sub.unsubscribe();
    this.actor?.stop();
    await this.journalFleet?.keepPosition().catch(() => undefined);
    await this.fleet?.stop({ reason }).catch(() => undefined);
    if (this.devices) {
      await Promise.allSettled([
        this.devices.acceptor.close(),
        this.devices.buttons.close(),
        this.devices.reader.close(),
        this.devices.printer.close(),
        this.devices.display.close(),
        this.devices.slots?.close(),
        this.devices.hopper?.close(),
      ]);
    }
    await this.journal?.close().catch(() => undefined);
    await this.standIn?.close();
  }
}
