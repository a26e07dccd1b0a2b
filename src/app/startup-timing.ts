/**
 * When each start-up phase finished, in ms since the process started (performance.now()'s origin is the
 * process start): load (modules evaluated), config, journal (opened and replayed), self-test (API token
 * and devices), first screen (the idle screen is up: the kiosk takes money again). Logged once as
 * `start-up timing`; bench/app-startup.ts reads that line.
 */
import { performance } from 'node:perf_hooks';

export type StartupPhase = 'load' | 'config' | 'journal' | 'self-test' | 'first screen';

export class StartupTiming {
  private readonly marks = new Map<StartupPhase, number>();
  /** How the program was loaded when not from its files: 'snapshot' (a V8 start-up snapshot). */
  from: 'snapshot' | undefined;

  /** Records `phase` as done now (or at `at`); the first mark of a phase wins. */
  mark(phase: StartupPhase, at = performance.now()): void {
    if (!this.marks.has(phase)) this.marks.set(phase, Math.round(at));
  }

  has(phase: StartupPhase): boolean {
    return this.marks.has(phase);
  }

  /** `{ load: 95, config: 101, ... }` in the order the phases finished. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.marks);
  }
}
