import assert from 'node:assert/strict';
import sinon from 'sinon';
import { payOut, releaseOne, type VendActorDeps } from '../../src/app/vend-actors.js';
import type { VendJournal } from '../../src/bookkeeping/vend-journal.js';
import type { Hopper } from '../../hal/hopper/hopper.js';
import type { VendSlots } from '../../hal/vend-slot/vend-slot.js';

const logger = { info() {}, warn() {}, error() {}, debug() {}, child: () => logger } as never;
const unit = {
  sessionId: 's1',
  jobId: 's1:release:0',
  productId: 7,
  slot: 'A1',
  cents: 150,
  transactionId: null,
  later: [],
};

function deps(
  book: Partial<Record<keyof VendJournal, unknown>>,
  extra: Partial<VendActorDeps> = {},
): VendActorDeps {
  return {
    book: book as unknown as VendJournal,
    slots: {
      slots: ['A1'],
      release: sinon.stub().rejects(new Error('must not fire')),
    } as unknown as VendSlots,
    hopper: undefined,
    logger,
    onSlotChange: () => {},
    onPayout: () => {},
    ...extra,
  };
}

describe('vend actors', () => {
  it('a sold-out unit whose record cannot be written is still failed (money back), never fired', async () => {
    const book = {
      blockedWhy: () => null,
      stockOf: () => 0,
      releaseRefused: sinon.stub().rejects(new Error('ENOSPC')),
    };
    const d = deps(book);
    const out = await releaseOne(d, unit);
    assert.deepEqual(out, { outcome: 'failed', reason: 'sold_out' });
    assert.equal((d.slots!.release as sinon.SinonStub).callCount, 0);
    assert.equal(book.releaseRefused.firstCall.args[1], 'sold_out');
  });

  it('a dispense that rejects after its intent was journaled is journaled in doubt, not as unpaid', async () => {
    const payoutOutcome = sinon.stub().resolves();
    const book = { payoutIntent: sinon.stub().resolves(), payoutOutcome };
    const hopper = {
      coinCents: 10,
      dispense: async (_coins: number, beforeSend: (i: unknown) => Promise<void>) => {
        await beforeSend({ coins: 2, coinCents: 10, before: { event: 1, remaining: 0, paid: 0, unpaid: 0 } });
        throw new Error('serial gone');
      },
    } as unknown as Hopper;
    const out = await payOut(deps(book, { hopper }), {
      sessionId: 's1',
      jobId: 's1:change:0',
      cents: 20,
    } as never);
    assert.equal(out.paidCents, 0);
    assert.equal(payoutOutcome.firstCall.args[1], 'unknown');
  });
});
