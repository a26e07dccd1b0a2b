/**
 * Reaction time of the kiosk program (in-process KioskApp, simulated devices, the API stand-in in the
 * same process answering at once): from an event on a simulated device to the simulated display's
 * `change` event.
 *
 *   npx tsx bench/app-reaction.ts [--presses 10000] [--coins 10000] [--scans 1000]
 *
 * - button: `down` in the checkout's product chooser (every press shows the next product);
 * - coin: a 10 ct coin while collecting a top-up ("Noch / Eingew." change), including the journal's
 *   fsync that must happen before the machine counts the coin;
 * - scan: a card scanned on the idle top-up kiosk, to the first change ("Prüfe Karte") and to the
 *   balance screen (an HTTP round trip to the stand-in, token and transaction included).
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { fmtMs, percentile, startAppRig, type AppRig } from './app-rig.js';

const { values } = parseArgs({
  options: {
    presses: { type: 'string', default: '10000' },
    coins: { type: 'string', default: '10000' },
    scans: { type: 'string', default: '1000' },
  },
});

interface Series {
  name: string;
  samples: number[];
}

function report(s: Series): void {
  const sorted = [...s.samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  console.log(
    `${s.name.padEnd(34)} n=${String(sorted.length).padStart(6)}  p50 ${fmtMs(percentile(sorted, 50)).padStart(9)}  p99 ${fmtMs(percentile(sorted, 99)).padStart(9)}  max ${fmtMs(sorted.at(-1) ?? NaN).padStart(9)}  mean ${fmtMs(mean)}`,
  );
}

/** Time from `act()` to the next display change. */
function nextChange(rig: AppRig, act: () => void, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let t0 = 0;
    const timer = setTimeout(() => {
      rig.display.off('change', onChange);
      reject(new Error(`no display change; screen:\n${rig.text()}`));
    }, timeoutMs);
    const onChange = () => {
      const dt = performance.now() - t0;
      clearTimeout(timer);
      rig.display.off('change', onChange);
      resolve(dt);
    };
    rig.display.on('change', onChange);
    t0 = performance.now();
    act();
  });
}

async function buttons(n: number): Promise<Series> {
  const catalogue = (JSON.parse(readFileSync('config/simulator.json', 'utf8')) as { catalogue: unknown })
    .catalogue;
  const rig = await startAppRig({ kiosk: { id: 'k-bench-0001', mode: 'checkout' }, catalogue });
  const samples: number[] = [];
  try {
    rig.sim.buttons.press('down');
    await rig.until(/OK=Dazu C=Zurück/);
    for (let i = 0; i < 200; i++) await nextChange(rig, () => rig.sim.buttons.press('down')); // warm-up
    for (let i = 0; i < n; i++) samples.push(await nextChange(rig, () => rig.sim.buttons.press('down')));
  } finally {
    await rig.close();
  }
  return { name: 'button down -> display', samples };
}

async function coins(n: number): Promise<Series> {
  const rig = await startAppRig({ topup: { amounts: [10_000], minCents: 100, maxCents: 10_000 } });
  const samples: number[] = [];
  try {
    while (samples.length < n) {
      rig.sim.reader.scan('9276000000000018');
      await rig.until(/Betrag wählen/);
      rig.sim.buttons.press('amount1');
      await rig.until(/Noch 100,00 EUR/);
      // 999 coins keep the session short of its 100 EUR target; OK then loads what was inserted.
      for (let i = 0; i < 990 && samples.length < n; i++)
        samples.push(await nextChange(rig, () => void rig.sim.acceptor.insert(10)));
      rig.sim.buttons.press('ok');
      await rig.until(/Vielen Dank!/);
      rig.sim.buttons.press('ok');
      await rig.until(/Karte aufladen/);
      await rig.resetLedger();
    }
  } finally {
    await rig.close();
  }
  return { name: 'coin 10 ct -> display (journaled)', samples };
}

async function scans(n: number): Promise<Series[]> {
  const rig = await startAppRig();
  const first: number[] = [];
  const balance: number[] = [];
  try {
    for (let i = 0; i < n + 20; i++) {
      const t0 = performance.now();
      const dt = await nextChange(rig, () => void rig.sim.reader.scan('9276004429942845'));
      await rig.until(/Betrag wählen/);
      const dtBalance = performance.now() - t0;
      if (i >= 20) {
        first.push(dt);
        balance.push(dtBalance);
      }
      rig.sim.buttons.press('cancel');
      await rig.until(/Abgebrochen|Auf Wiedersehen/);
      rig.sim.buttons.press('ok');
      await rig.until(/Karte aufladen/);
      if (i % 100 === 99) await rig.resetLedger();
    }
  } finally {
    await rig.close();
  }
  return [
    { name: 'scan -> first change ("Prüfe Karte")', samples: first },
    { name: 'scan -> balance screen (API)', samples: balance },
  ];
}

console.log(`kiosk reaction, Node ${process.version}, ${process.platform}/${process.arch}`);
const started = performance.now();
report(await buttons(Number(values.presses)));
report(await coins(Number(values.coins)));
for (const s of await scans(Number(values.scans))) report(s);
console.log(`(total ${((performance.now() - started) / 1000).toFixed(1)} s)`);
