/**
 * The fleet settles a release whose outcome is unknown (issue 15), in the real kiosk program over a
 * real Mosquitto: a power cut during a release leaves it unknown after the restart; `settle-release`
 * checks its arguments, refuses an unknown job, settles `refunded` with a voucher whose reference (never
 * its code) comes back in `cmdres` and `evt/voucher`, and refuses a second settle. The code is in the
 * journal and nowhere on the broker or in the log.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import type { VendSummary } from '../../src/contracts/kiosk-summary.js';
import { watchedKiosk } from '../fleet/support/observer.js';
import { buyOneAndCut, vendFleetConfig } from '../support/vend.js';

describe('e2e: fleet settle-release (vending counter, real Mosquitto)', function () {
  this.timeout(90_000);
  const id = 'k-vend-settle-01';
  const watched = watchedKiosk(id);
  const { topic } = watched;
  const { command } = watched;

  async function start(dir?: string): Promise<KioskProcess> {
    const k = await startKiosk({
      ...(dir ? { dir } : {}),
      keepDir: true,
      config: vendFleetConfig(id, watched.brokerUrl),
    });
    watched.keep(k);
    await k.waitForIdle(20_000);
    return k;
  }

  it('power cut mid-release, then settle-release: bad args and an unknown job refused, refunded with the reference only, a second settle refused', async () => {
    const k = await start();
    await buyOneAndCut(k);
    watched.forget(k);

    const k2 = await start(k.dir);
    await k2.waitFor(
      () => k2.state(),
      (s) => s.state === 'idle' && s.journal.openSessions === 0,
      20_000,
    );
    const doubt = ((await k2.state()).vend as VendSummary).releasesInDoubt;
    assert.equal(doubt.length, 1);
    const jobId = doubt[0]!.jobId;
    // The fleet's health names it, so that the dashboard can offer to settle it.
    await watched.observer.message((m) => {
      const slots = (
        m.json?.devices as { slots?: { inDoubt?: { jobId: string; cents: number }[] } } | undefined
      )?.slots;
      return (
        m.topic === topic('health') && slots?.inDoubt?.[0]?.jobId === jobId && slots.inDoubt[0].cents === 180
      );
    }, 'health lists the release in doubt');
    const receiptsBefore = (await k2.receipts()).length;

    const bad = await command('settle-release', { jobId, how: 'lost' });
    assert.deepEqual([bad.json?.status, bad.json?.reason], ['rejected', 'bad_args']);
    const unknown = await command('settle-release', { jobId: `${jobId}x`, how: 'refunded' });
    assert.equal(unknown.json?.status, 'failed');
    assert.match(String(unknown.json?.reason), /^refused: no release in doubt/);

    const settled = await command('settle-release', { jobId, how: 'refunded', reason: 'customer called' });
    assert.equal(settled.json?.status, 'succeeded', JSON.stringify(settled.json));
    const result = settled.json?.result as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), [
      'amountCents',
      'how',
      'jobId',
      'slot',
      'slotBlocked',
      'voucher',
    ]);
    assert.deepEqual([result.jobId, result.how, result.amountCents], [jobId, 'refunded', 180]);
    assert.deepEqual(
      [result.slot, result.slotBlocked],
      ['A1', 'release power_cut'],
      'not handed out: still blocked',
    );
    const ref = String(result.voucher);
    assert.match(ref, new RegExp(`^${id}\\.[A-Z2-7]{8}$`), 'the reference, not the code');
    await watched.observer.message(
      (m) => m.topic === topic('evt/voucher') && m.json?.voucher === ref && m.json?.action === 'issued',
      'evt/voucher issued',
    );
    assert.equal(((await k2.state()).vend as VendSummary).releasesInDoubt.length, 0);
    assert.equal((await k2.receipts()).length, receiptsBefore, 'not printed without print: true');

    const again = await command('settle-release', { jobId, how: 'delivered' });
    assert.equal(again.json?.status, 'failed');
    assert.equal(again.json?.reason, `refused: release ${jobId} already settled (refunded)`);

    const logs = JSON.stringify(k2.logs());
    await k2.stop();
    const { records } = await Journal.read(join(k.dir, 'journal'));
    const settle = records.filter((r) => r.type === 'release_settled');
    assert.equal(settle.length, 1, 'settled once');
    const code = settle[0]!.type === 'release_settled' ? (settle[0]!.voucher ?? '') : '';
    assert.ok(code.startsWith('KV1.') && code.includes(ref.split('.')[1]!), code);
    assert.equal(settle[0]!.type === 'release_settled' && settle[0]!.by, 'fleet');
    // The code pays: it is on no topic and in no log line.
    const mac = code.split('.').at(-1)!;
    for (const m of watched.observer.messages)
      assert.ok(!m.payload.includes(mac), `${m.topic} carries the code`);
    assert.ok(!logs.includes(mac), 'the code is not in the log');
    rmSync(k.dir, { recursive: true, force: true });
  });

  it('the slot after a settle: delivered unblocks it (the next customer buys from it); refunded leaves it blocked until unblock-slot, refused while its sensor reads active', async () => {
    const slotA1 = async (k: KioskProcess) =>
      ((await k.state()).vend as VendSummary).slots.find((x) => x.id === 'A1')!;
    const restarted = async (dir: string) => {
      const k = await start(dir);
      await k.waitFor(
        () => k.state(),
        (s) => s.state === 'idle' && s.journal.openSessions === 0,
        20_000,
      );
      return k;
    };
    const k = await start();
    await buyOneAndCut(k);
    watched.forget(k);
    const k2 = await restarted(k.dir);
    assert.deepEqual(await slotA1(k2), { id: 'A1', product: 1, stock: 2, blocked: 'release power_cut' });
    const first = ((await k2.state()).vend as VendSummary).releasesInDoubt[0]!.jobId;

    const mark = watched.observer.messages.length;
    const delivered = await command('settle-release', { jobId: first, how: 'delivered' });
    assert.equal(delivered.json?.status, 'succeeded', JSON.stringify(delivered.json));
    const result = delivered.json?.result as Record<string, unknown>;
    assert.deepEqual([result.slot, result.slotBlocked], ['A1', null]);
    assert.deepEqual(
      await slotA1(k2),
      { id: 'A1', product: 1, stock: 2, blocked: null },
      'stock went down once',
    );
    await watched.observer.message(
      (m) =>
        watched.observer.messages.indexOf(m) >= mark &&
        m.topic === topic('alert/slot_jammed') &&
        m.payload === '',
      'slot_jammed cleared',
    );
    // The next customer gets a coffee from A1.
    await k2.request({ cmd: 'slot', slot: 'A1', action: 'fix' });
    await k2.press('amount1');
    await k2.press('ok');
    await k2.waitForScreen(/Noch 1,80 EUR/);
    await k2.coin(200);
    await k2.waitForSettled();
    assert.equal((await slotA1(k2)).stock, 1, 'released');

    // Again cut mid-release, settled refunded: the slot stays blocked.
    await buyOneAndCut(k2);
    watched.forget(k2);
    const k3 = await restarted(k.dir);
    const second = ((await k3.state()).vend as VendSummary).releasesInDoubt[0]!.jobId;
    const early = await command('unblock-slot', { slot: 'A1' });
    assert.equal(early.json?.status, 'failed');
    assert.equal(
      early.json?.reason,
      `refused: slot A1: release ${second} is still in doubt, settle it first`,
    );
    const refunded = await command('settle-release', { jobId: second, how: 'refunded' });
    assert.equal((refunded.json?.result as Record<string, unknown>).slotBlocked, 'release power_cut');
    await k3.request({ cmd: 'slot', slot: 'A1', action: 'break' });
    const stuck = await command('unblock-slot', { slot: 'A1', reason: 'jam cleared' });
    assert.deepEqual(
      [stuck.json?.status, stuck.json?.reason],
      ['failed', 'refused: slot A1: its sensor still reads active'],
    );
    assert.equal((await slotA1(k3)).blocked, 'release power_cut');
    await k3.request({ cmd: 'slot', slot: 'A1', action: 'fix' });
    const unblocked = await command('unblock-slot', { slot: 'A1', reason: 'jam cleared' });
    assert.equal(unblocked.json?.status, 'succeeded', JSON.stringify(unblocked.json));
    assert.deepEqual(unblocked.json?.result, { slot: 'A1', stock: 0 });
    assert.equal((await slotA1(k3)).blocked, null);
    const unknown = await command('unblock-slot', { slot: 'Z9' });
    assert.deepEqual([unknown.json?.status, unknown.json?.reason], ['failed', 'refused: no slot Z9']);
    const again = await command('unblock-slot', { slot: 'A1' });
    assert.equal(again.json?.reason, 'refused: slot A1 is not blocked');

    await k3.stop();
    const { records } = await Journal.read(join(k.dir, 'journal'));
    assert.deepEqual(
      records.flatMap((r) => (r.type === 'slot_unblocked' ? [[r.slot, r.by, r.releaseJob ?? null]] : [])),
      [
        ['A1', 'fleet', first],
        ['A1', 'fleet', null],
      ],
    );
    rmSync(k.dir, { recursive: true, force: true });
  });
});
