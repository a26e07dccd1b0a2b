/**
 * The flows' voucher actors (src/app/voucher-actors.ts): unclaimed money gets a voucher journaled
 * before the code is returned, and the log names its reference, never the code; a scanned voucher
 * is decided inside the session journal's redeem (the money chain).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createActor, toPromise } from 'xstate';
import { createVoucherActors } from '../../src/app/voucher-actors.js';
import { VoucherIssuer } from '../../src/bookkeeping/voucher-code.js';
import { recordingLogger } from '../../src/util/logger.js';

const key = { kid: 'K1', secret: randomBytes(32) };
const keys = { signing: key, accepted: new Map([[key.kid, key]]) };

describe('voucher actors', () => {
  it('recordUnclaimed: journaled before the code is given, the log has the reference only', async () => {
    const trail: string[] = [];
    const logger = recordingLogger();
    const { recordUnclaimed } = createVoucherActors({
      vouchers: new VoucherIssuer(keys as never, 'k-1', 30),
      sessions: {
        unclaimed: async (cents, voucher, jobId, reason) =>
          void trail.push(`${cents} ${voucher} ${jobId} ${reason}`),
        redeem: async () => {
          throw new Error('not here');
        },
      },
      book: { check: () => ({ ok: false, reason: 'unknown' }) as never },
      logger,
    });
    const out = await toPromise(
      createActor(recordUnclaimed, {
        input: { cents: 40, jobId: 's:unclaimed:1', reason: 'cancelled', transactionId: null },
      }).start(),
    );
    assert.equal(trail.length, 1);
    assert.equal(trail[0], `40 ${out.voucherCode} s:unclaimed:1 cancelled`);
    const log = JSON.stringify(logger.records);
    assert.ok(!log.includes(out.voucherCode), log);
    assert.ok(logger.records.some((r) => r.msg === 'money recorded as unclaimed'));
  });

  it('redeemVoucher: the book’s check runs inside the session journal’s redeem', async () => {
    const trail: string[] = [];
    const logger = recordingLogger();
    const { redeemVoucher } = createVoucherActors({
      vouchers: { issue: () => 'X' },
      sessions: {
        unclaimed: async () => undefined,
        redeem: async (sessionId, decide) => {
          trail.push(`redeem ${sessionId}`);
          const r = decide();
          trail.push('decided');
          return r;
        },
      },
      book: {
        check: (code) => {
          trail.push(`check ${code}`);
          return { ok: false, reason: 'used' } as never;
        },
      },
      logger,
    });
    const r = await toPromise(
      createActor(redeemVoucher, { input: { sessionId: 's1', code: 'CODE', jobId: 's1:voucher:1' } }).start(),
    );
    assert.deepEqual(trail, ['redeem s1', 'check CODE', 'decided']);
    assert.equal(r.ok, false);
    assert.ok(logger.records.some((x) => x.msg === 'voucher refused'));
  });
});
