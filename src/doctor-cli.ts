/**
 * `npm run doctor -- --config kiosk.json` (and `kiosk doctor` on the Pi): probes every device in the
 * config's `hardware` section and prints a table. Exit codes: 0 all required devices found, 1 a required
 * device is missing, 2 the config could not be read. Never a stack trace: a missing /dev/ttyACM0 or a PC
 * without GPIO is a row in the table.
 *
 * Options: --config <file> (or KIOSK_CONFIG), --timeout <ms> per probe, --json (rows as JSON on stdout).
 *
 * With `kiosk.cardTerminal` the card terminal is a row too: its extended diagnosis through the API
 * (the terminal hangs off the merchant's back end, not off the Pi; not required: the kiosk still sells
 * for cash without it).
 */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { runDoctor } from '../hal/doctor/doctor.js';
import { buildDoctorProbes } from '../hal/doctor/doctor-probes.js';
import { kioskHardwareFileSchema } from '../hal/hardware-config.js';
import { openOnoffPinFactory } from '../hal/io/gpio-onoff.js';
import { nodeSerialPortFactory } from '../hal/io/serial-port-node.js';
import { probeTerminal } from './api/terminal-probe.js';
import type { AuthConfig } from './api/auth.js';

const USAGE = 'usage: doctor --config <kiosk.json> [--timeout <ms>] [--json]';

interface Args {
  config: string | undefined;
  timeoutMs: number | undefined;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { config: process.env.KIOSK_CONFIG, timeoutMs: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--config') args.config = value();
    else if (flag === '--timeout') args.timeoutMs = Number(value());
    else if (flag === '--json') args.json = true;
    else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return args;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (!args.config) {
    console.error(`no config file given\n${USAGE}`);
    return 2;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(args.config, 'utf8'));
  } catch (err) {
    console.error(`cannot read ${args.config}: ${(err as Error).message}`);
    return 2;
  }
  const parsed = kioskHardwareFileSchema.safeParse(raw);
  if (!parsed.success) {
    console.error(`${args.config} is not a valid hardware config:\n${z.prettifyError(parsed.error)}`);
    return 2;
  }
  const probes = buildDoctorProbes(parsed.data.hardware, {
    openGpio: openOnoffPinFactory,
    serial: nodeSerialPortFactory,
  });
  if (probes.length === 0) {
    console.error(`${args.config}: the hardware section lists no devices`);
    return 2;
  }
  const terminal = terminalProbe(raw);
  const report = await runDoctor(terminal ? [...probes, terminal] : probes, {
    ...(args.timeoutMs ? { timeoutMs: args.timeoutMs } : {}),
    print: args.json ? () => {} : (t) => console.log(t),
  });
  if (args.json) console.log(JSON.stringify(report.rows, null, 2));
  return report.exitCode;
}

const TerminalConfigSchema = z.looseObject({
  kiosk: z.looseObject({ cardTerminal: z.literal(true) }),
  api: z.looseObject({
    baseUrl: z.string(),
    tokenUrl: z.string().optional(),
    clientId: z.string(),
    clientSecret: z.string().optional(),
    refreshTokenFile: z.string().optional(),
  }),
});

/** The terminal's row, when the config has one; none without `kiosk.cardTerminal`. */
function terminalProbe(raw: unknown) {
  const c = TerminalConfigSchema.safeParse(raw);
  if (!c.success) return undefined;
  const api = c.data.api;
  const row = { device: 'terminal', driver: 'smartzvt', required: false };
  if (api.baseUrl === 'standin')
    return {
      ...row,
      probe: async () => ({
        ...row,
        found: false,
        where: 'stand-in',
        status: 'not_checked',
        hint: 'api.baseUrl is the in-process stand-in: the service menu asks it',
      }),
    };
  const secret = process.env.KIOSK_API_CLIENT_SECRET ?? api.clientSecret ?? '';
  const refresh = api.refreshTokenFile
    ? readFile(api.refreshTokenFile, 'utf8').then(
        (t) => t.trim(),
        () => undefined,
      )
    : Promise.resolve(undefined);
  return {
    ...row,
    probe: async () => {
      const refreshToken = await refresh;
      const auth: AuthConfig = refreshToken
        ? { grant: 'refresh_token', clientId: api.clientId, clientSecret: secret, refreshToken }
        : { grant: 'client_credentials', clientId: api.clientId, clientSecret: secret };
      return probeTerminal({ baseUrl: api.baseUrl, tokenUrl: api.tokenUrl, auth });
    },
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`doctor failed: ${(err as Error)?.message ?? String(err)}`);
    process.exit(2);
  },
);
