/**
 * The few `i2c-bus` calls the display driver needs, as an interface so tests can pass the recording
 * fake (`fakes/i2c-lcd-bus.ts`) and the real bus stays one `openPromisified` away.
 *
 * Errors are Node system errors with a `code`: `ENOENT` (no /dev/i2c-N: I2C not enabled),
 * `EREMOTEIO`/`ENXIO` (no acknowledge: wrong address, loose wire, display without power),
 * `EACCES` (user not in the `i2c` group).
 */
import { openPromisified } from 'i2c-bus';

export interface LcdBus {
  /** One I2C write transaction of `length` bytes to `address`. */
  i2cWrite(address: number, length: number, buffer: Buffer): Promise<{ bytesWritten: number }>;
  /** Addresses that acknowledge; `[]` on a missing bus. */
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

/** Opens `/dev/i2c-<busNumber>`; succeeds even when the node is missing (the first write fails). */
export async function openI2cBus(busNumber: number): Promise<LcdBus> {
  const bus = await openPromisified(busNumber);
  return {
    i2cWrite: (address, length, buffer) => bus.i2cWrite(address, length, buffer),
    scan: () => bus.scan(),
    close: () => bus.close(),
  };
}

/** Where PCF8574 (0x20-0x27) and PCF8574A (0x38-0x3F) backpacks live, most common first. */
export const PCF8574_ADDRESSES = [
  0x27, 0x3f, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21, 0x20, 0x3e, 0x3d, 0x3c, 0x3b, 0x3a, 0x39, 0x38,
];

/** The first address from `found` that can be a PCF8574 backpack, most common first. */
export function pickPcf8574Address(found: readonly number[]): number | undefined {
  return PCF8574_ADDRESSES.find((a) => found.includes(a));
}

export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}
