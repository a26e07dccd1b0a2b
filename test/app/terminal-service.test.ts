import assert from 'node:assert/strict';
import type { TerminalDuties } from '../../src/bookkeeping/terminal-duties.js';
import { TerminalService } from '../../src/app/terminal-service.js';
import { silentLogger } from '../../src/util/logger.js';

describe('app/terminal-service: the scheduled end-of-day', () => {
  it('tries a failed one again after retryMs on the schedule’s own clock, not before', async () => {
    // A device clock far from the process's wall clock (a Pi before time sync; an injected clock).
    let now = new Date(2020, 0, 6, 23, 0, 0).getTime();
    let tries = 0;
    const duties = {
      enabled: true,
      endOfDay: async () => {
        tries++;
        return { result: 'failed', detail: 'terminal offline', merchantLines: [], count: 0, cents: 0 };
      },
    } as unknown as TerminalDuties;
    const service = new TerminalService({
      duties,
      fleet: () => undefined,
      logger: silentLogger,
      idle: () => true,
      endOfDayAt: '22:00',
      lastEndOfDay: () => null,
      now: () => new Date(now),
      checkMs: 3_600_000,
      retryMs: 60_000,
    });
    const settle = () => new Promise((r) => setImmediate(r));
    try {
      service.start();
      await settle();
      assert.equal(tries, 1, 'due at start: tried once');
      now += 30_000;
      service.idleNow();
      await settle();
      assert.equal(tries, 1, 'not again within retryMs');
      now += 30_000;
      service.idleNow();
      await settle();
      assert.equal(tries, 2, 'again once retryMs passed on the injected clock');
    } finally {
      service.stop();
    }
  });

  it('runs again the next day after one that went through (a finished duty frees the terminal)', async () => {
    let now = new Date(2026, 5, 1, 22, 5, 0).getTime();
    let last: { ts: number; result: string } | null = null;
    let tries = 0;
    const duties = {
      enabled: true,
      endOfDay: async () => {
        tries++;
        last = { ts: now, result: 'ok' };
        return { result: 'ok', merchantLines: [], count: 0, cents: 0 };
      },
    } as unknown as TerminalDuties;
    const service = new TerminalService({
      duties,
      fleet: () => undefined,
      logger: silentLogger,
      idle: () => true,
      endOfDayAt: '22:00',
      lastEndOfDay: () => last,
      now: () => new Date(now),
      checkMs: 3_600_000,
    });
    const settle = () => new Promise((r) => setImmediate(r));
    try {
      service.start();
      await settle();
      assert.equal(tries, 1);
      now += 3_600_000;
      service.idleNow();
      await settle();
      assert.equal(tries, 1, 'done for today');
      now += 24 * 3_600_000;
      service.idleNow();
      await settle();
      assert.equal(tries, 2, 'the next day it runs again without a restart');
    } finally {
      service.stop();
    }
  });
});
