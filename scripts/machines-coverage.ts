/**
 * Prints how much of each flow machine the model-based paths exercise: states reached and
 * transitions taken (including eventless ones), out of all in the definitions; lists what is missed.
 * Run: npx tsx scripts/machines-coverage.ts [--verbose]
 */
import { generatePaths, MODELS, replay, universe } from '../test/machines/model.js';

const verbose = process.argv.includes('--verbose');
let failures = 0;
for (const spec of MODELS) {
  const started = Date.now();
  const paths = generatePaths(spec);
  const states = new Set<string>();
  const transitions = new Set<string>();
  let drained = 0;
  for (const path of paths) {
    try {
      const r = await replay(spec, path);
      r.statesReached.forEach((s) => states.add(s));
      r.transitionsTaken.forEach((t) => transitions.add(t));
      if (r.finishedBy === 'drain') drained++;
    } catch (e) {
      failures++;
      console.error(`FAIL ${spec.name}: ${path.description}\n  ${(e as Error).message}`);
    }
  }
  const all = universe(spec.machine);
  const missedStates = all.states.filter((s) => !states.has(s));
  const missedTransitions = all.transitions.filter((t) => !transitions.has(t));
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;
  const reachedStates = all.states.length - missedStates.length;
  const takenTransitions = all.transitions.length - missedTransitions.length;
  console.log(
    `${spec.name}: ${paths.length} paths (${drained} finished by draining), ` +
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
