/**
 * The service menu's effects over the running kiosk: PIN check (scrypt), info, test print, device
 * test from the probes, cash collection (journal `cash_collected` + collection report), reprint of
 * the last customer receipt from the journal, and the `report` action that logs every technician
 * action (journald on the Pi) and sends it to the fleet.
 *
 * Fleet: the contract's `cash` event cannot express a collection (its actions are inserted /
 * credited / unclaimed, strict schema), so every technician action goes out as a `fault` event with
 * `device: 'service'`, `code: 'service:<action>'` and severity `info` (`warning` for wrong PINs and
 * the lock-out). The collection also shows in the health counters (`sinceCollection` back to zero,
 * `lastCollectionTs`).
 */
import { networkInterfaces } from 'node:os';
import { fromPromise } from 'xstate';
import { formatCents } from '../api/money.js';
import type { ReceiptLine } from '../api/schemas.js';
import type { Journal } from '../journal/journal.js';
import type { Printer } from '../../hal/printer/printer.js';
import type { ProbeResult } from '../contracts/device.js';
import type { FleetReporter } from '../fleet/reporter.js';
import type { Logger } from '../util/logger.js';
import type {
  CashStatusOutput,
  CheckPinInput,
  CheckPinOutput,
  CollectCashInput,
  CollectCashOutput,
  DeviceTestResult,
  HopperCountInput,
  HopperCountOutput,
  HopperStatusOutput,
  OpenVouchersOutput,
  PayOutVoucherInput,
  PayOutVoucherOutput,
  RecentReceiptsOutput,
  ReprintInput,
  ReprintOutput,
  ServiceInfo,
  ServiceReport,
  SetStockInput,
  SettleReleaseInput,
  SettleReleaseOutput,
  StockSlot,
  StockStatusOutput,
  TerminalDutyInput,
  TerminalDutyOutput,
  UnblockSlotInput,
  UnblockSlotOutput,
  UnsettledOutput,
} from '../../machines/ports.js';
import { serviceMenuMachine } from '../../machines/service-menu.machine.js';
import type { KioskConfig } from '../config/config-schema.js';
import { verifyPin } from './service-pin.js';
import { collectionReportLines, reprintLines, testPageLines } from './service-report.js';
import { FIRMWARE_VERSION } from './version.js';
import type { TerminalService } from './terminal-service.js';
import { releaseTime, type ReleaseSettler } from './release-settle.js';
import { receiptNumberOf } from '../bookkeeping/receipt-jobs.js';
import type { VoucherPayout } from './voucher-payout.js';

export interface ServiceMenuDeps {
  config: Pick<KioskConfig, 'kiosk' | 'receipts' | 'service'>;
  logger: Logger;
  journal: Pick<Journal, 'append' | 'state'>;
  printer: Pick<Printer, 'print'>;
  /** Every device's probe (display, reader, buttons, acceptor, printer). */
  probe: () => Promise<ProbeResult[]>;
  /** The fleet reporter once it runs; undefined when no broker is configured. */
  fleet: () => Pick<FleetReporter, 'event' | 'isConnected'> | undefined;
  fleetConfigured: boolean;
  /** Whether the API answers at all right now. */
  apiReachable: () => Promise<boolean>;
  /** Addresses of this machine (default: os.networkInterfaces, non-internal, IPv4 first). */
  addresses?: () => string[];
  now?: () => Date;
  /**
   * A vending counter's slots: their stock, a count to journal (`stock_set`), and a blocked slot the
   * technician cleared (`slot_unblocked`; rejects while its sensor reads active), resolving with its stock.
   */
  stock?: {
    slots: () => StockSlot[];
    set: (slot: string, count: number) => Promise<void>;
    unblock: (slot: string) => Promise<number>;
  };
  /**
   * The change hopper: its coin and the coins in it by the books, and coins put in (> 0) or taken
   * out (< 0), journaled (`hopper_filled`); resolves with the books' count afterwards.
   */
  hopper?: {
    status: () => { coinCents: number; coins: number | null };
    count: (coins: number) => Promise<number>;
  };
  /** A vending counter's releases whose outcome is unknown, and their settlement (release-settle.ts). */
  releases?: Pick<ReleaseSettler, 'unsettled' | 'settle'>;
  /** The open vouchers and a cash payout by the technician (voucher-payout.ts, as `kiosk vouchers payout`). */
  vouchers?: Pick<VoucherPayout, 'open' | 'payOut'>;
  /** The card terminal's duties (end-of-day, diagnosis, merchant receipts, reversal of the last payment). */
  terminal?: Pick<
    TerminalService,
    'enabled' | 'endOfDay' | 'diagnosis' | 'cancel' | 'lastReversible' | 'merchantReceipts'
  >;
}

