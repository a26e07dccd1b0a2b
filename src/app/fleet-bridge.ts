/**
 * The kiosk as the fleet sees it: implements the reporter's `KioskPort` over the running app, and
 * supplies birth and health facts. Loaded only when `fleet` is configured.
 */
import { printerHealthOf } from '../../hal/printer/printer.js';
import { FleetReporter } from '../fleet/reporter.js';
import { KioskBusyError, type HealthFacts, type KioskPort, type KioskStatus } from '../fleet/kiosk-port.js';
import type { ConfigDocument, DeviceStatus, LifetimeCounters } from '../fleet/envelope.js';
import type { Journal } from '../journal/journal.js';
import type { Counters, LedgerState } from '../journal/state.js';
import type { Logger } from '../util/logger.js';
import { applyLive, desiredConfigPath, storeDesiredConfig } from './desired-config.js';
import { checkDesiredConfig } from './fleet-config-policy.js';
import type { KioskConfig } from '../config/config-schema.js';
import type { Devices } from './devices.js';
import type { VendSummary } from '../contracts/kiosk-summary.js';
import type { KioskPhase } from '../../machines/kiosk.machine.js';
import type { PrinterStatus } from '../../hal/printer/printer.js';
import { FIRMWARE_VERSION } from './version.js';
import { dutyReport, type TerminalService } from './terminal-service.js';
import type { ReleaseSettler } from './release-settle.js';
import { SettleRefused, UnblockRefused } from '../bookkeeping/vend-journal.js';
import { PayoutRefused, payOutVoucher } from '../bookkeeping/voucher-book.js';
import { readVoucher } from '../bookkeeping/voucher-code.js';

/** What the fleet reads of the running kiosk (the app implements it; no import of the app here). */
export interface KioskView {
  phase(): KioskPhase;
  reason(): string | null;
  readonly printerState: PrinterStatus;
}

export interface FleetBridgeDeps {
  /** The running configuration (live changes are applied onto it). */
  config: KioskConfig;
  /** The kiosk's own configuration from its file: what a desired document is applied over. */
  fileConfig: KioskConfig;
  logger: Logger;
  journal: Journal;
  devices: Devices;
  lock(on: boolean): void;
  maintenance(on: boolean): void;
  onRestart(reason: string): void;
  clockSynced(): boolean;
  /** A vending counter's slots and hopper (stock in `health` and `birth`); undefined without them. */
  vend?: () => VendSummary | undefined;
  /** The card terminal's duties (its diagnosis joins `diagnostics`). */
  terminal?: TerminalService;
  /** A vending counter's releases in doubt and their settlement (the service menu's path too). */
  releases?: Pick<ReleaseSettler, 'settle'>;
  /** A vending counter's blocked slot cleared (the service menu's path too); resolves with its stock. */
  unblockSlot?: (slot: string, by: string) => Promise<number>;
}

/** This kiosk's office payout of `ref` in the journal (the newest), if there is one. */
async function officePayoutOf(
  journal: Journal,
  ref: string,
): Promise<{ cents: number; by: string } | undefined> {
  let found: { cents: number; by: string } | undefined;
  for await (const e of journal.entries()) {
    if (e.type !== 'unclaimed_settled' || e.how !== 'cash_refund' || !e.by?.startsWith('office ')) continue;
    if ((readVoucher(e.voucher)?.ref ?? e.voucher) === ref) found = { cents: e.cents ?? 0, by: e.by };
  }
  return found;
}

function counterSet(c: Counters) {
  return {
    sales: { count: c.sales.count, cents: c.sales.cents },
    topups: { count: c.topUps.count, cents: c.topUps.cents },
    cashIn: { count: c.cashIn.count, cents: c.cashIn.cents },
    salesValue: { count: c.salesValue.count, cents: c.salesValue.cents, parts: { ...c.salesValue.parts } },
  };
}

/** The health's counters from the journal's state (odometers, the last collection, vouchers owed). */
export function lifetimeCounters(st: LedgerState): LifetimeCounters {
  const last = st.lastCollection;
  return {
    sinceInstall: counterSet(st.lifetime),
    sinceCollection: counterSet(st.sinceCollection),
    lastCollectionTs: last?.ts ?? null,
    lastCollection: last
      ? { ts: last.ts, countedCents: last.cents, expectedCents: last.expectedCents }
      : null,
    openVouchers: {
      count: st.unclaimedVouchers.length,
      cents: st.unclaimedVouchers.reduce((sum, v) => sum + v.cents, 0),
    },
  };
}

