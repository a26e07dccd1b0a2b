/**
 * Coin intake under storage faults (src/app/coin-intake.ts), over a fake coin book: a coin is
 * journaled before the machine counts it; a coin the journal refuses is held, the acceptor inhibited
 * and the storage watch told; coins held and coins arriving later are written oldest first; a coin
 * whose session moved on while it was written is settled by the journal, not counted.
 */
import assert from 'node:assert/strict';
import { CoinIntake, coinTarget, type CoinBook } from '../../src/app/coin-intake.js';
import type { ResultsLost } from '../../src/bookkeeping/session-journal.js';
import type { KioskInputEvent } from '../../machines/events.js';
import { recordingLogger } from '../../src/util/logger.js';

function rig() {
  const journaled: string[] = [];
  const sent: KioskInputEvent[] = [];
  const acceptorCalls: [boolean, readonly number[] | undefined][] = [];
  const degraded: string[] = [];
  let refuse = false;
  let notCounted: string[] = [];
  const losses: ResultsLost[] = [];
  const state = {
    target: 's-1' as string | null,
    backs: 0,
    changes: 0,
    /** Runs while a coin is being written. */
    writing: (): void | Promise<void> => undefined,
  };
  const book: CoinBook = {
    coin: async (sessionId, cents) => {
      if (refuse) throw new Error('ENOSPC');
      await state.writing();
      journaled.push(`${sessionId}:${cents}`);
    },
    strayCoin: async (cents) => {
      if (refuse) throw new Error('ENOSPC');
      journaled.push(`stray:${cents}`);
      return 'V-STRAY';
    },
    coinNotCounted: async (sessionId) => {
      notCounted.push(sessionId);
      return null;
    },
    acceptorCounter: async (ev) => {
      if (refuse) throw new Error('ENOSPC');
      journaled.push(`counter:${ev}`);
    },
    acceptorLost: async (lost) => {
      if (refuse) throw new Error('ENOSPC');
      journaled.push(`lost:${lost.results}@${lost.ev}:${lost.lostIn}`);
      losses.push(lost);
    },
  };
  const logger = recordingLogger();
  const intake = new CoinIntake({
    book: () => book,
    acceptor: () => ({
      setAccepting: async (on: boolean, accept?: readonly number[]) => void acceptorCalls.push([on, accept]),
    }),
    target: () => state.target,
    send: (e) => sent.push(e),
    degraded: (why) => degraded.push(why),
    storageBack: () => void state.backs++,
    changed: () => void state.changes++,
    logger,
  });
  // s-1 is served from time 0 (the validator's reads in these tests come after it).
  intake.serving('s-1', 0);
  /** The coins so far handled, and what their handling chained after them (the storage told). */
  const settle = async () => {
    await intake.settled();
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    settle,
    intake,
    journaled,
    losses,
    sent,
    acceptorCalls,
    degraded,
    state,
    logger,
    refuse: (on: boolean) => (refuse = on),
    notCounted: () => notCounted,
    reset: () => {
      sent.length = 0;
      acceptorCalls.length = 0;
      notCounted = [];
    },
  };
}