export function localAddresses(): string[] {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal);
  return [
    ...external.filter((a) => a.family === 'IPv4').map((a) => a.address),
    ...external.filter((a) => a.family !== 'IPv4').map((a) => a.address),
  ];
}

const PROBE_OK = new Set(['ok', 'online']);

/** Any HTTP answer counts: the question is whether the server is there, not whether it likes us. */
export async function httpReachable(url: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

export function createServiceMenuActors(deps: ServiceMenuDeps) {
  const lang = deps.config.kiosk.language;
  const now = deps.now ?? (() => new Date());
  const print = (lines: ReceiptLine[]) =>
    deps.printer.print({ lines, header: deps.config.receipts.header, footer: [] });

  const checkPin = fromPromise<CheckPinOutput, CheckPinInput>(async ({ input }) => ({
    result: await verifyPin(input.pin, deps.config.service.pinHash),
  }));

  const info = fromPromise<ServiceInfo>(async () => {
    const fleet = deps.fleet();
    return {
      kioskId: deps.config.kiosk.id,
      version: FIRMWARE_VERSION,
      addresses: (deps.addresses ?? localAddresses)(),
      fleet: !deps.fleetConfigured ? 'off' : fleet?.isConnected ? 'connected' : 'disconnected',
      apiReachable: await deps.apiReachable().catch(() => false),
    };
  });

  const testPrint = fromPromise<void>(async () => {
    await print(testPageLines(deps.config.kiosk.id, FIRMWARE_VERSION, now(), lang));
  });

  const deviceTest = fromPromise<DeviceTestResult[]>(async () =>
    (await deps.probe()).map((r) => ({
      device: r.device,
      ok: r.found && PROBE_OK.has(r.status),
      status: r.status,
    })),
  );

  const cashStatus = fromPromise<CashStatusOutput>(async () => ({
    expected: deps.journal.state.cashBox.cents,
  }));

  const collectCash = fromPromise<CollectCashOutput, CollectCashInput>(async ({ input }) => {
    // The totals for the report are taken before the entry resets them.
    const before = structuredClone(deps.journal.state);
    await deps.journal.append({ type: 'cash_collected', cents: input.counted, by: 'technician' });
    const facts = {
      kioskId: deps.config.kiosk.id,
      at: now(),
      since: before.lastCollection ? new Date(before.lastCollection.ts) : null,
      expected: before.cashBox.cents,
      counted: input.counted,
      pieces: before.cashBox.count,
      totals: before.sinceCollection,
      by: lang === 'de' ? 'Techniker' : 'technician',
    };
    deps.logger.info(
      { counted: facts.counted, expected: facts.expected, pieces: facts.pieces },
      'cash collected',
    );
    try {
      await print(collectionReportLines(facts, lang));
      return { printed: true };
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'collection report not printed');
      return { printed: false };
    }
  });

  // The receipts the journal keeps, newest first: a customer told to ask staff (paper out) names theirs by number.
  const recentReceipts = fromPromise<RecentReceiptsOutput>(async () => ({
    receipts: [...deps.journal.state.recentReceipts].reverse().map((r) => ({
      jobId: r.jobId,
      no: receiptNumberOf(r.lines),
      when: releaseTime(r.ts),
      printed: r.printed,
    })),
  }));
  const reprint = fromPromise<ReprintOutput, ReprintInput>(async ({ input }) => {
    const chosen = deps.journal.state.recentReceipts.find((r) => r.jobId === input.jobId);
    if (!chosen) return { reprinted: false };
    await deps.printer.print({
      lines: reprintLines(chosen.lines, lang),
      header: deps.config.receipts.header,
      footer: deps.config.receipts.footer,
    });
    return { reprinted: true };
  });

  const stockStatus = fromPromise<StockStatusOutput>(async () => ({ slots: deps.stock?.slots() ?? [] }));
  const setStock = fromPromise<void, SetStockInput>(async ({ input }) => {
    if (!deps.stock) throw new Error('no vend slots');
    await deps.stock.set(input.slot, input.count);
    deps.logger.info({ slot: input.slot, count: input.count }, 'slot stock counted');
  });
  const unblockSlot = fromPromise<UnblockSlotOutput, UnblockSlotInput>(async ({ input }) => {
    if (!deps.stock) throw new Error('no vend slots');
    return { stock: await deps.stock.unblock(input.slot) };
  });

  const unsettled = fromPromise<UnsettledOutput>(async () => ({
    releases: deps.releases?.unsettled() ?? [],
  }));
  // At the kiosk the voucher is printed at once: the technician hands it to the customer (or keeps it).
  const settleRelease = fromPromise<SettleReleaseOutput, SettleReleaseInput>(async ({ input }) => {
    if (!deps.releases) throw new Error('no vend slots');
    // No amount can be typed here: a refund of a sale whose amount is unknown is the fleet's
    // settle-release with the amount (the book refuses it without one, never a voucher of 0 ct).
    const release = deps.releases.unsettled().find((u) => u.jobId === input.jobId);
    if (input.how === 'refunded' && release?.amountUnknown)
      throw new Error(lang === 'de' ? 'Betrag unbekannt' : 'Amount unknown');
    const r = await deps.releases.settle(input.jobId, input.how, 'technician', true);
    return { voucher: r.voucherId, printed: r.printed === true, slotBlocked: r.slotBlocked };
  });

  const hopperStatus = fromPromise<HopperStatusOutput>(async () => ({
    hopper: deps.hopper?.status() ?? null,
  }));
  const hopperCount = fromPromise<HopperCountOutput, HopperCountInput>(async ({ input }) => {
    if (!deps.hopper) throw new Error('no hopper');
    const coins = await deps.hopper.count(input.coins);
    deps.logger.info(
      { coins: input.coins, book: coins },
      input.coins > 0 ? 'hopper filled' : 'hopper emptied',
    );
    return { coins };
  });

  const openVouchers = fromPromise<OpenVouchersOutput>(async () => ({
    vouchers: deps.vouchers?.open() ?? [],
  }));
  const payOutVoucher = fromPromise<PayOutVoucherOutput, PayOutVoucherInput>(async ({ input }) => {
    if (!deps.vouchers) throw new Error(lang === 'de' ? 'Keine Gutscheine' : 'No vouchers');
    return deps.vouchers.payOut(input.key, 'technician');
  });

  /** The terminal's slip (merchant copy) when it gave one; a printer fault must not hide the duty's result. */
  const printSlip = async (lines: ReceiptLine[], title?: string) => {
    if (lines.length === 0) return;
    await print(title ? [{ type: 'separator', value: { caption: title } }, ...lines] : lines).catch(
      (err: Error) => deps.logger.warn({ err: err.message }, 'terminal slip not printed'),
    );
  };
  const de = lang === 'de';
  const terminalDuty = fromPromise<TerminalDutyOutput, TerminalDutyInput>(async ({ input }) => {
    const t = deps.terminal;
    if (!t?.enabled) return { ok: false, detail: de ? 'Kein Terminal' : 'No terminal' };
    switch (input.duty) {
      case 'end_of_day': {
        const r = await t.endOfDay('service');
        await printSlip(r.merchantLines);
        return r.result === 'ok'
          ? { ok: true, detail: `${r.count} ${de ? 'Zahl.' : 'paym.'} ${formatCents(r.cents)}` }
          : { ok: false, detail: `${r.result}: ${r.detail ?? ''}`.slice(0, 60) };
      }
      case 'diagnosis': {
        const d = await t.diagnosis();
        await printSlip(d.merchantLines);
        return { ok: d.ok, detail: d.detail.slice(0, 60) };
      }
      case 'merchant_receipt': {
        const last = t.merchantReceipts().at(-1);
        if (!last) return { ok: false, detail: de ? 'Kein Händlerbeleg' : 'No merchant copy' };
        await print([{ type: 'separator', value: { caption: de ? 'Kopie' : 'Copy' } }, ...last.lines]);
        return { ok: true, detail: last.ref.slice(0, 20) };
      }
      case 'cancel_last': {
        const last = t.lastReversible();
        if (!last) return { ok: false, detail: de ? 'Nichts offen' : 'Nothing open' };
        const r = await t.cancel({ receiptNumber: last.receiptNumber }, 'service');
        await printSlip(r.merchantLines, de ? 'Storno' : 'Reversal');
        return r.result === 'ok'
          ? { ok: true, detail: `${last.receiptNumber} ${formatCents(last.cents)}` }
          : { ok: false, detail: `${r.result}: ${r.detail ?? ''}`.slice(0, 60) };
      }
    }
  });

  return {
    actors: {
      checkPin,
      info,
      testPrint,
      deviceTest,
      cashStatus,
      collectCash,
      recentReceipts,
      reprint,
      stockStatus,
      setStock,
      unblockSlot,
      terminalDuty,
      unsettled,
      settleRelease,
      hopperStatus,
      hopperCount,
      openVouchers,
      payOutVoucher,
    },
  };
}

