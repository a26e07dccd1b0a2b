/**
 * PN532 NFC reader over UART (HSU, 115200 8N1) as a card reader. After each (re)open: wake-up +
 * SAMConfiguration, GetFirmwareVersion (for the doctor), RFConfiguration (bounded retries, see
 * `RF_MAX_RETRIES`); then InListPassiveTarget every `pollIntervalMs`. One command is in flight at a
 * time: frame out, ACK back, response back, each with a timeout.
 *
 * A card held on the reader is reported once; it counts as taken away after `absentPolls` empty polls
 * (one empty poll can be a flicker at the edge of the field). `status` is `online` only while the chip
 * answers: a port that opens with a silent chip behind it (wrong wiring, I2C/SPI mode switches) is offline.
 */
import { EventEmitter } from 'node:events';
import type { ProbeResult } from '../../src/contracts/device.js';
import type { CardReader, CardReaderEvents, ReaderStatus } from './card-reader.js';
import {
  buildFrame,
  GET_FIRMWARE_VERSION,
  IN_LIST_PASSIVE_TARGET,
  NACK,
  RF_MAX_RETRIES,
  SAM_CONFIGURATION,
  TFI_CHIP,
  WAKE_UP,
} from './pn532-frame.js';
import type { Pn532Packet } from './pn532-frame-parser.js';
import { Pn532FrameParser } from './pn532-frame-parser.js';
import type { UidFormat } from './pn532-target.js';
import { formatUid, parseInListPassiveTarget } from './pn532-target.js';
import type { ReconnectConfig } from '../io/reconnect.js';
import { ReconnectingSerial } from '../io/reconnect.js';
import type { SerialPortFactory } from '../io/serial-port.js';
import { serialErrorHint } from '../io/serial-port.js';
import { checkSerialPath } from '../io/serial-probe.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';
import { maskCard } from '../../src/util/privacy.js';

export interface Pn532Config {
  path: string;
  /** The PN532's HSU speed. Default 115200. */
  baudRate?: number;
  /** Default 250 ms: a card is seen within a quarter second without flooding the UART. */
  pollIntervalMs?: number;
  /** Default 200 ms; the chip ACKs within a few ms. */
  ackTimeoutMs?: number;
  /** Default 1000 ms; InListPassiveTarget with bounded retries answers well within it. */
  responseTimeoutMs?: number;
  /** Empty polls before a held card counts as gone. Default 2. */
  absentPolls?: number;
  /** Failed polls in a row before the chip is declared lost and woken up again. Default 3. */
  maxPollFailures?: number;
  /** Wait before waking a silent chip again. Default 2000 ms. */
  chipRetryMs?: number;
  uidFormat?: UidFormat;
  backoff?: ReconnectConfig;
  required?: boolean;
}

/** A command that got no ACK or response in time, or that the chip refused. */
export class Pn532CommandError extends Error {
  constructor(
    message: string,
    readonly reason: 'no_ack' | 'no_response' | 'nack' | 'chip_error' | 'offline' | 'cancelled',
  ) {
    super(message);
    this.name = 'Pn532CommandError';
  }
}

