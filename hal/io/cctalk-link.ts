/**
 * ccTalk request/reply on a serial link: one request in flight at a time, each answered within a
 * timeout, optionally retried. Frames not addressed to the host are dropped: on the shared data line
 * the host's own request comes back as an echo before the answer.
 *
 * Retrying is the caller's choice per request: a read (status, counters) may be asked again, a
 * command that moves money (dispense) must never be: its outcome is read back instead.
 *
 * A reply does not say which request it answers. One that comes after its request timed out (a slow
 * device, the host stalled, a reply left on the line by a process that died mid-request) would be
 * taken for the next request's, and every answer after it would be one behind for good: a channel
 * table read so credits a 2 EUR coin as 1 EUR. So at the start and after every timeout the link
 * first waits for the line to be quiet (`quietMs` without a byte) and drops what came meanwhile.
 * A reply whose length does not fit its request (`REPLY_LENGTH`: a 229 answered by an empty ACK
 * reads as a validator counter of 0, "power lost", and its buffer would be credited again) is
 * refused as `garbled` and resynchronises the same way.
 */
import type { ProbeResult } from '../../src/contracts/device.js';
import type { CctalkFrame } from './cctalk-frame.js';
import { serialErrorHint } from './serial-port.js';
import { buildFrame, CCTALK_HOST, CctalkFrameParser, HEADER, REPLY_LENGTH } from './cctalk-frame.js';

/** The part of a serial link the ccTalk client needs (`ReconnectingSerial` has it). */
export interface CctalkTransport {
  write(data: Buffer): Promise<void>;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

/** `garbled`: an ACK of the wrong length for the request (`REPLY_LENGTH`): another request's reply. */
export type CctalkErrorReason = 'timeout' | 'nak' | 'busy' | 'garbled' | 'offline' | 'closed';

export class CctalkError extends Error {
  override readonly name = 'CctalkError';
  constructor(
    message: string,
    readonly reason: CctalkErrorReason,
    readonly header: number,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  /** Default: the link's `timeoutMs`. */
  timeoutMs?: number;
  /** Further attempts after a timeout or BUSY. Default 0. Never for commands that move money. */
  retries?: number;
}

export interface CctalkLinkConfig {
  /** The host's own address. Default 1. */
  host?: number;
  /** Reply timeout. Default 500 ms (devices answer within tens of ms at 9600 baud). */
  timeoutMs?: number;
  /** Silence that ends a resynchronisation (at the start, after a timeout). Default 40 ms. */
  quietMs?: number;
}

/** A line that never falls quiet (noise) is given up on after this many quiet periods. */
const MAX_QUIET_WAITS = 10;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Pending {
  address: number;
  header: number;
  resolve: (data: Buffer) => void;
  reject: (err: CctalkError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class CctalkLink {
  private readonly parser = new CctalkFrameParser();
  private readonly host: number;
  private readonly timeoutMs: number;
  private pending: Pending | undefined;
  /** Requests run one after another: the bus has one line and the device one reply buffer. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly quietMs: number;
  /** Whether the next request must wait for a quiet line first (at the start, after a timeout). */
  private resync = true;
  private lastByteAt = 0;
  private readonly onData = (chunk: Buffer): void => {
    this.lastByteAt = performance.now();
    for (const frame of this.parser.push(chunk)) this.onFrame(frame);
  };
  /** Frames dropped because they were not for the host (echoes, other devices' traffic). */
  echoes = 0;

  constructor(
    private readonly transport: CctalkTransport,
    config: CctalkLinkConfig = {},
  ) {
    this.host = config.host ?? CCTALK_HOST;
    this.timeoutMs = config.timeoutMs ?? 500;
    this.quietMs = config.quietMs ?? 40;
    transport.on('data', this.onData);
  }

  /** Sends `header` with `data` to `address` and resolves with the ACK's data. */
  request(address: number, header: number, data: readonly number[] = [], options: RequestOptions = {}) {
    const run = async (): Promise<Buffer> => {
      const retries = options.retries ?? 0;
      for (let attempt = 0; ; attempt++) {
        await this.settle();
        try {
          return await this.once(address, header, data, options.timeoutMs ?? this.timeoutMs);
        } catch (err) {
          const reason = (err as CctalkError).reason;
          if (attempt >= retries || (reason !== 'timeout' && reason !== 'busy' && reason !== 'garbled'))
            throw err;
        }
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Waits until no byte came for `quietMs` (bounded); what came meanwhile had no request to answer. */
  private async settle(): Promise<void> {
    if (!this.resync) return;
    for (let i = 0; i < MAX_QUIET_WAITS && !this.closed; i++) {
      await sleep(this.quietMs);
      if (performance.now() - this.lastByteAt >= this.quietMs) break;
    }
    this.parser.reset();
    this.resync = false;
  }

  private once(address: number, header: number, data: readonly number[], timeoutMs: number) {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.closed) {
        reject(new CctalkError('link closed', 'closed', header));
        return;
      }
      this.parser.reset();
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.resync = true;
        reject(new CctalkError(`no answer to header ${header} from ${address}`, 'timeout', header));
      }, timeoutMs);
      this.pending = { address, header, resolve, reject, timer };
      const frame = buildFrame({ destination: address, source: this.host, header, data });
      this.transport.write(frame).catch((err: Error) => {
        if (this.pending?.timer !== timer) return;
        clearTimeout(timer);
        this.pending = undefined;
        reject(new CctalkError(err.message, 'offline', header));
      });
    });
  }

  private onFrame(frame: CctalkFrame): void {
    const p = this.pending;
    if (frame.destination !== this.host || !p || frame.source !== p.address) {
      this.echoes++;
      return;
    }
    clearTimeout(p.timer);
    this.pending = undefined;
    const length = REPLY_LENGTH[p.header];
    if (frame.header === HEADER.ACK && length !== undefined && frame.data.length !== length) {
      this.resync = true;
      p.reject(
        new CctalkError(
          `reply of ${frame.data.length} bytes to header ${p.header} (${length} expected): not its reply`,
          'garbled',
          p.header,
        ),
      );
    } else if (frame.header === HEADER.ACK) p.resolve(frame.data);
    else if (frame.header === HEADER.BUSY) {
      p.reject(new CctalkError(`device ${p.address} busy (header ${p.header})`, 'busy', p.header));
    } else {
      p.reject(new CctalkError(`device ${p.address} refused header ${p.header}`, 'nak', p.header));
    }
  }

  close(): void {
    this.closed = true;
    this.transport.off('data', this.onData);
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.reject(new CctalkError('link closed', 'closed', p.header));
    }
  }
}

/**
 * The part of a ccTalk device's probe that hoppers and validators share: the port (closed: its error
 * and a hint) and a simple poll (no answer: check supply, line, address). Null when the device
 * answered; the caller adds what its own device reports.
 */
export async function probeCctalkLine(
  base: Omit<ProbeResult, 'found' | 'status' | 'hint'>,
  link: { status: string; lastError?: string | undefined },
  path: string,
  address: number,
  poll: () => Promise<unknown>,
  supply: string,
): Promise<ProbeResult | null> {
  if (link.status === 'offline') {
    const code = link.lastError ?? 'offline';
    return { ...base, found: false, status: code, hint: serialErrorHint(code, path) };
  }
  try {
    await poll();
    return null;
  } catch (err) {
    return {
      ...base,
      found: false,
      status: (err as CctalkError).reason ?? 'error',
      hint: `no ccTalk answer from address ${address}: check the ${supply}, the data line and its address`,
    };
  }
}
