/**
 * `kiosk status --config <file> [--json]`: the kiosk's state, journal, outbox, devices and last
 * errors, from the running kiosk or its files (kiosk-status.ts gathers, this prints). Exit codes:
 * 0 running and in service, 1 not running, 2 configuration problem, 3 running but not taking
 * customers (out of service or maintenance), 64 bad command line.
 */
import { formatCents } from '../api/money.js';
import type { Counters } from '../journal/state.js';
import { parseCommandLine } from './args.js';
import { runSubcommand } from './run-subcommand.js';
import type { CliIo } from './cli-io.js';
import { loadCliConfig } from './config-file.js';
import { EXIT, STATUS_EXIT } from './exit-codes.js';
import { gatherStatus, type KioskStatus, type StatusDeps } from './kiosk-status.js';
import { localFormatter, systemTimeZone } from './local-time.js';
import { stateDirFor } from './state-dir.js';

export const STATUS_HELP = `usage: kiosk status [--config <file>] [--json] [--state-dir <dir>]

Shows whether the kiosk runs and serves customers, its journal (open sessions, cash box since the
last collection, unclaimed vouchers, lifetime counters, anomalies), the fleet outbox, the devices
and the last warnings in the system log. Reads only; safe while the kiosk runs.

options:
  --config <file>     the kiosk configuration (default: $KIOSK_CONFIG)
  --json              one JSON document on stdout, for scripts
  --state-dir <dir>   where health.json is (default: $KIOSK_STATE_DIR, else the journal's parent
                      directory: /var/lib/kiosk on a Pi)

exit codes: 0 running and in service, 1 not running, 2 configuration problem,
            3 running but not taking customers (out of service, maintenance), 64 bad command line`;

export function statusExitCode(s: KioskStatus): number {
  if (!s.running) return STATUS_EXIT.notRunning;
  return s.inService === false ? STATUS_EXIT.outOfService : STATUS_EXIT.healthy;
}

const eur = (cents: number) => formatCents(cents, 'EUR', { thousands: true });

function countersLine(c: Counters): string {
  return [
    `cash in ${eur(c.cashIn.cents)} (${c.cashIn.count})`,
    `sales ${eur(c.sales.cents)} (${c.sales.count})`,
    `top-ups ${eur(c.topUps.cents)} (${c.topUps.count})`,
    `credited ${eur(c.credits.cents)} (${c.credits.count})`,
    `unclaimed ${eur(c.unclaimed.cents)} (${c.unclaimed.count})`,
    `cancelled ${eur(c.cancellations.cents)} (${c.cancellations.count})`,
  ].join(', ');
}

