/**
 * Card reader for devices that send one line per read over a serial port: barcode scanners and NFC
 * readers in USB-CDC (keyboard-less) mode, typically `/dev/ttyACM*`. Configure by
 * `/dev/serial/by-id/...`: that name survives reboots and replugs, `/dev/ttyACM0` does not.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { CardReader, CardReaderEvents, ReaderStatus } from './card-reader.js';
import type { LineSplitterOptions } from './line-reader-splitter.js';
import { LineSplitter } from './line-reader-splitter.js';
import type { ReconnectConfig } from '../io/reconnect.js';
import { ReconnectingSerial } from '../io/reconnect.js';
import type { SerialPortFactory } from '../io/serial-port.js';
import { serialErrorHint } from '../io/serial-port.js';
import { checkSerialPath } from '../io/serial-probe.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';
import { maskCard } from '../../src/util/privacy.js';

export interface LineReaderConfig extends LineSplitterOptions {
  path: string;
  /** USB-CDC ignores it, real UART readers need it. Default 9600. */
  baudRate?: number;
  backoff?: ReconnectConfig;
  required?: boolean;
}

export class LineCardReader extends EventEmitter<CardReaderEvents> implements CardReader {
  private readonly link: ReconnectingSerial;
  private readonly splitter: LineSplitter;
  private started = false;

  constructor(
    private readonly config: LineReaderConfig,
    private readonly factory: SerialPortFactory,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.splitter = new LineSplitter(config);
    this.link = new ReconnectingSerial(
      factory,
      { path: config.path, baudRate: config.baudRate ?? 9600 },
      config.backoff,
      logger,
    );
    this.link.on('open', () => this.splitter.reset());
    this.link.on('data', (chunk) => this.onData(chunk));
    this.link.on('status', (s) => this.emit('status', s));
  }

  get status(): ReaderStatus {
    return this.link.status;
  }

  start(): void {
    this.started = true;
    this.link.start();
  }

  private onData(chunk: Buffer): void {
    for (const r of this.splitter.push(chunk)) {
      if (r.kind === 'line') {
        this.logger.info({ card: maskCard(r.text) }, 'card read');
        this.emit('read', r.text);
      } else {
        this.logger.warn(
          { path: this.config.path, reason: r.reason, length: r.length, preview: r.preview },
          'reader line dropped',
        );
      }
    }
  }

  async probe(): Promise<ProbeResult> {
    const base = {
      device: 'reader',
      driver: 'line-serial',
      where: this.config.path,
      required: this.config.required ?? true,
    };
    if (this.link.status === 'online') return { ...base, found: true, status: 'online' };
    // While the driver runs it is already retrying; opening a second time would fight the lock.
    const check = this.started
      ? { ok: false, code: this.link.lastError ?? 'offline' }
      : await checkSerialPath(this.factory, this.config.path, this.config.baudRate ?? 9600);
    if (check.ok) return { ...base, found: true, status: 'ok' };
    return { ...base, found: false, status: check.code, hint: serialErrorHint(check.code, this.config.path) };
  }

  async close(): Promise<void> {
    this.started = false;
    await this.link.close();
    this.removeAllListeners();
  }
}
