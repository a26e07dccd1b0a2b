/**
 * What `kiosk status` knows about a kiosk, gathered without changing anything: whether it runs
 * (a fresh health.json from the service, or the control port of a simulated kiosk), its state,
 * its journal (read with `Journal.read`, which never writes), its fleet outbox (peeked, never
 * opened), its configured devices and its last warnings from the system log.
 */
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import type { KioskConfig } from '../config/config-schema.js';
import { Journal } from '../journal/journal.js';
import type { Counters, OpenSession } from '../journal/state.js';
import {
  isFresh,
  readHealthReport,
  readLastUpgrade,
  readMaintenanceRequest,
  type LastUpgrade,
  type MaintenanceRequest,
} from '../ops/health-file.js';
import { maskCard } from '../util/privacy.js';
import { peekOutbox, type OutboxPeek } from './outbox-peek.js';

/** Lifecycle states in which a running kiosk takes no customer. */
export const NOT_SERVING_STATES = ['outOfService', 'maintenance', 'failed', 'stopping'];

export interface LogLine {
  time: string;
  level: string;
  msg: string;
}

export interface OpenSessionView {
  sessionId: string;
  mode: string | null;
  startedTs: number;
  card: string | null;
  insertedCents: number;
  paid: boolean;
  lastStep: string | null;
  lastStepOutcome: string | null;
}

export type JournalView =
  | {
      readable: true;
      dir: string;
      records: number;
      /** seq of the oldest record still on disk (a compaction snapshot when `fromSnapshot`). */
      firstSeq: number | null;
      lastSeq: number | null;
      firstTs: number | null;
      lastTs: number | null;
      fromSnapshot: boolean;
      damagedSegments: number;
      openSessions: OpenSessionView[];
      cashBox: { cents: number; count: number; sinceTs: number | null };
      lastCollection: { ts: number; cents: number; expectedCents: number; by: string } | null;
      unclaimedVouchers: { count: number; cents: number };
      /**
       * Vending releases whose outcome is unknown, and paid sales whose goods are unknown (`sale`: the
       * basket's record damaged before any release): each waits for the operator's settle-release.
       */
      releasesInDoubt: {
        jobId: string;
        sessionId: string;
        slot: string;
        cents: number;
        ts: number;
        sale: boolean;
        /** A sale whose amount no record names: `cents` is 0 and means nothing. */
        amountUnknown?: boolean;
      }[];
      lifetime: Counters;
      sinceCollection: Counters;
      anomalies: number;
    }
  | { readable: false; dir: string; reason: string };

export interface DeviceView {
  device: string;
  driver: string;
  where: string;
}

export interface KioskStatus {
  kioskId: string;
  mode: string;
  configFile: string;
  stateDir: string;
  running: boolean;
  /** Where `running` and `state` come from. */
  source: 'health-file' | 'control-port' | null;
  state: string | null;
  /** Running and taking customers. */
  inService: boolean | null;
  reason: string | null;
  busy: boolean | null;
  version: string | null;
  pid: number | null;
  clockSynced: boolean | null;
  /** Age of health.json in seconds (null when absent). */
  healthAgeS: number | null;
  /** The live kiosk's own view, from the control port. */
  live: Record<string, unknown> | null;
  maintenanceRequest: MaintenanceRequest | null;
  lastUpgrade: LastUpgrade | null;
  journal: JournalView;
  /** null: no fleet configured. */
  outbox: (OutboxPeek & { dir: string }) | null;
  devices: DeviceView[];
  /** null: no system log to read here (no journalctl). */
  lastErrors: LogLine[] | null;
}

export interface StatusDeps {
  now?: () => number;
  /** One NDJSON request to the control port; undefined when nothing answers. */
  askControlPort?: (port: number, request: object) => Promise<Record<string, unknown> | undefined>;
  /** The kiosk's last warnings and errors, newest last; null when there is no log to read. */
  lastErrors?: () => Promise<LogLine[] | null>;
  /** Whether a process with this id exists (a fresh health.json from a process that just died). */
  pidAlive?: (pid: number) => boolean;
}

