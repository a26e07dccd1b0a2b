/**
 * Turns the `hardware` config into doctor probes. Each probe opens its device, asks it, and closes it
 * again, so the doctor leaves no pin exported and no port locked. Anything that goes wrong while opening
 * becomes the row's status and hint.
 */
import { simulatedProbe, type Probeable, type ProbeResult } from '../../src/contracts/device.js';
import type { NamedProbeable } from './doctor.js';
import { explainGpioError } from './doctor-hints.js';
import type { GpioPinFactory } from '../io/gpio.js';
import type { GpioNumbering } from '../io/sysfs-gpio-base.js';
import type {
  ButtonsDeviceConfig,
  CoinDeviceConfig,
  DisplayDeviceConfig,
  HardwareConfig,
  HopperDeviceConfig,
  PrinterDeviceConfig,
  ReaderDeviceConfig,
  SlotsDeviceConfig,
} from '../hardware-config.js';

import { GpioButtons } from '../buttons/gpio-buttons.js';
import { PulseCoinAcceptor } from '../coin-acceptor/pulse-coin-acceptor.js';
import { LineCardReader } from '../card-reader/line-reader.js';
import { Pn532Reader } from '../card-reader/pn532-reader.js';
import type { SerialPortFactory } from '../io/serial-port.js';
import type * as LcdModule from '../display/pcf8574-lcd.js';
import type * as PrinterModule from '../printer/escpos-printer.js';
import type * as StatusChannelModule from '../printer/printer-status-channel.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';

export interface DoctorDeps {
  openGpio: (sysfsRoot?: string) => Promise<{ factory: GpioPinFactory; numbering: GpioNumbering }>;
  serial: SerialPortFactory;
  logger?: Logger;
  /** How long a PN532 (or a ccTalk hopper) gets to wake up and answer before it is probed. Default 3000 ms. */
  readerSettleMs?: number;
}

type Closeable = Probeable & { close(): Promise<void> };

function simulatedRow(device: string): NamedProbeable {
  return {
    device,
    driver: 'simulated',
    required: false,
    probe: async () => simulatedProbe(device),
  };
}

/** Probes a driver made by `make` and always closes it; a throw from `make` becomes the row. */
async function probeAndClose(
  base: Omit<ProbeResult, 'found' | 'status' | 'hint'>,
  make: () => Promise<Closeable>,
  explain: (err: unknown) => { status: string; hint: string },
): Promise<ProbeResult> {
  let driver: Closeable;
  try {
    driver = await make();
  } catch (err) {
    return { ...base, found: false, ...explain(err) };
  }
  try {
    return await driver.probe();
  } finally {
    await driver.close().catch(() => undefined);
  }
}

function describeError(err: unknown): { status: string; hint: string } {
  const e = err as NodeJS.ErrnoException | undefined;
  return { status: e?.code ?? 'error', hint: e?.message ?? String(err) };
}

export function buildDoctorProbes(hw: HardwareConfig, deps: DoctorDeps): NamedProbeable[] {
  const logger = deps.logger ?? silentLogger;
  // One sysfs read for all GPIO devices; local to this call, not module state.
  let gpio: ReturnType<DoctorDeps['openGpio']> | undefined;
  const openGpio = (): ReturnType<DoctorDeps['openGpio']> => (gpio ??= deps.openGpio(hw.gpioSysfsRoot));
  const probes: NamedProbeable[] = [];

  if (hw.buttons) probes.push(buttonsProbe(hw.buttons, openGpio, logger));
  if (hw.coin) probes.push(coinProbe(hw.coin, openGpio, deps, logger));
  if (hw.reader) probes.push(readerProbe(hw.reader, deps, logger));
  if (hw.display) probes.push(displayProbe(hw.display, logger));
  if (hw.printer) probes.push(printerProbe(hw.printer, logger));
  if (hw.slots) probes.push(slotsProbe(hw.slots, openGpio, logger));
  if (hw.hopper) probes.push(hopperProbe(hw.hopper, deps, logger));
  return probes;
}

