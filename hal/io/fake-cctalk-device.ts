/**
 * The far side of a ccTalk line, for the byte-level fakes of a device (hopper, coin validator): the
 * host's bytes go through the real frame parser, frames for this address are answered with a
 * checksummed frame from it. `echo` plays the shared data line (the host's bytes come back before the
 * answer); `silent` answers nothing (no supply, data line broken). A device answers by `answer`, or
 * not at all (`undefined`: a lost reply).
 */
import { buildFrame, CctalkFrameParser } from './cctalk-frame.js';

export abstract class FakeCctalkDevice {
  private readonly parser = new CctalkFrameParser();
  silent = false;
  /** Headers received, in order. */
  readonly headers: number[] = [];

  protected constructor(
    private readonly send: (bytes: Buffer) => void,
    readonly address: number,
    public echo: boolean,
  ) {}

  protected abstract answer(header: number, data: Buffer): { header: number; data: number[] } | undefined;

  /** The device lost power: a frame half received is gone. */
  protected resetLine(): void {
    this.parser.reset();
  }

  receive(bytes: Buffer): void {
    if (this.echo) this.send(Buffer.from(bytes));
    if (this.silent) return;
    for (const frame of this.parser.push(bytes)) {
      if (frame.destination !== this.address) continue;
      this.headers.push(frame.header);
      const answer = this.answer(frame.header, frame.data);
      // Checked again: answering may have cut the power (a fault a test set up).
      if (answer === undefined || this.silent) continue;
      this.send(
        buildFrame({
          destination: frame.source,
          source: this.address,
          header: answer.header,
          data: answer.data,
        }),
      );
    }
  }
}
