/**
 * `kiosk pair --config <file>`: the API's device pairing (src/ops/pair.ts) from the command line.
 * The user code goes to the terminal and, when the config has an HD44780 display and the kiosk
 * service is not running (it owns the display then), onto the display too. Exit codes are
 * `pairFailure`'s: 0 paired, 2 expired or refused, 3 API unreachable or client refused, 4 token not
 * stored; plus 2 for a config that cannot pair, 64 for a bad command line, 130 when interrupted.
 */
import type { Display } from '../../hal/display/display.js';
import type { DisplayDeviceConfig } from '../../hal/hardware-config.js';
import type { KioskConfig } from '../config/config-schema.js';
import { isFresh, readHealthReport } from '../ops/health-file.js';
import { pairFailure, pairKiosk } from '../ops/pair.js';
import { parseCommandLine } from './args.js';
import { runSubcommand } from './run-subcommand.js';
import type { CliIo } from './cli-io.js';
import { loadCliConfig } from './config-file.js';
import { EXIT } from './exit-codes.js';
import { stateDirFor } from './state-dir.js';

export const PAIR_HELP = `usage: kiosk pair [--config <file>] [--no-display] [--state-dir <dir>]

Pairs this kiosk with the merchant's account (OAuth device grant for api.deviceUuid): shows a
code on the terminal and the kiosk's display, waits until an operator confirms it in the back
office (20 minutes at most: the API's expires_in of 1200 s), and stores the refresh token in api.refreshTokenFile (mode 0600).
Restart the kiosk afterwards (sudo systemctl restart kiosk).

options:
  --config <file>     the kiosk configuration (default: $KIOSK_CONFIG)
  --no-display        show the code on the terminal only
  --state-dir <dir>   where health.json is, to tell whether the kiosk runs (default: see kiosk status --help)

exit codes: 0 paired, 2 code expired or refused, or the configuration cannot pair,
            3 API unreachable or client id/secret refused, 4 token not stored, 64 bad command line,
            130 interrupted`;

type HdDisplayConfig = Extract<DisplayDeviceConfig, { driver: 'hd44780-pcf8574' }>;

export interface PairDeps {
  /** Opens the configured character display (default: the PCF8574 driver). */
  openDisplay?: (cfg: HdDisplayConfig) => Promise<Display>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

async function openPcf8574Display(cfg: HdDisplayConfig): Promise<Display> {
  const { Pcf8574Lcd } = await import('../../hal/display/pcf8574-lcd.js');
  return new Pcf8574Lcd({
    cols: cfg.cols,
    rows: cfg.rows,
    busNumber: cfg.bus,
    address: cfg.address,
    rom: cfg.rom,
    name: 'display',
  });
}

/** What stops this config from pairing, if anything. */
function pairingProblems(config: KioskConfig): string[] {
  const problems: string[] = [];
  if (config.api.baseUrl === 'standin')
    problems.push('api.baseUrl is "standin" (the local stand-in): there is no back office to pair with');
  if (!config.api.deviceUuid) problems.push('api.deviceUuid: missing (e.g. /vendor/muster/kiosk/k-0042)');
  if (!config.api.refreshTokenFile)
    problems.push('api.refreshTokenFile: missing (e.g. /var/lib/kiosk/refresh-token)');
  if (!config.api.clientSecret)
    problems.push('api.clientSecret: missing (set KIOSK_API_CLIENT_SECRET, e.g. in /etc/kiosk/secrets.env)');
  return problems;
}

export function pairCommand(argv: readonly string[], io: CliIo, deps: PairDeps = {}): Promise<number> {
  return runSubcommand(io, () => pair(argv, io, deps));
}

async function pair(argv: readonly string[], io: CliIo, deps: PairDeps): Promise<number> {
  const values = parseCommandLine('pair', argv, {
    config: { type: 'string' },
    'no-display': { type: 'boolean' },
    'state-dir': { type: 'string' },
  }).values;
  if (values.help) {
    io.out(PAIR_HELP);
    return EXIT.ok;
  }
  const config: KioskConfig = loadCliConfig('pair', values.config, io.env).config;
  const problems = pairingProblems(config);
  if (problems.length) {
    io.err(`kiosk pair: this configuration cannot pair:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return EXIT.config;
  }
  const baseUrl = config.api.baseUrl;
  const tokenUrl = config.api.tokenUrl ?? new URL('/oauth/token', baseUrl).toString();

  let display: Display | undefined;
  const hw = config.hardware.display;
  if (hw?.driver === 'hd44780-pcf8574' && !values['no-display']) {
    const stateDir = stateDirFor(config, values['state-dir'], io.env);
    const health = await readHealthReport(stateDir);
    if (health && isFresh(health)) {
      io.err('kiosk pair: the kiosk is running and owns the display: the code is shown here only');
    } else {
      try {
        display = await (deps.openDisplay ?? openPcf8574Display)(hw);
      } catch (err) {
        io.err(`kiosk pair: display not available (${(err as Error).message}): the code is shown here only`);
      }
    }
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  if (!deps.signal) process.once('SIGINT', onSignal);
  try {
    await pairKiosk({
      tokenUrl,
      clientId: config.api.clientId,
      clientSecret: config.api.clientSecret ?? '',
      uuid: config.api.deviceUuid ?? '',
      tokenFile: config.api.refreshTokenFile ?? '',
      print: (line) => io.out(line),
      ...(display ? { showOnDisplay: (lines: string[]) => display.show(lines) } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      signal: deps.signal ?? abort.signal,
    });
    io.out('Restart the kiosk so that it uses the token: sudo systemctl restart kiosk');
    return EXIT.ok;
  } catch (err) {
    if ((deps.signal ?? abort.signal).aborted) {
      io.err('kiosk pair: interrupted; nothing stored');
      return 130;
    }
    const failure = pairFailure(err);
    io.err(`kiosk pair: ${failure.message}`);
    return failure.code;
  } finally {
    process.off('SIGINT', onSignal);
    await display?.close().catch(() => undefined);
  }
}
