/**
 * What every device driver shares: a status the kiosk and the fleet can report, and a probe for the
 * self-test (`npm run doctor`). Each device has its own interface file beside this one.
 */

/** `offline`: not there or not answering; `degraded`: works with a problem (e.g. paper low). */
export type DeviceHealth = 'ok' | 'degraded' | 'offline';

export interface ProbeResult {
  /** Device name as configured, e.g. `display`, `reader`. */
  device: string;
  /** What kind of driver: `hd44780-pcf8574`, `pn532-uart`, `simulated`, ... */
  driver: string;
  found: boolean;
  /** Address or path that was probed: `i2c-1 0x27`, `/dev/serial/by-id/...`, `BCM 17 (gpio 529)`. */
  where: string;
  /** Short status text: `ok`, `paper_out`, `ENOENT`, ... */
  status: string;
  /** What a technician should check when it failed; absent when all is well. */
  hint?: string;
  /** A required device that is missing makes the doctor exit non-zero. */
  required: boolean;
}

export interface Probeable {
  probe(): Promise<ProbeResult>;
}
