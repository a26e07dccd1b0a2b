/**
 * PUBACKs held until stored: sent in arrival order, each only when it and all before it are stored,
 * and never on a later connection.
 */
import assert from 'node:assert/strict';

import { DeferredAcks } from '../../src/dashboard/deferred-acks.js';

describe('dashboard deferred PUBACKs', () => {
  it('sends in arrival order once each and everything before it is stored', () => {
    const sent: number[] = [];
    const acks = new DeferredAcks((id) => sent.push(id));
    const a = acks.hold(1);
    const b = acks.hold(2);
    const c = acks.hold(3);
    b();
    c();
    assert.deepEqual(sent, [], 'message 1 is not stored yet');
    a();
    assert.deepEqual(sent, [1, 2, 3]);
    a();
    assert.deepEqual(sent, [1, 2, 3], 'once');
    assert.equal(acks.maxWaiting, 3);
  });

  it('forgets what a closed connection was owed', () => {
    const sent: number[] = [];
    const acks = new DeferredAcks((id) => sent.push(id));
    const old = acks.hold(7);
    acks.reset();
    const fresh = acks.hold(7);
    old();
    assert.deepEqual(sent, [], 'the old 7 is not the new 7');
    fresh();
    assert.deepEqual(sent, [7]);
    assert.equal(acks.waiting, 0);
  });
});
