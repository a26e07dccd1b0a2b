/**
 * Checks a serial path the way the doctor needs: does it exist, may we open it. Never throws.
 */
import { realpath } from 'node:fs/promises';
import type { SerialPortFactory } from './serial-port.js';
import { serialErrorCode } from './serial-port.js';

export interface SerialPathCheck {
  ok: boolean;
  /** `ok`, `ENOENT`, `EACCES`, `EBUSY`, ... */
  code: string;
  /** The device node the by-id link points to, e.g. `/dev/ttyACM0`, when it resolves. */
  device?: string;
}

/** Opens and closes the port once. Only for a port the driver is not holding open itself. */
export async function checkSerialPath(
  factory: SerialPortFactory,
  path: string,
  baudRate: number,
  timeoutMs = 3000,
): Promise<SerialPathCheck> {
  if (!(await factory.exists(path))) return { ok: false, code: 'ENOENT' };
  // Only for the report: which ttyACM the by-id link points to today.
  const device = await realpath(path).catch(() => undefined);
  return new Promise((resolve) => {
    let port: ReturnType<SerialPortFactory['create']>;
    const timer = setTimeout(
      () => resolve({ ok: false, code: 'ETIMEDOUT', ...(device ? { device } : {}) }),
      timeoutMs,
    );
    try {
      port = factory.create({ path, baudRate });
    } catch (err) {
      clearTimeout(timer);
      resolve({ ok: false, code: serialErrorCode(err), ...(device ? { device } : {}) });
      return;
    }
    port.on('error', () => {});
    port.open((err) => {
      clearTimeout(timer);
      if (err) {
        resolve({ ok: false, code: serialErrorCode(err), ...(device ? { device } : {}) });
        return;
      }
      port.close(() => resolve({ ok: true, code: 'ok', ...(device ? { device } : {}) }));
    });
  });
}
