/**
 * "No machine stuck in a transient state longer than X": the app reports each machine's state as
 * it changes, marking the states that must end by themselves (talking to the API, printing,
 * waiting for the terminal) with a time limit. The watchdog asks `verdict()` before every ping.
 * Idle states (attract screen, out of service) have no limit.
 */
import type { HealthVerdict } from './watchdog.js';

interface Entry {
  state: string;
  since: number;
  limitMs: number | undefined;
}

export class StuckStateGuard {
  private readonly machines = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A machine entered `state`; `limitMs` undefined means it may stay there forever. */
  enter(machine: string, state: string, limitMs?: number): void {
    const prev = this.machines.get(machine);
    if (prev && prev.state === state && prev.limitMs === limitMs) return;
    this.machines.set(machine, { state, since: this.now(), limitMs });
  }

  forget(machine: string): void {
    this.machines.delete(machine);
  }

  verdict(): HealthVerdict {
    const t = this.now();
    for (const [machine, e] of this.machines) {
      if (e.limitMs !== undefined && t - e.since > e.limitMs) {
        return {
          healthy: false,
          reason: `${machine} stuck in ${e.state} for ${Math.round((t - e.since) / 1000)} s (limit ${Math.round(e.limitMs / 1000)} s)`,
        };
      }
    }
    return { healthy: true };
  }
}
