import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPort, type ControlPort, type SimControls } from '../../src/app/control-port.js';
import { recordingIo } from '../../src/cli/cli-io.js';
import { parseLogLines, type KioskStatus, type LogLine } from '../../src/cli/kiosk-status.js';
import { statusCommand } from '../../src/cli/status-command.js';
import { Journal } from '../../src/journal/journal.js';
import { writeHealthReport } from '../../src/ops/health-file.js';
import { FULL_CARD, tempKiosk, writeSampleJournal, type TempKiosk } from './fixtures.js';

type StatusDoc = KioskStatus & { exitCode: number };

describe('cli/kiosk status', () => {
  let k: TempKiosk;
  const NOW = Date.UTC(2025, 2, 3, 12, 0, 0);
  const noLog = async (): Promise<LogLine[] | null> => [];
  const deps = { now: () => NOW, lastErrors: noLog, pidAlive: () => true };

  beforeEach(async () => {
    k = tempKiosk();
    await writeSampleJournal(k.journalDir);
  });
  afterEach(() => k.cleanup());

  it('from the files when the kiosk is not running: exit 1, journal figures, masked cards only', async () => {
    const io = recordingIo();
    const code = await statusCommand(['--config', k.configFile], io, deps);
    assert.equal(code, 1);
    const text = io.stdout.join('\n');
    assert.match(text, /running\s+NO \(no .*health\.json\)/);
    assert.match(text, /open sessions\s+1/);
    assert.match(
      text,
      /C topup 9276\*{8}2845, inserted 2,00 EUR, not paid, last step start\/cash \(pending\)/,
    );
    // Cash box after the collection: only session C's coin.
    assert.match(text, /cash box\s+2,00 EUR in 1 coin/);
    assert.match(text, /last collection\s+2025-03-02 .* counted 5,40 EUR, expected 5,50 EUR/);
    assert.match(text, /unclaimed\s+1 voucher\(s\), 0,50 EUR/);
    assert.match(text, /lifetime\s+cash in 7,50 EUR \(5\), sales 0,00 EUR \(0\), top-ups 5,00 EUR \(1\)/);
    assert.match(text, /outbox\s+empty/);
    assert.ok(!text.includes(FULL_CARD), 'no full card number');
  });

  it('a paid sale whose goods are unknown is listed to settle, with what it paid (chaos seed 31418 --first 3)', async () => {
    const j = await Journal.open(k.journalDir, { fsync: false });
    await j.append({
      type: 'goods_unsettled',
      sessionId: 'D',
      jobId: 'D:recovery-goods:boot',
      cents: 678,
      transactionId: 'STX_D',
    });
    // Its amount unknown (the payment's record older than the amount in it), and one written before
    // the flag with 0 ct: neither reads "0,00 EUR".
    await j.append({
      type: 'goods_unsettled',
      sessionId: 'E',
      jobId: 'E:recovery-goods:boot',
      cents: 0,
      amountUnknown: true,
    });
    await j.append({ type: 'goods_unsettled', sessionId: 'F', jobId: 'F:recovery-goods:boot', cents: 0 });
    await j.close();
    const io = recordingIo();
    await statusCommand(['--config', k.configFile], io, deps);
    const text = io.stdout.join('\n');
    assert.match(text, /to settle\s+3 \(settle-release: delivered or refunded\)/);
    assert.match(text, /D:recovery-goods:boot sale paid 6,78 EUR, goods unknown \(damaged journal records\)/);
    for (const s of ['E', 'F'])
      assert.match(
        text,
        new RegExp(
          `${s}:recovery-goods:boot sale paid \\(amount unknown: refund with cents\\), goods unknown`,
        ),
      );
    assert.doesNotMatch(text, /sale paid 0,00 EUR/);
    const json = recordingIo();
    await statusCommand(['--config', k.configFile, '--json'], json, deps);
    const doc = JSON.parse(json.stdout.join('\n')) as StatusDoc;
    assert.ok(doc.journal.readable);
    assert.deepEqual(
      doc.journal.releasesInDoubt.map((r) => [r.jobId, r.sessionId, r.cents, r.sale, r.amountUnknown]),
      [
        ['D:recovery-goods:boot', 'D', 678, true, undefined],
        ['E:recovery-goods:boot', 'E', 0, true, true],
        ['F:recovery-goods:boot', 'F', 0, true, true],
      ],
    );
  });

  it('--json gives the same facts to scripts', async () => {
    const io = recordingIo();
    const code = await statusCommand(['--config', k.configFile, '--json'], io, deps);
    assert.equal(code, 1);
    const doc = JSON.parse(io.stdout.join('\n')) as StatusDoc;
    assert.equal(doc.exitCode, 1);
    assert.equal(doc.running, false);
    assert.equal(doc.kioskId, 'k-test-0007');
    assert.ok(doc.journal.readable);
    assert.equal(doc.journal.openSessions.length, 1);
    assert.equal(doc.journal.openSessions[0]?.card, '9276********2845');
    assert.deepEqual(doc.journal.cashBox, { cents: 200, count: 1, sinceTs: doc.journal.cashBox.sinceTs });
    assert.equal(doc.journal.lifetime.cashIn.cents, 750);
    assert.equal(doc.journal.lifetime.collections.cents, 540);
    assert.equal(doc.journal.unclaimedVouchers.count, 1);
    assert.ok(doc.outbox?.known);
    assert.equal(doc.outbox.messages, 0);
    assert.deepEqual(
      doc.devices.map((d: { device: string }) => d.device),
      ['display', 'reader', 'buttons', 'coin', 'printer'],
    );
    assert.ok(!JSON.stringify(doc).includes(FULL_CARD));
  });

  it('a fresh health.json means running: exit 0 in service, 3 out of service, 1 when stale or its pid is gone', async () => {
    const cases: Array<[string, number, number, boolean, number]> = [
      ['idle', NOW - 5_000, process.pid, true, 0],
      ['serving', NOW - 5_000, process.pid, true, 0],
      ['outOfService', NOW - 5_000, process.pid, true, 3],
      ['maintenance', NOW - 5_000, process.pid, true, 3],
      ['idle', NOW - 120_000, process.pid, true, 1],
      ['idle', NOW - 5_000, 999_999, false, 1],
    ];
    for (const [state, ts, pid, alive, want] of cases) {
      await writeHealthReport(k.dir, {
        version: '9.9.9',
        state,
        busy: state === 'serving',
        ts,
        pid,
        clockSynced: true,
      });
      const io = recordingIo();
      const code = await statusCommand(['--config', k.configFile, '--json'], io, {
        ...deps,
        pidAlive: () => alive,
      });
      assert.equal(code, want, `${state} ts-${NOW - ts} alive=${alive}`);
      const doc = JSON.parse(io.stdout.join('\n')) as StatusDoc;
      assert.equal(doc.running, want !== 1);
      if (want !== 1) {
        assert.equal(doc.source, 'health-file');
        assert.equal(doc.state, state);
        assert.equal(doc.version, '9.9.9');
      }
    }
    const io = recordingIo();
    await writeHealthReport(k.dir, {
      version: '9.9.9',
      state: 'outOfService',
      busy: false,
      ts: NOW - 3000,
      pid: 1,
    });
    await statusCommand(['--config', k.configFile], io, deps);
    assert.match(io.stdout.join('\n'), /state\s+outOfService: NOT TAKING CUSTOMERS/);
  });

  it('asks a simulated kiosk on its control port when configured', async () => {
    const controls = {
      state: () => ({ state: 'outOfService', flow: null, reason: 'printer', acceptor: 'inhibited' }),
    } as unknown as SimControls;
    const port: ControlPort = await startControlPort(0, controls);
    try {
      const sim = tempKiosk({ sim: { tui: false, controlPort: port.port } });
      try {
        const io = recordingIo();
        const code = await statusCommand(['--config', sim.configFile], io, deps);
        assert.equal(code, 3);
        const text = io.stdout.join('\n');
        assert.match(text, /running\s+yes \(answers on its control port/);
        assert.match(text, /state\s+outOfService \(printer\): NOT TAKING CUSTOMERS/);
        assert.match(text, /acceptor\s+inhibited/);
        assert.match(text, /journal .*no journal yet/);
      } finally {
        sim.cleanup();
      }
    } finally {
      await port.close();
    }
  });

  it('counts the outbox without opening it (nothing written) and shows the last warnings', async () => {
    const { Outbox } = await import('../../src/fleet/outbox.js');
    const box = await Outbox.open({ dir: join(k.dir, 'outbox'), fsync: false });
    const a = box.enqueue('evt/sale', true, NOW - 60_000, () => '{"x":1}');
    box.enqueue('evt/health', false, NOW - 30_000, () => '{"y":22}');
    await a.stored;
    await box.flush();
    await box.close();
    const metaBefore = readFileSync(join(k.dir, 'outbox/meta.json'), 'utf8');
    const logBefore = readFileSync(join(k.dir, 'outbox/outbox.log'));
    const io = recordingIo();
    const logs: LogLine[] = [{ time: '2025-03-03T11:59:00.000Z', level: 'error', msg: 'printer offline' }];
    await statusCommand(['--config', k.configFile], io, { ...deps, lastErrors: async () => logs });
    const text = io.stdout.join('\n');
    assert.match(text, /outbox\s+2 message\(s\) waiting \(1 money\)/);
    assert.equal(readFileSync(join(k.dir, 'outbox/meta.json'), 'utf8'), metaBefore, 'meta.json untouched');
    assert.deepEqual(readFileSync(join(k.dir, 'outbox/outbox.log')), logBefore, 'outbox.log untouched');
    assert.match(text, /last errors\n\s+2025-03-03T11:59:00.000Z error printer offline/);
  });

  it('exit 2 for a configuration problem, 64 for a bad option, help on --help', async () => {
    writeFileSync(join(k.dir, 'bad.json'), '{"kiosk": {"id": "X"}}');
    let io = recordingIo();
    assert.equal(await statusCommand(['--config', join(k.dir, 'bad.json')], io, deps), 2);
    assert.match(io.stderr.join('\n'), /is not valid:\n\s+- kiosk\.id/);
    io = recordingIo();
    assert.equal(await statusCommand(['--config', join(k.dir, 'missing.json')], io, deps), 2);
    io = recordingIo();
    assert.equal(await statusCommand([], io, deps), 2);
    assert.match(io.stderr.join('\n'), /no configuration: pass --config/);
    io = recordingIo();
    assert.equal(await statusCommand(['--config', k.configFile, '--jsn'], io, deps), 64);
    assert.equal(io.stderr.join('\n'), "kiosk status: unknown option '--jsn' (see kiosk status --help)");
    io = recordingIo();
    assert.equal(await statusCommand(['--help'], io, deps), 0);
    assert.match(io.stdout.join('\n'), /^usage: kiosk status/);
    assert.match(io.stdout.join('\n'), /exit codes: 0 running and in service, 1 not running/);
  });

  it('a missing journal is reported, not thrown', async () => {
    const other = tempKiosk({ journal: { dir: 'nowhere' } });
    try {
      const io = recordingIo();
      await statusCommand(['--config', other.configFile, '--json'], io, deps);
      const doc = JSON.parse(io.stdout.join('\n')) as StatusDoc;
      assert.ok(!doc.journal.readable);
      assert.match(doc.journal.reason, /no journal yet/);
    } finally {
      other.cleanup();
    }
  });

  it("reads the app's JSON log lines: warnings and errors only, newest last", () => {
    const text = [
      'Started kiosk.service - Kiosk.',
      '{"level":"info","time":"t1","msg":"ready"}',
      '{"level":"warn","time":"t2","msg":"printer","err":{"message":"paper low"}}',
      '{"level":"error","time":"t3","msg":"api down"}',
    ].join('\n');
    assert.deepEqual(parseLogLines(text), [
      { time: 't2', level: 'warn', msg: 'printer: paper low' },
      { time: 't3', level: 'error', msg: 'api down' },
    ]);
  });
});
