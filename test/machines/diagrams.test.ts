import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MACHINE_PAGES } from '../../machines/machine-pages.js';
import { eventLabel, toMermaid } from '../../machines/diagram.js';
import { checkoutMachine } from '../../machines/checkout.machine.js';

describe('machine diagrams', () => {
  for (const page of MACHINE_PAGES) {
    it(`docs/machines/${page.name}.md is up to date (npm run docs:machines)`, () => {
      const committed = readFileSync(new URL(`../../docs/machines/${page.name}.md`, import.meta.url), 'utf8');
      assert.equal(committed, page.render());
    });
  }

  it('draws states, initial markers and labelled transitions', () => {
    const text = toMermaid(checkoutMachine);
    assert.ok(text.startsWith('stateDiagram-v2\n'));
    assert.match(text, /\[\*\] --> session\n/);
    assert.match(text, /pay__starting --> pay__readingBack : error startPayment \[outcomeUnknown\]/);
    assert.match(text, /finished --> \[\*\]/);
  });

  it('names xstate event types readably', () => {
    assert.equal(eventLabel('xstate.after.inactivity.checkout.session.basket.browsing'), 'after inactivity');
    assert.equal(eventLabel('xstate.done.actor.print'), 'done print');
  });
});
