/**
 * HD44780 character display behind a PCF8574 I2C backpack (16x2, 20x4). Keeps a shadow of the glass
 * and sends only what changed, the whole change in one `i2cWrite`. On an I/O error it re-initialises
 * the controller (a glitch may have left it mid-nibble or reset it), rewrites the screen and reports.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { DeviceHealth, ProbeResult } from '../../src/contracts/device.js';
import type { Display, DisplayEvents, DisplayStatusEvent } from './display.js';
import { PCF_BACKLIGHT, initBursts } from './hd44780.js';
import type { LcdRom } from './lcd-charset.js';
import { CGRAM_SLOTS, planUpdate, renderFrame } from './lcd-frame.js';
import { errorCode, openI2cBus, pickPcf8574Address } from '../io/pcf8574-bus.js';
import type { LcdBus } from '../io/pcf8574-bus.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface Pcf8574LcdOptions {
  cols: 16 | 20;
  rows: 2 | 4;
  /** I2C bus number: 1 on every Raspberry Pi with a 40-pin header. */
  busNumber?: number;
  /** 7-bit address; found by `scan()` when absent. */
  address?: number;
  rom?: LcdRom;
  /** Attempts after a failed write, each from a fresh initialisation. */
  retries?: number;
  /** Largest run of unchanged cells rewritten rather than skipped with a cursor command. */
  maxMergedGap?: number;
  backlight?: boolean;
  name?: string;
  required?: boolean;
  logger?: Logger;
  /** Injection points for tests. */
  openBus?: (busNumber: number) => Promise<LcdBus>;
  devicePath?: string;
  exists?: (path: string) => boolean;
  sleep?: (ms: number) => Promise<void>;
}

/** A display that could not be found or set up (as opposed to a write that failed). */
class DisplaySetupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Pcf8574Lcd extends EventEmitter implements Display {
  readonly cols: number;
  readonly rows: number;
  private readonly busNumber: number;
  private readonly rom: LcdRom;
  private readonly retries: number;
  private readonly maxMergedGap: number;
  private readonly name: string;
  private readonly required: boolean;
  private readonly logger: Logger;
  private readonly openBus: (busNumber: number) => Promise<LcdBus>;
  private readonly devicePath: string;
  private readonly exists: (path: string) => boolean;
  private readonly sleep: (ms: number) => Promise<void>;

  private bus: LcdBus | undefined;
  private address: number | undefined;
  private ready = false;
  private backlight: boolean;
  /** What the glass shows: a code per cell, `undefined` where unknown. */
  private shadow: Array<number | undefined>;
  private slots: Array<string | undefined> = new Array<string | undefined>(CGRAM_SLOTS).fill(undefined);
  private shadowBacklight: boolean | undefined;
  private wanted: string[] = [];
  private dirty = false;
  private pending: Promise<void> | undefined;
  private state: DeviceHealth = 'ok';
  private lastCause: string | undefined;

  constructor(options: Pcf8574LcdOptions) {
    super();
    this.cols = options.cols;
    this.rows = options.rows;
    this.busNumber = options.busNumber ?? 1;
    this.address = options.address;
    this.rom = options.rom ?? 'A00';
    this.retries = options.retries ?? 2;
    this.maxMergedGap = options.maxMergedGap ?? 1;
    this.backlight = options.backlight ?? true;
    this.name = options.name ?? 'display';
    this.required = options.required ?? false;
    this.logger = options.logger ?? silentLogger;
    this.openBus = options.openBus ?? openI2cBus;
    this.devicePath = options.devicePath ?? `/dev/i2c-${this.busNumber}`;
    this.exists = options.exists ?? existsSync;
    this.sleep = options.sleep ?? defaultSleep;
    this.shadow = new Array<number | undefined>(this.cols * this.rows).fill(undefined);
  }

