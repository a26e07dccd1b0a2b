/**
 * `kiosk run --config <file>` (the default command): runs the kiosk, on the Pi under systemd or on a
 * laptop with simulated hardware. Every start-up problem ends with a message a technician can act on
 * (exit 2: configuration, 3: hardware), never a stack trace.
 */
import { mkdirSync, createWriteStream, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { startupSnapshot } from 'node:v8';
import { ConfigError, checkConfig, loadConfig } from '../config/config.js';
import type { KioskConfig } from '../config/config-schema.js';
import { controlPortDecision, startControlPort, type ControlPort } from './control-port.js';
import { DeviceSetupError } from './devices.js';
import { withStoredDesired } from './desired-config.js';
import { KioskApp } from './kiosk-app.js';
import { createLogger } from './log.js';
import { FIRMWARE_VERSION } from './version.js';
import { StartupTiming } from './startup-timing.js';
import type { VendSummary } from '../contracts/kiosk-summary.js';

/** Emitted on `process` once the idle screen is up (bin/kiosk.mjs listens; a layer of its own, hence the plain name). */
export const FIRST_SCREEN_EVENT = 'kiosk:first-screen';

/**
 * Every static import above is evaluated by now: the load phase ends here. In a start-up snapshot
 * (bin/snapshot.mjs) this module is evaluated while the snapshot is built, long before a kiosk starts
 * from it: its main function marks the phase when it runs (`runFromSnapshot`).
 */
const timing = new StartupTiming();
if (!startupSnapshot.isBuildingSnapshot()) timing.mark('load');

const USAGE = `usage: kiosk [run] --config <file>      run the kiosk (default config: $KIOSK_CONFIG)
       kiosk doctor --config <file>     hardware self-test
       kiosk version                    firmware version`;

export interface RunResult {
  app: KioskApp;
  control: ControlPort | undefined;
  stop(reason?: string): Promise<void>;
}

/** Log lines kept for the simulator's face while it owns the terminal. */
class LogRing extends Writable {
  readonly lines: string[] = [];
  constructor(
    private readonly file: Writable | undefined,
    private readonly onLine: () => void,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.file?.write(chunk);
    for (const raw of chunk.toString('utf8').split('\n')) {
      if (!raw.trim()) continue;
      try {
        const j = JSON.parse(raw) as Record<string, unknown>;
        const extra = ['event', 'cents', 'outcome', 'voucher', 'err', 'reason']
          .filter((k) => j[k] !== undefined)
          .map((k) => `${k}=${String(j[k])}`)
          .join(' ');
        this.lines.push(
          `${String(j.time ?? '').slice(11, 19)} ${String(j.level ?? '')} ${String(j.msg ?? '')} ${extra}`.trim(),
        );
      } catch {
        this.lines.push(raw);
      }
    }
    if (this.lines.length > 50) this.lines.splice(0, this.lines.length - 50);
    this.onLine();
    cb();
  }
}

export async function runKiosk(
  config: KioskConfig,
  opts: { tui?: boolean; fileConfig?: KioskConfig } = {},
): Promise<RunResult> {
  const useTui =
    opts.tui ?? (config.sim.tui && process.stdout.isTTY === true && process.stdin.isTTY === true);
  let repaint = () => {};
  let ring: LogRing | undefined;
  if (useTui) {
    const logFile = join(dirname(config.journal.dir), 'kiosk.log');
    mkdirSync(dirname(logFile), { recursive: true });
    ring = new LogRing(createWriteStream(logFile, { flags: 'a' }), () => repaint());
  }
  // The Pi has no real-time clock: under systemd, wait a little for time sync, then mark every log
  // line and fleet message until it comes. A laptop's clock is taken as set.
  const clock = { synced: true };
  let clockWatch: { stop(): void } | undefined;
  if (process.env.NOTIFY_SOCKET) {
    const { ClockSyncWatch, waitForClockSync } = await import('../ops/time-sync.js');
    clock.synced = await waitForClockSync({ timeoutMs: 20_000 });
    if (!clock.synced) {
      const watch = new ClockSyncWatch({ onSynced: () => (clock.synced = true) });
      void watch.start();
      clockWatch = watch;
    }
  }
  const logger = createLogger({
    kioskId: config.kiosk.id,
    mixin: () => (clock.synced ? {} : { clockSynced: false }),
    ...(ring ? { destination: ring as never } : {}),
  });
  let stopping: Promise<void> | undefined;
  const app = new KioskApp({
    config,
    ...(opts.fileConfig ? { fileConfig: opts.fileConfig } : {}),
    logger,
    clockSynced: () => clock.synced,
    onRestart: (reason) => void stop(`restart: ${reason}`).then(() => process.exit(0)),
    onPhase: (phase) => timing.mark(phase),
    // For tests: a window after boot recovery in which the fleet reporter is not up yet.
    ...(Number(process.env.KIOSK_TEST_FLEET_DELAY_MS) > 0
      ? { fleetStartDelayMs: Number(process.env.KIOSK_TEST_FLEET_DELAY_MS) }
      : {}),
  });
  const onFirstScreen = (): void => {
    if (timing.has('first screen') || !app.summary().state.startsWith('idle')) return;
    timing.mark('first screen');
    app.off('change', onFirstScreen);
    logger.info(
      { phases: timing.toJSON(), node: process.version, ...(timing.from ? { from: timing.from } : {}) },
      'start-up timing',
    );
    // The launcher (bin/kiosk.mjs) writes its code caches now: what start-up compiled is known, and a
    // kiosk is more often switched off than stopped, so a cache written only at exit would rarely be.
    process.emit(FIRST_SCREEN_EVENT as never);
    // For timing a start-up from outside (`/usr/bin/time`, on a Pi): the process ends at the idle screen.
    if (process.env.KIOSK_EXIT_AT_IDLE === '1')
      setImmediate(() => void stop('exit at idle').then(() => process.exit(0)));
  };
  app.on('change', onFirstScreen);
  await app.start();
  const gate = controlPortDecision(config);
  if (!gate.open && gate.reason) logger.warn({ coinDriver: config.hardware.coin?.driver }, gate.reason);
  const control = gate.open ? await startControlPort(gate.port, app.controls(), logger) : undefined;

  let ops: { stop(): Promise<void> } | undefined;
  if (process.env.NOTIFY_SOCKET) {
    const { startServiceIntegration } = await import('./service-integration.js');
    ops = await startServiceIntegration(app, logger);
  }

  let closeTui = () => {};
  if (useTui && ring) {
    const { runTui } = await import('./tui.js');
    const logRing = ring;
    closeTui = runTui({
      controls: app.controls(),
      model: () => {
        const s = app.summary();
        return {
          kioskId: config.kiosk.id,
          mode: config.kiosk.mode,
          state: s.flow ? `${s.state} / ${s.flow}` : s.state + (s.reason ? ` (${s.reason})` : ''),
          display: app.screen(),
          cols: config.sim.displayCols,
          acceptor: s.acceptor,
          printer: app.printerState,
          // As the reader last reported itself (unplugged in the simulator: offline).
          reader: app.deviceHealth().reader ?? 'offline',
          fleet: config.fleet ? config.fleet.url : 'off',
          lastReceipt: app.controls().receipts().at(-1) ?? [],
          logLines: logRing.lines,
          coins: config.sim.coins,
          ...(s.vend ? vendLines(s.vend) : {}),
        };
      },
      onChange: (listener) => {
        repaint = listener;
        app.on('change', listener);
      },
      quit: () => void stop('quit').then(() => process.exit(0)),
    });
  }

  const stop = (reason = 'shutdown'): Promise<void> => {
    stopping ??= (async () => {
      closeTui();
      clockWatch?.stop();
      await ops?.stop();
      await control?.close();
      await app.stop(reason);
    })();
    return stopping;
  };
  return { app, control, stop };
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'run';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  if (command === 'version') {
    console.log(FIRMWARE_VERSION);
    return 0;
  }
  if (command === 'doctor') {
    process.argv = [process.argv[0]!, process.argv[1]!, ...rest];
    await import('../doctor-cli.js');
    return -1;
  }
  const cli = await import('../cli/commands.js');
  if (cli.isCliCommand(command)) return cli.runCliCommand(command, rest);
  // `kiosk help` is what an operator types first: the same text as `--help`.
  if (command === 'help') {
    console.log(`${USAGE}\n${cli.CLI_USAGE}`);
    return 0;
  }
  if (command !== 'run') {
    console.error(`unknown command "${command}"\n${USAGE}\n${cli.CLI_USAGE}`);
    return 64;
  }
  let args;
  try {
    args = parseArgs({
      args: rest,
      options: {
        config: { type: 'string' },
        'no-tui': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 64;
  }
  if (args.help) {
    console.log(`${USAGE}\n${cli.CLI_USAGE}`);
    return 0;
  }
  const file = args.config ?? process.env.KIOSK_CONFIG;
  if (!file) {
    console.error(`no configuration: pass --config <file> or set KIOSK_CONFIG\n${USAGE}`);
    return 64;
  }
  let config: KioskConfig;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(
        `kiosk: configuration ${err.file} is not valid:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`,
      );
      return 2;
    }
    throw err;
  }
  // A newer desired document the fleet sent earlier is applied over the file (its allow-list only).
  const fileConfig = structuredClone(config);
  config = withStoredDesired(config, (msg) => console.error(`kiosk: ${msg}`));
  timing.mark('config');
  let run: RunResult;
  try {
    run = await runKiosk(config, { ...(args['no-tui'] ? { tui: false } : {}), fileConfig });
  } catch (err) {
    if (err instanceof DeviceSetupError) {
      console.error(`kiosk: ${err.message}\n  run "kiosk doctor --config ${file}" to check the hardware`);
      return 3;
    }
    console.error(`kiosk: could not start: ${(err as Error).message}`);
    return 1;
  }
  if (!(config.sim.tui && process.stdout.isTTY) || args['no-tui']) {
    const where = [
      run.app.standInUrl ? `API stand-in ${run.app.standInUrl}` : null,
      run.control ? `control port 127.0.0.1:${run.control.port}` : null,
    ]
      .filter(Boolean)
      .join(', ');
    console.error(`kiosk ${config.kiosk.id} running (${config.kiosk.mode})${where ? `; ${where}` : ''}`);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void run.stop(signal).then(() => process.exit(0));
    });
  }
  return -1;
}

