/**
 * Command-line parsing shared by the subcommands: node's strict `parseArgs`, with its errors turned
 * into one line that names the option and points at `--help` (a `UsageError`, exit 64).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandLine<O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  opts: { positionals?: number } = {},
) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: (opts.positionals ?? 0) > 0,
      strict: true,
    });
  } catch (err) {
    const message = (err as Error).message
      .replace(/\. To specify a positional argument starting with a '-'.*$/s, '')
      .replace(/^Unknown option '(.+?)'.*$/s, "unknown option '$1'");
    throw new UsageError(`kiosk ${command}: ${message} (see kiosk ${command} --help)`);
  }
  if (parsed.positionals.length > (opts.positionals ?? 0))
    throw new UsageError(
      `kiosk ${command}: unexpected argument '${parsed.positionals[opts.positionals ?? 0]}' (see kiosk ${command} --help)`,
    );
  return parsed;
}