describe('coin intake', () => {
  it('journals a coin before the machine counts it, for the session it came in', async () => {
    const r = rig();
    r.intake.arrived(200, 'coin', 7);
    await r.settle();
    assert.deepEqual(r.journaled, ['s-1:200']);
    assert.deepEqual(r.sent, [{ type: 'COIN', cents: 200 }]);
  });

  it("results the validator's buffer lost are journaled for the operator, in order with the coins, naming the session", async () => {
    const r = rig();
    r.intake.arrived(100, 'coin', 3);
    r.intake.resultsLost(2, 5, 10); // s-1 served since the read before them
    r.intake.arrived(200, 'coin', 6);
    await r.settle();
    r.state.target = null; // the session ended: nobody's customer to name
    r.intake.serving(null, 20);
    r.intake.resultsLost(1, 9, 30);
    await r.settle();
    assert.deepEqual(r.journaled, ['s-1:100', 'lost:2@5:s-1', 's-1:200', 'lost:1@9:unknown']);
    assert.deepEqual(
      r.sent.map((e) => e.type),
      ['COIN', 'COIN'],
      'a loss is no coin: the machine counts nothing for it',
    );
  });

  it('whose lost results are: the session served throughout since the read before them, else unknown, naming both ends', async () => {
    const r = rig();
    // s-1 served from 0 to the loss read: the coins can only be its customer's.
    r.intake.resultsLost(2, 5, 10);
    // The line broke in s-1 (last read at 40), s-1 timed out, s-2 began, then the loss was read.
    r.intake.serving(null, 50);
    r.intake.serving('s-2', 60);
    r.state.target = 's-2';
    r.intake.resultsLost(3, 9, 40);
    // Read while idle: the coins' target is the next session (s-3), which nobody has started.
    r.intake.serving(null, 70);
    r.state.target = 's-3';
    r.intake.resultsLost(1, 11, 80);
    // The first read of this run came with the loss (the read before it was before the start).
    r.intake.serving('s-3', 90);
    r.intake.resultsLost(1, 13, undefined);
    await r.settle();
    assert.deepEqual(r.losses, [
      { results: 2, ev: 5, servedSession: 's-1', readSession: 's-1', lostIn: 's-1' },
      { results: 3, ev: 9, servedSession: 's-2', readSession: 's-1', lostIn: 'unknown' },
      { results: 1, ev: 11, servedSession: null, readSession: null, lostIn: 'unknown' },
      { results: 1, ev: 13, servedSession: 's-3', lostIn: 'unknown' },
    ]);
  });

  it('a loss whose read before is older than the served sessions kept: unknown', async () => {
    const r = rig();
    for (let i = 2; i < 80; i++) r.intake.serving(i % 2 ? null : `s-${i}`, i * 10);
    r.intake.serving('s-80', 800);
    r.intake.resultsLost(1, 3, 5);
    await r.settle();
    assert.deepEqual(r.losses, [{ results: 1, ev: 3, servedSession: 's-80', lostIn: 'unknown' }]);
  });

  it('a loss is journaled in its place among held coins, and a loss refused holds the coins read after it', async () => {
    const r = rig();
    r.refuse(true);
    r.intake.arrived(100, 'coin', 8); // refused: held
    await r.settle();
    r.refuse(false); // the storage is back, its watch has not run yet
    r.intake.resultsLost(2, 12, 10);
    r.intake.arrived(200, 'coin', 13);
    await r.settle();
    // The held coin (event 8) before the loss (12) before the coin read after it (13): the resume
    // point never goes back, so no coin after the loss is read and credited again at a restart.
    assert.deepEqual(r.journaled, ['s-1:100', 'lost:2@12:s-1', 's-1:200']);

    r.journaled.length = 0;
    r.refuse(true);
    r.intake.resultsLost(1, 20, 10); // refused with nothing held
    await r.settle();
    r.refuse(false);
    r.intake.arrived(50, 'coin', 21);
    await r.settle();
    assert.deepEqual(r.journaled, ['lost:1@20:s-1', 's-1:50']);
    assert.equal(r.sent.filter((e) => e.type === 'COIN').length, 3, 'every coin counted once');
  });

  it('a coin while nobody is served is a stray coin, and the machine still hears it (as debt)', async () => {
    const r = rig();
    r.state.target = null;
    r.intake.arrived(50, 'coin');
    await r.settle();
    assert.deepEqual(r.journaled, ['stray:50']);
    assert.deepEqual(r.sent, [{ type: 'COIN', cents: 50 }]);
  });

  it('a coin whose session ended while it was written is settled by the journal, not counted', async () => {
    const r = rig();
    r.state.writing = () => void (r.state.target = 's-2'); // the machine moves on during the write
    r.intake.arrived(100, 'coin');
    await r.settle();
    assert.deepEqual(r.journaled, ['s-1:100']);
    assert.deepEqual(r.notCounted(), ['s-1']);
    assert.deepEqual(r.sent, []);
  });

  it('a refused coin is held, the acceptor inhibited and kept so; held and later coins are written in order', async () => {
    const r = rig();
    r.intake.setAcceptor(true, [50, 100]);
    assert.deepEqual(r.acceptorCalls, [[true, [50, 100]]]);
    r.reset();
    r.refuse(true);
    r.intake.arrived(100, 'coin');
    r.intake.arrived(200, 'coin');
    await r.settle();
    assert.deepEqual(r.journaled, []);
    assert.equal(r.intake.heldCents(), 300);
    assert.equal(r.intake.storageFine, false);
    assert.deepEqual(r.degraded, ['ENOSPC']);
    assert.deepEqual(r.acceptorCalls, [[false, undefined]], 'inhibited at the first refused write');
    // The flows asking again does not open it while the storage is not fine.
    r.intake.setAcceptor(true, [50]);
    assert.deepEqual(r.acceptorCalls.at(-1), [false, undefined]);
    assert.deepEqual(
      r.sent.filter((e) => e.type !== 'COIN'),
      [
        { type: 'COINS_HELD', cents: 100 },
        { type: 'COINS_HELD', cents: 300 },
        { type: 'DEVICE', device: 'storage', health: 'offline' },
      ],
    );
    assert.ok(!r.sent.some((e) => e.type === 'COIN'), 'no held coin is counted before it is durable');

    // Still refused: nothing written, nothing lost.
    await r.intake.writeHeldCoinsInOrder();
    assert.equal(r.intake.heldCents(), 300);

    r.refuse(false);
    r.reset();
    r.intake.arrived(50, 'coin'); // behind the held ones
    await r.intake.writeHeldCoinsInOrder();
    assert.deepEqual(r.journaled, ['s-1:100', 's-1:200', 's-1:50']);
    assert.equal(r.intake.heldCents(), 0);
    assert.deepEqual(
      r.sent.filter((e) => e.type === 'COIN'),
      [
        { type: 'COIN', cents: 100 },
        { type: 'COIN', cents: 200 },
        { type: 'COIN', cents: 50 },
      ],
    );

    r.reset();
    r.intake.onStorageHealth(true);
    assert.deepEqual(r.acceptorCalls, [[true, [50]]], 'the flows’ last wish applied again');
    assert.deepEqual(r.sent, [
      { type: 'DEVICE', device: 'storage', health: 'ok' },
      { type: 'COINS_HELD', cents: 0 },
    ]);
    assert.equal(r.state.backs, 1);
    assert.equal(r.intake.storageFine, true);
  });

  it("the validator's counter (a reset) is journaled after the coins before it, and behind held coins only if no coin came after it", async () => {
    const r = rig();
    let release!: () => void;
    r.state.writing = () => {
      // The coin's write is slow: the counter told meanwhile must not overtake it.
      const wait = new Promise<void>((resolve) => (release = resolve));
      r.state.writing = () => undefined;
      return wait;
    };
    r.intake.arrived(100, 'coin', 7);
    r.intake.counterAt(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(r.journaled, [], 'nothing before the coin is durable');
    release();
    await r.settle();
    assert.deepEqual(r.journaled, ['s-1:100', 'counter:0']);

    // Behind a held coin: written once the held coin is.
    r.journaled.length = 0;
    r.refuse(true);
    r.intake.arrived(50, 'coin', 8);
    r.intake.counterAt(0);
    await r.settle();
    r.refuse(false);
    await r.intake.writeHeldCoinsInOrder();
    assert.deepEqual(r.journaled, ['s-1:50', 'counter:0']);

    // A coin after the counter carries the newer resume point: the counter is not written after it.
    r.journaled.length = 0;
    r.refuse(true);
    r.intake.arrived(50, 'coin', 9);
    r.intake.counterAt(0);
    r.intake.arrived(20, 'coin', 1);
    await r.settle();
    r.refuse(false);
    await r.intake.writeHeldCoinsInOrder();
    assert.deepEqual(r.journaled, ['s-1:50', 's-1:20']);
  });

  it('before the devices are built the storage health is kept and nothing is told', () => {
    const sent: KioskInputEvent[] = [];
    let backs = 0;
    const intake = new CoinIntake({
      book: () => {
        throw new Error('no book yet');
      },
      acceptor: () => undefined,
      target: () => null,
      send: (e) => sent.push(e),
      degraded: () => undefined,
      storageBack: () => void backs++,
      changed: () => undefined,
      logger: recordingLogger(),
    });
    intake.onStorageHealth(false);
    assert.equal(intake.storageFine, false);
    assert.equal(intake.storageForSelfTest(), 'offline');
    intake.onStorageHealth(true);
    assert.equal(intake.storageForSelfTest(), 'ok');
    assert.deepEqual(sent, []);
    assert.equal(backs, 0);
  });
});

describe('coinTarget', () => {
  const snap = (state: 'serving' | 'idle' | 'out_of_service', sessionSeq: number) => ({
    matches: (s: string) => s === state,
    context: { sessionSeq },
  });

  it('serving: the served session; idle: the one the coin starts; otherwise nobody', () => {
    assert.equal(coinTarget(snap('serving', 3), 'b'), coinTarget(snap('idle', 2), 'b'));
    assert.notEqual(coinTarget(snap('serving', 3), 'b'), coinTarget(snap('idle', 3), 'b'));
    assert.match(coinTarget(snap('serving', 3), 'b') ?? '', /b/);
    assert.equal(coinTarget(snap('out_of_service', 3), 'b'), null);
  });
});
