/**
 * Prints how much of each flow machine the model-based paths exercise: states reached and
 * transitions taken (including eventless ones), out of all in the definitions; lists what is missed.
 * Run: npx tsx scripts/machines-coverage.ts [--verbose]
 */
import { generatePaths, MODELS, replay, universe, type ReplayResult } from './model.js';
import { generateKioskPaths, KIOSK_MODELS, replayKiosk } from './kiosk-model.js';
import { kioskMachine } from '../../machines/kiosk.machine.js';
import type { AnyStateMachine } from 'xstate';

const verbose = process.argv.includes('--verbose');
let failures = 0;

interface Job {
  name: string;
  machine: AnyStateMachine;
  runs: { count: number; run: () => AsyncGenerator<ReplayResult | Error> }[];
}

const jobs: Job[] = [
  ...MODELS.map((spec) => {
    const paths = generatePaths(spec);
    return {
      name: spec.name,
      machine: spec.machine,
      runs: [{ count: paths.length, run: () => each(paths, (p) => replay(spec, p), spec.name) }],
    };
  }),
  {
    name: 'kiosk',
    machine: kioskMachine,
    runs: KIOSK_MODELS.map((m) => {
      const paths = generateKioskPaths(m.input);
      return { count: paths.length, run: () => each(paths, (p) => replayKiosk(m.input, p), m.name) };
    }),
  },
];

async function* each<P extends { description: string }>(
  paths: P[],
  fn: (p: P) => Promise<ReplayResult>,
  name: string,
): AsyncGenerator<ReplayResult | Error> {
  for (const path of paths) {
    try {
      yield await fn(path);
    } catch (e) {
      failures++;
      console.error(`FAIL ${name}: ${path.description}\n  ${(e as Error).message}`);
      yield e as Error;
    }
  }
}

for (const job of jobs) {
  const started = Date.now();
  const states = new Set<string>();
  const transitions = new Set<string>();
  let drained = 0;
  let count = 0;
  let unbalanced = 0;
  for (const r of job.runs) {
    count += r.count;
    for await (const res of r.run()) {
      if (res instanceof Error) continue;
      res.statesReached.forEach((s) => states.add(s));
      res.transitionsTaken.forEach((t) => transitions.add(t));
      if (res.finishedBy === 'drain') drained++;
      const m = res.finalMoney;
      if (m.inserted + m.returned !== m.paid + m.credited + m.unclaimed + m.changed + m.reversed)
        unbalanced++;
    }
  }
  const all = universe(job.machine);
  const missedStates = all.states.filter((s) => !states.has(s));
  const missedTransitions = all.transitions.filter((t) => !transitions.has(t));
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;
  const reachedStates = all.states.length - missedStates.length;
  const takenTransitions = all.transitions.length - missedTransitions.length;
  console.log(
    `${job.name}: ${count} paths (${drained} finished by draining, ${unbalanced} with money unaccounted), ` +
      `states ${reachedStates}/${all.states.length} (${pct(reachedStates, all.states.length)}), ` +
      `transitions ${takenTransitions}/${all.transitions.length} (${pct(takenTransitions, all.transitions.length)}), ` +
      `${Date.now() - started} ms`,
  );
  if (missedStates.length) console.log(`  states not reached: ${missedStates.join(', ')}`);
  if (missedTransitions.length)
    console.log(`  transitions not taken:\n    ${missedTransitions.join('\n    ')}`);
  if (verbose) console.log(`  taken:\n    ${[...transitions].sort().join('\n    ')}`);
}
process.exitCode = failures > 0 ? 1 : 0;
