/**
 * The hopper's simulated twin for the simulator and the flow tests: pays from its own coin count and
 * keeps the same counters a ccTalk hopper keeps, so `settle` works as on the real one.
 * The control port and tests can empty it, refill it, jam it (after N coins) or take it offline.
 *
 * With `stateFile` its coins and counters outlive the kiosk process, as a real hopper's do (it keeps
 * them in its own memory across the kiosk's power cut): written after every coin, read at start. A
 * payout the cut stopped halfway is found stopped (`remaining` 0, the rest `unpaid`). With `coinMs`
 * it pays one coin every `coinMs` (a real hopper pays 5-10 coins a second), so a cut can land inside.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ProbeResult } from '../../src/contracts/device.js';
import type {
  DispenseIntent,
  Hopper,
  HopperCounters,
  HopperEvents,
  HopperStatus,
  PayoutResult,
} from './hopper.js';
import {
  HopperError,
  MAX_COINS_PER_DISPENSE,
  nextEvent,
  payoutResult,
  settleFromCounters,
} from './hopper.js';

export class SimulatedHopper extends EventEmitter<HopperEvents> implements Hopper {
  private current: HopperStatus = 'offline';
  private counts: Required<HopperCounters> = { event: 0, remaining: 0, paid: 0, unpaid: 0, lifetime: 0 };
  /** Coins in the hopper. */
  coins: number;
  /** The next payout jams after this many coins. */
  private jamAt: number | undefined;
  private online = true;
  /** Every payout's requested coin count, in order. */
  readonly dispenses: number[] = [];

  constructor(
    readonly coinCents: number,
    coins = 50,
    private readonly opts: { stateFile?: string; coinMs?: number } = {},
  ) {
    super();
    this.coins = coins;
    const file = opts.stateFile;
    if (file && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as {
        coins: number;
        counts: Required<HopperCounters>;
      };
      this.coins = saved.coins;
      // The motor stopped with the power: what was still to pay is unpaid.
      const { remaining } = saved.counts;
      this.counts = { ...saved.counts, remaining: 0, unpaid: saved.counts.unpaid + remaining };
    }
    this.save();
  }

  /** Coins and counters to the state file (a rename: a kill never leaves half a file). */
  private save(): void {
    const file = this.opts.stateFile;
    if (!file) return;
    writeFileSync(`${file}.tmp`, JSON.stringify({ coins: this.coins, counts: this.counts }));
    renameSync(`${file}.tmp`, file);
  }

  get status(): HopperStatus {
    return this.current;
  }

  start(): void {
    this.setStatus(this.online ? (this.coins > 0 ? 'ok' : 'empty') : 'offline');
  }

  private setStatus(status: HopperStatus): void {
    if (this.current === status) return;
    this.current = status;
    this.emit('status', status);
  }

  /** Takes every coin out (the operator empties it, or the control port plays an empty hopper). */
  empty(): number {
    const taken = this.coins;
    this.coins = 0;
    this.save();
    if (this.current !== 'offline') this.setStatus('empty');
    return taken;
  }

  /** A technician takes `coins` out (at most what is in it); returns how many came out. */
  take(coins: number): number {
    if (!Number.isInteger(coins) || coins < 0) throw new HopperError(`bad coin count ${coins}`, 'invalid');
    const taken = Math.min(coins, this.coins);
    this.coins -= taken;
    this.save();
    if (this.current !== 'offline') this.setStatus(this.coins > 0 ? 'ok' : 'empty');
    return taken;
  }

  refill(coins: number): void {
    if (!Number.isInteger(coins) || coins < 0) throw new HopperError(`bad coin count ${coins}`, 'invalid');
    this.coins += coins;
    this.save();
    if (this.current !== 'offline') this.setStatus('ok');
  }

  refilled(): void {
    if (this.current === 'empty' && this.coins > 0) this.setStatus('ok');
  }

  /** The next payout stops after `afterCoins` coins with the rest unpaid. */
  jam(afterCoins = 0): void {
    this.jamAt = afterCoins;
  }

  setOnline(online: boolean): void {
    this.online = online;
    this.setStatus(online ? (this.coins > 0 ? 'ok' : 'empty') : 'offline');
  }

  async counters(): Promise<HopperCounters> {
    if (!this.online) throw new HopperError('hopper offline', 'offline');
    return { ...this.counts };
  }

  async dispense(
    coins: number,
    beforeSend?: (intent: DispenseIntent) => Promise<void>,
  ): Promise<PayoutResult> {
    if (!Number.isInteger(coins) || coins < 1 || coins > MAX_COINS_PER_DISPENSE) {
      throw new HopperError(`coins must be 1..${MAX_COINS_PER_DISPENSE}, got ${coins}`, 'invalid');
    }
    const before = await this.counters();
    await beforeSend?.({ coins, coinCents: this.coinCents, before });
    this.dispenses.push(coins);
    const jamAt = this.jamAt;
    this.jamAt = undefined;
    const paid = Math.min(coins, this.coins, jamAt ?? Number.POSITIVE_INFINITY);
    const lifetime = this.counts.lifetime;
    const event = nextEvent(this.counts.event);
    // Coin by coin, the counters saved after each (what a power cut finds in the hopper's memory).
    for (let k = 0; k <= paid; k++) {
      if (k > 0) {
        if (this.opts.coinMs) await new Promise((r) => setTimeout(r, this.opts.coinMs));
        this.coins -= 1;
      }
      const done = k === paid;
      this.counts = {
        event,
        remaining: done ? 0 : coins - k,
        paid: k,
        unpaid: done ? coins - paid : 0,
        lifetime: lifetime + k,
      };
      if (!this.opts.coinMs && !done) continue;
      this.save();
    }
    if (paid === coins) {
      this.setStatus(this.coins > 0 ? 'ok' : 'empty');
      return payoutResult('complete', coins, paid, this.coinCents, { after: { ...this.counts } });
    }
    const fault = jamAt !== undefined && jamAt < coins && paid === jamAt ? 'jammed' : 'empty';
    this.setStatus(fault);
    return payoutResult('short', coins, paid, this.coinCents, { fault, after: { ...this.counts } });
  }

  async settle(intent: DispenseIntent): Promise<PayoutResult> {
    return settleFromCounters(intent, await this.counters());
  }

  async probe(): Promise<ProbeResult> {
    return {
      device: 'hopper',
      driver: 'simulated',
      found: this.online,
      where: `simulated ${this.coinCents} ct x ${this.coins}`,
      status: this.current,
      required: false,
    };
  }

  async close(): Promise<void> {
    this.setStatus('offline');
  }
}
