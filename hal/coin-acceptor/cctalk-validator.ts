/**
 * A ccTalk coin validator on a serial port (9600 8N1, shared data line), with per-coin inhibit.
 *
 * After each (re)open: simple poll (254), the coin id of every channel (184, `EU200A` = 200 cents;
 * `channels` in the config overrides), then the kiosk's wanted state: per-channel inhibit (231, a
 * 2-byte mask, a set bit enables the channel) and master inhibit (228). A channel whose value is not
 * in `accept` is disabled: the validator returns that coin to the cup itself (`perCoinInhibit`).
 *
 * Credits: 229 (read buffered credit or error codes) every `pollMs`, while accepting and while not
 * (a coin in flight when the kiosk inhibits still lands). The answer is the event counter and the
 * last five results, newest first: a credit (channel, sorter path) or an error (0, code). The counter
 * goes up by one per result and wraps 255 -> 1; 0 only after power-up or reset. Only results past the
 * last counter seen are new, so a credit is never counted twice and none is skipped; more than five
 * new results means some were lost (a `fault`: money may be in the box that no `coin` reports).
 *
 * Money rule across a restart: every `coin` carries `event`, the validator's counter of that credit.
 * The app journals it with the coin (before the flow counts the coin) and, at the next start, hands
 * the last journaled one to `resumeFrom`: results after it are reported now (a credit the kiosk saw
 * but had not journaled when it died comes again, once), results up to it never again. Without a
 * resume point the first answer is the baseline (a new kiosk, a new journal). A counter of 0 means the
 * validator lost power too: its buffer is empty, there is nothing to catch up.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { CoinAcceptor, CoinAcceptorEvents, CoinEvent } from './coin-acceptor.js';
import { isAccepted } from './coin-acceptor.js';
import { CCTALK_VALIDATOR, HEADER } from '../io/cctalk-frame.js';
import type { CctalkError } from '../io/cctalk-link.js';
import { CctalkLink, probeCctalkLine } from '../io/cctalk-link.js';
import type { ReconnectConfig } from '../io/reconnect.js';
import { ReconnectingSerial } from '../io/reconnect.js';
import type { SerialPortFactory } from '../io/serial-port.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface CctalkValidatorConfig {
  path: string;
  /** ccTalk's usual speed. Default 9600. */
  baudRate?: number;
  /** The validator's ccTalk address. Default 2. */
  address?: number;
  /** Channel (1..16) -> cents; channels left out are read with 184. */
  channels?: Record<string, number>;
  /** Reply timeout per request. Default 500 ms. */
  timeoutMs?: number;
  /** Extra attempts for a request (all of the validator's are safe to repeat). Default 2. */
  retries?: number;
  /** Credit poll interval. Default 200 ms (validators want a poll at least every second or so). */
  pollMs?: number;
  backoff?: ReconnectConfig;
  required?: boolean;
}

/** Error codes of 229 results (generic ccTalk spec; validators add their own: check the manual). */
const ERROR_TEXT: Record<number, string> = {
  1: 'coin rejected',
  2: 'inhibited coin returned',
  3: 'multiple window',
  5: 'validation timeout',
  6: 'credit sensor timeout',
  8: 'second close coin',
  14: 'credit sensor blocked',
  15: 'sorter opto blocked',
  17: 'coin going backwards',
  254: 'coin return lever',
};
/** Codes that are the validator refusing a coin as asked (or a bad coin): not a fault. */
const ROUTINE_ERRORS = new Set([1, 2, 254]);

export const CCTALK_CHANNELS = 16;
/** Results one 229 answer carries. */
export const BUFFERED_RESULTS = 5;

/** How many results lie between the counter `last` and `now` (0 after a reset to 0). */
export function newEvents(last: number, now: number): number {
  if (now === last || now === 0) return 0;
  if (last === 0) return now;
  return now > last ? now - last : now + 255 - last;
}

/**
 * Whether the validator was reset (powered up) since the counter `last`, seen in a 229 `answer` with
 * counter `now`: 0, or (results came after the power-up, before this read) a counter behind `last`
 * whose buffer is empty past its `now` results. Without a reset those slots would hold the results
 * before the wrap, and a result is never the null pair (0, 0).
 */
