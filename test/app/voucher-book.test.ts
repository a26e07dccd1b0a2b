/**
 * The voucher book on a real journal: an own voucher is redeemable while open and with its recorded
 * value only; a paid-out, expired or redeemed one is refused (also from a reopened journal); another
 * kiosk's (fleet key) once; and the fleet events told from the same records.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionJournal } from '../../src/bookkeeping/session-journal.js';
import { VoucherBook } from '../../src/bookkeeping/voucher-book.js';
import { VoucherIssuer, type VoucherKeyRing } from '../../src/bookkeeping/voucher-code.js';
import { voucherEventsOf } from '../../src/app/voucher-events.js';
import { Journal } from '../../src/journal/journal.js';
import type { JournalEntry } from '../../src/journal/entries.js';
import { silentLogger } from '../../src/util/logger.js';

const DAY = 86_400_000;

describe('voucher book (src/bookkeeping/voucher-book.ts) on a real journal', () => {
  let dir: string;
  let journal: Journal;
  let now = Date.UTC(2026, 11, 2, 12);
  const fleet = { kid: 'F1', secret: randomBytes(32) };
  const keys: VoucherKeyRing = { signing: fleet, accepted: new Map([[fleet.kid, fleet]]) };
  const own = new VoucherIssuer(keys, 'k-0001', 10, () => now);
  const other = new VoucherIssuer(keys, 'k-0002', 0, () => now);
  const seen: JournalEntry[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voucher-book-'));
    journal = await Journal.open(dir, { logger: silentLogger, now: () => now });
    journal.onDurable((e) => seen.push(...e));
  });
  afterEach(async () => {
    await journal.close();
    await rm(dir, { recursive: true, force: true });
    seen.length = 0;
  });

  const issue = async (cents: number) => {
    const code = own.issue(cents);
    await journal.append({ type: 'session_started', sessionId: `s${cents}`, mode: 'checkout' });
    await journal.append({ type: 'unclaimed', sessionId: `s${cents}`, cents, voucher: code });
    return code;
  };

  it('redeems an own open voucher once; the second scan is refused, also after reopening the journal', async () => {
    const code = await issue(120);
    const sessions = new SessionJournal(journal, 'checkout', silentLogger);
    const book = new VoucherBook(journal, keys, 'k-0001', () => now);
    const r = await sessions.redeem('s-new', () => book.check(code));
    assert.deepEqual(r, { ok: true, ref: `k-0001.${code.split('.')[3]}`, cents: 120 });
    assert.equal(journal.state.sessions['s-new']?.redeemedCents, 120);
    assert.equal(journal.state.sessions['s-new']?.mode, 'checkout', 'the session is started properly');
    assert.equal(sessions.leftover('s-new'), 120, 'held like coins until used');
    assert.deepEqual(book.check(code), { ok: false, reason: 'used' });
    await journal.close();
    journal = await Journal.open(dir, { logger: silentLogger, now: () => now });
    assert.deepEqual(new VoucherBook(journal, keys, 'k-0001', () => now).check(code), {
      ok: false,
      reason: 'used',
    });
  });

  it('two scans racing in the money chain: only one is counted', async () => {
    const code = await issue(300);
    const sessions = new SessionJournal(journal, 'checkout', silentLogger);
    const book = new VoucherBook(journal, keys, 'k-0001', () => now);
    const [a, b] = await Promise.all([
      sessions.redeem('s1', () => book.check(code)),
      sessions.redeem('s2', () => book.check(code)),
    ]);
    assert.deepEqual([a.ok, b.ok], [true, false]);
    assert.equal(journal.state.lifetime.redeemed.cents, 300);
  });

  it('refuses own vouchers paid out or expired, and a valid own code the journal never issued', async () => {
    const paid = await issue(200);
    const old = await issue(250);
    const book = new VoucherBook(journal, keys, 'k-0001', () => now);
    await book.payout(paid, 'Anna');
    assert.deepEqual(book.check(paid), { ok: false, reason: 'used' });
    now += 11 * DAY;
    const gone = await book.expire();
    assert.deepEqual(
      gone.map((v) => v.cents),
      [250],
    );
    assert.deepEqual(book.check(old), { ok: false, reason: 'expired' });
    assert.deepEqual(book.check(own.issue(999)), { ok: false, reason: 'used' }, 'never recorded here');
    assert.equal(journal.state.unclaimedVouchers.length, 0);
  });

  it("another kiosk's voucher (same fleet key) is redeemed once", async () => {
    const code = other.issue(400);
    const sessions = new SessionJournal(journal, 'topup', silentLogger);
    const book = new VoucherBook(journal, keys, 'k-0001', () => now);
    assert.equal((await sessions.redeem('t1', () => book.check(code))).ok, true);
    assert.deepEqual(book.check(code), { ok: false, reason: 'used' });
  });

  it('tells evt/voucher from the records: issued, redeemed, paid out, expired; references only', async () => {
    const a = await issue(120);
    const b = await issue(130);
    const sessions = new SessionJournal(journal, 'checkout', silentLogger);
    const book = new VoucherBook(journal, keys, 'k-0001', () => now);
    await sessions.redeem('s-new', () => book.check(a));
    await book.payout(b, 'Anna');
    const events = voucherEventsOf(seen);
    assert.deepEqual(
      events.map((e) => [e.action, e.amountCents, e.voucher]),
      [
        ['issued', 120, `k-0001.${a.split('.')[3]}`],
        ['issued', 130, `k-0001.${b.split('.')[3]}`],
        ['redeemed', 120, `k-0001.${a.split('.')[3]}`],
        ['paid_out', 130, `k-0001.${b.split('.')[3]}`],
      ],
    );
    assert.ok(!JSON.stringify(events).includes(a), 'the code itself never travels');
  });
});
