/**
 * A serial port that stays wanted: serialport has no automatic reconnect, and a USB reader that is
 * unplugged, reset by a brown-out or re-enumerated must come back without restarting the kiosk.
 * Failed opens and disconnects are retried with capped exponential back-off; the delay resets after
 * a successful open.
 *
 * Events:
 * - `open`: the port (re)opened; drivers that need a handshake (PN532 wake-up) start it here.
 * - `data` (Buffer): bytes from the current port.
 * - `status` ('online' | 'offline'): on every change, and once after the first open attempt.
 */
import { EventEmitter } from 'node:events';
import type { SerialOpenOptions, SerialPortFactory, SerialPortLike } from './serial-port.js';
import { serialErrorCode } from './serial-port.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export type LinkStatus = 'online' | 'offline';

export interface ReconnectConfig extends BackoffConfig {
  /** How often an open port's path is checked for presence (see `SerialPortFactory.exists`). Default 1000 ms. */
  presenceCheckMs?: number;
}

export interface BackoffConfig {
  /** First retry delay. Default 500 ms. */
  initialMs?: number;
  /** Cap for the delay. Default 30 s: a replugged reader is back within half a minute at most. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, config: BackoffConfig = {}): number {
  const initial = config.initialMs ?? 500;
  const max = config.maxMs ?? 30_000;
  const factor = config.factor ?? 2;
  return Math.min(max, initial * factor ** attempt);
}

export interface ReconnectingSerialEvents {
  open: [];
  data: [chunk: Buffer];
  status: [status: LinkStatus];
}

export class ReconnectingSerial extends EventEmitter<ReconnectingSerialEvents> {
  private port: SerialPortLike | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private presenceTimer: ReturnType<typeof setInterval> | undefined;
  private attempt = 0;
  private reported: LinkStatus | undefined;
  private running = false;
  /** Code of the last failure (`ENOENT`, `EACCES`, `disconnected`...), for probes. */
  lastError: string | undefined;

  constructor(
    private readonly factory: SerialPortFactory,
    readonly options: SerialOpenOptions,
    private readonly backoff: ReconnectConfig = {},
    private readonly logger: Logger = silentLogger,
  ) {
    super();
  }

  get status(): LinkStatus {
    return this.reported ?? 'offline';
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    let port: SerialPortLike;
    try {
      port = this.factory.create(this.options);
    } catch (err) {
      this.failed(err);
      return;
    }
    // Without an 'error' listener a late error from an abandoned port would crash the process.
    port.on('error', (err) =>
      this.logger.warn({ path: this.options.path, err: err.message }, 'serial port error'),
    );
    port.open((err) => {
      if (err) {
        port.removeAllListeners();
        port.on('error', () => {});
        this.failed(err);
        return;
      }
      if (!this.running) {
        port.close();
        return;
      }
      this.port = port;
      this.attempt = 0;
      this.lastError = undefined;
      port.on('data', (chunk) => this.emit('data', chunk));
      port.on('close', (closeErr) => this.lost(port, closeErr?.disconnected ? 'disconnected' : 'closed'));
      this.presenceTimer = setInterval(
        () => void this.checkPresence(port),
        this.backoff.presenceCheckMs ?? 1000,
      );
      this.logger.info({ path: this.options.path }, 'serial port open');
      this.emit('open');
      this.setStatus('online');
    });
  }

  private failed(err: unknown): void {
    this.lastError = serialErrorCode(err);
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.logger.warn(
      { path: this.options.path, code: this.lastError, retryInMs: delay },
      'serial port open failed',
    );
    this.setStatus('offline');
    this.scheduleRetry(delay);
  }

  private async checkPresence(port: SerialPortLike): Promise<void> {
    if (port !== this.port || (await this.factory.exists(this.options.path))) return;
    this.lost(port, 'vanished');
    if (port.isOpen) port.close();
  }

  /** Any close we did not ask for is treated as an unplug, whatever serialport says. */
  private lost(port: SerialPortLike, reason: string): void {
    if (port !== this.port) return;
    this.port = undefined;
    clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
    port.removeAllListeners();
    port.on('error', () => {});
    if (!this.running) return;
    this.lastError = reason;
    this.logger.warn({ path: this.options.path, reason: this.lastError }, 'serial port lost');
    this.setStatus('offline');
    this.scheduleRetry(backoffDelay(this.attempt++, this.backoff));
  }

  private scheduleRetry(delay: number): void {
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private setStatus(status: LinkStatus): void {
    if (this.reported === status) return;
    this.reported = status;
    this.emit('status', status);
  }

  /** Writes to the current port. Rejects when offline: the caller decides whether to retry. */
  write(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new Error(`${this.options.path} is offline`));
    return new Promise((resolve, reject) => {
      port.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
    const port = this.port;
    this.port = undefined;
    if (port) {
      port.removeAllListeners();
      port.on('error', () => {});
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    this.setStatus('offline');
    this.removeAllListeners();
  }
}
