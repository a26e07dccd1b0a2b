/**
 * An in-process kiosk for the app benchmarks: KioskApp with every device simulated and the API
 * stand-in in the same process, its ledger and journal on a RAM disk when there is one (so the figures
 * show the kiosk's own work, not the SD card's fsync). `until()` resolves on the simulated display's
 * `change` event, the same event the simulator's face repaints on.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import type { SimHandles } from '../src/app/devices.js';
import { KioskApp } from '../src/app/kiosk-app.js';
import { silentLogger } from '../src/util/logger.js';
import type { SimulatedDisplay } from '../hal/display/sim-display.js';
import { simulatedHardware } from '../src/harness/kiosk-process.js';

export interface AppRig {
  app: KioskApp;
  sim: Required<Pick<SimHandles, 'display' | 'reader' | 'buttons' | 'acceptor' | 'printer'>>;
  display: SimulatedDisplay;
  /** The screen as one string (lines trimmed, joined by '\n'). */
  text(): string;
  /** Resolves when the screen matches (now or after a later change). */
  until(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Empties the stand-in's ledger back to the demo cards (keeps its memory and file bounded). */
  resetLedger(): Promise<void>;
  dir: string;
  close(): Promise<void>;
}

export async function startAppRig(patch: Record<string, unknown> = {}): Promise<AppRig> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'kiosk-bench-'));
  const doc = {
    kiosk: { id: 'k-bench-0001', mode: 'topup', cardTerminal: false },
    api: {
      baseUrl: 'standin',
      clientId: 'kiosk-demo',
      clientSecret: 'demo-secret',
      standIn: { ledger: 'ledger.json', terminalDelayMs: 0 },
    },
    hardware: simulatedHardware(),
    sim: { tui: false },
    journal: { dir: 'journal' },
    timeouts: { inactivityMs: 600_000, warningMs: 60_000, resultMs: 60_000 },
    ...patch,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(doc));
  const app = new KioskApp({ config: loadConfig(join(dir, 'config.json')), logger: silentLogger });
  await app.start();
  // The handles are private to the app; the benchmark reaches in rather than widening its API.
  const sim = (app as unknown as { sim: AppRig['sim'] }).sim;
  const display = sim.display;
  const text = () => display.text().join('\n');
  const until = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(text())) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        display.off('change', onChange);
        reject(new Error(`screen never matched ${pattern}; last:\n${text()}`));
      }, timeoutMs);
      const onChange = () => {
        if (!pattern.test(text())) return;
        clearTimeout(timer);
        display.off('change', onChange);
        resolve();
      };
      display.on('change', onChange);
    });
  await until(/Karte aufladen|Willkommen!/);
  return {
    app,
    sim,
    display,
    text,
    until,
    resetLedger: async () => {
      const res = await fetch(`${app.standInUrl}/__sim/reset`, { method: 'POST' });
      await res.arrayBuffer();
    },
    dir,
    close: async () => {
      await app.stop('bench done');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** p-th percentile (0..100) of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}
