/**
 * Plays a PN532 on the far side of a serial link, for tests: parses the host's frames with the real
 * parser, answers with ACK and a response, and holds a card on the reader when told. Transport-neutral:
 * feed it the host's bytes with `receive()` and give it a `send` function (the serialport mock's `emit`,
 * or a write to the device end of a socat pty).
 */
import { ACK, buildFrame, CMD, TFI_CHIP, TFI_HOST } from './pn532-frame.js';
import { Pn532FrameParser } from './pn532-frame-parser.js';

const ERROR_FRAME = Buffer.from([0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00]);

export class FakePn532Chip {
  private readonly parser = new Pn532FrameParser();
  private card: Buffer | undefined;
  private awake = false;
  private lastResponse: Buffer | undefined;
  /** Command codes received, in order. */
  readonly commands: number[] = [];
  /** When true the chip answers nothing (unpowered, TX/RX crossed). */
  silent = false;
  /** Corrupt the DCS of the next N responses (the host should NACK and get a clean repeat). */
  corruptResponses = 0;
  /** Split every answer into chunks of this many bytes, to exercise the host's parser. */
  chunkSize = 0;

  constructor(private readonly send: (bytes: Buffer) => void) {}

  /** Puts a card with this UID on the reader (hex string or bytes), or takes it away (undefined). */
  hold(uid: string | Buffer | undefined): void {
    this.card = typeof uid === 'string' ? Buffer.from(uid, 'hex') : uid;
  }

  receive(bytes: Buffer): void {
    if (this.silent) return;
    // HSU wake-up: the 0x55 preamble brings the chip out of power-down.
    if (bytes.includes(0x55)) this.awake = true;
    for (const p of this.parser.push(bytes)) {
      if (p.kind === 'nack') {
        if (this.lastResponse) this.out(this.lastResponse);
        continue;
      }
      if (p.kind !== 'frame' || p.tfi !== TFI_HOST) continue;
      const code = p.data[0] ?? 0;
      this.commands.push(code);
      if (!this.awake) continue; // asleep: no ACK, the host will time out
      this.out(ACK);
      const response = this.answer(code);
      this.lastResponse = response;
      if (this.corruptResponses > 0) {
        this.corruptResponses--;
        const bad = Buffer.from(response);
        bad[bad.length - 2] = ((bad[bad.length - 2] ?? 0) + 1) & 0xff;
        this.out(bad);
      } else {
        this.out(response);
      }
    }
  }

  /** Power cycle: the chip sleeps until the next wake-up. */
  sleep(): void {
    this.awake = false;
  }

  private answer(code: number): Buffer {
    switch (code) {
      case CMD.SAMConfiguration:
        return buildFrame([0x15], TFI_CHIP);
      case CMD.GetFirmwareVersion:
        return buildFrame([0x03, 0x32, 0x01, 0x06, 0x07], TFI_CHIP);
      case CMD.RFConfiguration:
        return buildFrame([0x33], TFI_CHIP);
      case CMD.InListPassiveTarget:
        if (!this.card) return buildFrame([0x4b, 0x00], TFI_CHIP);
        return buildFrame([0x4b, 0x01, 0x01, 0x00, 0x44, 0x00, this.card.length, ...this.card], TFI_CHIP);
      default:
        return ERROR_FRAME;
    }
  }

  private out(bytes: Buffer): void {
    if (!this.chunkSize) {
      this.send(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += this.chunkSize) this.send(bytes.subarray(i, i + this.chunkSize));
  }
}