export function formatStatus(s: KioskStatus, now: number, timeZone = systemTimeZone()): string[] {
  const local = localFormatter(timeZone);
  const at = (ts: number) => {
    const l = local(ts);
    return `${l.date} ${l.time}`;
  };
  const ago = (ts: number) => {
    const s = Math.round((now - ts) / 1000);
    return s < 120
      ? `${s} s ago`
      : s < 7200
        ? `${Math.round(s / 60)} min ago`
        : `${Math.round(s / 3600)} h ago`;
  };
  const row = (label: string, value: string) => `${label.padEnd(20)}${value}`.trimEnd();
  const out: string[] = [];
  out.push(`kiosk ${s.kioskId} (${s.mode}), config ${s.configFile}`);
  if (s.running) {
    const facts = [
      s.source === 'health-file' ? `health.json ${s.healthAgeS ?? '?'} s old` : 'answers on its control port',
      s.pid !== null && s.source === 'health-file' ? `pid ${s.pid}` : null,
      s.version ? `version ${s.version}` : null,
      s.clockSynced === false ? 'CLOCK NOT SYNCHRONISED' : s.clockSynced ? 'clock synchronised' : null,
    ].filter(Boolean);
    out.push(row('running', `yes (${facts.join(', ')})`));
    const verdict = s.inService ? 'in service' : 'NOT TAKING CUSTOMERS';
    out.push(
      row(
        'state',
        `${s.state ?? '?'}${s.reason ? ` (${s.reason})` : ''}: ${verdict}${s.busy ? ', serving a customer' : ''}`,
      ),
    );
  } else {
    const why =
      s.healthAgeS === null
        ? `no ${s.stateDir}/health.json`
        : `health.json last written ${s.healthAgeS} s ago${s.pid !== null ? ` by pid ${s.pid}` : ''}`;
    out.push(row('running', `NO (${why}); figures below are from its files`));
  }
  if (s.maintenanceRequest)
    out.push(
      row('maintenance', `requested (${s.maintenanceRequest.reason}) ${ago(s.maintenanceRequest.ts)}`),
    );
  if (s.lastUpgrade)
    out.push(
      row(
        'last upgrade',
        `${s.lastUpgrade.from} -> ${s.lastUpgrade.to}: ${s.lastUpgrade.result} (${at(s.lastUpgrade.ts)})`,
      ),
    );

  const j = s.journal;
  if (!j.readable) {
    out.push(row('journal', `${j.dir}: ${j.reason}`));
  } else {
    const span =
      j.firstTs !== null && j.lastTs !== null ? `, ${at(j.firstTs)} .. ${at(j.lastTs)}` : ', empty';
    out.push(
      row(
        'journal',
        `${j.dir}: ${j.records} records${span}${j.fromSnapshot ? ' (older ones compacted)' : ''}${j.damagedSegments ? `, ${j.damagedSegments} DAMAGED segment(s)` : ''}`,
      ),
    );
    out.push(row('  open sessions', String(j.openSessions.length)));
    for (const o of j.openSessions) {
      out.push(
        `${' '.repeat(22)}${o.sessionId} ${o.mode ?? '?'} ${o.card ?? 'no card'}, inserted ${eur(o.insertedCents)}, ` +
          `${o.paid ? 'paid' : 'not paid'}, last step ${o.lastStep ?? '-'}${o.lastStepOutcome ? ` (${o.lastStepOutcome})` : ''}, since ${at(o.startedTs)}`,
      );
    }
    out.push(
      row(
        '  cash box',
        `${eur(j.cashBox.cents)} in ${j.cashBox.count} coin(s)/note(s)${j.cashBox.sinceTs !== null ? ` since ${at(j.cashBox.sinceTs)}` : ''}`,
      ),
    );
    out.push(
      row(
        '  last collection',
        j.lastCollection
          ? `${at(j.lastCollection.ts)} by ${j.lastCollection.by}: counted ${eur(j.lastCollection.cents)}, expected ${eur(j.lastCollection.expectedCents)}`
          : 'none in the journal',
      ),
    );
    out.push(
      row('  unclaimed', `${j.unclaimedVouchers.count} voucher(s), ${eur(j.unclaimedVouchers.cents)}`),
    );
    if (j.releasesInDoubt.length > 0) {
      out.push(row('  to settle', `${j.releasesInDoubt.length} (settle-release: delivered or refunded)`));
      for (const r of j.releasesInDoubt)
        out.push(
          `${' '.repeat(22)}${r.jobId} ` +
            (r.sale
              ? `sale paid ${r.amountUnknown ? '(amount unknown: refund with cents)' : eur(r.cents)}, goods unknown (damaged journal records), since ${at(r.ts)}`
              : `slot ${r.slot} ${eur(r.cents)}, release outcome unknown, since ${at(r.ts)}`),
        );
    }
    out.push(row('  since collection', countersLine(j.sinceCollection)));
    out.push(row('  lifetime', countersLine(j.lifetime)));
    out.push(row('  anomalies', String(j.anomalies)));
  }

  if (!s.outbox) out.push(row('outbox', 'no fleet configured'));
  else if (!s.outbox.known) out.push(row('outbox', `unknown: ${s.outbox.reason}`));
  else
    out.push(
      row(
        'outbox',
        s.outbox.messages === 0
          ? 'empty (everything reached the fleet broker)'
          : `${s.outbox.messages} message(s) waiting (${s.outbox.money} money), ${s.outbox.bodyBytes} bytes, oldest ${s.outbox.oldestTs !== null ? ago(s.outbox.oldestTs) : '?'}`,
      ),
    );

  out.push(row('devices', s.devices.length ? '' : 'none configured'));
  for (const d of s.devices) out.push(`  ${d.device.padEnd(16)}${d.driver.padEnd(18)}${d.where}`);
  if (s.live && typeof s.live.acceptor === 'string') out.push(row('  acceptor', s.live.acceptor));

  if (s.lastErrors === null) out.push(row('last errors', 'unknown here (no journalctl)'));
  else if (s.lastErrors.length === 0) out.push(row('last errors', 'none in the recent log'));
  else {
    out.push(row('last errors', ''));
    for (const e of s.lastErrors) out.push(`  ${e.time} ${e.level} ${e.msg}`);
  }
  return out;
}

export function statusCommand(argv: readonly string[], io: CliIo, deps: StatusDeps = {}): Promise<number> {
  let json = false;
  return runSubcommand(
    io,
    async () => {
      const values = parseCommandLine('status', argv, {
        config: { type: 'string' },
        json: { type: 'boolean' },
        'state-dir': { type: 'string' },
      }).values;
      json = values.json === true;
      if (values.help) {
        io.out(STATUS_HELP);
        return EXIT.ok;
      }
      return status(loadCliConfig('status', values.config, io.env), values, io, deps);
    },
    (err) => {
      if (json) io.out(JSON.stringify({ error: 'config', message: err.message }));
    },
  );
}

async function status(
  loaded: ReturnType<typeof loadCliConfig>,
  values: { json?: boolean; 'state-dir'?: string },
  io: CliIo,
  deps: StatusDeps,
): Promise<number> {
  const stateDir = stateDirFor(loaded.config, values['state-dir'], io.env);
  const status = await gatherStatus(loaded.config, { configFile: loaded.file, stateDir }, deps);
  const code = statusExitCode(status);
  if (values.json) io.out(JSON.stringify({ ...status, exitCode: code }, null, 2));
  else for (const line of formatStatus(status, (deps.now ?? Date.now)())) io.out(line);
  return code;
}
