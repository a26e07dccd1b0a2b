/**
 * The vending counter as the kiosk runs it: what the machine may still sell (STOCK) and the fleet's
 * slot and hopper alerts whenever stock, blocks or the hopper change; the summary the control port,
 * the status file and the fleet read; an operator's unblock and the technician's hopper page; and
 * the payouts a restart cut off, settled from the hopper's counters. The books are VendJournal's.
 */
import type { VendJournal } from '../bookkeeping/vend-journal.js';
import type { KioskConfig } from '../config/config-schema.js';
import type { VendSummary } from '../contracts/kiosk-summary.js';
import type { FleetReporter } from '../fleet/reporter.js';
import type { Logger } from '../util/logger.js';
import { settleFromCounters, type Hopper } from '../../hal/hopper/hopper.js';
import type { SimulatedHopper } from '../../hal/hopper/sim-hopper.js';
import type { KioskInputEvent } from '../../machines/events.js';
import type { Devices } from './devices.js';

type Alerts = Pick<FleetReporter, 'setAlert' | 'clearAlert'>;

export interface VendingCounterDeps {
  book: VendJournal;
  devices: Pick<Devices, 'acceptor' | 'slots' | 'hopper'>;
  /** The simulated hopper, where it is simulated: it follows the technician's fills, and says its coins. */
  simHopper: SimulatedHopper | undefined;
  /** `hardware.hopper.lowAt`, read when the alerts are. */
  config: Pick<KioskConfig, 'hardware'>;
  fleet: () => Alerts | undefined;
  /** Whether the kiosk machine runs (before it does, the start-up tells it once it runs). */
  machineRunning: () => boolean;
  /** To the kiosk machine: STOCK. */
  send: (event: KioskInputEvent) => void;
  /** Something the state shows changed. */
  onChange: () => void;
  logger: Logger;
}

export class VendingCounter {
  constructor(private readonly deps: VendingCounterDeps) {}

  private get vend(): VendJournal {
    return this.deps.book;
  }

  /**
   * Stock, blocked slots or the hopper changed: the machine learns what can still be sold, the fleet
   * gets `slot_jammed`, `stock_low`, `hopper_empty` and `goods_unsettled`.
   */
  changed(): void {
    // Devices report before the machine runs; start() calls this again once it does.
    if (!this.deps.machineRunning()) return;
    const view = this.vend.view();
    const hopper = this.deps.devices.hopper;
    this.deps.send({
      type: 'STOCK',
      slotStock: this.vend.available(),
      ...(hopper ? { givesChange: hopper.status === 'ok' } : {}),
      coinValues: [...this.deps.devices.acceptor.coinValues],
    });
    const blocked = view.filter((s) => s.blocked);
    const low = view.filter((s) => !s.blocked && s.stock <= s.lowAt);
    const unknown = this.vend.releasesInDoubt().filter((r) => r.outcome === 'unknown');
    const doubt = unknown.filter((r) => !r.sale);
    const sales = unknown.filter((r) => r.sale);
    const fleet = this.deps.fleet();
    if (fleet) {
      // A paid sale whose goods the journal cannot tell: the operator settles what it paid.
      if (sales.length > 0)
        fleet.setAlert('goods_unsettled', {
          severity: 'critical',
          message: sales
            .map((r) =>
              r.amountUnknown
                ? `${r.sessionId}: paid, amount unknown, goods unknown: settle-release ${r.jobId} (refunded: give cents)`
                : `${r.sessionId}: paid ${r.cents} ct, goods unknown: settle-release ${r.jobId}`,
            )
            .join('; ')
            .slice(0, 500),
        });
      else fleet.clearAlert('goods_unsettled');
      if (blocked.length > 0 || doubt.length > 0)
        fleet.setAlert('slot_jammed', {
          severity: 'critical',
          message: [
            ...blocked.map((s) => `${s.id}: ${s.blocked}`),
            ...doubt.map((r) => `${r.slot}: release ${r.jobId} unknown (${r.cents} ct), settle it`),
          ]
            .join('; ')
            .slice(0, 500),
        });
      else fleet.clearAlert('slot_jammed');
      if (low.length > 0)
        fleet.setAlert('stock_low', {
          severity: 'warning',
          message: low
            .map((s) => `${s.id}: ${s.stock}`)
            .join(', ')
            .slice(0, 500),
        });
      else fleet.clearAlert('stock_low');
      if (hopper) this.hopperAlerts(fleet, hopper);
    }
    this.deps.onChange();
  }

