/**
 * Plays a ccTalk coin validator on the far side of a serial link, byte for byte, for tests: parses the
 * host's frames with the real parser, answers with checksummed frames from its own address, keeps a
 * validator's state (per-channel inhibit mask, master inhibit, the event counter and its 5-result
 * buffer) and takes coins the way the mechanism does: `insert(cents)` credits a coin whose channel is
 * enabled and master inhibit released, and returns any other one (an "inhibited coin" error result).
 *
 * Faults: `powerCut()` (counter back to 0, buffer empty, everything inhibited, as at power-up),
 * `powerOff()`/`powerOn()` (a brown-out or an unplugged supply while the host runs: no answers, and a
 * coin falls through to the return cup uncounted, then the power-up state), `silent` (the data line
 * broken, the mechanism still powered: it goes on taking coins the host cannot read), `echo` (the
 * shared data line: the host's bytes come back before the answer).
 */
import { CCTALK_VALIDATOR, HEADER } from '../io/cctalk-frame.js';
import { FakeCctalkDevice } from '../io/fake-cctalk-device.js';
import { coinIdValue } from './cctalk-validator.js';

export interface FakeValidatorOptions {
  address?: number;
  /** Channel -> coin id, e.g. { 1: 'EU010A', 2: 'EU020A' }. Default: 10 c to 2 EUR on channels 1-5. */
  coins?: Record<number, string>;
  echo?: boolean;
}

const DEFAULT_COINS: Record<number, string> = {
  1: 'EU010A',
  2: 'EU020A',
  3: 'EU050A',
  4: 'EU100A',
  5: 'EU200A',
};
const INHIBITED_COIN = 2;

export class FakeCctalkValidator extends FakeCctalkDevice {
  readonly coins: Record<number, string>;
  /** Channels 1-16, a set bit enables one. */
  mask = 0;
  /** Master inhibit released (accepting). */
  master = false;
  event = 0;
  /** Results, newest first: [channel, sorter] or [0, error code]. */
  results: [number, number][] = [];
  /** Every 231 mask and 228 byte the host sent, in order. */
  readonly inhibitWrites: { header: number; data: number[] }[] = [];
  /** The mechanism has its supply (`powerOff`): without it a coin is neither taken nor counted. */
  powered = true;
  /** The counter of the last 229 answer the host was sent (what it can have read). */
  readEvent = 0;
  /** 229 answers sent, for a caller waiting for the host's next read. */
  reads = 0;
  /** Results since the last 229 answer, oldest first: a credit's cents, or null for an error result. */
  private unread: (number | null)[] = [];
  /**
   * Credits (cents) the host can never read: pushed out of the 5-result buffer before a 229 read
   * them (`overflowed`), or still unread when the power went (`unreadAtPowerCut`). The harness's book.
   */
  readonly dropped = { overflowed: [] as number[], unreadAtPowerCut: [] as number[] };

  constructor(send: (bytes: Buffer) => void, options: FakeValidatorOptions = {}) {
    super(send, options.address ?? CCTALK_VALIDATOR, options.echo ?? false);
    this.coins = options.coins ?? DEFAULT_COINS;
  }

  protected answer(header: number, frame: Buffer): { header: number; data: number[] } {
    const data = [...frame];
    const ack = (d: number[] = []) => ({ header: HEADER.ACK, data: d });
    switch (header) {
      case HEADER.SIMPLE_POLL:
        return ack();
      case HEADER.REQUEST_EQUIPMENT_CATEGORY:
        return ack([...Buffer.from('Coin Acceptor', 'ascii')]);
      case HEADER.REQUEST_COIN_ID:
        return ack([...Buffer.from(this.coins[data[0] ?? 0] ?? '......', 'latin1')]);
      case HEADER.MODIFY_INHIBIT_STATUS:
        if (data.length !== 2) return { header: HEADER.NAK, data: [] };
        this.mask = (data[0] ?? 0) | ((data[1] ?? 0) << 8);
        this.inhibitWrites.push({ header, data });
        return ack();
      case HEADER.MODIFY_MASTER_INHIBIT:
        if (data.length !== 1) return { header: HEADER.NAK, data: [] };
        this.master = ((data[0] ?? 0) & 1) === 1;
        this.inhibitWrites.push({ header, data });
        return ack();
      case HEADER.READ_BUFFERED_CREDIT: {
        const pairs = Array.from({ length: 5 }, (_, i) => this.results[i] ?? [0, 0]).flat();
        this.readEvent = this.event;
        this.reads += 1;
        for (const c of this.unread.slice(0, -5)) if (c !== null) this.dropped.overflowed.push(c);
        this.unread = [];
        return ack([this.event, ...pairs]);
      }
      case HEADER.RESET_DEVICE:
        this.powerCut();
        return ack();
      default:
        return { header: HEADER.NAK, data: [] };
    }
  }

  private channelOf(cents: number): number | undefined {
    for (const [ch, id] of Object.entries(this.coins)) {
      if (coinIdValue(id) === cents) return Number(ch);
    }
    return undefined;
  }

  private push(result: [number, number], cents: number | null): void {
    this.unread.push(cents);
    this.event = this.event >= 255 ? 1 : this.event + 1;
    this.results.unshift(result);
    this.results.length = Math.min(this.results.length, 5);
  }

  /** Credits taken since the host's last 229 read. */
  get unreadCredits(): number {
    return this.unread.filter((c) => c !== null).length;
  }

  /** Powered, master released and some channel enabled: a coin of some value would be credited. */
  get accepting(): boolean {
    return this.powered && this.master && this.mask !== 0;
  }

  /** Whether a coin of this value would be credited now: its channel enabled and the master open. */
  accepts(cents: number): boolean {
    const ch = this.channelOf(cents);
    return ch !== undefined && this.master && (this.mask & (1 << (ch - 1))) !== 0;
  }

  /** A coin at the entry: credited (true) when its channel is enabled, else returned (false). */
  insert(cents: number): boolean {
    // Without power the coin rolls through the open gate to the return cup, and nothing counts it.
    if (!this.powered) return false;
    if (!this.accepts(cents)) {
      this.push([0, INHIBITED_COIN], null);
      return false;
    }
    this.push([this.channelOf(cents)!, 1], cents);
    return true;
  }

  /** Power gone and back: counter 0, nothing buffered, every channel and the master inhibited. */
  powerCut(): void {
    this.event = 0;
    this.results = [];
    this.mask = 0;
    this.master = false;
    this.readEvent = 0;
    for (const c of this.unread) if (c !== null) this.dropped.unreadAtPowerCut.push(c);
    this.unread = [];
    this.resetLine();
  }

  /** The supply gone while the host runs (a brown-out, the 12 V plug pulled): silent, counting nothing. */
  powerOff(): void {
    this.powered = false;
    this.silent = true;
  }

  /** The supply back: the power-up state (`powerCut`), answering again. */
  powerOn(): void {
    this.powerCut();
    this.powered = true;
    this.silent = false;
  }
}