function buttonsProbe(
  cfg: ButtonsDeviceConfig,
  openGpio: () => ReturnType<DoctorDeps['openGpio']>,
  logger: Logger,
): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('buttons');
  const required = cfg.required ?? true;
  const where = Object.entries(cfg.pins)
    .map(([name, bcm]) => `${name}=BCM ${bcm}`)
    .join(', ');
  return {
    device: 'buttons',
    driver: 'gpio-onoff',
    required,
    probe: () =>
      probeAndClose(
        { device: 'buttons', driver: 'gpio-onoff', where, required },
        async () => {
          const buttons = new GpioButtons((await openGpio()).factory, cfg, logger);
          await buttons.start();
          return buttons;
        },
        explainGpioError,
      ),
  };
}

function coinProbe(
  cfg: CoinDeviceConfig,
  openGpio: () => ReturnType<DoctorDeps['openGpio']>,
  deps: DoctorDeps,
  logger: Logger,
): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('coin');
  const required = cfg.required ?? true;
  if (cfg.driver === 'cctalk') {
    return {
      device: 'coin',
      driver: 'cctalk',
      required,
      // Started as the app starts it: every channel and the master stay inhibited, no coin is taken.
      probe: () =>
        probeAndClose(
          { device: 'coin', driver: 'cctalk', where: cfg.path, required },
          async () => {
            const { CctalkCoinValidator } = await import('../coin-acceptor/cctalk-validator.js');
            const validator = new CctalkCoinValidator(cfg, deps.serial, logger);
            await validator.start();
            await validator.initialised(deps.readerSettleMs ?? 3000);
            return validator;
          },
          describeError,
        ),
    };
  }
  const where = [`coin=BCM ${cfg.coin.bcm}`, ...(cfg.inhibit ? [`inhibit=BCM ${cfg.inhibit.bcm}`] : [])].join(
    ', ',
  );
  return {
    device: 'coin',
    driver: 'pulse-gpio',
    required,
    // The acceptor starts and ends inhibited: probing never lets it take a coin.
    probe: () =>
      probeAndClose(
        { device: 'coin', driver: 'pulse-gpio', where, required },
        async () => new PulseCoinAcceptor((await openGpio()).factory, cfg, logger),
        explainGpioError,
      ),
  };
}

function slotsProbe(
  cfg: SlotsDeviceConfig,
  openGpio: () => ReturnType<DoctorDeps['openGpio']>,
  logger: Logger,
): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('slots');
  const required = cfg.required ?? false;
  const where = cfg.slots.map((s) => `${s.id}=BCM ${s.output.bcm}/${s.sensor.bcm}`).join(', ');
  return {
    device: 'slots',
    driver: 'gpio',
    required,
    // Outputs are opened inactive and never fired: the doctor releases no product; a sensor already
    // active (product in the beam, broken sensor) is the row's status.
    probe: () =>
      probeAndClose(
        { device: 'slots', driver: 'gpio', where, required },
        async () => {
          // Loaded only for a vending counter, as the app does.
          const { GpioVendSlots } = await import('../vend-slot/gpio-vend-slots.js');
          const slots = new GpioVendSlots((await openGpio()).factory, cfg, logger);
          await slots.start();
          return slots;
        },
        explainGpioError,
      ),
  };
}

function hopperProbe(cfg: HopperDeviceConfig, deps: DoctorDeps, logger: Logger): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('hopper');
  const required = cfg.required ?? false;
  const settleMs = deps.readerSettleMs ?? 3000;
  return {
    device: 'hopper',
    driver: 'cctalk',
    required,
    // Started as the app starts it (poll, serial number, enable) and then polled: the doctor never
    // sends a dispense, so no coin leaves the hopper.
    probe: () =>
      probeAndClose(
        { device: 'hopper', driver: 'cctalk', where: cfg.path, required },
        async () => {
          const { CctalkHopper } = await import('../hopper/cctalk-hopper.js');
          const hopper = new CctalkHopper(cfg, deps.serial, logger);
          await startAndSettle(hopper, settleMs);
          return hopper;
        },
        describeError,
      ),
  };
}