export function kioskPortFor(app: KioskView, deps: FleetBridgeDeps): KioskPort {
  const serving = () => app.phase() === 'serving';
  return {
    status(): KioskStatus {
      const phase = app.phase();
      if (phase === 'maintenance') return { state: 'maintenance' };
      if (phase === 'outOfService') return { state: 'out_of_service', reason: app.reason() ?? 'unknown' };
      if (phase === 'idle' || phase === 'serving') {
        const degraded = app.printerState !== 'ok' || deps.devices.reader.status !== 'online';
        return degraded
          ? { state: 'degraded', reason: `printer ${app.printerState}, reader ${deps.devices.reader.status}` }
          : { state: 'online' };
      }
      return { state: 'out_of_service', reason: 'starting' };
    },
    isServingCustomer: serving,
    async setMaintenance(on) {
      if (on && serving()) throw new KioskBusyError();
      deps.maintenance(on);
    },
    async lock() {
      if (serving()) throw new KioskBusyError();
      deps.lock(true);
    },
    async unlock() {
      deps.lock(false);
    },
    async reprintLast() {
      const last = deps.devices.printer.lastReceipt();
      if (!last) return { reprinted: false };
      await deps.devices.printer.reprint();
      return { reprinted: true };
    },
    async diagnostics() {
      const d = deps.devices;
      const terminal = deps.terminal?.enabled ? [deps.terminal.probe()] : [];
      return Promise.all([
        d.display.probe(),
        d.reader.probe(),
        d.buttons.probe(),
        d.acceptor.probe(),
        d.printer.probe(),
        ...terminal,
      ]);
    },
    async endOfDay() {
      if (serving()) throw new KioskBusyError();
      if (!deps.terminal?.enabled) throw new Error('no card terminal configured');
      return dutyReport(await deps.terminal.endOfDay('fleet'));
    },
    async terminalCancel(receiptNumber) {
      if (serving()) throw new KioskBusyError();
      if (!deps.terminal?.enabled) throw new Error('no card terminal configured');
      return dutyReport(await deps.terminal.cancel({ receiptNumber }, 'fleet'));
    },
    async settleRelease(jobId, how, print, cents) {
      if (serving()) throw new KioskBusyError();
      // Refused by the journal when there is no such release (a kiosk without slots has none).
      if (!deps.releases) throw new Error('refused: no vend slots configured');
      try {
        const r = await deps.releases.settle(jobId, how, 'fleet', print, cents);
        return {
          jobId: r.jobId,
          how: r.how,
          amountCents: r.cents,
          ...(r.voucherRef ? { voucher: r.voucherRef } : {}),
          ...(r.printed !== null ? { printed: r.printed } : {}),
          slot: r.slot,
          slotBlocked: r.slotBlocked,
        };
      } catch (err) {
        if (err instanceof SettleRefused) throw new Error(`refused: ${err.message}`, { cause: err });
        throw err;
      }
    },
    async unblockSlot(slot) {
      // Not a disturbing command: nothing prints, no money moves, a running session keeps its figures.
      if (!deps.unblockSlot) throw new Error('refused: no vend slots configured');
      try {
        return { slot, stock: await deps.unblockSlot(slot, 'fleet') };
      } catch (err) {
        if (err instanceof UnblockRefused) throw new Error(`refused: ${err.message}`, { cause: err });
        throw err;
      }
    },
    async settleVoucher(ref, operator) {
      if (serving()) throw new KioskBusyError();
      // Only this kiosk's own vouchers: another kiosk's is that kiosk's debt, settled there.
      if (!ref.startsWith(`${deps.config.kiosk.id}.`)) throw new Error('refused: not_ours');
      const by = `office ${operator}`;
      try {
        const v = await payOutVoucher(deps.journal, ref, by);
        deps.logger.info({ voucher: ref, cents: v.cents, by }, 'voucher paid out at the office');
        return { ref, amountCents: v.cents, by, already: false };
      } catch (err) {
        if (!(err instanceof PayoutRefused)) throw err;
        // Sent again after a lost answer (or after its message expired unread and was re-issued):
        // the office's own payout is found in the journal and confirmed, not booked twice.
        if (err.reason === 'not_open') {
          const done = await officePayoutOf(deps.journal, ref);
          if (done) return { ref, amountCents: done.cents, by: done.by, already: true };
        }
        throw new Error(`refused: ${err.reason}`, { cause: err });
      }
    },
    async restart(reason) {
      deps.onRestart(reason);
    },
    appliedConfigVersion: () => deps.config.version,
    async applyConfig(doc: ConfigDocument) {
      // checked again here: this is the one way in, whoever calls it
      const checked = checkDesiredConfig(doc, deps.fileConfig);
      if (!checked.ok) throw new Error(checked.errors.join('; ').slice(0, 200));
      await storeDesiredConfig(desiredConfigPath(deps.config), checked.desired);
      const { restartRequired, changed } = applyLive(deps.config, checked.config);
      deps.logger.info(
        { version: checked.config.version, changed, restartRequired },
        'desired config applied',
      );
      return { restartRequired };
    },
  };
}

