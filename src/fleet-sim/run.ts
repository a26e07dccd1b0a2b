/**
 * Many simulated kiosks in one process: `npx tsx src/fleet-sim/run.ts --kiosks 20 [--mqtt url]`.
 *
 * Options: --kiosks <n> (20), --mqtt <url> (mqtt://127.0.0.1:1883), --prefix <id prefix> (k-),
 * --first <n> (1: ids k-0001...), --heartbeat <s> (10), --sale-every <s> (30, 0 = none),
 * --will-delay <s> (30), --quiet-life (no random paper trouble and busy spells).
 *
 * Started by the benchmark as a child with an IPC channel it also obeys messages:
 * `{ op: 'burst', perKiosk }` -> every kiosk publishes that many sales back to back, answered with
 * `{ op: 'burst-done', published, ms }`; `{ op: 'stop' }` -> all disconnect, then the process exits.
 * It reports `{ op: 'ready', kiosks, ms }` once every kiosk is connected.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { SimKiosk } from './sim-kiosk.js';

export interface FleetSimOptions {
  url: string;
  kiosks: number;
  prefix?: string;
  first?: number;
  heartbeatS?: number;
  saleEveryS?: number;
  willDelayS?: number;
  lively?: boolean;
  /** Connections opened at once while ramping up (the broker's accept queue is not infinite). */
  rampParallel?: number;
}

export function kioskId(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(4, '0')}`;
}

export async function startFleetSim(o: FleetSimOptions): Promise<SimKiosk[]> {
  const first = o.first ?? 1;
  const kiosks = Array.from(
    { length: o.kiosks },
    (_, i) =>
      new SimKiosk({
        id: kioskId(o.prefix ?? 'k-', first + i),
        url: o.url,
        heartbeatS: o.heartbeatS ?? 10,
        saleEveryS: o.saleEveryS ?? 30,
        willDelayS: o.willDelayS ?? 30,
        lively: o.lively ?? true,
      }),
  );
  const parallel = o.rampParallel ?? 50;
  for (let i = 0; i < kiosks.length; i += parallel) {
    await Promise.all(kiosks.slice(i, i + parallel).map((k) => k.start()));
  }
  return kiosks;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kiosks: { type: 'string', default: '20' },
      mqtt: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      prefix: { type: 'string', default: 'k-' },
      first: { type: 'string', default: '1' },
      heartbeat: { type: 'string', default: '10' },
      'sale-every': { type: 'string', default: '30' },
      'will-delay': { type: 'string', default: '30' },
      'quiet-life': { type: 'boolean', default: false },
    },
  });
  const t0 = performance.now();
  const kiosks = await startFleetSim({
    url: values.mqtt,
    kiosks: Number(values.kiosks),
    prefix: values.prefix,
    first: Number(values.first),
    heartbeatS: Number(values.heartbeat),
    saleEveryS: Number(values['sale-every']),
    willDelayS: Number(values['will-delay']),
    lively: !values['quiet-life'],
  });
  const ms = Math.round(performance.now() - t0);
  const stopAll = async (): Promise<void> => {
    await Promise.all(kiosks.map((k) => (process.send ? k.drop() : k.stop())));
    process.exit(0);
  };
  if (process.send) {
    process.send({ op: 'ready', kiosks: kiosks.length, ms });
    process.on('message', (m: { op: string; perKiosk?: number }) => {
      if (m.op === 'burst') {
        const t = performance.now();
        const n = m.perKiosk ?? 10;
        void Promise.all(kiosks.map((k) => k.burst(n))).then(() =>
          process.send?.({ op: 'burst-done', published: n * kiosks.length, ms: performance.now() - t }),
        );
      } else if (m.op === 'stop') {
        void stopAll();
      }
    });
    process.on('disconnect', () => void stopAll());
  } else {
    console.log(
      `${kiosks.length} simulated kiosks connected to ${values.mqtt} in ${ms} ms; Ctrl-C stops them cleanly`,
    );
    process.once('SIGINT', () => void stopAll());
    process.once('SIGTERM', () => void stopAll());
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
