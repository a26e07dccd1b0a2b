/**
 * Plays a ccTalk payout hopper on the far side of a serial link, byte for byte, for tests: parses the
 * host's frames with the real parser, answers with checksummed frames from its own address, keeps the
 * counters a hopper keeps (event counter, remaining/paid/unpaid of the last payout, a non-volatile
 * lifetime count) and pays coins when the host asks for the status, `coinsPerPoll` at a time (a real
 * hopper pays in its own time; tying it to polls keeps the tests free of timing).
 *
 * Faults: `coins` running out (empty), `jamAfter` (the coin path blocks after that many coins of a
 * payout: the hopper ends it itself with the rest unpaid), `hang` (the motor stalls and only an
 * emergency stop ends the payout), `powerCut()` (volatile counters lost, lifetime kept), `silent`.
 * `echo` plays the shared data line: the host's bytes come back before the answer.
 */
import { CCTALK_HOPPER, HEADER, readUint24, uint24 } from '../io/cctalk-frame.js';
import { FakeCctalkDevice } from '../io/fake-cctalk-device.js';

const FLAG_PAYOUT_TIMEOUT = 0x02;
const FLAG_OPTO_BLOCKED_PAYOUT = 0x20;
const FLAG_POWER_UP = 0x40;

export interface FakeHopperOptions {
  address?: number;
  serial?: number;
  coins?: number;
  echo?: boolean;
  /** Supports 168 (lifetime dispense count). Default true; false makes it NAK, like hoppers without it. */
  lifetime?: boolean;
}

export class FakeCctalkHopper extends FakeCctalkDevice {
  readonly serial: number;
  /** Coins in the hopper. */
  coins: number;
  lifetimeSupported: boolean;
  enabled = false;
  event = 0;
  remaining = 0;
  paid = 0;
  unpaid = 0;
  lifetime = 0;
  flags = FLAG_POWER_UP;
  /** Coins paid per status request while a payout runs. */
  coinsPerPoll = Number.POSITIVE_INFINITY;
  /** The coin path blocks after this many coins of the next payout. */
  jamAfter: number | undefined;
  /** The motor stalls: the payout neither ends nor pays until an emergency stop. */
  hang = false;
  /** Swallow the ACK of the next dispense (a lost reply: the dispense still runs). */
  dropNextDispenseAck = false;
  /** Cut the power when the current payout has paid this many coins. */
  powerCutAfter: number | undefined;
  /** Every dispense command's coin count (a repeated dispense is a test failure). */
  readonly dispenses: number[] = [];
  private payoutPaid = 0;

  constructor(send: (bytes: Buffer) => void, options: FakeHopperOptions = {}) {
    super(send, options.address ?? CCTALK_HOPPER, options.echo ?? false);
    this.serial = options.serial ?? 0x123456;
    this.coins = options.coins ?? 100;
    this.lifetimeSupported = options.lifetime ?? true;
  }

  private ack(data: number[] = []) {
    return { header: HEADER.ACK, data };
  }

  protected answer(header: number, data: Buffer): { header: number; data: number[] } | undefined {
    switch (header) {
      case HEADER.SIMPLE_POLL:
        return this.ack();
      case HEADER.REQUEST_SERIAL_NUMBER:
        return this.ack(uint24(this.serial));
      case HEADER.REQUEST_EQUIPMENT_CATEGORY:
        return this.ack([...Buffer.from('Payout', 'ascii')]);
      case HEADER.ENABLE_HOPPER:
        this.enabled = data[0] === 165;
        return this.ack();
      case HEADER.REQUEST_HOPPER_STATUS:
        this.advance();
        if (this.silent) return undefined;
        return this.ack([this.event, this.remaining, this.paid, this.unpaid]);
      case HEADER.REQUEST_HOPPER_DISPENSE_COUNT:
        return this.lifetimeSupported ? this.ack(uint24(this.lifetime)) : { header: HEADER.NAK, data: [] };
      case HEADER.TEST_HOPPER:
        return this.ack([this.flags, 0]);
      case HEADER.EMERGENCY_STOP: {
        const left = this.remaining;
        this.endPayout();
        return this.ack([left]);
      }
      case HEADER.RESET_DEVICE:
        this.powerCut();
        return this.ack();
      case HEADER.DISPENSE_HOPPER_COINS:
        return this.dispense(data);
      default:
        return { header: HEADER.NAK, data: [] };
    }
  }

  private dispense(data: Buffer): { header: number; data: number[] } | undefined {
    const count = data[3] ?? 0;
    if (data.length !== 4 || readUint24(data) !== this.serial || !this.enabled || this.remaining > 0) {
      return { header: HEADER.NAK, data: [] };
    }
    this.dispenses.push(count);
    this.event = this.event >= 255 ? 1 : this.event + 1;
    this.remaining = count;
    this.paid = 0;
    this.unpaid = 0;
    this.payoutPaid = 0;
    this.flags &= ~(FLAG_PAYOUT_TIMEOUT | FLAG_OPTO_BLOCKED_PAYOUT);
    if (this.dropNextDispenseAck) {
      this.dropNextDispenseAck = false;
      return undefined;
    }
    return this.ack([count]);
  }

  /** Pays what the motor would have paid since the last status request. */
  private advance(): void {
    if (this.remaining === 0 || this.hang) return;
    let budget = this.coinsPerPoll;
    while (this.remaining > 0 && budget > 0) {
      if (this.jamAfter !== undefined && this.payoutPaid >= this.jamAfter) {
        this.flags |= FLAG_OPTO_BLOCKED_PAYOUT | FLAG_PAYOUT_TIMEOUT;
        this.jamAfter = undefined;
        this.endPayout();
        return;
      }
      if (this.coins === 0) {
        this.flags |= FLAG_PAYOUT_TIMEOUT;
        this.endPayout();
        return;
      }
      this.coins--;
      this.remaining--;
      this.paid++;
      this.payoutPaid++;
      this.lifetime++;
      budget--;
      if (this.powerCutAfter !== undefined && this.payoutPaid >= this.powerCutAfter) {
        this.powerCutAfter = undefined;
        this.powerCut();
        this.silent = true;
        return;
      }
    }
  }

  private endPayout(): void {
    this.unpaid += this.remaining;
    this.remaining = 0;
    this.hang = false;
  }

  /** Power gone and back: volatile counters lost (event 0), lifetime count kept, disabled. */
  powerCut(): void {
    this.event = 0;
    this.remaining = 0;
    this.paid = 0;
    this.unpaid = 0;
    this.enabled = false;
    this.flags = FLAG_POWER_UP;
    this.resetLine();
  }
}
