import assert from 'node:assert/strict';
import {
  formatJobRef,
  isCreditRef,
  isJobRef,
  isRecoveryRef,
  jobRef,
  parseJobRef,
  sessionOfRef,
} from '../../machines/job-ref.js';

describe('job references (machines/job-ref.ts)', () => {
  it('formats as <session>:<step>:<n> and parses back', () => {
    assert.equal(jobRef('b1-16', 'credit', 2), 'b1-16:credit:2');
    assert.deepEqual(parseJobRef('b1-16:credit:2'), { sessionId: 'b1-16', step: 'credit', n: '2' });
    const start = { sessionId: 'S1', step: 'start' as const, n: 'T-7:1' };
    assert.equal(formatJobRef(start), 'S1:start:T-7:1');
    assert.deepEqual(parseJobRef(formatJobRef(start)), start);
  });

  it('a ref without a number (a transaction not created yet) round-trips too', () => {
    assert.equal(jobRef('s9', 'recovery-credit'), 's9:recovery-credit');
    assert.deepEqual(parseJobRef('s9:recovery-credit'), { sessionId: 's9', step: 'recovery-credit' });
  });

  it('reads the references older journals and ledgers hold', () => {
    // As written by earlier versions (flow, journal wrapper, recovery), byte for byte.
    assert.equal(sessionOfRef('b1-12:start:tx_4711:1'), 'b1-12');
    assert.equal(sessionOfRef('b1-12:start/cash:k3'), 'b1-12');
    assert.equal(sessionOfRef('b1-12:recovery-credit:mgx1a2'), 'b1-12');
    assert.ok(isRecoveryRef('b1-12:recovery-credit:mgx1a2'));
    assert.ok(!isRecoveryRef('b1-12:credit:3'));
    assert.ok(isCreditRef('b1-12:credit:3'));
    assert.ok(isCreditRef('b1-12:recovery-credit:mgx1a2'));
    assert.ok(!isCreditRef('b1-12:credit-receipt:4'));
    assert.ok(!isCreditRef('b1-12:create:1'));
  });

  it('a string that is no job reference names no session', () => {
    for (const ref of [null, undefined, '', 'ORDER-4711', ':x:1']) {
      assert.equal(sessionOfRef(ref), null, String(ref));
      assert.ok(!isJobRef(ref));
      assert.ok(!isCreditRef(ref));
    }
    assert.ok(!isJobRef('STX_ABCDEF'));
  });
});
