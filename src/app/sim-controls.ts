/**
 * The control port's and simulator's door into the simulated devices (`SimControls`): buttons,
 * reader, coins, paper, cables, slots and hopper, and what the kiosk shows and printed. A device that
 * is not simulated in this configuration refuses with a message.
 */
import { DEMO_CARDS } from '../sim/demo-cards.js';
import type { KioskSummary } from '../contracts/kiosk-summary.js';
import type { Printer } from '../../hal/printer/printer.js';
import type { ControlDevice, SimControls } from './control-port.js';
import type { SimHandles } from './devices.js';

export interface SimControlsDeps {
  /** The simulated twins, as built at start (read at each call). */
  sim: () => SimHandles;
  /** The kiosk's printer (asked for its status after the simulated paper changed). */
  printer: () => Pick<Printer, 'status'>;
  /** The screen as last shown (when the display is not simulated). */
  screen: () => string[];
  state: () => KioskSummary;
  /** The hopper changed (the vending counter tells the machine and the fleet). */
  vendChanged: () => void;
  /** Something the state shows changed. */
  changed: () => void;
}

export function simControls(deps: SimControlsDeps): SimControls {
  const sim = deps.sim;
  /** Lets a release held by the control port (`slot hold`) go on. */
  let releaseHold: (() => void) | undefined;
  const need = <T>(dev: T | undefined, name: string): T => {
    if (!dev) throw new Error(`${name} is not simulated in this configuration`);
    return dev;
  };
  const plug = (device: ControlDevice, on: boolean) => {
    if (device === 'acceptor' || device === 'buttons')
      throw new Error(`the simulated ${device} has no cable to pull (reader, printer and display have)`);
    const target =
      device === 'reader'
        ? sim().reader
        : device === 'printer'
          ? sim().printer
          : device === 'display'
            ? sim().display
            : undefined;
    const dev = need(target, device);
    if (on) dev.replug();
    else dev.unplug();
  };
  return {
    press: (b) => need(sim().buttons, 'buttons').press(b),
    longPress: (b) => need(sim().buttons, 'buttons').longPress(b),
    scan: (data) => void need(sim().reader, 'reader').scan(data),
    coin: (cents, late) => {
      const acceptor = need(sim().acceptor, 'acceptor');
      if (!late) return { accepted: acceptor.insert(cents) };
      acceptor.insertLate(cents);
      return { accepted: true };
    },
    paper: (state) => {
      need(sim().printer, 'printer').setPaper(state);
      void deps.printer().status();
    },
    printer: (action, jobs) =>
      need(sim().printer, 'printer').failMidPrint(action === 'fail' ? (jobs ?? 1) : 0),
    unplug: (device) => plug(device, false),
    replug: (device) => plug(device, true),
    display: () => sim().display?.text() ?? deps.screen(),
    state: () => ({ ...deps.state() }),
    receipts: () => sim().printer?.receipts.map((r) => [...r.text]) ?? [],
    cards: () => DEMO_CARDS.map((c) => ({ cardnumber: c.cardnumber, note: c.note })),
    slot: (slot, action) => {
      const slots = need(sim().slots, 'slots');
      if (action === 'jam') slots.jam(slot);
      else if (action === 'break') slots.breakSensor(slot);
      else if (action === 'hold') {
        // Every release (any slot) waits mid-way until `fix`: a test cuts the power meanwhile.
        slots.gate = new Promise<void>((resolve) => (releaseHold = resolve));
      } else {
        slots.fix(slot);
        slots.gate = undefined;
        releaseHold?.();
      }
      deps.changed();
    },
    hopper: (action, coins) => {
      const hopper = need(sim().hopper, 'hopper');
      if (action === 'empty') hopper.empty();
      else if (action === 'refill') hopper.refill(coins ?? 50);
      else if (action === 'jam') hopper.jam(coins ?? 0);
      else hopper.setOnline(action === 'online');
      deps.vendChanged();
      return { coins: hopper.coins };
    },
  };
}
