/**
 * `kiosk vouchers`: lists the open vouchers from a real journal, records a staff payout (journaled,
 * gone from the list, refused a second time), and refuses to write while the kiosk runs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { recordingIo } from '../../src/cli/cli-io.js';
import { vouchersCommand } from '../../src/cli/vouchers-command.js';
import { VoucherIssuer } from '../../src/bookkeeping/voucher-code.js';
import { Journal } from '../../src/journal/journal.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';

const ISSUED = Date.UTC(2026, 11, 2, 9, 0, 0);
const notRunning = { pidAlive: () => false, askControlPort: async () => undefined };

describe('cli/kiosk vouchers', () => {
  let k: TempKiosk;
  let codes: string[];
  beforeEach(async () => {
    // A control port in the config: whether the kiosk runs is then asked there (stubbed below).
    k = tempKiosk({ sim: { tui: false, controlPort: 65001 } });
    const issuer = new VoucherIssuer(
      { signing: { kid: 'K1', secret: randomBytes(32) }, accepted: new Map() },
      'k-test-0007',
      30,
      () => ISSUED,
    );
    codes = [issuer.issue(120), issuer.issue(350)];
    const j = await Journal.open(k.journalDir, { fsync: false, now: () => ISSUED });
    await j.append({ type: 'session_started', sessionId: 'A', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 'A', cents: 470, source: 'coin' });
    await j.append({ type: 'unclaimed', sessionId: 'A', cents: 120, voucher: codes[0]! });
    await j.append({ type: 'unclaimed', sessionId: 'A', cents: 350, voucher: codes[1]! });
    await j.append({ type: 'session_closed', sessionId: 'A', outcome: 'unclaimed' });
    await j.close();
  });
  afterEach(() => k.cleanup());

  const run = async (...args: string[]) => {
    const io = recordingIo();
    const code = await vouchersCommand([...args, '--config', k.configFile], io, notRunning);
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  };
  const ref = (code: string) => `k-test-0007.${code.split('.')[3]}`;

  it('lists the open vouchers with reference, short id, value and last day; never the code', async () => {
    const r = await run();
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`${ref(codes[0]!).replace('.', '\\.')}\\s+\\S{4}-\\S{4}\\s+1,20 EUR`));
    assert.match(r.out, /3,50 EUR .*2027-01-01/);
    assert.match(r.out, /2 open voucher\(s\), 4,70 EUR$/);
    assert.ok(!r.out.includes(codes[0]!), 'the code itself pays: not printed');
    const json = JSON.parse((await run('list', '--json')).out) as { count: number; cents: number };
    assert.deepEqual({ count: json.count, cents: json.cents }, { count: 2, cents: 470 });
  });

  it('a payout by the short id is journaled with who and how much, and only once', async () => {
    const id = codes[1]!.split('.')[3]!;
    const r = await run('payout', `${id.slice(0, 4)}-${id.slice(4)}`, '--by', 'Anna (Filiale)');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /paid out k-test-0007\.\S+ 3,50 EUR \(by Anna \(Filiale\)\)/);
    const read = await Journal.read(k.journalDir);
    const settled = read.records.filter((e) => e.type === 'unclaimed_settled');
    assert.deepEqual(
      settled.map((e) => (e.type === 'unclaimed_settled' ? [e.how, e.by, e.cents] : [])),
      [['cash_refund', 'Anna (Filiale)', 350]],
    );
    assert.match((await run()).out, /1 open voucher\(s\), 1,20 EUR$/);
    const again = await run('payout', ref(codes[1]!), '--by', 'Anna');
    assert.equal(again.code, 3);
    assert.match(again.err, /no open voucher/);
  });

  it('refuses a payout without --by, and while the kiosk runs (nothing written)', async () => {
    assert.equal((await run('payout', ref(codes[0]!))).code, 64);
    const io = recordingIo();
    const code = await vouchersCommand(
      ['payout', ref(codes[0]!), '--by', 'Anna', '--config', k.configFile],
      io,
      {
        askControlPort: async () => ({ state: 'idle' }),
      },
    );
    assert.equal(code, 3);
    assert.match(io.stderr.join('\n'), /kiosk is running/);
    const read = await Journal.read(k.journalDir);
    assert.equal(read.state.unclaimedVouchers.length, 2);
  });
});
