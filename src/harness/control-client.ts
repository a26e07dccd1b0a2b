/**
 * A client of the kiosk's control port (src/app/control-port.ts): NDJSON round trips on one persistent
 * connection, answered in request order. The test harness and the chaos harness both drive the real
 * kiosk program through it; they differ only in the error they want when the kiosk is gone (the chaos
 * harness counts a `KioskDown` as a power cut landing mid-request).
 */
import { createConnection, type Socket } from 'node:net';

type Waiter = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class ControlClient {
  private socket: Socket | undefined;
  private pending: Waiter[] = [];
  private buffer = '';

  constructor(
    private readonly port: () => number,
    /** The error a request fails with when the port cannot be reached, closes or times out. */
    private readonly failure: (message: string) => Error = (message) => new Error(message),
  ) {}

  /**
   * One round trip. A timeout drops the connection (and every request waiting on it): an answer that
   * comes late would otherwise be taken as the answer to the next request.
   */
  async request<T>(obj: unknown, timeoutMs?: number): Promise<T> {
    const line = typeof obj === 'string' ? obj : JSON.stringify(obj);
    const socket = await this.connect();
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.close(this.failure('control port timeout')), timeoutMs);
      this.pending.push({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.write(`${line}\n`);
    });
  }

  /** Closes the connection; requests still waiting fail with `err`. */
  close(err: Error = this.failure('control port closed')): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.buffer = '';
    const waiting = this.pending;
    this.pending = [];
    for (const w of waiting) w.reject(err);
  }

  private async connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port: this.port() });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', (e) => reject(this.failure(e.message)));
    });
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('error', (e) => {
      if (this.socket === socket) this.close(this.failure(`control port error: ${e.message}`));
    });
    socket.on('close', () => {
      if (this.socket === socket) this.close(this.failure('control port closed'));
    });
    this.socket = socket;
    return socket;
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const waiter = this.pending.shift();
      if (!waiter) continue;
      try {
        waiter.resolve(JSON.parse(line));
      } catch {
        waiter.reject(new Error(`control port answered non-JSON: ${line.slice(0, 200)}`));
      }
    }
  }
}
