/**
 * A ccTalk payout hopper on a serial port (9600 8N1, shared data line). After each (re)open: simple
 * poll, serial number (the unencrypted dispense command carries it), enable (164 with 165). A payout:
 * counters (166 + 168), the caller's journal hook, dispense (167, sent once), then 166 every `pollMs`
 * until the hopper's own counters say it ended; then 168 and, when coins were left unpaid, 163 (fault
 * flags) to tell an empty hopper from a jam.
 *
 * A payout that makes no progress for `stallMs` is stopped (172, emergency stop) and counted from the
 * hopper's counters. A hopper that stops answering mid-payout gives `unknown` with the coins seen so far:
 * it is never asked to dispense that payout again.
 *
 * Between payouts a simple poll every `idlePollMs` tells a hopper that lost its supply (the USB adapter
 * stays, so the port does not close) while a customer is still paying: status `offline`, so the session
 * stops taking coins that need change and settles without it. When it answers again it is initialised
 * anew (a hopper that lost power comes back disabled) and goes `ok`.
 */
import { EventEmitter } from 'node:events';
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
import { CCTALK_HOPPER, HEADER, readUint24 } from '../io/cctalk-frame.js';
import type { CctalkError } from '../io/cctalk-link.js';
import { CctalkLink, probeCctalkLine } from '../io/cctalk-link.js';
import type { ReconnectConfig } from '../io/reconnect.js';
import { ReconnectingSerial } from '../io/reconnect.js';
import type { SerialPortFactory } from '../io/serial-port.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface CctalkHopperConfig {
  path: string;
  /** ccTalk's usual speed. Default 9600. */
  baudRate?: number;
  /** The hopper's ccTalk address. Default 3. */
  address?: number;
  /** Value of the coin the hopper holds, in cents. */
  coinCents: number;
  /** Reply timeout per request. Default 500 ms. */
  timeoutMs?: number;
  /** Extra attempts for reads (never for the dispense). Default 2. */
  retries?: number;
  /** Status poll interval during a payout. Default 100 ms (a hopper pays 3-10 coins a second). */
  pollMs?: number;
  /** No coin paid for this long ends the payout with an emergency stop. Default 5000 ms. */
  stallMs?: number;
  /** Status reads failing for this long during a payout make its outcome `unknown`. Default 3000 ms. */
  silentMs?: number;
  /** Simple poll between payouts, to notice a hopper that stopped answering. Default 2000 ms; 0: off. */
  idlePollMs?: number;
  backoff?: ReconnectConfig;
  required?: boolean;
}

