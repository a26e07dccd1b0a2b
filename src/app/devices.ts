/**
 * Builds the devices (five, and a vending counter's slots and hopper) from the `hardware` section: the real driver or its simulated twin.
 * Real drivers are imported only when configured, so a simulated kiosk never loads native modules
 * and the Pi loads only what it uses (start-up time on a Pi Zero counts every module).
 */
import type { KioskConfig } from '../config/config-schema.js';
import type { Buttons } from '../../hal/buttons/buttons.js';
import type { CardReader } from '../../hal/card-reader/card-reader.js';
import type { CoinAcceptor } from '../../hal/coin-acceptor/coin-acceptor.js';
import type { Display } from '../../hal/display/display.js';
import type { Printer } from '../../hal/printer/printer.js';
import type { GpioPinFactory } from '../../hal/io/gpio.js';
import type { Hopper } from '../../hal/hopper/hopper.js';
import { SimulatedHopper } from '../../hal/hopper/sim-hopper.js';
import type { VendSlots } from '../../hal/vend-slot/vend-slot.js';
import { SimulatedVendSlots } from '../../hal/vend-slot/sim-vend-slots.js';
import { SimulatedButtons } from '../../hal/buttons/sim-buttons.js';
import { SimulatedCardReader } from '../../hal/card-reader/sim-card-reader.js';
import { SimulatedCoinAcceptor } from '../../hal/coin-acceptor/sim-coin-acceptor.js';
import { SimulatedDisplay } from '../../hal/display/sim-display.js';
import { SimulatedPrinter } from '../../hal/printer/sim-printer.js';
import type { Logger } from '../util/logger.js';

export interface Devices {
  display: Display;
  reader: CardReader;
  buttons: Buttons;
  acceptor: CoinAcceptor;
  printer: Printer;
  /** A vending counter's slots (`hardware.slots`), when configured. */
  slots?: VendSlots;
  /** The change hopper (`hardware.hopper`), when configured. */
  hopper?: Hopper;
}

/** The simulated twins, where a device is simulated: the simulator and the control port drive them. */
export interface SimHandles {
  display?: SimulatedDisplay;
  reader?: SimulatedCardReader;
  buttons?: SimulatedButtons;
  acceptor?: SimulatedCoinAcceptor;
  printer?: SimulatedPrinter;
  slots?: SimulatedVendSlots;
  hopper?: SimulatedHopper;
}

export class DeviceSetupError extends Error {
  override readonly name = 'DeviceSetupError';
  constructor(
    readonly device: string,
    message: string,
  ) {
    super(`hardware.${device}: ${message}`);
  }
}

function need<T>(value: T | undefined, device: string): T {
  if (value === undefined) throw new DeviceSetupError(device, 'not configured');
  return value;
}