export function askControlPort(
  port: number,
  request: object,
  timeoutMs = 1500,
): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    const done = (value: Record<string, unknown> | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      try {
        const value = JSON.parse(buffer.slice(0, nl)) as unknown;
        done(
          value && typeof value === 'object' && !Array.isArray(value)
            ? (value as Record<string, unknown>)
            : undefined,
        );
      } catch {
        done(undefined);
      }
    });
    socket.on('error', () => done(undefined));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The app logs pino JSON to stdout, which journald stores at priority info: filter by the JSON level. */
export function parseLogLines(text: string, keep = 5): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const j = JSON.parse(raw) as { level?: unknown; time?: unknown; msg?: unknown; err?: unknown };
      const level = String(j.level ?? '');
      if (!['warn', 'error', 'fatal'].includes(level)) continue;
      const err = j.err && typeof j.err === 'object' ? (j.err as { message?: unknown }).message : j.err;
      lines.push({
        time: String(j.time ?? ''),
        level,
        msg: `${String(j.msg ?? '')}${err ? `: ${String(err)}` : ''}`,
      });
    } catch {
      // not one of the app's lines
    }
  }
  return lines.slice(-keep);
}

export function journalctlLastErrors(unit = 'kiosk'): Promise<LogLine[] | null> {
  return new Promise((resolve) => {
    execFile(
      'journalctl',
      ['-u', unit, '-n', '1000', '-o', 'cat', '--no-pager'],
      { timeout: 3000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null);
        resolve(parseLogLines(stdout ?? ''));
      },
    );
  });
}

export function describeDevices(config: KioskConfig): DeviceView[] {
  const hw = config.hardware;
  const out: DeviceView[] = [];
  if (hw.display)
    out.push({
      device: 'display',
      driver: hw.display.driver,
      where:
        hw.display.driver === 'simulated'
          ? 'simulated'
          : `i2c-${hw.display.bus ?? 1} ${hw.display.address === undefined ? 'scan' : `0x${hw.display.address.toString(16)}`}`,
    });
  if (hw.reader)
    out.push({
      device: 'reader',
      driver: hw.reader.driver,
      where: hw.reader.driver === 'simulated' ? 'simulated' : hw.reader.path,
    });
  if (hw.buttons)
    out.push({
      device: 'buttons',
      driver: hw.buttons.driver,
      where:
        hw.buttons.driver === 'simulated'
          ? 'simulated'
          : Object.entries(hw.buttons.pins)
              .map(([name, bcm]) => `${name}=BCM${bcm}`)
              .join(' '),
    });
  if (hw.coin)
    out.push({
      device: 'coin',
      driver: hw.coin.driver,
      where:
        hw.coin.driver === 'simulated'
          ? 'simulated'
          : hw.coin.driver === 'cctalk'
            ? `${hw.coin.path} ccTalk ${hw.coin.address ?? 2}`
            : `pulse=BCM${hw.coin.coin.bcm}${hw.coin.inhibit ? ` inhibit=BCM${hw.coin.inhibit.bcm}` : ''}`,
    });
  if (hw.printer)
    out.push({
      device: 'printer',
      driver: hw.printer.driver,
      where: hw.printer.driver === 'simulated' ? 'simulated' : hw.printer.interface,
    });
  return out;
}

function sessionView(s: OpenSession): OpenSessionView {
  return {
    sessionId: s.sessionId,
    mode: s.mode ?? null,
    startedTs: s.startedTs,
    card: s.cardMasked ?? (s.card ? maskCard(s.card) : null),
    insertedCents: s.insertedCents,
    paid: s.paid,
    lastStep: s.lastStep?.step ?? null,
    lastStepOutcome: s.lastStep ? (s.lastStep.outcome ?? 'pending') : null,
  };
}