/** Runs the `kiosk` command line and exits with its status (unless it keeps running). */
function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      console.error(`kiosk: unexpected error: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}

/**
 * The main function of a start-up snapshot (bin/snapshot.mjs): the modules were evaluated when the
 * snapshot was built; a kiosk started from it (`node --snapshot-blob <blob> run --config ...`) gets its
 * arguments after the node binary, with no script name between.
 */
export function runFromSnapshot(): void {
  timing.mark('load');
  timing.from = 'snapshot';
  runCli(process.argv.slice(1));
}

/**
 * While a start-up snapshot is built: checks the kiosk's configuration file once, so that the schemas
 * it needs (the members of its drivers) are built and their parsers compiled in the snapshot. Nothing
 * of the file is kept; a file that cannot be read or is not valid is left for the start to report.
 */
export function warmUpForSnapshot(configFile: string | undefined): void {
  if (!configFile) return;
  try {
    checkConfig(JSON.parse(readFileSync(configFile, 'utf8')));
  } catch {
    // reported when the kiosk starts
  }
}

// Run only as the entry point (tests import runKiosk; a snapshot being built calls runFromSnapshot later).
if (
  !startupSnapshot.isBuildingSnapshot() &&
  process.argv[1] &&
  /main\.(ts|js|mjs)$|kiosk(\.mjs)?$/.test(process.argv[1])
)
  runCli(process.argv.slice(2));

/** The vending counter on the simulator's face: stock per slot (`!` blocked, `?` a release in doubt), the hopper. */
function vendLines(v: VendSummary): { slots?: string; hopper?: string } {
  const doubt = new Set(v.releasesInDoubt.map((r) => r.slot));
  const slots = v.slots.map((s) => `${s.id} ${s.stock}${s.blocked ? '!' : ''}${doubt.has(s.id) ? '?' : ''}`);
  return {
    ...(slots.length ? { slots: slots.join('  ') } : {}),
    ...(v.hopper ? { hopper: `${v.hopper.coinCents} ct x ${v.hopper.coins ?? '?'} ${v.hopper.status}` } : {}),
  };
}
