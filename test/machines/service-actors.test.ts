/**
 * The service menu's effects (src/app/service-menu-actors.ts) against fakes of the journal, printer,
 * probes and fleet: what is recorded, printed and reported, and that every fleet payload passes the
 * contract's strict `fault` schema.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { createActor, toPromise, type AnyActorLogic } from 'xstate';
import { FaultEventSchema } from '../../src/fleet/envelope.js';
import { KioskConfigSchema } from '../../src/config/config-schema.js';
import {
  createServiceMenuActors,
  reportServiceAction,
  type ServiceMenuDeps,
} from '../../src/app/service-menu-actors.js';
import { TerminalService } from '../../src/app/terminal-service.js';
import { TerminalDuties } from '../../src/bookkeeping/terminal-duties.js';
import type { ServiceReport, TerminalDutyOutput } from '../../machines/ports.js';
import { silentLogger } from '../../src/util/logger.js';
import { World } from '../recovery/world.js';
import { hashPin } from '../../src/app/service-pin.js';
import { emptyState, foldRecords, type LedgerState } from '../../src/journal/state.js';
import type { EntryInput, JournalEntry } from '../../src/journal/entries.js';
import type { PrintJob } from '../../hal/printer/printer.js';
import { recordingLogger } from '../../src/util/logger.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';

function config(pinHash?: string) {
  return KioskConfigSchema.parse({
    kiosk: { id: 'k-0042', mode: 'topup' },
    api: { baseUrl: 'standin', clientId: 'x' },
    hardware: simulatedHardware(),
    receipts: { header: ['Shop'], footer: ['Danke'] },
    service: pinHash ? { pinHash } : {},
  });
}

function fakes(state: LedgerState = emptyState(), pinHash?: string) {
  let seq = state.lastSeq;
  const journal = {
    state,
    append: sinon.spy(async (e: EntryInput) => {
      const entry = { ...e, seq: ++seq, ts: Date.UTC(2025, 0, 2) } as JournalEntry;
      journal.state = foldRecords([entry], journal.state);
      return entry;
    }),
  };
  const jobs: PrintJob[] = [];
  const printer = { print: sinon.spy(async (job: PrintJob) => void jobs.push(job)) };
  const events: { type: string; payload: Record<string, unknown> }[] = [];
  const fleet = {
    isConnected: true,
    event: (type: string, payload: Record<string, unknown>) => {
      events.push({ type, payload });
      return { accepted: true, eventId: 'e', seq: 1, stored: Promise.resolve(true) };
    },
  };
  const logger = recordingLogger();
  const deps: ServiceMenuDeps = {
    config: config(pinHash),
    logger,
    journal: journal as unknown as ServiceMenuDeps['journal'],
    printer,
    probe: async () => [
      { device: 'display', driver: 'simulated', found: true, where: '-', status: 'ok', required: true },
      { device: 'reader', driver: 'simulated', found: true, where: '-', status: 'online', required: true },
      { device: 'printer', driver: 'escpos', found: true, where: '-', status: 'paper_out', required: true },
      { device: 'acceptor', driver: 'gpio', found: false, where: '-', status: 'ENOENT', required: true },
    ],
    fleet: () => fleet as never,
    fleetConfigured: true,
    apiReachable: async () => true,
    addresses: () => ['10.0.0.5'],
    now: () => new Date(2025, 0, 2, 9, 30),
  };
  return { deps, journal, printer, jobs, events, logger, impl: createServiceMenuActors(deps) };
}

async function run<T>(logic: unknown, input?: unknown): Promise<T> {
  return toPromise(createActor(logic as AnyActorLogic, { input }).start()) as Promise<T>;
}

function withCash(): LedgerState {
  return foldRecords([
    { type: 'session_started', sessionId: 'S1', mode: 'topup', seq: 0, ts: 1 },
    { type: 'coin_accepted', sessionId: 'S1', cents: 200, source: 'coin', seq: 1, ts: 2 },
    { type: 'coin_accepted', sessionId: 'S1', cents: 100, source: 'coin', seq: 2, ts: 3 },
  ] as JournalEntry[]);
}

describe('service menu effects', () => {
  it('checkPin compares with the configured hash; without one: not_configured', async () => {
    const f = fakes(emptyState(), await hashPin('9999'));
    assert.deepEqual(await run(f.impl.actors.checkPin, { pin: '9999' }), { result: 'ok' });
    assert.deepEqual(await run(f.impl.actors.checkPin, { pin: '9998' }), { result: 'wrong' });
    const none = fakes();
    assert.deepEqual(await run(none.impl.actors.checkPin, { pin: '9999' }), { result: 'not_configured' });
  });

  it('info: id, version, addresses, fleet and API', async () => {
    const f = fakes();
    const info = await run<Record<string, unknown>>(f.impl.actors.info);
    assert.deepEqual(info, {
      kioskId: 'k-0042',
      version: info.version,
      addresses: ['10.0.0.5'],
      fleet: 'connected',
      apiReachable: true,
    });
    assert.match(String(info.version), /^\d+\.\d+\.\d+/);
  });

  it('device test: ok only for a found device whose probe says ok/online', async () => {
    const f = fakes();
    assert.deepEqual(await run(f.impl.actors.deviceTest), [
      { device: 'display', ok: true, status: 'ok' },
      { device: 'reader', ok: true, status: 'online' },
      { device: 'printer', ok: false, status: 'paper_out' },
      { device: 'acceptor', ok: false, status: 'ENOENT' },
    ]);
  });

  it('cash collection: journal entry, report with the totals before the reset, cash box at zero', async () => {
    const f = fakes(withCash());
    assert.deepEqual(await run(f.impl.actors.cashStatus), { expected: 300 });
    const out = await run(f.impl.actors.collectCash, { counted: 250, expected: 300 });
    assert.deepEqual(out, { printed: true });
    assert.deepEqual(f.journal.append.firstCall.args[0], {
      type: 'cash_collected',
      cents: 250,
      by: 'technician',
    });
    assert.equal(f.journal.state.cashBox.cents, 0);
    assert.equal(f.journal.state.lifetime.cashIn.cents, 300, 'lifetime counters untouched');
    const text = JSON.stringify(f.jobs[0]?.lines);
    assert.ok(text.includes('"Bargeld ein","value":"2 / 3,00 EUR"'), text);
    assert.ok(text.includes('"Differenz","value":"-0,50 EUR"'), text);
  });

  it('cash collection: a report that does not print is said, the collection stays recorded', async () => {
    const f = fakes(withCash());
    f.printer.print = sinon.spy(async () => {
      throw new Error('paper_out');
    }) as never;
    const impl = createServiceMenuActors({ ...f.deps, printer: f.printer });
    assert.deepEqual(await run(impl.actors.collectCash, { counted: 300, expected: 300 }), { printed: false });
    assert.equal(f.journal.state.cashBox.cents, 0);
  });

  it('cash collection: not recorded -> rejects (nothing printed)', async () => {
    const f = fakes(withCash());
    f.journal.append = sinon.spy(async () => {
      throw new Error('journal closed');
    }) as never;
    await assert.rejects(run(f.impl.actors.collectCash, { counted: 300, expected: 300 }), /journal closed/);
    assert.equal(f.jobs.length, 0);
  });

  it('reprint: the recent receipts newest first with number, time and whether they printed; the chosen one printed as a copy', async () => {
    const none = fakes();
    assert.deepEqual(await run(none.impl.actors.recentReceipts), { receipts: [] });
    assert.deepEqual(await run(none.impl.actors.reprint, { jobId: 'S1:receipt:1' }), { reprinted: false });
    const state = emptyState();
    const ts = new Date(2026, 11, 3, 7, 12).getTime();
    const line = (text: string) => ({ type: 'textline' as const, value: { text, decoration: [] } });
    state.recentReceipts.push(
      {
        sessionId: 'S1',
        jobId: 'S1:receipt:1',
        lines: [
          line('Aufladung 5,00 EUR'),
          { type: 'name-value', value: { name: 'Beleg-Nr.', value: 'k-0042-00016', decoration: [] } },
        ],
        printed: true,
        ts,
      },
      { sessionId: 'S2', jobId: 'S2:receipt:1', lines: [line('Kaffee 1,80 EUR')], printed: false, ts },
    );
    const f = fakes(state);
    assert.deepEqual(await run(f.impl.actors.recentReceipts), {
      receipts: [
        { jobId: 'S2:receipt:1', no: null, when: '03.12. 07:12', printed: false },
        { jobId: 'S1:receipt:1', no: 'k-0042-00016', when: '03.12. 07:12', printed: true },
      ],
    });
    assert.deepEqual(await run(f.impl.actors.reprint, { jobId: 'S1:receipt:1' }), { reprinted: true });
    assert.deepEqual(f.jobs[0]?.lines[0], { type: 'separator', value: { caption: 'Kopie' } });
    assert.match(JSON.stringify(f.jobs[0]?.lines), /Aufladung 5,00 EUR/);
    assert.deepEqual(await run(f.impl.actors.reprint, { jobId: 'S3:receipt:1' }), { reprinted: false });
    assert.equal(f.jobs.length, 1);
  });

  it('test print goes to the printer', async () => {
    const f = fakes();
    await run(f.impl.actors.testPrint);
    assert.match(JSON.stringify(f.jobs[0]?.lines), /Testdruck/);
  });

  it('every report is logged and sent as a valid fleet fault event (service:<action>)', () => {
    const f = fakes();
    const report = (r: ServiceReport) => reportServiceAction(f.deps, r);
    report({ action: 'login', ok: true });
    report({ action: 'pin_lockout', ok: false });
    report({ action: 'cash_collected', ok: true, counted: 490, expected: 500 });
    assert.deepEqual(
      f.events.map((e) => [e.type, e.payload.code, e.payload.severity]),
      [
        ['fault', 'service:login', 'info'],
        ['fault', 'service:pin_lockout', 'warning'],
        ['fault', 'service:cash_collected', 'info'],
      ],
    );
    assert.equal(f.events[2]?.payload.message, 'counted 4,90 EUR, expected 5,00 EUR');
    for (const e of f.events) FaultEventSchema.parse({ ...e.payload, eventId: crypto.randomUUID() });
    assert.deepEqual(
      f.logger.records
        .filter((r) => r.msg === 'service menu')
        .map((r) => (r.obj as { service?: string }).service),
      ['login', 'pin_lockout', 'cash_collected'],
    );
    // Every technician action is on the journal's audit trail too.
    assert.deepEqual(
      f.journal.append.getCalls().map((c) => {
        const e = c.args[0] as { type: string; action?: string; ok?: boolean };
        return [e.type, e.action, e.ok];
      }),
      [
        ['service_action', 'login', true],
        ['service_action', 'pin_lockout', false],
        ['service_action', 'cash_collected', true],
      ],
    );
  });
});

describe('service menu actors: the card terminal page over the real stand-in', function () {
  this.timeout(20_000);
  let w: World;
  afterEach(async () => w?.close());

  it('end-of-day, diagnosis, merchant copy and reversal of the last payment: journaled, printed, told', async () => {
    w = await World.create('checkout');
    const duties = new TerminalDuties({
      journal: w.journal,
      api: w.rig.client,
      logger: silentLogger,
      enabled: true,
    });
    const events: { type: string; payload: Record<string, unknown> }[] = [];
    const terminal = new TerminalService({
      duties,
      fleet: () =>
        ({
          event: (type: string, payload: object) => void events.push({ type, payload: payload as never }),
        }) as never,
      logger: silentLogger,
      idle: () => true,
      lastEndOfDay: () => w.journal.state.terminal.lastEndOfDay,
    });
    const f = fakes();
    const impl = createServiceMenuActors({ ...f.deps, terminal });
    const duty = (d: string) => run<TerminalDutyOutput>(impl.actors.terminalDuty, { duty: d });

    assert.deepEqual(await duty('cancel_last'), { ok: false, detail: 'Nichts offen' });
    await w.sj.beginSession('s1');
    const tx = await w.api.create({
      basket: { type: 'default', products: [{ id: 1, desc: 'Kaffee', quantity: 1, priceOne: 180, tax: 7 }] },
      basket_info: { sum: 180, currency: 'EUR' },
      merchantRef: 's1:create:1',
    });
    await w.api.start(tx.id, 'cashless');
    await w.sj.closeSession('s1', 'paid');

    assert.deepEqual(await duty('merchant_receipt'), { ok: true, detail: '0001' });
    assert.match(JSON.stringify(f.jobs.at(-1)?.lines), /Kopie.*Händlerbeleg/);
    assert.deepEqual(await duty('cancel_last'), { ok: true, detail: '0001 1,80 EUR' });
    assert.equal(w.ledger().sales[0]!.cancelled, true);
    assert.deepEqual(await duty('cancel_last'), { ok: false, detail: 'Nichts offen' }, 'once');
    const eod = await duty('end_of_day');
    assert.deepEqual(eod, { ok: true, detail: '0 Zahl. 0,00 EUR' });
    assert.match(JSON.stringify(f.jobs.at(-1)?.lines), /Kassenschnitt/, 'the end-of-day slip printed');
    assert.equal((await duty('diagnosis')).ok, true);
    assert.deepEqual(
      events.map((e) => [e.type, e.payload.action, e.payload.result, e.payload.by]),
      [
        ['terminal', 'reversal', 'ok', 'service'],
        ['terminal', 'end_of_day', 'ok', 'service'],
      ],
    );
    const off = createServiceMenuActors({ ...f.deps });
    assert.deepEqual(await run(off.actors.terminalDuty, { duty: 'end_of_day' }), {
      ok: false,
      detail: 'Kein Terminal',
    });
  });
});
