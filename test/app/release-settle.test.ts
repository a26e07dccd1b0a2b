/**
 * Settling a release whose outcome is unknown (issue 15), through the service menu's actors over a
 * real journal on disk: the list the technician sees, `delivered` and `refunded` (a signed voucher,
 * journaled before it prints), a second settle refused, the refusals VendJournal makes, and that the
 * voucher's code reaches only the printer (never the log, the report or the menu's screen).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sinon from 'sinon';
import { createActor, toPromise, type AnyActorLogic } from 'xstate';
import { createReleaseSettler, releaseTime } from '../../src/app/release-settle.js';
import { createServiceMenuActors, type ServiceMenuDeps } from '../../src/app/service-menu-actors.js';
import { KioskConfigSchema } from '../../src/config/config-schema.js';
import type { UnblockRefused } from '../../src/bookkeeping/vend-journal.js';
import { VendJournal } from '../../src/bookkeeping/vend-journal.js';
import { VoucherIssuer } from '../../src/bookkeeping/voucher-code.js';
import { Journal } from '../../src/journal/journal.js';
import { recordingLogger } from '../../src/util/logger.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';
import type { PrintJob } from '../../hal/printer/printer.js';
import type { SettleReleaseOutput, UnsettledOutput } from '../../machines/ports.js';
import { tempDirs } from '../journal/helpers.js';

const SLOTS = [
  { id: 'A1', product: 1, capacity: 10, initialStock: 5, lowAt: 1 },
  { id: 'B2', product: 2, capacity: 10, initialStock: 5, lowAt: 1 },
];
const key = { kid: 'K1', secret: randomBytes(32) };
const keys = { signing: key, accepted: new Map([[key.kid, key]]) };

function config() {
  return KioskConfigSchema.parse({
    kiosk: { id: 'k-0042', mode: 'checkout' },
    api: { baseUrl: 'standin', clientId: 'x' },
    hardware: simulatedHardware(),
    catalogue: [
      { id: 1, desc: 'Kaffee', priceOne: 180, tax: 7 },
      { id: 2, desc: 'Obstsalat', priceOne: 350, tax: 7 },
    ],
  });
}

async function run<T>(logic: unknown, input?: unknown): Promise<T> {
  return toPromise(createActor(logic as AnyActorLogic, { input }).start()) as Promise<T>;
}

describe('settling a release in doubt (service menu actors, real journal)', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  /**
   * Two paid releases cut off by a power cut: after the restart both are `unknown`. `stuck`: slots
   * whose sensor reads active (VendSlots.sensorActive).
   */
  async function afterPowerCut(stuck: ReadonlySet<string> = new Set(), unknownSale = false) {
    const dir = dirs.make();
    const logger = recordingLogger();
    const first = await Journal.open(dir, { logger });
    const vend0 = new VendJournal(first, SLOTS, logger);
    const unit = { productId: 1, transactionId: 'STX1' };
    await vend0.releaseIntent({ ...unit, sessionId: 's1', jobId: 's1:release-0:4', slot: 'A1', cents: 180 });
    await vend0.releaseIntent({
      sessionId: 's2',
      jobId: 's2:release-0:4',
      slot: 'B2',
      productId: 2,
      cents: 350,
      transactionId: null,
    });
    // A paid sale of damaged records whose amount no record names (recovery of an older journal).
    if (unknownSale)
      await first.append({
        type: 'goods_unsettled',
        sessionId: 's9',
        jobId: 's9:recovery-goods:boot',
        cents: 0,
        amountUnknown: true,
      });
    await first.close();
    const journal = await Journal.open(dir, { logger });
    const vend = new VendJournal(journal, SLOTS, logger, new VoucherIssuer(keys, 'k-0042', 0));
    await vend.afterRestart();
    const jobs: PrintJob[] = [];
    const printer = { print: sinon.spy(async (job: PrintJob) => void jobs.push(job)) };
    const cfg = config();
    const settled = sinon.spy();
    const releases = createReleaseSettler({
      book: vend,
      print: (lines) => printer.print({ lines, header: cfg.receipts.header, footer: cfg.receipts.footer }),
      lang: () => cfg.kiosk.language,
      productName: (id) => cfg.catalogue.find((p) => p.id === id)?.desc,
      logger,
      sensorActive: (slot) => stuck.has(slot),
      onSettled: settled,
    });
    const deps: ServiceMenuDeps = {
      config: cfg,
      logger,
      journal,
      printer,
      probe: async () => [],
      fleet: () => undefined,
      fleetConfigured: false,
      apiReachable: async () => true,
      releases,
    };
    const { actors } = createServiceMenuActors(deps);
    return { dir, journal, vend, jobs, printer, logger, actors, settled, releases };
  }

  it('lists each release in doubt with slot, product, price and local time; no card data', async () => {
    const w = await afterPowerCut();
    const out = await run<UnsettledOutput>(w.actors.unsettled);
    const ts = w.journal.state.vend.releasesInDoubt['s1:release-0:4']!.ts;
    assert.deepEqual(out.releases, [
      { jobId: 's1:release-0:4', slot: 'A1', desc: 'Kaffee', cents: 180, when: releaseTime(ts) },
      { jobId: 's2:release-0:4', slot: 'B2', desc: 'Obstsalat', cents: 350, when: releaseTime(ts) },
    ]);
    assert.match(out.releases[0]!.when, /^\d\d\.\d\d\. \d\d:\d\d$/);
    await w.journal.close();
  });

  it('refunded: a signed voucher journaled with the settlement, then printed; a second settle is refused', async () => {
    const w = await afterPowerCut();
    const out = await run<SettleReleaseOutput>(w.actors.settleRelease, {
      jobId: 's1:release-0:4',
      how: 'refunded',
    });
    assert.equal(out.printed, true);
    assert.match(out.voucher ?? '', /^[A-Z2-7]{4}-[A-Z2-7]{4}$/, 'the short id, not the code');
    assert.equal(w.settled.callCount, 1, 'the app hears of it (slot alert, STOCK)');

    // Durable: read back from disk.
    await w.journal.close();
    const { records, state } = await Journal.read(w.dir);
    const unclaimed = records.filter((r) => r.type === 'unclaimed');
    const settledRecs = records.filter((r) => r.type === 'release_settled');
    assert.equal(unclaimed.length, 1);
    const code = unclaimed[0]!.type === 'unclaimed' ? unclaimed[0]!.voucher : '';
    assert.match(code, /^KV1\./);
    assert.deepEqual(
      settledRecs.map((r) => (r.type === 'release_settled' ? [r.jobId, r.how, r.by, r.voucher] : [])),
      [['s1:release-0:4', 'refunded', 'technician', code]],
    );
    assert.ok(
      unclaimed[0]!.seq < settledRecs[0]!.seq && settledRecs[0]!.seq === unclaimed[0]!.seq + 1,
      'one group commit',
    );
    assert.deepEqual(
      state.unclaimedVouchers.map((v) => [v.cents, v.sessionId]),
      [[180, 's1']],
    );
    assert.equal(state.vend.settled['s1:release-0:4']?.how, 'refunded');
    assert.equal(state.vend.settled['s1:release-0:4']?.voucherRef, `k-0042.${out.voucher!.replace('-', '')}`);
    assert.deepEqual(Object.keys(state.vend.releasesInDoubt), ['s2:release-0:4']);
    assert.deepEqual(state.vend.notDelivered, { count: 1, cents: 180 });

    // Printed: the QR carries the code (what the customer scans later), the amount is the price.
    assert.equal(w.jobs.length, 1);
    const printed = JSON.stringify(w.jobs[0]!.lines);
    assert.ok(printed.includes(code));
    assert.ok(printed.includes('1,80 EUR'));
    // Only the printer: not one log line carries the code.
    assert.ok(!JSON.stringify(w.logger.records).includes(code), 'code not in the log');
    assert.ok(
      w.logger.records.some((r) => r.msg === 'release settled'),
      'the settlement itself is logged',
    );

    // Once more, on the reopened journal: refused, nothing journaled, nothing printed.
    const journal = await Journal.open(w.dir, { logger: w.logger });
    const vend = new VendJournal(journal, SLOTS, w.logger, new VoucherIssuer(keys, 'k-0042', 0));
    const again = createReleaseSettler({
      book: vend,
      print: async () => assert.fail('nothing to print'),
      lang: () => 'de',
      productName: () => undefined,
      logger: w.logger,
      sensorActive: () => false,
      onSettled: () => {},
    });
    const seq = journal.state.lastSeq;
    await assert.rejects(
      again.settle('s1:release-0:4', 'delivered', 'technician', true),
      /already settled \(refunded\)/,
    );
    await assert.rejects(
      again.settle('s1:release-0:9', 'refunded', 'technician', true),
      /no release in doubt/,
    );
    assert.equal(journal.state.lastSeq, seq, 'a refusal journals nothing');
    await journal.close();
  });

  it('delivered: no voucher, nothing printed, counted delivered', async () => {
    const w = await afterPowerCut();
    const out = await run<SettleReleaseOutput>(w.actors.settleRelease, {
      jobId: 's2:release-0:4',
      how: 'delivered',
    });
    assert.deepEqual(out, { voucher: null, printed: false, slotBlocked: null }, 'B2 works again');
    assert.equal(w.printer.print.callCount, 0);
    assert.deepEqual(w.journal.state.vend.delivered, { count: 1, cents: 350 });
    assert.equal(w.journal.state.unclaimedVouchers.length, 0);
    assert.equal(w.journal.state.vend.settled['s2:release-0:4']?.by, 'technician');
    await w.journal.close();
  });

  it('printer fails: the voucher is recorded (open, payable by its id) and the screen says not printed', async () => {
    const w = await afterPowerCut();
    w.printer.print = sinon.spy(async (_job: PrintJob): Promise<undefined> => {
      throw new Error('paper_out');
    });
    // The settler took the printer at build time: build the actors again over the failing one.
    const releases = createReleaseSettler({
      book: w.vend,
      print: (lines) => w.printer.print({ lines, header: [], footer: [] }),
      lang: () => 'de',
      productName: () => undefined,
      logger: w.logger,
      sensorActive: () => false,
      onSettled: () => {},
    });
    const out = await releases.settle('s1:release-0:4', 'refunded', 'technician', true);
    assert.equal(out.printed, false);
    assert.equal(w.journal.state.unclaimedVouchers.length, 1);
    assert.equal(w.journal.state.unclaimedVouchers[0]!.ref, out.voucherRef);
    const code = w.journal.state.unclaimedVouchers[0]!.voucher;
    assert.ok(!JSON.stringify(w.logger.records).includes(code));
    assert.ok(w.logger.records.some((r) => r.msg === 'refund voucher not printed'));
    await w.journal.close();
  });

  it('refused: a release still in flight, or one whose session is still open', async () => {
    const dir = dirs.make();
    const logger = recordingLogger();
    const journal = await Journal.open(dir, { logger });
    const vend = new VendJournal(journal, SLOTS, logger);
    const unit = { slot: 'A1', productId: 1, cents: 180, transactionId: null };
    await vend.releaseIntent({ ...unit, sessionId: 's1', jobId: 's1:release-0:1' });
    await assert.rejects(vend.settleRelease('s1:release-0:1', 'refunded', 't'), /still in progress/);
    // A session recovery has not closed yet: its money (and this unit's price) is still to be settled.
    await journal.append({ type: 'session_started', sessionId: 's3', mode: 'checkout' });
    await vend.releaseIntent({ ...unit, sessionId: 's3', jobId: 's3:release-0:1' });
    await vend.releaseOutcome('s3:release-0:1', 'unknown', 'driver_error');
    await assert.rejects(vend.settleRelease('s3:release-0:1', 'refunded', 't'), /session is still open/);
    assert.equal(journal.state.unclaimedVouchers.length, 0);
    await journal.close();
  });

  it("a sale whose amount is unknown: listed so, the menu's refund refused (no amount can be typed there), the fleet's refund needs the amount and pays it", async () => {
    const w = await afterPowerCut(new Set(), true);
    const job = 's9:recovery-goods:boot';
    const listed = (await run<UnsettledOutput>(w.actors.unsettled)).releases.find((r) => r.jobId === job);
    assert.deepEqual([listed?.amountUnknown, listed?.desc], [true, 'Kauf, Waren unbekannt']);
    // On the old code the menu's refund settled it with no voucher: the customer got nothing back.
    await assert.rejects(run(w.actors.settleRelease, { jobId: job, how: 'refunded' }), /Betrag unbekannt/);
    await assert.rejects(w.releases.settle(job, 'refunded', 'fleet', true), /amount is unknown/);
    assert.equal(w.journal.state.unclaimedVouchers.length, 0);
    assert.equal(w.printer.print.callCount, 0, 'nothing printed');
    const out = await w.releases.settle(job, 'refunded', 'fleet', true, 678);
    assert.deepEqual([out.cents, out.printed, out.slot], [678, true, '']);
    assert.ok(out.voucherRef);
    assert.equal(w.journal.state.unclaimedVouchers.at(-1)?.cents, 678);
    const printed = JSON.stringify(w.jobs.at(-1)?.lines);
    assert.match(printed, /6,78/, 'the voucher printed pays the amount given');
    await w.journal.close();
  });

  it('a sale whose amount is unknown: delivered in the menu needs no amount', async () => {
    const w = await afterPowerCut(new Set(), true);
    const out = await run<SettleReleaseOutput>(w.actors.settleRelease, {
      jobId: 's9:recovery-goods:boot',
      how: 'delivered',
    });
    assert.equal(out.voucher, null);
    assert.equal(w.journal.state.vend.settled['s9:recovery-goods:boot']?.how, 'delivered');
    await w.journal.close();
  });

  describe('the slot after the settle (issue 15)', () => {
    const slotOf = (w: { journal: Journal }, id: string) => w.journal.state.vend.slots[id];
    const unblocks = async (dir: string) =>
      (await Journal.read(dir)).records.flatMap((r) =>
        r.type === 'slot_unblocked' ? [[r.slot, r.by, r.releaseJob ?? null]] : [],
      );

    it('delivered: the unit dropped, so the slot works again; its stock went down once', async () => {
      const w = await afterPowerCut();
      assert.equal(slotOf(w, 'B2')?.blocked, 'release power_cut');
      assert.equal(w.vend.stockOf('B2'), 4, 'counted out when the release went unknown');
      const out = await w.releases.settle('s2:release-0:4', 'delivered', 'fleet', false);
      assert.deepEqual([out.slot, out.slotBlocked], ['B2', null]);
      assert.equal(slotOf(w, 'B2')?.blocked, null);
      assert.equal(w.vend.stockOf('B2'), 4, 'not counted out twice');
      assert.equal(w.vend.available().B2, 4, 'the machine may sell it again');
      assert.equal(slotOf(w, 'A1')?.blocked, 'release power_cut', 'the other slot is not touched');
      await w.journal.close();
      assert.deepEqual(await unblocks(w.dir), [['B2', 'fleet', 's2:release-0:4']]);
    });

    it('delivered, but the sensor still reads active: the slot stays blocked and the answer says why', async () => {
      const w = await afterPowerCut(new Set(['B2']));
      const out = await w.releases.settle('s2:release-0:4', 'delivered', 'technician', false);
      assert.equal(out.slotBlocked, 'sensor_active');
      assert.equal(slotOf(w, 'B2')?.blocked, 'release power_cut');
      assert.equal(w.journal.state.vend.settled['s2:release-0:4']?.how, 'delivered', 'settled all the same');
      await w.journal.close();
      assert.deepEqual(await unblocks(w.dir), []);
    });

    it('refunded: the unit did not come out, the slot stays blocked until it is cleared explicitly', async () => {
      const w = await afterPowerCut();
      const out = await w.releases.settle('s1:release-0:4', 'refunded', 'technician', false);
      assert.equal(out.slotBlocked, 'release power_cut');
      assert.equal(slotOf(w, 'A1')?.blocked, 'release power_cut');
      await w.journal.close();
    });

    it('unblockSlot: refused for no slot, a slot not blocked, a release still in doubt or a sensor active; else journaled, stock kept', async () => {
      const w = await afterPowerCut();
      const seq = w.journal.state.lastSeq;
      await assert.rejects(w.vend.unblockSlot('Z9', 'fleet', false), /no slot Z9/);
      await assert.rejects(
        w.vend.unblockSlot('A1', 'fleet', false),
        (err: UnblockRefused) =>
          err.why === 'release_unsettled' && /s1:release-0:4 is still in doubt/.test(err.message),
      );
      await w.releases.settle('s1:release-0:4', 'refunded', 'technician', false);
      await assert.rejects(
        w.vend.unblockSlot('A1', 'fleet', true),
        (err: UnblockRefused) => err.why === 'sensor_active',
      );
      assert.equal(w.journal.state.lastSeq, seq + 2, 'only the settle (voucher and settlement) journaled');
      assert.equal(await w.vend.unblockSlot('A1', 'fleet', false), 4);
      assert.equal(slotOf(w, 'A1')?.blocked, null);
      await assert.rejects(
        w.vend.unblockSlot('A1', 'fleet', false),
        (err: UnblockRefused) => err.why === 'not_blocked',
      );
      await w.journal.close();
      assert.deepEqual(await unblocks(w.dir), [['A1', 'fleet', null]]);
      // The fold after a reopen (and from a snapshot) agrees.
      const { state } = await Journal.read(w.dir);
      assert.equal(state.vend.slots.A1?.blocked, null);
    });
  });
});
