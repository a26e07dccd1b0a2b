/**
 * The error handling every subcommand shares: a wrong command line is one line on stderr and exit
 * 64, a missing or invalid configuration its message and exit 2; anything else is a bug and
 * propagates. Commands just throw `UsageError` / `CliConfigError` where they find the problem.
 */
import { UsageError } from './args.js';
import type { CliIo } from './cli-io.js';
import { CliConfigError } from './config-file.js';
import { EXIT } from './exit-codes.js';

export async function runSubcommand(
  io: CliIo,
  body: () => Promise<number>,
  /** Extra output for a configuration error (e.g. a JSON line for `--json`), before the message. */
  onConfigError?: (err: CliConfigError) => void,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      return EXIT.usage;
    }
    if (err instanceof CliConfigError) {
      onConfigError?.(err);
      io.err(err.message);
      return EXIT.config;
    }
    throw err;
  }
}
