import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, scrubForLog } from '../../src/app/log.js';

describe('logs: JSON lines, card numbers masked, secrets and names never written', () => {
  it('masks and redacts whatever a module passes', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ destination: destination as never, kioskId: 'k-0001' });
    log.info(
      {
        card: '9276004429942845',
        access_token: 'abc123',
        nested: { clientSecret: 's3cret', customer: { name: 'Max Mustermann' } },
      },
      'scan 9276004429942845 accepted',
    );
    log.warn({ err: new Error('card 9276004429942845 is locked') }, 'failure');
    await new Promise((r) => setImmediate(r));
    const all = lines.join('');
    assert.ok(!all.includes('9276004429942845'), all);
    assert.ok(!all.includes('abc123') && !all.includes('s3cret') && !all.includes('Mustermann'), all);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(first.level, 'info');
    assert.equal(first.kiosk, 'k-0001');
    assert.equal(first.card, '9276********2845');
    assert.equal(first.msg, 'scan 9276********2845 accepted');
  });

  it('marks every line while the clock is not synchronised, and stops when it is', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const clock = { synced: false };
    const log = createLogger({
      destination: destination as never,
      mixin: () => (clock.synced ? {} : { clockSynced: false }),
    });
    log.info({}, 'before sync');
    clock.synced = true;
    log.info({}, 'after sync');
    await new Promise((r) => setImmediate(r));
    assert.equal((JSON.parse(lines[0]!) as { clockSynced?: boolean }).clockSynced, false);
    assert.equal((JSON.parse(lines[1]!) as { clockSynced?: boolean }).clockSynced, undefined);
  });

  it('keeps what operators need', () => {
    assert.deepEqual(scrubForLog({ cents: 200, status: 'ok', ean: '4260447149502', name: 42 }), {
      cents: 200,
      status: 'ok',
      ean: '4260447149502',
      name: 42,
    });
  });
});
