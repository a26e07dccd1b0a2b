/**
 * The one "intent, call, outcome" helper the live path and recovery share: what it writes, in
 * which order, and what a failed call leaves in the journal.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../src/api/errors.js';
import { failedCallResult, journaledCall, judgeTransaction } from '../../src/bookkeeping/journaled-call.js';
import { Journal } from '../../src/journal/journal.js';
import type { JournalRecord } from '../../src/journal/state.js';
import { silentLogger } from '../../src/util/logger.js';

describe('journaledCall (src/bookkeeping/journaled-call.ts)', () => {
  let dir: string;
  let journal: Journal;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journaled-call-'));
    journal = await Journal.open(dir, { logger: silentLogger });
    await journal.append({ type: 'session_started', sessionId: 's1', mode: 'topup' });
  });
  afterEach(async () => {
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  const records = async () => {
    const out: JournalRecord[] = [];
    for await (const r of journal.entries())
      if (r.type !== 'session_started' && r.type !== 'snapshot') out.push(r);
    return out;
  };
  const intent = { sessionId: 's1', apiId: 'T1', step: 'credit' as const, jobId: 's1:credit:1', cents: 300 };

  it('the intent is durable before the call; an ok credit is written with its amount', async () => {
    let seenAtCall: string[] = [];
    const { judged } = await journaledCall(journal, {
      intent,
      call: async () => {
        seenAtCall = (await records()).map((r) => r.type);
        return { id: 'T1', status: 'ok' };
      },
      judge: (tx) => judgeTransaction('credit', tx),
      failed: failedCallResult,
    });
    assert.deepEqual(seenAtCall, ['api_intent']);
    assert.equal(judged.result, 'ok');
    const written = await records();
    assert.deepEqual(
      written.map((r) => r.type),
      ['api_intent', 'api_outcome', 'credited'],
    );
    assert.equal(journal.state.sessions['s1']?.creditedCents, 300);
  });

  it('a credit answered 200 failed is journaled as failed, nothing credited', async () => {
    await journaledCall(journal, {
      intent,
      call: async () => ({ id: 'T1', status: 'failed' }),
      judge: (tx) => judgeTransaction('credit', tx),
      failed: failedCallResult,
    });
    const written = await records();
    assert.deepEqual(
      written.map((r) => r.type),
      ['api_intent', 'api_outcome'],
    );
    assert.equal(journal.state.sessions['s1']?.creditedCents, 0);
    assert.equal(journal.state.sessions['s1']?.lastStep?.outcome, 'failed');
  });

  it('a call that may have reached the server leaves the step in doubt, and its error reaches the caller', async () => {
    const lost = new ApiError({ kind: 'timeout', outcome: 'unknown', operation: 'start', message: 'lost' });
    await assert.rejects(
      journaledCall(journal, {
        intent,
        call: () => Promise.reject(lost),
        judge: (tx: { id: string; status: string }) => judgeTransaction('credit', tx),
        failed: failedCallResult,
        keepCallError: true,
      }),
      (err) => err === lost,
    );
    assert.equal(journal.state.sessions['s1']?.lastStep?.outcome, 'unknown');
    assert.equal(journal.state.sessions['s1']?.creditedCents, 0);
  });
});
