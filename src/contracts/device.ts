/**
 * Types every layer shares about devices (hal reports them, machines and the fleet read them).
 * What every device driver shares: a status the kiosk and the fleet can report, and a probe for the
 * self-test (`npm run doctor`). Each device has its own interface file beside this one.
 */

/**
 * `offline`: not there or not answering; `degraded`: works with a problem (e.g. paper low). The one
 * health vocabulary of every device: drivers report it, machines react to it, the fleet publishes it.
 */
export const DEVICE_HEALTH = ['ok', 'degraded', 'offline'] as const;
export type DeviceHealth = (typeof DEVICE_HEALTH)[number];

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

/** What a simulated twin answers the self-test: there and fine unless `over` says otherwise; never required. */
export function simulatedProbe(
  device: string,
  over: Partial<Omit<ProbeResult, 'device' | 'driver'>> = {},
): ProbeResult {
  return {
    device,
    driver: 'simulated',
    found: true,
    where: 'simulated',
    status: 'ok',
    required: false,
    ...over,
  };
}

export interface Probeable {
  probe(): Promise<ProbeResult>;
}
