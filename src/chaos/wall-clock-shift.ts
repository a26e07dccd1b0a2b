/**
 * Preloaded into the kiosk by the chaos harness (`node --import tsx --import <this>`), never by the
 * kiosk itself: shifts the process's wall clock (`Date`) by the offset in milliseconds written in the
 * file `CHAOS_CLOCK_FILE`, read at start and again on SIGUSR2. A Pi without RTC sees exactly this
 * when time sync lands or an operator sets the clock: `Date.now()` jumps by hours while monotonic
 * time (`performance.now()`, Node's timers) runs on. Without root, and without touching the shared
 * machine's clock, this is the one way to jump a process's wall clock.
 */
import { readFileSync } from 'node:fs';

const file = process.env.CHAOS_CLOCK_FILE;
if (file) {
  let offset = 0;
  const read = () => {
    try {
      offset = Number(readFileSync(file, 'utf8')) || 0;
    } catch {
      offset = 0;
    }
  };
  read();
  process.on('SIGUSR2', read);
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
