/**
 * Paths generated from the real machines by xstate/graph (see model.ts), replayed against live
 * actors with fake API/printer/journal actors and a SimulatedClock. Every path that is the first to
 * reach a state or take a transition is its own test; one more test replays every generated path
 * for the money rule and measures coverage (all states, all transitions).
 */
import assert from 'node:assert/strict';
import { coveredElsewhere, generatePaths, MODELS, replay, universe } from './model.js';
import { generateKioskPaths, KIOSK_MODELS, replayKiosk } from './kiosk-model.js';
import { kioskMachine } from '../../machines/kiosk.machine.js';

/** Paths per replay test: small enough that one slice stays far inside its time limit under load. */
const REPLAY_SLICE = 1000;

for (const spec of MODELS) {
  const paths = generatePaths(spec);

  describe(`model-based: ${spec.name} (${paths.length} generated paths)`, () => {
    for (const path of paths.filter((p) => p.firstFor !== null)) {
      it(`${path.firstFor}: ${path.description}`, async () => {
        const r = await replay(spec, path);
        const m = r.finalMoney;
        assert.equal(m.inserted + m.returned, m.paid + m.credited + m.unclaimed + m.changed + m.reversed);
      });
    }

    // The replay is pure CPU work. One test over all paths took minutes on a loaded CI machine and hit
    // its wall-clock limit (the run was not wrong, only slow), so the paths are replayed in slices, each
    // its own test with its own limit, and coverage is asserted over all of them at the end.
    const states = new Set<string>();
    const transitions = new Set<string>();
    let replayed = 0;
    for (let from = 0; from < paths.length; from += REPLAY_SLICE) {
      const slice = paths.slice(from, from + REPLAY_SLICE);
      it(`generated paths ${from + 1}-${from + slice.length}: inserted + returned = paid + credited + unclaimed + changed + reversed, nothing held at the end, goods only after payment, reversed only with no goods out`, async function () {
        this.timeout(180_000);
        const failures: string[] = [];
        for (const path of slice) {
          replayed++;
          try {
            const r = await replay(spec, path);
            r.statesReached.forEach((s) => states.add(s));
            r.transitionsTaken.forEach((t) => transitions.add(t));
          } catch (e) {
            failures.push(`${path.description}: ${(e as Error).message}`);
          }
        }
        assert.deepEqual(failures.slice(0, 5), []);
      });
    }

    it('all states and transitions covered by the generated paths', () => {
      assert.equal(replayed, paths.length, 'coverage needs every slice replayed first (no --grep)');
      const all = universe(spec.machine);
      assert.deepEqual(
        all.states.filter((s) => !states.has(s) && !coveredElsewhere(s)),
        [],
        'states not reached',
      );
      assert.deepEqual(
        all.transitions.filter((t) => !transitions.has(t) && !coveredElsewhere(t)),
        [],
        'transitions not taken',
      );
    });
  });
}

describe('model-based: kiosk', () => {
  const models = KIOSK_MODELS.map((m) => ({ ...m, paths: generateKioskPaths(m.input) }));
  for (const m of models) {
    for (const path of m.paths.filter((p) => p.firstFor !== null)) {
      it(`${m.name}: ${path.firstFor}: ${path.description}`, async () => {
        const r = await replayKiosk(m.input, path);
        assert.ok(r.statesReached.size > 0);
      });
    }
  }

  it('every generated path keeps the rules; all states and transitions covered', async function () {
    this.timeout(180_000);
    const states = new Set<string>();
    const transitions = new Set<string>();
    const failures: string[] = [];
    for (const m of models) {
      for (const path of m.paths) {
        try {
          const r = await replayKiosk(m.input, path);
          r.statesReached.forEach((s) => states.add(s));
          r.transitionsTaken.forEach((t) => transitions.add(t));
        } catch (e) {
          failures.push(`${m.name} ${path.description}: ${(e as Error).message}`);
        }
      }
    }
    assert.deepEqual(failures.slice(0, 5), []);
    const all = universe(kioskMachine);
    assert.deepEqual(
      all.states.filter((s) => !states.has(s)),
      [],
    );
    assert.deepEqual(
      all.transitions.filter((t) => !transitions.has(t)),
      [],
    );
  });
});