/** Test hopper (163) flags, byte 0 (generic ccTalk spec; hoppers differ: check the manual). */
const FLAG_MAX_CURRENT = 0x01;
const FLAG_PAYOUT_TIMEOUT = 0x02;
const FLAG_OPTO_BLOCKED_PAYOUT = 0x20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CctalkHopper extends EventEmitter<HopperEvents> implements Hopper {
  private readonly link: ReconnectingSerial;
  private readonly bus: CctalkLink;
  private readonly address: number;
  private readonly retries: number;
  private current: HopperStatus = 'offline';
  private ready: Promise<void> | undefined;
  private serial: number[] | undefined;
  /** false once the hopper refused 168: the lifetime counter is then left out. */
  private hasLifetime = true;
  private busy = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** "Not answering" was logged: not again at every idle poll until it answers. */
  private toldSilent = false;
  readonly coinCents: number;

  constructor(
    private readonly config: CctalkHopperConfig,
    factory: SerialPortFactory,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    if (!Number.isInteger(config.coinCents) || config.coinCents <= 0) {
      throw new HopperError(`coinCents must be a positive integer, got ${config.coinCents}`, 'invalid');
    }
    this.coinCents = config.coinCents;
    this.address = config.address ?? CCTALK_HOPPER;
    this.retries = config.retries ?? 2;
    this.link = new ReconnectingSerial(
      factory,
      { path: config.path, baudRate: config.baudRate ?? 9600 },
      config.backoff,
      logger,
    );
    this.bus = new CctalkLink(this.link, { timeoutMs: config.timeoutMs });
    this.link.on('open', () => {
      this.ready = this.initialise();
      this.ready.catch(() => undefined);
    });
    this.link.on('status', (s) => {
      if (s === 'offline') {
        this.ready = undefined;
        this.setStatus('offline');
      }
    });
  }

  get status(): HopperStatus {
    return this.current;
  }

  start(): void {
    this.link.start();
    this.scheduleIdlePoll();
  }

  private scheduleIdlePoll(): void {
    const every = this.config.idlePollMs ?? 2000;
    if (every <= 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      void this.idlePoll().finally(() => this.scheduleIdlePoll());
    }, every);
    this.idleTimer.unref?.();
  }

  /**
   * Between payouts only (a payout polls by itself, and never shares its line with this): a hopper
   * that stopped answering goes `offline` (and is initialised anew when asked); one that answers
   * again after that is initialised (enable again) and goes `ok`.
   */
  private async idlePoll(): Promise<void> {
    if (this.closed || this.busy || !this.ready) return;
    try {
      await this.ready;
    } catch {
      if (this.closed || this.busy) return;
      this.ready = this.initialise();
      await this.ready.catch(() => undefined);
      return;
    }
    if (this.busy) return;
    try {
      await this.read(HEADER.SIMPLE_POLL);
    } catch (err) {
      if (this.closed || this.busy) return;
      this.logger.warn({ path: this.config.path, err: (err as Error).message }, 'hopper stopped answering');
      this.toldSilent = true;
      this.setStatus('offline');
      const failed = Promise.reject(err as Error);
      failed.catch(() => undefined);
      this.ready = failed;
    }
  }

  private setStatus(status: HopperStatus): void {
    if (this.current === status) return;
    this.current = status;
    this.emit('status', status);
  }

  private read(header: number, data: number[] = []): Promise<Buffer> {
    return this.bus.request(this.address, header, data, { retries: this.retries });
  }

  private async initialise(): Promise<void> {
    try {
      await this.read(HEADER.SIMPLE_POLL);
      const serial = await this.read(HEADER.REQUEST_SERIAL_NUMBER);
      this.serial = [serial[0] ?? 0, serial[1] ?? 0, serial[2] ?? 0];
      await this.read(HEADER.ENABLE_HOPPER, [165]);
      this.logger.info(
        { path: this.config.path, address: this.address, serial: readUint24(serial) },
        'hopper ready',
      );
      this.toldSilent = false;
      if (this.current === 'offline') this.setStatus('ok');
    } catch (err) {
      // Once per outage: the idle poll asks again every few seconds.
      if (!this.toldSilent)
        this.logger.warn({ path: this.config.path, err: (err as Error).message }, 'hopper not answering');
      this.toldSilent = true;
      this.setStatus('offline');
      throw err;
    }
  }

  private async whenReady(): Promise<void> {
    if (this.closed || !this.ready) throw new HopperError('hopper offline', 'offline');
    try {
      await this.ready;
    } catch (err) {
      // Ask again: the hopper may have been powered up after the port opened.
      this.ready = this.initialise();
      await this.ready.catch(() => {
        throw new HopperError(`hopper offline: ${(err as Error).message}`, 'offline');
      });
    }
  }

  async counters(): Promise<HopperCounters> {
    const s = await this.read(HEADER.REQUEST_HOPPER_STATUS);
    const counters: HopperCounters = {
      event: s[0] ?? 0,
      remaining: s[1] ?? 0,
      paid: s[2] ?? 0,
      unpaid: s[3] ?? 0,
    };
    if (this.hasLifetime) {
      try {
        counters.lifetime = readUint24(await this.read(HEADER.REQUEST_HOPPER_DISPENSE_COUNT));
      } catch (err) {
        if ((err as CctalkError).reason !== 'nak') throw err;
        this.hasLifetime = false;
      }
    }
    return counters;
  }

  async dispense(
    coins: number,
    beforeSend?: (intent: DispenseIntent) => Promise<void>,
  ): Promise<PayoutResult> {
    if (!Number.isInteger(coins) || coins < 1 || coins > MAX_COINS_PER_DISPENSE) {
      throw new HopperError(`coins must be 1..${MAX_COINS_PER_DISPENSE}, got ${coins}`, 'invalid');
    }
    if (this.busy) throw new HopperError('a payout is already running', 'busy');
    this.busy = true;
    try {
      await this.whenReady();
      let before: HopperCounters;
      try {
        before = await this.counters();
      } catch (err) {
        throw new HopperError(`hopper counters unreadable: ${(err as Error).message}`, 'offline');
      }
      const intent: DispenseIntent = { coins, coinCents: this.coinCents, before };
      await beforeSend?.(intent);
      return await this.run(intent);
    } finally {
      this.busy = false;
    }
  }

  private async run(intent: DispenseIntent): Promise<PayoutResult> {
    const { coins, before } = intent;
    const serial = this.serial ?? [0, 0, 0];
    try {
      // Sent exactly once: a lost ACK does not mean a lost command; the counters tell.
      await this.bus.request(this.address, HEADER.DISPENSE_HOPPER_COINS, [...serial, coins]);
    } catch (err) {
      const reason = (err as CctalkError).reason;
      this.logger.warn({ reason, coins }, 'hopper dispense not acknowledged; reading counters');
      if (reason === 'nak') {
        return payoutResult('not_sent', coins, 0, this.coinCents, { fault: 'refused' });
      }
    }
    return this.follow(intent, before);
  }

  /** Polls the counters until the payout ended, stalled or the hopper went silent. */
  private async follow(intent: DispenseIntent, before: HopperCounters): Promise<PayoutResult> {
    const { coins } = intent;
    const pollMs = this.config.pollMs ?? 100;
    const stallMs = this.config.stallMs ?? 5000;
    const silentMs = this.config.silentMs ?? 3000;
    const expected = nextEvent(before.event);
    // Monotonic: the wall clock of a Pi without RTC jumps by hours when time sync arrives, which would
    // stop a healthy payout at once (forward) or never call a silent hopper silent (back).
    const clock = () => performance.now();
    let lastPaid = -1;
    let progressAt = clock();
    let answeredAt = clock();
    let stoppedAt: number | undefined;
    let seenPaid = 0;
    for (;;) {
      let now: HopperCounters;
      try {
        const s = await this.read(HEADER.REQUEST_HOPPER_STATUS);
        now = { event: s[0] ?? 0, remaining: s[1] ?? 0, paid: s[2] ?? 0, unpaid: s[3] ?? 0 };
        answeredAt = clock();
      } catch (err) {
        if (clock() - answeredAt >= silentMs || this.closed) {
          this.logger.error({ coins, paidSoFar: seenPaid, err: (err as Error).message }, 'hopper silent');
          this.setStatus('offline');
          return payoutResult('unknown', coins, seenPaid, this.coinCents, { fault: 'offline' });
        }
        await sleep(pollMs);
        continue;
      }
      if (now.event !== expected) {
        // The command never arrived (or the hopper reset before taking it).
        if (now.event === before.event && before.event !== 0) {
          return payoutResult('not_sent', coins, 0, this.coinCents, { fault: 'offline', after: now });
        }
        const settled = await this.settleNow(intent);
        return settled;
      }
      seenPaid = now.paid;
      if (now.remaining === 0) return this.finish(intent, now);
      if (now.paid !== lastPaid) {
        lastPaid = now.paid;
        progressAt = clock();
      } else if (stoppedAt !== undefined && clock() - stoppedAt >= stallMs) {
        // Not even the emergency stop ended it: the operator must look and count.
        this.setStatus('jammed');
        return payoutResult('unknown', coins, now.paid, this.coinCents, { fault: 'jammed', after: now });
      } else if (stoppedAt === undefined && clock() - progressAt >= stallMs) {
        this.logger.warn({ coins, paid: now.paid }, 'hopper payout stalled: emergency stop');
        stoppedAt = clock();
        await this.bus
          .request(this.address, HEADER.EMERGENCY_STOP, [], { retries: this.retries })
          .catch(() => undefined);
        continue;
      }
      await sleep(pollMs);
    }
  }

  private async settleNow(intent: DispenseIntent): Promise<PayoutResult> {
    try {
      return settleFromCounters(intent, await this.counters());
    } catch {
      return payoutResult('unknown', intent.coins, 0, this.coinCents, { fault: 'offline' });
    }
  }

  private async finish(intent: DispenseIntent, now: HopperCounters): Promise<PayoutResult> {
    const { coins, before } = intent;
    let after: HopperCounters = now;
    try {
      after = await this.counters();
    } catch {
      // The 166 answer already says what was paid.
    }
    const paid = Math.min(coins, now.paid);
    if (after.lifetime !== undefined && before.lifetime !== undefined) {
      const delta = after.lifetime - before.lifetime;
      if (delta !== paid) this.logger.warn({ paid, lifetimeDelta: delta }, 'hopper counters disagree');
    }
    if (paid === coins) {
      this.setStatus('ok');
      return payoutResult('complete', coins, paid, this.coinCents, { after });
    }
    const fault = await this.faultKind();
    this.setStatus(fault === 'empty' ? 'empty' : 'jammed');
    this.logger.warn({ coins, paid, fault }, 'hopper payout short');
    return payoutResult('short', coins, paid, this.coinCents, { fault, after });
  }

  private async faultKind(): Promise<'empty' | 'jammed' | 'fault'> {
    try {
      const flags = (await this.read(HEADER.TEST_HOPPER))[0] ?? 0;
      if (flags & (FLAG_OPTO_BLOCKED_PAYOUT | FLAG_MAX_CURRENT)) return 'jammed';
      if (flags & FLAG_PAYOUT_TIMEOUT) return 'empty';
      return 'fault';
    } catch {
      return 'fault';
    }
  }

  refilled(): void {
    // A jam is latched in the hopper's flags until its next payout, and nothing else tells that a
    // technician cleared it: the fill booked from the service menu does (the hopper was open in their
    // hands). Safe either way: a payout reads the counters back, so a jam still there pays short, is
    // known to the coin, and the rest becomes a voucher.
    if (this.current === 'empty' || this.current === 'jammed') this.setStatus('ok');
  }

  async settle(intent: DispenseIntent): Promise<PayoutResult> {
    await this.whenReady();
    // A payout may still be running (the kiosk restarted, the hopper did not): wait for its end.
    return this.follow(intent, intent.before);
  }

  async probe(): Promise<ProbeResult> {
    const where = `${this.config.path} ccTalk ${this.address}`;
    const base = { device: 'hopper', driver: 'cctalk', where, required: this.config.required ?? false };
    const failed = await probeCctalkLine(
      base,
      this.link,
      this.config.path,
      this.address,
      () => this.read(HEADER.SIMPLE_POLL),
      "hopper's supply (12/24 V)",
    );
    return failed ?? { ...base, found: true, status: this.current };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.bus.close();
    await this.link.close();
    this.setStatus('offline');
  }
}
