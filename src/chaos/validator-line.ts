/**
 * The chaos kiosk's coin validator on a real serial line: the kiosk runs its ccTalk driver
 * (`hardware.coin.driver: 'cctalk'`) on one end of a socat pseudo-terminal pair, the harness plays
 * the validator byte for byte (FakeCctalkValidator) on the other. A coin is inserted at the
 * validator, not through the control port: the kiosk learns of it only by polling (229), so a power
 * cut between the validator's credit and the journal's write is a real case, and the driver's
 * resume from the journaled event counter is what keeps that coin.
 *
 * The harness holds the kiosk's end open as well, unused: socat ends its transfer loop when the
 * last process closes a pty, and a killed kiosk closes it; the line must survive the kiosk's power
 * cuts as the wire does.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { FakeCctalkValidator } from '../../hal/coin-acceptor/fake-cctalk-validator.js';
import { nodeSerialPortFactory } from '../../hal/io/serial-port-node.js';
import type { SerialPortLike } from '../../hal/io/serial-port.js';
import { startPtyPair, type PtyPair } from '../harness/socat.js';

/** The coins the validator knows (channels 1-5, 10 ct to 2 EUR): a larger value is a note, not its job. */
export const VALIDATOR_MAX_CENTS = 200;

/** Plays a validator on the device's end of a serial line: its bytes in, its answers out. */
export async function playValidator(
  path: string,
): Promise<{ device: FakeCctalkValidator; port: SerialPortLike }> {
  const port = nodeSerialPortFactory.create({ path, baudRate: 9600 });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => {});
  // The shared data line of ccTalk: the host's own bytes come back before the answer.
  const device = new FakeCctalkValidator(
    (bytes) => {
      if (port.isOpen) port.write(bytes);
    },
    { echo: true },
  );
  port.on('data', (chunk: Buffer) => device.receive(chunk));
  return { device, port };
}

export class ValidatorLine {
  private constructor(
    private readonly pair: PtyPair,
    private readonly port: SerialPortLike,
    private readonly holdFd: number,
    readonly device: FakeCctalkValidator,
  ) {}

  static async open(): Promise<ValidatorLine> {
    const pair = await startPtyPair();
    const holdFd = openSync(pair.a, constants.O_RDWR | constants.O_NOCTTY);
    const { device, port } = await playValidator(pair.b);
    return new ValidatorLine(pair, port, holdFd, device);
  }

  /** The kiosk's end, a `/dev/pts/N` path (the config schema wants a device path). */
  get path(): string {
    return this.pair.a;
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
    closeSync(this.holdFd);
    await this.pair.stop();
  }
}