interface PendingCommand {
  code: number;
  stage: 'ack' | 'response';
  resolve: (data: Buffer) => void;
  reject: (err: Pn532CommandError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Pn532Reader extends EventEmitter<CardReaderEvents> implements CardReader {
  private readonly link: ReconnectingSerial;
  private readonly parser = new Pn532FrameParser();
  private pending: PendingCommand | undefined;
  /** Incremented whenever the running session must stop (port lost, close): stale loops check it. */
  private session = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: ReaderStatus = 'offline';
  private reported = false;
  private started = false;
  private heldUid: string | undefined;
  private emptyPolls = 0;
  private pollFailures = 0;
  private chipError: string | undefined;
  /** `PN532 v1.6`, once the chip answered GetFirmwareVersion. */
  firmware: string | undefined;

  constructor(
    private readonly config: Pn532Config,
    private readonly factory: SerialPortFactory,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.link = new ReconnectingSerial(
      factory,
      { path: config.path, baudRate: config.baudRate ?? 115200 },
      config.backoff,
      logger,
    );
    this.link.on('open', () => {
      this.parser.reset();
      void this.startSession();
    });
    this.link.on('data', (chunk) => {
      for (const p of this.parser.push(chunk)) this.onPacket(p);
    });
    // An opened port is not news yet: the reader is online once the chip has answered.
    this.link.on('status', (s) => {
      if (s !== 'offline') return;
      this.stopSession('offline');
      this.setStatus('offline');
    });
  }

  get status(): ReaderStatus {
    return this.current;
  }

  start(): void {
    this.started = true;
    this.link.start();
  }

  private setStatus(status: ReaderStatus): void {
    if (this.reported && this.current === status) return;
    this.reported = true;
    this.current = status;
    this.emit('status', status);
  }

  private async startSession(): Promise<void> {
    const session = ++this.session;
    clearTimeout(this.timer);
    this.heldUid = undefined;
    this.emptyPolls = 0;
    this.pollFailures = 0;
    try {
      await this.command(SAM_CONFIGURATION, WAKE_UP);
      const fw = await this.command(GET_FIRMWARE_VERSION);
      this.firmware = `PN5${(fw[1] ?? 0).toString(16)} v${fw[2] ?? 0}.${fw[3] ?? 0}`;
      await this.command(RF_MAX_RETRIES);
    } catch (err) {
      if (session !== this.session) return;
      this.chipError = (err as Pn532CommandError).reason ?? 'error';
      this.logger.warn({ path: this.config.path, reason: this.chipError }, 'PN532 does not answer');
      this.setStatus('offline');
      this.timer = setTimeout(() => void this.startSession(), this.config.chipRetryMs ?? 2000);
      return;
    }
    if (session !== this.session) return;
    this.chipError = undefined;
    this.logger.info({ path: this.config.path, firmware: this.firmware }, 'PN532 ready');
    this.setStatus('online');
    void this.poll(session);
  }

  private async poll(session: number): Promise<void> {
    try {
      const target = parseInListPassiveTarget(await this.command(IN_LIST_PASSIVE_TARGET));
      if (session !== this.session) return;
      this.pollFailures = 0;
      this.onTarget(target?.uid);
    } catch (err) {
      if (session !== this.session) return;
      this.pollFailures++;
      this.logger.debug({ err: (err as Error).message, failures: this.pollFailures }, 'PN532 poll failed');
      if (this.pollFailures >= (this.config.maxPollFailures ?? 3)) {
        this.chipError = (err as Pn532CommandError).reason ?? 'error';
        this.logger.warn({ path: this.config.path, reason: this.chipError }, 'PN532 stopped answering');
        this.setStatus('offline');
        this.timer = setTimeout(() => void this.startSession(), this.config.chipRetryMs ?? 2000);
        return;
      }
    }
    this.timer = setTimeout(() => void this.poll(session), this.config.pollIntervalMs ?? 250);
  }

  private onTarget(uid: Buffer | undefined): void {
    if (!uid) {
      this.emptyPolls++;
      if (this.emptyPolls >= (this.config.absentPolls ?? 2)) this.heldUid = undefined;
      return;
    }
    this.emptyPolls = 0;
    const text = formatUid(uid, this.config.uidFormat);
    if (text === this.heldUid) return;
    this.heldUid = text;
    this.logger.info({ card: maskCard(text) }, 'card read');
    this.emit('read', text);
  }

  private command(data: Buffer, prefix?: Buffer): Promise<Buffer> {
    if (this.pending) return Promise.reject(new Pn532CommandError('a command is in flight', 'cancelled'));
    const frame = buildFrame(data);
    const code = data[0] ?? 0;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = {
        code,
        stage: 'ack',
        resolve,
        reject,
        timer: setTimeout(
          () => this.finish(new Pn532CommandError(`no ACK for command ${hex(code)}`, 'no_ack')),
          this.config.ackTimeoutMs ?? 200,
        ),
      };
      this.link
        .write(prefix ? Buffer.concat([prefix, frame]) : frame)
        .catch((err: Error) => this.finish(new Pn532CommandError(err.message, 'offline')));
    });
  }

  private finish(result: Buffer | Pn532CommandError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (result instanceof Pn532CommandError) p.reject(result);
    else p.resolve(result);
  }

  private onPacket(packet: Pn532Packet): void {
    const p = this.pending;
    switch (packet.kind) {
      case 'ack':
        if (p?.stage !== 'ack') return;
        p.stage = 'response';
        clearTimeout(p.timer);
        p.timer = setTimeout(
          () => this.finish(new Pn532CommandError(`no response to command ${hex(p.code)}`, 'no_response')),
          this.config.responseTimeoutMs ?? 1000,
        );
        return;
      case 'nack':
        this.finish(new Pn532CommandError('chip sent NACK', 'nack'));
        return;
      case 'error':
        this.finish(new Pn532CommandError('chip reported a syntax error', 'chip_error'));
        return;
      case 'frame':
        // A response whose ACK was lost to noise is still the answer.
        if (p && packet.tfi === TFI_CHIP && packet.data[0] === p.code + 1) this.finish(packet.data);
        else
          this.logger.debug({ tfi: packet.tfi, code: packet.data[0] }, 'PN532 frame not expected, ignored');
        return;
      case 'invalid':
        this.logger.debug({ reason: packet.reason, bytes: packet.bytes }, 'PN532 bytes dropped');
        // A corrupted response can be asked for again: the chip repeats its last answer on NACK.
        if (p?.stage === 'response' && (packet.reason === 'bad_dcs' || packet.reason === 'bad_lcs')) {
          this.link.write(NACK).catch(() => {});
        }
        return;
    }
  }

  private stopSession(reason: 'offline' | 'cancelled'): void {
    this.session++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.heldUid = undefined;
    this.finish(new Pn532CommandError('session stopped', reason));
  }

  async probe(): Promise<ProbeResult> {
    const base = {
      device: 'reader',
      driver: 'pn532-uart',
      where: this.config.path,
      required: this.config.required ?? true,
    };
    if (this.current === 'online')
      return { ...base, found: true, status: `ok (${this.firmware ?? 'PN532'})` };
    if (this.link.status === 'online') {
      return {
        ...base,
        found: false,
        status: `port open, chip ${this.chipError === undefined ? 'starting' : 'silent'}`,
        hint: 'the PN532 does not answer: TX/RX crossed? mode switches set to HSU (both off)? 115200 baud? power?',
      };
    }
    const check = this.started
      ? { ok: false, code: this.link.lastError ?? 'offline' }
      : await checkSerialPath(this.factory, this.config.path, this.config.baudRate ?? 115200);
    if (check.ok) return { ...base, found: true, status: 'port ok (chip not checked)' };
    return { ...base, found: false, status: check.code, hint: serialErrorHint(check.code, this.config.path) };
  }

  async close(): Promise<void> {
    this.started = false;
    this.stopSession('cancelled');
    await this.link.close();
    this.removeAllListeners();
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