export async function readJournalView(dir: string): Promise<JournalView> {
  let read;
  try {
    read = await Journal.read(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no journal yet (the kiosk has not run with this configuration)'
        : code === 'EACCES'
          ? 'no permission to read it: run as root (sudo kiosk status) or as the kiosk user'
          : `cannot read it (${code ?? (err as Error).message})`;
    return { readable: false, dir, reason };
  }
  const { records, state, damage } = read;
  const first = records[0];
  const last = records.at(-1);
  return {
    readable: true,
    dir,
    records: records.length,
    firstSeq: first?.seq ?? null,
    lastSeq: last?.seq ?? null,
    firstTs: first?.ts ?? null,
    lastTs: last?.ts ?? null,
    fromSnapshot: first?.type === 'snapshot' && first.state.lastSeq >= 0,
    damagedSegments: damage.length,
    openSessions: Object.values(state.sessions).map(sessionView),
    cashBox: state.cashBox,
    lastCollection: state.lastCollection,
    unclaimedVouchers: {
      count: state.unclaimedVouchers.length,
      cents: state.unclaimedVouchers.reduce((sum, v) => sum + v.cents, 0),
    },
    releasesInDoubt: Object.values(state.vend.releasesInDoubt)
      .filter((r) => r.outcome === 'unknown')
      .sort((a, b) => a.intentSeq - b.intentSeq)
      .map((r) => ({
        jobId: r.jobId,
        sessionId: r.sessionId,
        slot: r.slot,
        cents: r.cents,
        ts: r.ts,
        sale: r.sale === true,
        ...(r.amountUnknown ? { amountUnknown: true } : {}),
      })),
    lifetime: state.lifetime,
    sinceCollection: state.sinceCollection,
    anomalies: state.anomalies,
  };
}

export async function gatherStatus(
  config: KioskConfig,
  where: { configFile: string; stateDir: string },
  deps: StatusDeps = {},
): Promise<KioskStatus> {
  const now = (deps.now ?? Date.now)();
  const [health, maintenance, lastUpgrade, journal, outbox, lastErrors] = await Promise.all([
    readHealthReport(where.stateDir),
    readMaintenanceRequest(where.stateDir, now),
    readLastUpgrade(where.stateDir),
    readJournalView(config.journal.dir),
    config.fleet
      ? peekOutbox(config.fleet.outboxDir).then((p) => ({ ...p, dir: config.fleet?.outboxDir ?? '' }))
      : Promise.resolve(null),
    (deps.lastErrors ?? journalctlLastErrors)(),
  ]);

  const status: KioskStatus = {
    kioskId: config.kiosk.id,
    mode: config.kiosk.mode,
    configFile: where.configFile,
    stateDir: where.stateDir,
    running: false,
    source: null,
    state: null,
    inService: null,
    reason: null,
    busy: null,
    version: health?.version ?? null,
    pid: health?.pid ?? null,
    clockSynced: health?.clockSynced ?? null,
    healthAgeS: health ? Math.round((now - health.ts) / 1000) : null,
    live: null,
    maintenanceRequest: maintenance ?? null,
    lastUpgrade: lastUpgrade ?? null,
    journal,
    outbox,
    devices: describeDevices(config),
    lastErrors,
  };

  const alive = deps.pidAlive ?? pidAlive;
  if (health && isFresh(health, now) && (health.pid === undefined || alive(health.pid))) {
    status.running = true;
    status.source = 'health-file';
    status.state = health.state;
    status.busy = health.busy;
  }
  const port = config.sim.controlPort;
  if (port !== undefined && port !== 0) {
    const live = await (deps.askControlPort ?? askControlPort)(port, { cmd: 'state' });
    if (live && typeof live.state === 'string') {
      status.live = live;
      status.running = true;
      status.source ??= 'control-port';
      status.state = live.state;
      status.reason = typeof live.reason === 'string' ? live.reason : null;
      status.busy ??= live.state.startsWith('serving');
    }
  }
  if (status.running && status.state !== null) {
    const top = status.state.split('.')[0] ?? status.state;
    status.inService = !NOT_SERVING_STATES.includes(top);
  }
  return status;
}