export async function buildDevices(
  config: Pick<KioskConfig, 'hardware' | 'sim'>,
  logger: Logger,
): Promise<{ devices: Devices; sim: SimHandles }> {
  const hw = config.hardware;
  const sim: SimHandles = {};
  let gpio: GpioPinFactory | undefined;
  const gpioFactory = async (device: string): Promise<GpioPinFactory> => {
    if (gpio) return gpio;
    const { openOnoffPinFactory } = await import('../../hal/io/gpio-onoff.js');
    try {
      gpio = (await openOnoffPinFactory(hw.gpioSysfsRoot)).factory;
    } catch (err) {
      throw new DeviceSetupError(device, `GPIO not usable: ${(err as Error).message}`);
    }
    return gpio;
  };
  const serial = async () => (await import('../../hal/io/serial-port-node.js')).nodeSerialPortFactory;

  const d = need(hw.display, 'display');
  let display: Display;
  if (d.driver === 'simulated') {
    display = sim.display = new SimulatedDisplay(config.sim.displayCols, config.sim.displayRows);
  } else {
    const { Pcf8574Lcd } = await import('../../hal/display/pcf8574-lcd.js');
    display = new Pcf8574Lcd({
      cols: d.cols,
      rows: d.rows,
      busNumber: d.bus,
      address: d.address,
      rom: d.rom,
      name: 'display',
      logger,
    });
  }

  const r = need(hw.reader, 'reader');
  let reader: CardReader;
  if (r.driver === 'simulated') {
    reader = sim.reader = new SimulatedCardReader();
  } else if (r.driver === 'line') {
    const { LineCardReader } = await import('../../hal/card-reader/line-reader.js');
    reader = new LineCardReader(
      { path: r.path, baudRate: r.baudRate, maxLength: r.maxLength, backoff: r.backoff },
      await serial(),
      logger,
    );
  } else {
    const { Pn532Reader } = await import('../../hal/card-reader/pn532-reader.js');
    reader = new Pn532Reader(
      { path: r.path, baudRate: r.baudRate, pollIntervalMs: r.pollIntervalMs, uidFormat: r.uidFormat },
      await serial(),
      logger,
    );
  }

  const b = need(hw.buttons, 'buttons');
  let buttons: Buttons;
  if (b.driver === 'simulated') {
    buttons = sim.buttons = new SimulatedButtons();
  } else {
    const { GpioButtons } = await import('../../hal/buttons/gpio-buttons.js');
    buttons = new GpioButtons(await gpioFactory('buttons'), b, logger);
  }

  const c = need(hw.coin, 'coin');
  let acceptor: CoinAcceptor;
  if (c.driver === 'simulated') {
    acceptor = sim.acceptor = new SimulatedCoinAcceptor(10, c.coins ?? config.sim.coins);
  } else if (c.driver === 'cctalk') {
    const { CctalkCoinValidator } = await import('../../hal/coin-acceptor/cctalk-validator.js');
    acceptor = new CctalkCoinValidator(c, await serial(), logger);
  } else {
    const { PulseCoinAcceptor } = await import('../../hal/coin-acceptor/pulse-coin-acceptor.js');
    acceptor = new PulseCoinAcceptor(await gpioFactory('coin'), c, logger);
  }

  const p = need(hw.printer, 'printer');
  let printer: Printer;
  if (p.driver === 'simulated') {
    printer = sim.printer = new SimulatedPrinter({
      columns: config.sim.printerColumns,
      logger,
      name: 'printer',
    });
  } else {
    const [{ createEscPosPrinter }, channels] = await Promise.all([
      import('../../hal/printer/escpos-printer.js'),
      import('../../hal/printer/printer-status-channel.js'),
    ]);
    const tcp = /^tcp:\/\/([^:/]+)(?::(\d+))?/.exec(p.interface);
    const statusChannel = tcp
      ? channels.tcpStatusChannel(tcp[1] ?? '', tcp[2] ? Number(tcp[2]) : 9100)
      : p.statusSerial
        ? channels.serialStatusChannel(p.statusSerial.path, p.statusSerial.baudRate ?? 9600)
        : undefined;
    printer = createEscPosPrinter({
      interface: p.interface,
      columns: p.columns,
      ...(statusChannel ? { statusChannel } : {}),
      name: 'printer',
      logger,
    });
  }

  const devices: Devices = { display, reader, buttons, acceptor, printer };
  const v = hw.slots;
  if (v?.driver === 'simulated') {
    devices.slots = sim.slots = new SimulatedVendSlots(v.slots.map((s) => s.id));
  } else if (v?.driver === 'gpio') {
    const { GpioVendSlots } = await import('../../hal/vend-slot/gpio-vend-slots.js');
    devices.slots = new GpioVendSlots(await gpioFactory('slots'), v, logger);
  }
  const h = hw.hopper;
  if (h?.driver === 'simulated') {
    devices.hopper = sim.hopper = new SimulatedHopper(h.coinCents, h.coins, {
      ...(h.stateFile ? { stateFile: h.stateFile } : {}),
      coinMs: h.coinMs,
    });
  } else if (h?.driver === 'cctalk') {
    const { CctalkHopper } = await import('../../hal/hopper/cctalk-hopper.js');
    devices.hopper = new CctalkHopper(h, await serial(), logger);
  }
  return { devices, sim };
}