  override on<K extends keyof DisplayEvents>(event: K, listener: (...args: DisplayEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof DisplayEvents>(event: K, listener: (...args: DisplayEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  show(lines: readonly string[]): Promise<void> {
    this.wanted = lines.slice(0, this.rows);
    return this.schedule();
  }

  setBacklight(on: boolean): Promise<void> {
    this.backlight = on;
    return this.schedule();
  }

  health(): DeviceHealth {
    return this.state;
  }

  async probe(): Promise<ProbeResult> {
    const base = { device: this.name, driver: 'hd44780-pcf8574', required: this.required };
    const where = `i2c-${this.busNumber} ${this.address === undefined ? 'scan' : hex(this.address)}`;
    if (!this.exists(this.devicePath)) {
      return {
        ...base,
        found: false,
        where,
        status: 'ENOENT',
        hint: `${this.devicePath} is missing: enable I2C (sudo raspi-config nonint do_i2c 0, or dtparam=i2c_arm=on in /boot/firmware/config.txt) and reboot`,
      };
    }
    let found: number[];
    try {
      found = await (await this.openedBus()).scan();
    } catch (err) {
      const code = errorCode(err);
      const hint =
        code === 'EACCES'
          ? `no permission on ${this.devicePath}: add the kiosk user to the i2c group`
          : `cannot scan ${this.devicePath}`;
      return { ...base, found: false, where, status: code, hint };
    }
    const address = this.address ?? pickPcf8574Address(found);
    const at = `i2c-${this.busNumber} ${address === undefined ? '-' : hex(address)}`;
    if (address === undefined || !found.includes(address)) {
      const seen = found.length
        ? `devices answer at ${found.map(hex).join(', ')}`
        : 'nothing answers on the bus';
      return {
        ...base,
        found: false,
        where: at,
        status: 'ENXIO',
        hint: `${seen}: check the address (0x27 PCF8574, 0x3f PCF8574A), SDA on pin 3, SCL on pin 5, 5 V and GND`,
      };
    }
    const status = this.state === 'ok' ? 'ok' : (this.lastCause ?? this.state);
    return this.state === 'ok'
      ? { ...base, found: true, where: at, status }
      : {
          ...base,
          found: true,
          where: at,
          status,
          hint: 'writes failed: check the cable and the 5 V supply',
        };
  }

  async close(): Promise<void> {
    await this.pending;
    const bus = this.bus;
    this.bus = undefined;
    this.ready = false;
    await bus?.close().catch(() => undefined);
  }

  private schedule(): Promise<void> {
    this.dirty = true;
    this.pending ??= this.drain().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      await this.writeWanted();
    }
  }

  private async openedBus(): Promise<LcdBus> {
    this.bus ??= await this.openBus(this.busNumber);
    return this.bus;
  }

  private async writeWanted(): Promise<void> {
    let cause: string | undefined;
    let reinitialised = false;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      try {
        if (!this.ready) {
          reinitialised = cause !== undefined || this.lastCause !== undefined;
          await this.initialise();
        }
        await this.writeFrame();
        this.report({ health: 'ok', cause: cause ?? this.lastCause, reinitialised });
        return;
      } catch (err) {
        cause = errorCode(err);
        this.ready = false;
        this.logger.warn({ device: this.name, code: cause, attempt }, 'display write failed');
        if (cause === 'ENOENT' || cause === 'EBADF') {
          // The bus itself went away (module unloaded, adapter re-enumerated): open it again.
          const bus = this.bus;
          this.bus = undefined;
          await bus?.close().catch(() => undefined);
        }
        if (err instanceof DisplaySetupError) break;
      }
    }
    this.report({ health: 'offline', cause, reinitialised });
  }

  private report(event: DisplayStatusEvent): void {
    const changed = event.health !== this.state;
    const recovered = event.health === 'ok' && event.cause !== undefined;
    this.state = event.health;
    this.lastCause = event.health === 'ok' ? undefined : event.cause;
    if (event.health === 'offline') {
      if (changed) this.logger.error({ device: this.name, code: event.cause }, 'display offline');
    } else if (recovered) {
      this.logger.warn({ device: this.name, code: event.cause }, 'display re-initialised after an I/O error');
    }
    if (changed || recovered) {
      const payload: DisplayStatusEvent = { health: event.health, reinitialised: event.reinitialised };
      if (event.cause !== undefined) payload.cause = event.cause;
      this.emit('status', payload);
    }
  }

  private async initialise(): Promise<void> {
    const bus = await this.openedBus();
    if (this.address === undefined) {
      const address = pickPcf8574Address(await bus.scan());
      if (address === undefined) throw new DisplaySetupError('ENXIO', 'no PCF8574 backpack found by scan');
      this.address = address;
    }
    for (const { bytes, waitAfterMs } of initBursts(this.backlight)) {
      await bus.i2cWrite(this.address, bytes.length, Buffer.from(bytes));
      if (waitAfterMs > 0) await this.sleep(waitAfterMs);
    }
    // After a clear the glass is blank and CGRAM holds whatever it held: assume nothing about it.
    this.shadow.fill(0x20);
    this.slots.fill(undefined);
    this.shadowBacklight = this.backlight;
    this.ready = true;
  }

  private async writeFrame(): Promise<void> {
    const bus = await this.openedBus();
    const address = this.address ?? 0;
    const frame = renderFrame(this.wanted, this, this.rom, this.slots);
    const plan = planUpdate(this.shadow, frame, this, this.backlight, this.maxMergedGap);
    let bytes = plan.bytes;
    if (bytes.length === 0 && this.shadowBacklight !== this.backlight) {
      bytes = [this.backlight ? PCF_BACKLIGHT : 0];
    }
    if (bytes.length > 0) await bus.i2cWrite(address, bytes.length, Buffer.from(bytes));
    this.shadow = frame.codes;
    this.slots = frame.slots;
    this.shadowBacklight = this.backlight;
  }
}

function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}
