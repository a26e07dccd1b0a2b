/**
 * The part of a serialport stream the readers use, and the factory that makes one. The real factory is
 * `serial-port-node.ts` (serialport's native binding); tests pass `fakes/serial-mock.ts` (serialport's
 * mock binding) or the real factory on a socat pseudo-terminal.
 *
 * Events of an opened port, as serialport defines them:
 * - `data` (Buffer): bytes as they arrive, in chunks of any size (a frame can be split anywhere).
 * - `close` (err): `err.disconnected === true` when the device went away (unplugged, USB reset);
 *   `null` when we closed it ourselves.
 * - `error` (err): failures without a callback; must be listened to, or Node throws.
 */

export interface SerialOpenOptions {
  /** Prefer `/dev/serial/by-id/...`: stable across reboots and replugs, unlike `/dev/ttyACM0`. */
  path: string;
  baudRate: number;
}

export type SerialCloseError = (Error & { disconnected?: boolean }) | null;

export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): void;
  write(data: Buffer, callback?: (err: Error | null | undefined) => void): boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (err: SerialCloseError) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  removeAllListeners(event?: string): this;
}

export interface SerialPortFactory {
  /** Makes an unopened port; opening is the caller's job so that failures go through one path. */
  create(options: SerialOpenOptions): SerialPortLike;
  /**
   * Whether the device node (or its by-id link) is there. Needed because serialport's native binding
   * does not notice every hang-up: after a pty or some USB adapters hang up, reads return 0 bytes and the
   * binding retries them in a loop instead of reporting a disconnect. A vanished path is an unplug.
   */
  exists(path: string): Promise<boolean>;
}

/**
 * serialport's native binding puts errno text in the message and sets no `code`; this recovers a code
 * for hints (`ENOENT`: not plugged in or wrong path, `EACCES`: not in group dialout, `EBUSY`: in use).
 */
export function serialErrorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code) return e.code;
  const message = e?.message ?? String(err);
  if (/No such file or directory/i.test(message)) return 'ENOENT';
  if (/Permission denied/i.test(message)) return 'EACCES';
  if (/Cannot lock port|Resource (temporarily unavailable|busy)/i.test(message)) return 'EBUSY';
  if (/Input\/output error/i.test(message)) return 'EIO';
  return 'error';
}

/** What a technician should do about a serial error code. */
export function serialErrorHint(code: string, path: string): string {
  switch (code) {
    case 'ENOENT':
      return `${path} not found: reader unplugged or wrong path (ls -l /dev/serial/by-id/)`;
    case 'EACCES':
      return `no permission on ${path}: add the kiosk user to group dialout (sudo usermod -aG dialout $USER)`;
    case 'EBUSY':
      return `${path} is in use by another program (ModemManager? serial console? lsof ${path})`;
    case 'EIO':
      return `I/O error on ${path}: check the USB cable and power`;
    default:
      return `cannot open ${path}: check the cable and the reader's power`;
  }
}