export async function startFleetBridge(app: KioskView, deps: FleetBridgeDeps): Promise<FleetReporter> {
  const f = deps.config.fleet!;
  const deviceStatus = (): Record<string, DeviceStatus> => {
    const d = deps.devices;
    const p = app.printerState;
    return {
      printer: {
        health: printerHealthOf(p),
        status: p,
        paper: p === 'paper_low' ? 'low' : p === 'paper_out' ? 'out' : 'ok',
      },
      reader: { health: d.reader.status === 'online' ? 'ok' : 'offline', status: d.reader.status },
      display: { health: d.display.health(), status: d.display.health() },
      acceptor: { health: 'ok', status: d.acceptor.accepting ? 'accepting' : 'inhibited' },
      ...vendStatus(deps.vend?.()),
    };
  };
  const health = (): HealthFacts => ({
    devices: deviceStatus(),
    counters: lifetimeCounters(deps.journal.state),
  });
  const reporter = new FleetReporter({
    kioskId: deps.config.kiosk.id,
    url: f.url,
    dataDir: f.outboxDir,
    port: kioskPortFor(app, deps),
    birth: () => ({
      firmware: FIRMWARE_VERSION,
      hardware: {
        model:
          process.arch === 'arm64' || process.arch === 'arm'
            ? 'raspberry-pi'
            : `${process.platform}-${process.arch}`,
      },
      devices: Object.entries(deviceStatus()).map(([device, s]) => ({
        device,
        driver: device,
        found: s.health !== 'offline',
        status: s.status,
        // The hopper's level by the books at connect (health carries it after every change).
        ...(s.bookedCoins !== undefined ? { bookedCoins: s.bookedCoins } : {}),
      })),
      capabilities: [
        deps.config.kiosk.mode,
        ...(deps.config.kiosk.cardTerminal ? ['card_terminal'] : []),
        ...(deps.devices.slots ? ['vend_slots'] : []),
        ...(deps.devices.hopper ? ['change_hopper'] : []),
      ],
      kioskName: deps.config.kiosk.name,
      // Absent in the config: absent in the birth (the contract's fields are optional).
      ...(deps.config.kiosk.site !== undefined ? { site: deps.config.kiosk.site } : {}),
      ...(deps.config.kiosk.location !== undefined ? { location: deps.config.kiosk.location } : {}),
      ...(deps.config.kiosk.tenant !== undefined ? { tenant: deps.config.kiosk.tenant } : {}),
    }),
    health,
    validateConfig: (doc) => {
      const r = checkDesiredConfig(doc, deps.fileConfig);
      return r.ok ? { ok: true } : { ok: false, errors: r.errors, fields: r.fields };
    },
    ...(f.username ? { username: f.username } : {}),
    ...(f.password ? { password: f.password } : {}),
    heartbeatMs: f.heartbeatS * 1000,
    clockSynced: deps.clockSynced,
    willDelayS: f.willDelayS,
    logger: deps.logger,
  });
  await reporter.start();
  return reporter;
}

const MAX_RELEASES_LISTED = 10;

/**
 * The vending counter as devices of `health` (loose objects: the contract allows more fields):
 * `slots` with the stock and blocks per slot and the releases in doubt (their count, and the first ten
 * by job id, slot and price), `hopper` with its state.
 */
export function vendStatus(v: VendSummary | undefined): Record<string, DeviceStatus> {
  if (!v) return {};
  const out: Record<string, DeviceStatus> = {};
  if (v.slots.length > 0) {
    const blocked = v.slots.filter((s) => s.blocked);
    out.slots = {
      health: blocked.length > 0 || v.releasesInDoubt.length > 0 ? 'degraded' : 'ok',
      status: v.slots
        .map((s) => `${s.id} ${s.stock}${s.blocked ? ' blocked' : ''}`)
        .join(', ')
        .slice(0, 100),
      stock: Object.fromEntries(v.slots.map((s) => [s.id, s.stock])),
      blocked: Object.fromEntries(blocked.map((s) => [s.id, s.blocked])),
      releasesInDoubt: v.releasesInDoubt.length,
      // Which ones, so that the dashboard can offer `settle-release` for each (bounded: health stays small).
      inDoubt: v.releasesInDoubt
        .slice(0, MAX_RELEASES_LISTED)
        // amountUnknown: a paid sale whose amount no record names (cents 0): refunded with `cents` only.
        .map((r) => ({
          jobId: r.jobId,
          slot: r.slot,
          cents: r.cents,
          ...(r.amountUnknown ? { amountUnknown: true } : {}),
        })),
    };
  }
  if (v.hopper) {
    out.hopper = {
      health: v.hopper.status === 'ok' ? 'ok' : v.hopper.status === 'offline' ? 'offline' : 'degraded',
      status: v.hopper.status,
      coinCents: v.hopper.coinCents,
      ...(v.hopper.coins !== undefined ? { coins: v.hopper.coins } : {}),
      // The journal's count (v1 additive): null until a technician first books a fill.
      ...(v.hopper.booked !== undefined ? { bookedCoins: v.hopper.booked } : {}),
      ...(v.hopper.lowAt !== undefined ? { lowAt: v.hopper.lowAt } : {}),
    };
  }
  return out;
}
