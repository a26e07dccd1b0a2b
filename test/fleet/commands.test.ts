/** Command handling without a broker: answers captured, time faked with sinon. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import sinon from 'sinon';
import { CommandHandler, type CommandAnswer } from '../../src/fleet/commands.js';
import { DesiredConfigHandler } from '../../src/fleet/desired-config.js';
import type { ConfigReportedBody } from '../../src/fleet/envelope.js';
import { FakeKiosk } from './support/fake-kiosk.js';

const NOW = 1_767_225_600_000;

describe('fleet commands (unit)', () => {
  let clock: sinon.SinonFakeTimers;
  let kiosk: FakeKiosk;
  let answers: CommandAnswer[];
  let stateChanges: number;
  let synced: boolean;
  let handler: CommandHandler;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    kiosk = new FakeKiosk();
    answers = [];
    stateChanges = 0;
    synced = true;
    handler = new CommandHandler({
      port: kiosk,
      answer: async (a) => {
        answers.push(a);
      },
      rebirth: async () => {},
      stateChanged: () => {
        stateChanges++;
      },
      clockSynced: () => synced,
      idleWaitMs: 10_000,
      idlePollMs: 500,
    });
  });
  afterEach(() => clock.restore());

  const cmd = (args: object = {}, over: object = {}) =>
    Buffer.from(
      JSON.stringify({ cmdId: randomUUID(), issuedAt: NOW, expiresAt: NOW + 60_000, args, ...over }),
    );

  it('waits for the customer to finish, then runs (no answer before that)', async () => {
    kiosk.serving = true;
    const done = handler.handle('lock', cmd({ reason: 'vandalism' }));
    await clock.tickAsync(4_000);
    assert.equal(answers.length, 0, 'nothing answered while waiting');
    kiosk.serving = false;
    await clock.tickAsync(500);
    await done;
    assert.deepEqual(
      answers.map((a) => a.status),
      ['accepted', 'succeeded'],
    );
    assert.deepEqual(kiosk.calls, ['lock:vandalism']);
    assert.equal(stateChanges, 1);
  });

  it('refuses as busy after the bounded wait, without touching the kiosk', async () => {
    kiosk.serving = true;
    const done = handler.handle('restart', cmd());
    await clock.tickAsync(10_500);
    await done;
    assert.equal(answers.length, 1);
    assert.equal(answers[0]?.status, 'rejected');
    assert.equal(answers[0]?.reason, 'busy');
    assert.deepEqual(kiosk.calls, []);
  });

  it('end-of-day and terminal-cancel wait for the customer (the terminal is in use), check their args, answer the result', async () => {
    kiosk.serving = true;
    const eod = handler.handle('end-of-day', cmd());
    await clock.tickAsync(2_000);
    assert.equal(answers.length, 0, 'not while a customer may be at the terminal');
    kiosk.serving = false;
    await clock.tickAsync(500);
    await eod;
    assert.deepEqual(answers.at(-1), {
      cmdId: answers.at(-1)!.cmdId,
      cmd: 'end-of-day',
      status: 'succeeded',
      result: { result: 'ok', amountCents: 180, count: 1 },
    });
    await handler.handle('terminal-cancel', cmd({ receiptNumber: '0007' }));
    assert.equal(answers.at(-1)?.status, 'succeeded');
    for (const bad of [{}, { receiptNumber: '../../x' }, { receiptNumber: '7', extra: 1 }]) {
      await handler.handle('terminal-cancel', cmd(bad));
      assert.deepEqual([answers.at(-1)?.status, answers.at(-1)?.reason], ['rejected', 'bad_args']);
    }
    assert.deepEqual(kiosk.calls, ['end-of-day', 'terminal-cancel:0007']);
    kiosk.failNext = new Error('refused: already reversed');
    await handler.handle('terminal-cancel', cmd({ receiptNumber: '0007' }));
    assert.deepEqual(
      [answers.at(-1)?.status, answers.at(-1)?.reason],
      ['failed', 'refused: already reversed'],
    );
  });

  it('settle-release waits for the customer, checks job id and how, answers the reference (never a code), passes a refusal on', async () => {
    kiosk.serving = true;
    const job = 'mfx1a2b3-4:release-0:7';
    const settle = handler.handle('settle-release', cmd({ jobId: job, how: 'refunded' }));
    await clock.tickAsync(2_000);
    assert.equal(answers.length, 0, 'not in the middle of a customer session (it may print)');
    kiosk.serving = false;
    await clock.tickAsync(500);
    await settle;
    assert.deepEqual(answers.at(-1), {
      cmdId: answers.at(-1)!.cmdId,
      cmd: 'settle-release',
      status: 'succeeded',
      result: { jobId: job, how: 'refunded', amountCents: 180, voucher: 'k-0042.QX7MD2KA', printed: false },
    });
    await handler.handle('settle-release', cmd({ jobId: job, how: 'delivered', print: true }));
    assert.equal(answers.at(-1)?.status, 'succeeded');
    for (const bad of [
      { jobId: job },
      { jobId: job, how: 'lost' },
      { jobId: job, how: 'Refunded' },
      { jobId: '../../x', how: 'delivered' },
      { jobId: job, how: 'refunded', print: 'yes' },
      // The refund's amount where the kiosk knows none: whole cents, 1 to 100000.
      { jobId: job, how: 'refunded', cents: 0 },
      { jobId: job, how: 'refunded', cents: 12.5 },
      { jobId: job, how: 'refunded', cents: 100_001 },
      { jobId: job, how: 'refunded', cents: '678' },
    ]) {
      await handler.handle('settle-release', cmd(bad));
      assert.deepEqual([answers.at(-1)?.status, answers.at(-1)?.reason], ['rejected', 'bad_args']);
    }
    // A sale whose amount the kiosk does not know: the operator's amount goes to the kiosk.
    await handler.handle('settle-release', cmd({ jobId: job, how: 'refunded', cents: 678 }));
    assert.deepEqual(
      [answers.at(-1)?.status, (answers.at(-1)?.result as { amountCents?: number })?.amountCents],
      ['succeeded', 678],
    );
    assert.deepEqual(kiosk.calls, [
      `settle-release:${job}:refunded:false`,
      `settle-release:${job}:delivered:true`,
      `settle-release:${job}:refunded:false:678`,
    ]);
    kiosk.failNext = new Error(`refused: release ${job} already settled (refunded)`);
    await handler.handle('settle-release', cmd({ jobId: job, how: 'refunded' }));
    assert.deepEqual(
      [answers.at(-1)?.status, answers.at(-1)?.reason],
      ['failed', `refused: release ${job} already settled (refunded)`],
    );
  });

  it('unblock-slot runs at once (nothing prints, no money moves), checks the slot name, passes a refusal on', async () => {
    kiosk.serving = true;
    await handler.handle('unblock-slot', cmd({ slot: 'A1', reason: 'jam cleared' }));
    assert.deepEqual(answers.at(-1), {
      cmdId: answers.at(-1)!.cmdId,
      cmd: 'unblock-slot',
      status: 'succeeded',
      result: { slot: 'A1', stock: 4 },
    });
    for (const bad of [{}, { slot: 'a1' }, { slot: 'A12345' }, { slot: 'A1', count: 3 }]) {
      await handler.handle('unblock-slot', cmd(bad));
      assert.deepEqual([answers.at(-1)?.status, answers.at(-1)?.reason], ['rejected', 'bad_args']);
    }
    assert.deepEqual(kiosk.calls, ['unblock-slot:A1']);
    kiosk.failNext = new Error('refused: slot A1: its sensor still reads active');
    await handler.handle('unblock-slot', cmd({ slot: 'A1' }));
    assert.deepEqual(
      [answers.at(-1)?.status, answers.at(-1)?.reason],
      ['failed', 'refused: slot A1: its sensor still reads active'],
    );
  });

  it('ping and unlock do not wait for idle', async () => {
    kiosk.serving = true;
    await handler.handle('ping', cmd());
    await handler.handle('unlock', cmd());
    await handler.handle('maintenance', cmd({ on: false }));
    assert.deepEqual(
      answers.map((a) => `${a.cmd}:${a.status}`),
      [
        'ping:accepted',
        'ping:succeeded',
        'unlock:accepted',
        'unlock:succeeded',
        'maintenance:accepted',
        'maintenance:succeeded',
      ],
    );
  });

  it('restart answers succeeded before the kiosk restarts', async () => {
    const order: string[] = [];
    const h = new CommandHandler({
      port: Object.assign(kiosk, {
        restart: async (reason: string) => {
          order.push(`restart:${reason}`);
        },
      }),
      answer: async (a) => {
        order.push(a.status);
      },
      rebirth: async () => {},
      stateChanged: () => {},
    });
    await h.handle('restart', cmd({ reason: 'update' }));
    assert.deepEqual(order, ['accepted', 'succeeded', 'restart:update']);
  });

  it('judges expiry only with a synchronised clock', async () => {
    const expired = { expiresAt: NOW - 1 };
    await handler.handle('ping', cmd({}, expired));
    assert.equal(answers.at(-1)?.reason, 'expired');
    synced = false;
    await handler.handle('ping', cmd({}, expired));
    assert.equal(answers.at(-1)?.status, 'succeeded', 'an unsynchronised clock cannot judge expiry');
  });

  it('rejects wrong types, extra arguments and arrays as args', async () => {
    await handler.handle('maintenance', cmd({ on: true, extra: 1 }));
    await handler.handle('lock', cmd({ reason: 42 }));
    await handler.handle('ping', cmd({}, { args: [1, 2] }));
    await handler.handle('ping', cmd({}, { expiresAt: 'tomorrow' }));
    assert.deepEqual(
      answers.map((a) => a.reason),
      ['bad_args', 'bad_args', 'malformed', 'malformed'],
    );
    assert.deepEqual(kiosk.calls, []);
  });

  it('forgets the oldest cmdIds beyond the de-dup size but always remembers recent ones', async () => {
    const h = new CommandHandler({
      port: kiosk,
      answer: async (a) => {
        answers.push(a);
      },
      rebirth: async () => {},
      stateChanged: () => {},
      dedupSize: 2,
    });
    const first = cmd();
    await h.handle('ping', first);
    await h.handle('ping', cmd());
    await h.handle('ping', first);
    assert.equal(answers.at(-1)?.duplicate, true);
    await h.handle('ping', cmd());
    await h.handle('ping', cmd());
    answers.length = 0;
    await h.handle('ping', first);
    assert.deepEqual(
      answers.map((a) => a.status),
      ['accepted', 'succeeded'],
      'forgotten after 2 newer ones: runs again (bounded memory)',
    );
  });
});

describe('fleet config/desired (unit)', () => {
  let kiosk: FakeKiosk;
  let reports: ConfigReportedBody[];
  let handler: DesiredConfigHandler;
  beforeEach(() => {
    kiosk = new FakeKiosk();
    reports = [];
    handler = new DesiredConfigHandler({
      port: kiosk,
      validateConfig: (doc) => {
        if ((doc as { explode?: boolean }).explode) throw new Error('validator bug');
        return 'prices' in (doc as object) ? { ok: true } : { ok: false, errors: ['prices: required'] };
      },
      report: async (r) => {
        reports.push(r);
      },
      idlePollMs: 1,
    });
  });
  const doc = (o: object) => Buffer.from(JSON.stringify(o));

  it('applies a newer valid version, confirms the same one, rejects an older one', async () => {
    await handler.handle(doc({ version: 2, prices: {} }));
    await handler.handle(doc({ version: 2, prices: {} }));
    await handler.handle(doc({ version: 1, prices: {} }));
    assert.deepEqual(
      reports.map((r) => `${r.version}:${r.status}:${r.appliedVersion}`),
      ['2:applied:2', '2:applied:2', '1:rejected:2'],
    );
    assert.deepEqual(kiosk.calls, ['applyConfig:2']);
  });

  it('never crashes on a broken document: each is reported as rejected', async () => {
    await handler.handle(Buffer.from('{"version": 3,'));
    await handler.handle(doc({ version: 'three', prices: {} }));
    await handler.handle(doc([1, 2, 3]));
    await handler.handle(doc({ version: 4 }));
    await handler.handle(doc({ version: 5, prices: {}, explode: true }));
    await handler.handle(Buffer.alloc(300 * 1024, 0x20));
    await handler.handle(Buffer.alloc(0)); // cleared retained document: ignored
    assert.deepEqual(
      reports.map((r) => `${r.version}:${r.status}`),
      ['null:rejected', 'null:rejected', 'null:rejected', '4:rejected', '5:rejected', 'null:rejected'],
    );
    assert.deepEqual(reports[3]?.errors, ['prices: required']);
    assert.match(reports[4]?.errors?.[0] ?? '', /validator failed: validator bug/);
    assert.deepEqual(kiosk.calls, []);
  });

  it('waits for the customer, and a newer document supersedes one still waiting', async () => {
    kiosk.serving = true;
    const first = handler.handle(doc({ version: 2, prices: {} }));
    await new Promise((r) => setTimeout(r, 5));
    const second = handler.handle(doc({ version: 3, prices: {} }));
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(kiosk.calls, []);
    kiosk.serving = false;
    await Promise.all([first, second]);
    assert.deepEqual(kiosk.calls, ['applyConfig:3']);
    assert.deepEqual(
      reports.map((r) => `${r.version}:${r.status}`),
      ['3:applied'],
    );
  });
});
