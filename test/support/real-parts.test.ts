import assert from 'node:assert/strict';

import { needs, partsRequired, type RealPart } from './real-parts.js';

const absent: RealPart = {
  name: 'nothing-here',
  install: 'apt-get install nothing-here',
  present: () => false,
};
const here: RealPart = { name: 'always', install: '-', present: async () => true };

/** A stand-in for mocha's context: only `skip` is used. */
function fakeContext() {
  const ctx = { skipped: false, skip: () => ((ctx.skipped = true), undefined as never) };
  return ctx;
}

describe('real parts a test needs (test/support/real-parts.ts)', function () {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
    delete process.env.CI;
    delete process.env.REQUIRE_REAL_PARTS;
  });
  afterEach(() => {
    process.env = saved;
  });

  it('reads REQUIRE_REAL_PARTS and CI, where "0", "false" and empty mean not required', function () {
    assert.equal(partsRequired({}), false);
    assert.equal(partsRequired({ REQUIRE_REAL_PARTS: '1' }), true);
    assert.equal(partsRequired({ CI: 'true' }), true);
    assert.equal(partsRequired({ CI: 'false', REQUIRE_REAL_PARTS: '0' }), false);
    assert.equal(partsRequired({ CI: '' }), false);
  });

  it('goes on when every part is present', async function () {
    const ctx = fakeContext();
    await needs(ctx as unknown as Mocha.Context, here);
    assert.equal(ctx.skipped, false);
  });

  it('skips on a developer machine without the part', async function () {
    const ctx = fakeContext();
    await needs(ctx as unknown as Mocha.Context, here, absent);
    assert.equal(ctx.skipped, true);
  });

  it('fails under CI, naming the missing part, instead of skipping', async function () {
    process.env.REQUIRE_REAL_PARTS = '1';
    const ctx = fakeContext();
    await assert.rejects(
      needs(ctx as unknown as Mocha.Context, absent),
      /nothing-here \(apt-get install nothing-here\)/,
    );
    assert.equal(ctx.skipped, false);
  });
});