  /**
   * `hopper_offline`: it stopped answering (sessions give no change and settle without it);
   * `hopper_empty`: it ran empty paying, or the books count no coin; `hopper_low`: the books count
   * `hardware.hopper.lowAt` coins or fewer. The books are the journal's (fills, take-outs, payouts):
   * unknown until a technician first books a fill, and then nothing is said of the level.
   */
  private hopperAlerts(fleet: Alerts, hopper: Hopper): void {
    const coins = this.vend.hopperCoins();
    const lowAt = this.deps.config.hardware.hopper?.lowAt ?? 0;
    const what = `${hopper.coinCents} ct hopper`;
    if (hopper.status === 'offline')
      fleet.setAlert('hopper_offline', { severity: 'warning', message: `${what}: not answering, no change` });
    else fleet.clearAlert('hopper_offline');
    const empty = hopper.status === 'empty' || coins === 0;
    if (empty)
      fleet.setAlert('hopper_empty', {
        severity: 'warning',
        message: coins === 0 ? `${what}: 0 coins by the books` : what,
      });
    else fleet.clearAlert('hopper_empty');
    if (!empty && coins !== null && coins <= lowAt)
      fleet.setAlert('hopper_low', { severity: 'warning', message: `${what}: ${coins} coins by the books` });
    else fleet.clearAlert('hopper_low');
  }

  /**
   * Payouts journaled without an outcome (a power cut during the dispense): the hopper's own counters
   * say what was paid (`settle`); never dispensed again. A hopper that cannot tell leaves the payout
   * `unknown` with 0 paid (the customer's money goes back the usual way; the operator counts).
   */
  async settlePayouts(): Promise<void> {
    const hopper = this.deps.devices.hopper;
    for (const p of this.vend.payoutsInDoubt()) {
      if (p.outcome === 'unknown') continue;
      const intent = { coins: p.coins, coinCents: p.coinCents, before: p.before };
      let result;
      try {
        result = hopper
          ? await hopper.settle(intent)
          : settleFromCounters(intent, { event: -1, remaining: 0, paid: 0, unpaid: 0 });
      } catch (err) {
        this.deps.logger.error(
          { err: (err as Error).message, jobId: p.jobId },
          'payout in doubt: hopper not readable',
        );
        result = settleFromCounters(intent, { event: -1, remaining: 0, paid: 0, unpaid: 0 });
      }
      await this.vend.payoutOutcome(p.jobId, result.outcome, result.paidCents, {
        ...(result.after && result.after.event >= 0 ? { after: result.after } : {}),
      });
      this.deps.logger.warn(
        { jobId: p.jobId, outcome: result.outcome, paidCents: result.paidCents, coins: p.coins },
        'payout cut off by a restart: settled from the hopper counters',
      );
    }
  }

  /**
   * The service menu's hopper page: the books' count, and a technician's coins in or out, journaled
   * first. The simulated hopper stands for the hardware the technician's hands fill: it follows.
   */
  hopperBook(hopper: Hopper) {
    return {
      status: () => ({ coinCents: hopper.coinCents, coins: this.vend.hopperCoins() }),
      count: async (coins: number) => {
        await this.vend.hopperFilled(coins, hopper.coinCents, 'technician');
        const sim = this.deps.simHopper;
        if (sim) {
          if (coins > 0) sim.refill(coins);
          else sim.take(-coins);
        } else if (coins > 0) hopper.refilled();
        this.changed();
        return this.vend.hopperCoins() ?? 0;
      },
    };
  }

  /**
   * A blocked slot cleared by an operator (service menu, fleet `unblock-slot`): journaled first, refused
   * while its sensor reads active or a release of it is in doubt (VendJournal.unblockSlot).
   */
  async unblockSlot(slot: string, by: string): Promise<number> {
    const stock = await this.vend.unblockSlot(slot, by, this.deps.devices.slots?.sensorActive(slot) ?? false);
    this.deps.logger.info({ slot, by, stock }, 'slot unblocked');
    this.changed();
    return stock;
  }

  /** Stock, blocks, releases in doubt and the hopper (control port, status file, fleet health). */
  summary(): VendSummary {
    const hopper = this.deps.devices.hopper;
    return {
      slots: this.vend
        .view()
        .map((s) => ({ id: s.id, product: s.product, stock: s.stock, blocked: s.blocked })),
      releasesInDoubt: this.vend
        .releasesInDoubt()
        .filter((r) => r.outcome === 'unknown')
        .map((r) => ({
          jobId: r.jobId,
          slot: r.slot,
          cents: r.cents,
          ...(r.amountUnknown ? { amountUnknown: true } : {}),
        })),
      hopper: hopper
        ? {
            coinCents: hopper.coinCents,
            status: hopper.status,
            ...(this.deps.simHopper ? { coins: this.deps.simHopper.coins } : {}),
            booked: this.vend.hopperCoins(),
            lowAt: this.deps.config.hardware.hopper?.lowAt ?? 0,
          }
        : null,
    };
  }
}
