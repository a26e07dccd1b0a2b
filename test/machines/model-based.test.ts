/**
 * Paths generated from the real machines by xstate/graph (see model.ts), replayed against live
 * actors with fake API/printer/journal actors and a SimulatedClock. Every path that is the first to
 * reach a state or take a transition is its own test; one more test replays every generated path
 * for the money rule and measures coverage (all states, all transitions).
 */
import assert from 'node:assert/strict';
import { generatePaths, MODELS, replay, universe } from './model.js';
import { generateKioskPaths, KIOSK_MODELS, replayKiosk } from './kiosk-model.js';
import { kioskMachine } from '../../machines/kiosk.machine.js';

for (const spec of MODELS) {
  const paths = generatePaths(spec);

  describe(`model-based: ${spec.name} (${paths.length} generated paths)`, () => {
    for (const path of paths.filter((p) => p.firstFor !== null)) {
      it(`${path.firstFor}: ${path.description}`, async () => {
        const r = await replay(spec, path);
        const m = r.finalMoney;
        assert.equal(m.inserted + m.returned, m.paid + m.credited + m.unclaimed + m.changed);
      });
    }

    it(`every generated path: inserted + returned = paid + credited + unclaimed + changed, nothing held at the end, goods only after payment; all states and transitions covered`, async function () {
      this.timeout(180_000);
      const states = new Set<string>();
      const transitions = new Set<string>();
      const failures: string[] = [];
      for (const path of paths) {
        try {
          const r = await replay(spec, path);
          r.statesReached.forEach((s) => states.add(s));
          r.transitionsTaken.forEach((t) => transitions.add(t));
        } catch (e) {
          failures.push(`${path.description}: ${(e as Error).message}`);
        }
      }
      assert.deepEqual(failures.slice(0, 5), []);
      const all = universe(spec.machine);
      assert.deepEqual(
        all.states.filter((s) => !states.has(s)),
        [],
        'states not reached',
      );
      assert.deepEqual(
        all.transitions.filter((t) => !transitions.has(t)),
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