/**
 * A technician's action, as the menu reports it (the kiosk emits `service_report`): logged, on the
 * journal's audit trail, and told to the fleet.
 */
export function reportServiceAction(
  deps: Pick<ServiceMenuDeps, 'logger' | 'journal' | 'fleet'>,
  r: ServiceReport,
): void {
  const money =
    r.counted !== undefined
      ? `counted ${formatCents(r.counted)}, expected ${formatCents(r.expected ?? 0)}`
      : undefined;
  const message = [money, r.detail].filter(Boolean).join('; ');
  const warn = r.action === 'pin_wrong' || r.action === 'pin_lockout' || !r.ok;
  deps.logger[warn ? 'warn' : 'info'](
    {
      service: r.action,
      ok: r.ok,
      ...(r.counted !== undefined ? { counted: r.counted, expected: r.expected } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    },
    'service menu',
  );
  // The collection itself is a `cash_collected` entry; every action is also on the audit trail.
  void deps.journal
    .append({
      type: 'service_action',
      action: r.action,
      ok: r.ok,
      ...(message ? { detail: message.slice(0, 300) } : {}),
    })
    .catch((err: Error) => deps.logger.error({ err: err.message }, 'service action not journaled'));
  deps.fleet()?.event('fault', {
    device: 'service',
    code: `service:${r.action}`,
    ...(message ? { message: message.slice(0, 500) } : {}),
    severity: r.action === 'pin_wrong' || r.action === 'pin_lockout' ? 'warning' : 'info',
  });
}

/** The menu machine with the kiosk's effects, for `kioskMachine.provide({ actors: { serviceMenu } })`. */
export function createServiceMenu(deps: ServiceMenuDeps) {
  return serviceMenuMachine.provide(createServiceMenuActors(deps));
}