export function wasReset(last: number, now: number, answer: Buffer): boolean {
  if (now === 0) return last !== 0;
  if (now >= last || now >= BUFFERED_RESULTS) return false;
  return (answer[1 + now * 2] ?? 0) === 0 && (answer[2 + now * 2] ?? 0) === 0;
}

/** The counter `back` results before `now` (the wrap skips 0). */
export function eventBefore(now: number, back: number): number {
  let e = now - back;
  while (e < 1) e += 255;
  return e;
}

/** The value of a ccTalk coin id such as `EU200A` (3 digits: cents); null for an empty channel or other forms. */
export function coinIdValue(id: string): number | null {
  const m = /^[A-Z]{2}(\d{3})[A-Z]$/.exec(id);
  if (!m) return null;
  const cents = Number(m[1]);
  return cents > 0 ? cents : null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CctalkCoinValidator extends EventEmitter<CoinAcceptorEvents> implements CoinAcceptor {
  private readonly link: ReconnectingSerial;
  private readonly bus: CctalkLink;
  private readonly address: number;
  private readonly retries: number;
  /** Channel -> cents, as configured and read. */
  private readonly channels = new Map<number, number>();
  private values: number[] = [];
  /** What the kiosk wants (applied at every (re)initialisation). */
  private wantOpen = false;
  private accept: readonly number[] | undefined;
  private open = false;
  /** The counter of the last result handled; undefined until the first answer (or `resumeFrom`). */
  private last: number | undefined;
  /**
   * When the last answered 229 was asked (Date.now()): every result up to `last` had happened by
   * then, so results lost past the buffer happened after it. Undefined before this run's first answer
   * (a resume point from the journal: the last read was before this start).
   */
  private readAt: number | undefined;
  private ready = false;
  private initialising: Promise<void> | undefined;
  /** The inhibit application on the line (apply), so that the next waits for it. */
  private applying: Promise<void> = Promise.resolve();
  private polling = false;
  private closed = false;
  private silentReported = false;
  readonly perCoinInhibit = true;
  /** Results handled and credits lost, for the probe and the tests. */
  readonly stats = { credits: 0, errors: 0, lost: 0 };

  constructor(
    private readonly config: CctalkValidatorConfig,
    factory: SerialPortFactory,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.address = config.address ?? CCTALK_VALIDATOR;
    this.retries = config.retries ?? 2;
    for (const [ch, cents] of Object.entries(config.channels ?? {})) {
      this.channels.set(Number(ch), cents);
    }
    this.refreshValues();
    this.link = new ReconnectingSerial(
      factory,
      { path: config.path, baudRate: config.baudRate ?? 9600 },
      config.backoff,
      logger,
    );
    this.bus = new CctalkLink(this.link, { timeoutMs: config.timeoutMs });
    this.link.on('open', () => {
      this.initialising = this.initialise().catch(() => undefined);
    });
    this.link.on('status', (s) => {
      if (s === 'offline') this.ready = false;
    });
  }

  get accepting(): boolean {
    return this.open;
  }

  get coinValues(): readonly number[] {
    return this.values;
  }

  /** The last event counter the journal holds with a coin; call before `start`. */
  resumeFrom(event: number | undefined): void {
    if (event !== undefined && Number.isInteger(event) && event >= 0 && event <= 255) this.last = event;
  }

  /** The counter of the last result handled (what the journal gets with the next coin). */
  get lastEvent(): number | undefined {
    return this.last;
  }

  async start(): Promise<void> {
    this.link.start();
    this.polling = true;
    void this.pollLoop();
  }

  /** Resolves once the validator answered its start-up (coin ids read, inhibit set), at most `ms` later. */
  async initialised(ms: number): Promise<boolean> {
    const end = performance.now() + ms;
    while (!this.ready && performance.now() < end && !this.closed) await sleep(Math.min(50, ms));
    return this.ready;
  }

  private refreshValues(): void {
    this.values = [...new Set(this.channels.values())].sort((a, b) => a - b);
  }

  private request(header: number, data: number[] = []): Promise<Buffer> {
    return this.bus.request(this.address, header, data, { retries: this.retries });
  }

  private async initialise(): Promise<void> {
    try {
      await this.request(HEADER.SIMPLE_POLL);
      for (let ch = 1; ch <= CCTALK_CHANNELS; ch++) {
        if (this.config.channels?.[String(ch)] !== undefined) continue;
        const id = (await this.request(HEADER.REQUEST_COIN_ID, [ch])).toString('latin1');
        const cents = coinIdValue(id);
        if (cents === null) this.channels.delete(ch);
        else this.channels.set(ch, cents);
      }
      this.refreshValues();
      this.ready = true;
      // The baseline before any channel opens: a coin taken after this is never mistaken for history.
      if (this.last === undefined) await this.poll();
      await this.apply();
      this.silentReported = false;
      this.logger.info(
        { path: this.config.path, address: this.address, coins: this.values },
        'coin validator ready',
      );
    } catch (err) {
      this.ready = false;
      // Said once per silence: the start-up is tried again every poll while it lasts.
      if (!this.silentReported) {
        this.silentReported = true;
        this.logger.warn(
          { path: this.config.path, err: (err as Error).message },
          'coin validator not answering',
        );
        this.emit('fault', `coin validator not answering: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  /** The inhibit mask of the channels whose value is wanted. */
  private mask(): [number, number] {
    let bits = 0;
    for (const [ch, cents] of this.channels) {
      if (ch >= 1 && ch <= CCTALK_CHANNELS && isAccepted(this.accept, cents)) bits |= 1 << (ch - 1);
    }
    return [bits & 0xff, (bits >> 8) & 0xff];
  }

  /**
   * Sends the wanted state, one application at a time, each reading the wish when its turn comes: two
   * running at once (the start-up's inhibit and the kiosk's first wish) would interleave their frames
   * on the line and could leave the start-up's mask 00 00 under the kiosk's master on, or the reverse.
   */
  private apply(): Promise<void> {
    const run = this.applying.then(
      () => this.applyNow(),
      () => this.applyNow(),
    );
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Refusing first when closing, the mask first when opening. */
  private async applyNow(): Promise<void> {
    const [lo, hi] = this.mask();
    const open = this.wantOpen && (lo !== 0 || hi !== 0);
    if (!open) {
      this.open = false;
      await this.request(HEADER.MODIFY_MASTER_INHIBIT, [0]);
      await this.request(HEADER.MODIFY_INHIBIT_STATUS, [0, 0]);
      return;
    }
    await this.request(HEADER.MODIFY_INHIBIT_STATUS, [lo, hi]);
    await this.request(HEADER.MODIFY_MASTER_INHIBIT, [1]);
    this.open = true;
  }

  async setAccepting(accepting: boolean, accept?: readonly number[]): Promise<void> {
    if (this.closed && accepting) throw new Error('coin validator is closed');
    this.wantOpen = accepting;
    this.accept = accepting && accept !== undefined ? [...accept] : undefined;
    // Refusing counts at once (a coin now is "while inhibited"), whether or not the validator answers.
    if (!accepting) this.open = false;
    if (!this.ready) return; // applied when it answers (initialise)
    await this.apply();
    this.logger.debug({ accepting: this.open, accept }, 'coin validator inhibit set');
  }

  private async pollLoop(): Promise<void> {
    const pollMs = this.config.pollMs ?? 200;
    while (this.polling) {
      if (this.ready) await this.poll().catch(() => undefined);
      else if (this.initialising) {
        await this.initialising;
        // A validator that did not answer its start-up (no supply yet, a brown-out as the kiosk
        // started) is asked again while the port stays open: a USB adapter stays plugged, so the
        // link's reopen, which would run the start-up, never comes.
        if (!this.ready && this.polling && this.link.status === 'online') {
          this.initialising = this.initialise().catch(() => undefined);
        }
      }
      await sleep(pollMs);
    }
  }

  /** One 229: reports the results after the last one handled, oldest first. */
  async poll(): Promise<void> {
    let answer: Buffer;
    const asked = Date.now();
    try {
      answer = await this.request(HEADER.READ_BUFFERED_CREDIT);
    } catch (err) {
      if (!this.silentReported && (err as CctalkError).reason !== 'closed') {
        this.silentReported = true;
        this.emit('fault', `coin validator not answering: ${(err as Error).message}`);
      }
      throw err;
    }
    const afterSilence = this.silentReported;
    this.silentReported = false;
    const now = answer[0] ?? 0;
    const readBefore = this.readAt;
    this.readAt = asked;
    if (this.last === undefined) {
      // No resume point: what is in the buffer was before this kiosk's time. The journal gets the
      // baseline, or a coin taken before the next start would count as history then.
      this.last = now;
      this.emit('counter', now);
      return;
    }
    const reset = wasReset(this.last, now, answer);
    if (reset) {
      // A reset (power-up: 0) must be durable: the next credit is 1 again, which the journal may hold
      // from before the reset, so a coin taken while the kiosk is down would look already counted.
      this.last = 0;
      this.emit('counter', 0);
      this.logger.warn(
        { path: this.config.path, now },
        'coin validator was reset (power-up): inhibits set again',
      );
    }
    const count = newEvents(this.last, now);
    if (count > 0) this.report(answer, now, count, readBefore);
    // A reset is back to "all refused": what the kiosk wants, again. After a silence too (a brown-out,
    // the supply unplugged): a reset whose counter is already past what `wasReset` can tell leaves
    // every channel inhibited under a kiosk that believes it is accepting.
    if (reset || afterSilence) await this.apply();
  }

  /**
   * Reports `count` results up to `now`, oldest first (the loss of those past the buffer first, with
   * when the answer before was asked: the lost results happened since).
   */
  private report(answer: Buffer, now: number, count: number, readBefore: number | undefined): void {
    if (count > BUFFERED_RESULTS) {
      const lost = count - BUFFERED_RESULTS;
      this.stats.lost += lost;
      const message = `coin validator: ${lost} results lost (counter ${this.last} -> ${now}): count the cash box`;
      this.logger.error({ last: this.last, now }, message);
      // Moved on first, as for a credit: the next poll must not report the same loss again.
      this.last = eventBefore(now, BUFFERED_RESULTS);
      this.emit('lost', lost, this.last, readBefore);
      this.emit('fault', message);
    }
    for (let back = Math.min(count, BUFFERED_RESULTS) - 1; back >= 0; back--) {
      const a = answer[1 + back * 2] ?? 0;
      const b = answer[2 + back * 2] ?? 0;
      const event = eventBefore(now, back);
      // Moved on before reporting: a listener that throws must not make the next poll report it again.
      this.last = event;
      if (a === 0) this.error(b, event);
      else this.credit(a, event);
    }
  }

  private credit(channel: number, event: number): void {
    const cents = this.channels.get(channel);
    if (cents === undefined) {
      const message = `coin validator: credit on channel ${channel} of unknown value (event ${event}): count the cash box`;
      this.logger.error({ channel, event }, message);
      this.emit('fault', message);
      return;
    }
    this.stats.credits++;
    const coin: CoinEvent = {
      cents,
      pulses: 1,
      at: Date.now(),
      source: 'coin',
      whileInhibited: !this.open,
      combined: false,
      event,
      ...(this.open && !isAccepted(this.accept, cents) ? { notAccepted: true } : {}),
    };
    this.logger.info({ ...coin, channel }, 'money counted');
    this.emit('coin', coin);
  }

  private error(code: number, event: number): void {
    if (code === 0) return; // a null event
    this.stats.errors++;
    const text = ERROR_TEXT[code] ?? `error code ${code}`;
    if (ROUTINE_ERRORS.has(code)) {
      this.logger.info({ code, event }, `coin validator: ${text}`);
      return;
    }
    this.logger.warn({ code, event }, `coin validator: ${text}`);
    this.emit('fault', `coin validator: ${text} (event ${event})`);
  }

  async probe(): Promise<ProbeResult> {
    const where = `${this.config.path} ccTalk ${this.address}`;
    const base = { device: 'coin', driver: 'cctalk', where, required: this.config.required ?? true };
    const failed = await probeCctalkLine(
      base,
      this.link,
      this.config.path,
      this.address,
      () => this.request(HEADER.SIMPLE_POLL),
      "validator's supply (12 V)",
    );
    if (failed) return failed;
    if (this.values.length === 0) {
      return {
        ...base,
        found: true,
        status: 'no coins',
        hint: 'no channel has a coin id: program the validator or set channels',
      };
    }
    return {
      ...base,
      found: true,
      status: this.stats.lost > 0 ? `ok (${this.stats.lost} results lost)` : 'ok',
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.polling = false;
    this.wantOpen = false;
    this.open = false;
    if (this.ready) {
      await this.request(HEADER.MODIFY_MASTER_INHIBIT, [0]).catch(() => undefined);
      // A coin that landed while closing is money: one last read.
      await this.poll().catch(() => undefined);
    }
    this.closed = true;
    this.bus.close();
    await this.link.close();
  }
}