/**
 * Starts a serial driver and waits for its first status, at most `settleMs`: that status says whether
 * the port opened and the device answered (a silent one never changes from offline, hence the limit).
 */
function startAndSettle(
  driver: { once(event: 'status', listener: () => void): unknown; start(): void },
  settleMs: number,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, settleMs);
    driver.once('status', () => {
      clearTimeout(timer);
      resolve();
    });
    driver.start();
  });
}

function readerProbe(cfg: ReaderDeviceConfig, deps: DoctorDeps, logger: Logger): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('reader');
  const required = cfg.required ?? true;
  if (cfg.driver === 'line') {
    return {
      device: 'reader',
      driver: 'line-serial',
      required,
      probe: () =>
        probeAndClose(
          { device: 'reader', driver: 'line-serial', where: cfg.path, required },
          async () => new LineCardReader(cfg, deps.serial, logger),
          describeError,
        ),
    };
  }
  const settleMs = deps.readerSettleMs ?? 3000;
  return {
    device: 'reader',
    driver: 'pn532-uart',
    required,
    probe: () =>
      probeAndClose(
        { device: 'reader', driver: 'pn532-uart', where: cfg.path, required },
        async () => {
          const reader = new Pn532Reader(cfg, deps.serial, logger);
          await startAndSettle(reader, settleMs);
          return reader;
        },
        describeError,
      ),
  };
}

function notChecked(device: string, driver: string, why: string): ProbeResult {
  return { device, driver, found: false, where: '-', status: 'not checked', hint: why, required: false };
}

function displayProbe(cfg: DisplayDeviceConfig, logger: Logger): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('display');
  const required = cfg.required ?? false;
  const where = `i2c-${cfg.bus ?? 1} ${cfg.address === undefined ? 'scan' : `0x${cfg.address.toString(16)}`}`;
  return {
    device: 'display',
    driver: cfg.driver,
    required,
    probe: async () => {
      // The display driver is another module; the doctor must still run where it is missing.
      let mod: typeof LcdModule;
      try {
        mod = await import('../display/pcf8574-lcd.js');
      } catch (err) {
        return notChecked('display', cfg.driver, `display driver not available: ${(err as Error).message}`);
      }
      return probeAndClose(
        { device: 'display', driver: cfg.driver, where, required },
        async () =>
          new mod.Pcf8574Lcd({
            cols: cfg.cols,
            rows: cfg.rows,
            busNumber: cfg.bus ?? 1,
            ...(cfg.address === undefined ? {} : { address: cfg.address }),
            ...(cfg.rom ? { rom: cfg.rom } : {}),
            name: 'display',
            required,
            logger,
          }),
        describeError,
      );
    },
  };
}

function printerProbe(cfg: PrinterDeviceConfig, logger: Logger): NamedProbeable {
  if (cfg.driver === 'simulated') return simulatedRow('printer');
  const required = cfg.required ?? false;
  return {
    device: 'printer',
    driver: cfg.driver,
    required,
    probe: async () => {
      let printerMod: typeof PrinterModule;
      let channelMod: typeof StatusChannelModule;
      try {
        printerMod = await import('../printer/escpos-printer.js');
        channelMod = await import('../printer/printer-status-channel.js');
      } catch (err) {
        return notChecked('printer', cfg.driver, `printer driver not available: ${(err as Error).message}`);
      }
      const tcp = /^tcp:\/\/([^:/]+)(?::(\d+))?/.exec(cfg.interface);
      const statusChannel = tcp
        ? channelMod.tcpStatusChannel(tcp[1] ?? '', tcp[2] ? Number(tcp[2]) : 9100)
        : cfg.statusSerial
          ? channelMod.serialStatusChannel(cfg.statusSerial.path, cfg.statusSerial.baudRate ?? 9600)
          : undefined;
      return probeAndClose(
        { device: 'printer', driver: cfg.driver, where: cfg.interface, required },
        async () =>
          printerMod.createEscPosPrinter({
            interface: cfg.interface,
            columns: cfg.columns,
            ...(statusChannel ? { statusChannel } : {}),
            name: 'printer',
            required,
            logger,
          }),
        describeError,
      );
    },
  };
}
