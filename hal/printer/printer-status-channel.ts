/**
 * A channel that can read the printer's answers to `DLE EOT`. node-thermal-printer only writes, so
 * status goes over a second path: the printer's serial port, or a TCP connection to port 9100
 * (or a bidirectional USB device opened as a stream). Any Node Duplex will do.
 *
 * Errors: `StatusTimeoutError` when no byte came within the timeout (printer off, wrong port,
 * a USB-serial adapter that still accepts writes with nothing behind it); otherwise the transport's
 * own error (`ECONNREFUSED`, `ENOENT` for an unplugged serial device...). After any error the
 * connection is dropped and the next query connects afresh, which is what makes replug work.
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';

export interface StatusChannel {
  /** Sends `request` and resolves with the first byte that `accept` takes. Queries never overlap. */
  query(request: Uint8Array, timeoutMs: number, accept?: (byte: number) => boolean): Promise<number>;
  close(): Promise<void>;
  /** Where it talks to, for the doctor: `tcp 10.0.0.5:9100`, `/dev/serial/by-id/...`. */
  readonly where: string;
}

export class StatusTimeoutError extends Error {
  override readonly name = 'StatusTimeoutError';
  readonly code = 'ETIMEDOUT';
}

export interface DuplexStatusChannelOptions {
  where: string;
  /** Keep the connection between queries (serial), or close it after each (TCP: many printers take one connection at a time). */
  keepOpen: boolean;
}

export function duplexStatusChannel(
  connect: () => Promise<Duplex>,
  options: DuplexStatusChannelOptions,
): StatusChannel {
  let stream: Duplex | undefined;
  let waiter: ((byte: number) => void) | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const drop = (): void => {
    const s = stream;
    stream = undefined;
    s?.destroy();
  };

  const open = async (): Promise<Duplex> => {
    if (stream && !stream.destroyed) return stream;
    const s = await connect();
    s.on('data', (chunk: Buffer) => {
      // Bytes nobody asked for (a late answer after a timeout) are dropped, not kept for the next query.
      for (const b of chunk) waiter?.(b);
    });
    s.on('error', () => {
      if (stream === s) stream = undefined;
    });
    s.on('close', () => {
      if (stream === s) stream = undefined;
    });
    stream = s;
    return s;
  };

  const once = async (
    request: Uint8Array,
    timeoutMs: number,
    accept: (b: number) => boolean,
  ): Promise<number> => {
    const s = await open();
    try {
      return await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new StatusTimeoutError(`no status answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const fail = (err: Error): void => {
          clearTimeout(timer);
          waiter = undefined;
          reject(err);
        };
        s.once('error', fail);
        waiter = (b) => {
          if (!accept(b)) return;
          clearTimeout(timer);
          waiter = undefined;
          s.off('error', fail);
          resolve(b);
        };
        s.write(Buffer.from(request), (err) => {
          if (err) fail(err);
        });
      });
    } catch (err) {
      drop();
      throw err;
    } finally {
      if (!options.keepOpen) drop();
    }
  };

  return {
    where: options.where,
    query(request, timeoutMs, accept = () => true) {
      const run = queue.then(() => once(request, timeoutMs, accept));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await queue;
      drop();
    },
  };
}

/** Status over TCP (port 9100 answers DLE EOT on most network printers); one connection per query. */
export function tcpStatusChannel(host: string, port = 9100, connectTimeoutMs = 2000): StatusChannel {
  return duplexStatusChannel(
    () =>
      new Promise<Duplex>((resolve, reject) => {
        const socket = netConnect({ host, port });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new StatusTimeoutError(`connect to ${host}:${port} timed out`));
        }, connectTimeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve(socket);
        });
        socket.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      }),
    { where: `tcp ${host}:${port}`, keepOpen: false },
  );
}

/** Status over the printer's serial port (also USB printers that show up as /dev/ttyACM*). */
export function serialStatusChannel(path: string, baudRate = 9600): StatusChannel {
  return duplexStatusChannel(
    async () => {
      const { SerialPort } = await import('serialport');
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      return port;
    },
    { where: path, keepOpen: true },
  );
}
