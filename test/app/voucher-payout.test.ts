/**
 * The service menu's voucher page over a real journal on disk, through the menu's actors: the list
 * the technician sees (short id or a masked old code, value, day; never a code), a cash payout
 * journaled as `kiosk vouchers payout` journals it (`unclaimed_settled` `cash_refund`, by technician)
 * and told to the fleet as `evt/voucher` `paid_out`, and the refusals: paid out already, redeemed
 * since the list was read, unknown. The code is in no log line.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createActor, toPromise, type AnyActorLogic } from 'xstate';
import { SessionJournal } from '../../src/bookkeeping/session-journal.js';
import { VoucherBook } from '../../src/bookkeeping/voucher-book.js';
import { VoucherIssuer, type VoucherKeyRing } from '../../src/bookkeeping/voucher-code.js';
import { createServiceMenuActors, type ServiceMenuDeps } from '../../src/app/service-menu-actors.js';
import { voucherEventsOf } from '../../src/app/voucher-events.js';
import { createVoucherPayout } from '../../src/app/voucher-payout.js';
import { KioskConfigSchema } from '../../src/config/config-schema.js';
import type { JournalEntry } from '../../src/journal/entries.js';
import { Journal } from '../../src/journal/journal.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';
import { recordingLogger } from '../../src/util/logger.js';
import type { OpenVouchersOutput, PayOutVoucherOutput } from '../../machines/ports.js';
import { tempDirs } from '../journal/helpers.js';

const key = { kid: 'K1', secret: randomBytes(32) };
const keys: VoucherKeyRing = { signing: key, accepted: new Map([[key.kid, key]]) };

async function run<T>(logic: unknown, input?: unknown): Promise<T> {
  return toPromise(createActor(logic as AnyActorLogic, { input }).start()) as Promise<T>;
}

describe('service menu voucher page (actors, real journal)', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  async function kiosk(lang: 'de' | 'en' = 'de') {
    const logger = recordingLogger();
    const journal = await Journal.open(dirs.make(), { logger });
    const seen: JournalEntry[] = [];
    journal.onDurable((e) => seen.push(...e));
    const issuer = new VoucherIssuer(keys, 'k-0042', 0);
    const issue = async (sessionId: string, cents: number, code = issuer.issue(cents)) => {
      await journal.append({ type: 'session_started', sessionId, mode: 'checkout' });
      await journal.append({ type: 'unclaimed', sessionId, cents, voucher: code });
      return code;
    };
    const config = KioskConfigSchema.parse({
      kiosk: { id: 'k-0042', mode: 'checkout', language: lang },
      api: { baseUrl: 'standin', clientId: 'x' },
      hardware: simulatedHardware(),
    });
    const deps: ServiceMenuDeps = {
      config,
      logger,
      journal,
      printer: { print: async () => {} },
      probe: async () => [],
      fleet: () => undefined,
      fleetConfigured: false,
      apiReachable: async () => true,
      vouchers: createVoucherPayout({ journal, logger, lang: () => lang }),
    };
    const { actors } = createServiceMenuActors(deps);
    const list = async () => (await run<OpenVouchersOutput>(actors.openVouchers)).vouchers;
    const payOut = (k: string) => run<PayOutVoucherOutput>(actors.payOutVoucher, { key: k });
    return { journal, logger, seen, issue, list, payOut };
  }

  it('lists short ids (an old plain code masked), pays one out once, journaled like the CLI, evt/voucher paid_out', async () => {
    const k = await kiosk();
    const signed = await k.issue('s1', 180);
    await k.issue('s2', 1250, 'OLDPLAINCODE7W9XZ');
    const list = await k.list();
    const id = signed.split('.')[3]!;
    assert.deepEqual(
      list.map((v) => [v.key, v.label, v.cents]),
      [
        [`k-0042.${id}`, `${id.slice(0, 4)}-${id.slice(4)}`, 180],
        [list[1]!.key, '...W9XZ', 1250],
      ],
    );
    assert.match(list[1]!.key, /^old:[0-9a-f]{16}$/, 'an old code is named by a hash, not itself');
    assert.match(list[0]!.when, /^\d\d\.\d\d\. \d\d:\d\d$/);
    assert.ok(!JSON.stringify(list).includes(signed) && !JSON.stringify(list).includes('OLDPLAINCODE'));

    assert.deepEqual(await k.payOut(list[1]!.key), { cents: 1250, label: '...W9XZ' });
    assert.deepEqual(await k.payOut(list[0]!.key), { cents: 180, label: `${id.slice(0, 4)}-${id.slice(4)}` });
    assert.deepEqual(k.journal.state.unclaimedVouchers, []);
    const settled = k.seen.filter((e) => e.type === 'unclaimed_settled');
    assert.deepEqual(
      settled.map((e) => (e.type === 'unclaimed_settled' ? [e.voucher, e.how, e.by, e.cents] : [])),
      [
        ['OLDPLAINCODE7W9XZ', 'cash_refund', 'technician', 1250],
        [signed, 'cash_refund', 'technician', 180],
      ],
    );
    // What the kiosk sends for these records (kiosk-app reportVouchers), as for a CLI or redeem record.
    assert.deepEqual(
      voucherEventsOf(settled).map((e) => [e.action, e.amountCents, e.voucher ?? null, e.by]),
      [
        ['paid_out', 1250, null, 'technician'],
        ['paid_out', 180, `k-0042.${id}`, 'technician'],
      ],
    );

    // Paid out already: refused, nothing more written.
    await assert.rejects(k.payOut(list[0]!.key), /^Error: Nicht mehr offen$/);
    await assert.rejects(k.payOut('k-0042.NOSUCHID'), /^Error: Nicht mehr offen$/);
    assert.equal(k.seen.filter((e) => e.type === 'unclaimed_settled').length, 2);
    const logs = JSON.stringify(k.logger.records);
    assert.ok(!logs.includes(signed) && !logs.includes('OLDPLAINCODE'), 'no code in the log');
    assert.ok(logs.includes('voucher paid out') && logs.includes('voucher payout refused'));
  });

  it('a voucher redeemed at the kiosk after the list was read is refused as redeemed (en)', async () => {
    const k = await kiosk('en');
    const code = await k.issue('s1', 300);
    const [v] = await k.list();
    const book = new VoucherBook(k.journal as Journal, keys, 'k-0042');
    const sessions = new SessionJournal(k.journal as Journal, 'checkout', k.logger);
    assert.equal((await sessions.redeem('s9', () => book.check(code))).ok, true);
    await assert.rejects(k.payOut(v!.key), /^Error: Redeemed already$/);
    assert.equal(k.seen.filter((e) => e.type === 'unclaimed_settled').length, 0, 'not paid twice');
  });
});
