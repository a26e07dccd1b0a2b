/**
 * The journal's disk fills up mid-session, on a real small filesystem (a tmpfs mounted by the test
 * under the kiosk's journal directory; CI runs as root). Every coin the acceptor answered
 * `accepted: true` must be in the journal or held by the kiosk and named to the operator, and the
 * acceptor must refuse money from the first failed write on.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { Journal } from '../../src/journal/journal.js';

const PLENTY = '9276000000000059';

/** Fills the filesystem at `dir` until the kernel says ENOSPC. */
function fill(dir: string): void {
  try {
    writeFileSync(join(dir, 'filler'), Buffer.alloc(4 * 1024 * 1024));
    assert.fail('the tmpfs did not fill up');
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  }
}

describe('journal disk full during coin insertion (real tmpfs)', function () {
  this.timeout(90_000);
  let dir: string;
  let journalDir: string;
  let k: KioskProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-diskfull-'));
    journalDir = join(dir, 'journal');
    mkdirSync(journalDir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', journalDir]);
    } catch (err) {
      throw new Error(`this test mounts a tmpfs and needs root (CI runs as root): ${String(err)}`, {
        cause: err,
      });
    }
  });

  after(async () => {
    await k?.kill().catch(() => undefined);
    await k?.stopApi().catch(() => undefined);
    execFileSync('umount', [journalDir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('inhibits the acceptor at the first failed write; every accepted coin is journaled or held and reported', async () => {
    k = await startKiosk({ dir, keepDir: true, config: { timeouts: { inactivityMs: 60_000 } } });
    await k.waitForIdle(15_000);
    await k.scan(PLENTY);
    await k.waitForState(/serving/, /chooseAmount/);
    await k.press('amount4');
    await k.waitForState(/serving/, /collecting/);
    assert.equal((await k.coin(100)).accepted, true, 'a coin before the disk is full');
    await k.waitFor(
      () => k!.state(),
      (s) => s.journal.cashBoxCents === 100,
      5000,
      'first coin journaled',
    );

    fill(journalDir);
    // Appends that still fit in the journal file's last page succeed: insert until one is refused.
    let accepted = 100;
    let refused = false;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await k.coin(10);
      if (r.accepted) accepted += 10;
      else refused = true;
      // Each answer waits for the kiosk to settle that coin (journaled or held) before the next.
      await k.waitFor(
        () => k!.state(),
        (s) => s.journal.cashBoxCents + (s.journal.unjournaledCents ?? 0) === accepted,
        5000,
        'coin journaled or held',
      );
    }
    assert.ok(refused, 'the acceptor refused money after the disk filled');

    const s = await k.state();
    assert.equal(s.acceptor, 'inhibited');
    assert.match(s.journal.unwritable ?? '', /ENOSPC/);
    assert.ok((s.journal.unjournaledCents ?? 0) > 0, 'the coin whose write failed is held');
    assert.ok(
      k.logs().some((l) => l.msg === 'coin not journaled: acceptor inhibited, coin held for the operator'),
    );
    // One more coin after the failure: refused, nothing counted.
    assert.equal((await k.coin(200)).accepted, false);
    assert.equal((await k.state()).journal.cashBoxCents + (s.journal.unjournaledCents ?? 0), accepted);

    await k.kill();
    const { state } = await Journal.read(journalDir);
    assert.equal(state.cashBox.cents + (s.journal.unjournaledCents ?? 0), accepted, 'no cent in no book');
  });
});
