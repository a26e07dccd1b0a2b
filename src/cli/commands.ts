/**
 * The operator's subcommands of `kiosk` besides run/doctor/version, each in its own module, loaded
 * only when used (a status call must not pull in the display driver).
 */
import { processIo, type CliIo } from './cli-io.js';

export const CLI_COMMANDS = ['pair', 'status', 'journal', 'vouchers', 'upgrade'] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

export const CLI_USAGE = `       kiosk pair --config <file>       pair with the merchant's account (shows a code)
       kiosk status --config <file> [--json]   state, journal, outbox, devices, last errors
       kiosk journal export --config <file> [--from D] [--to D] [--out f.csv]   bookkeeping CSV
       kiosk vouchers [list|payout <voucher> --by <name>] --config <file>   open vouchers, staff payout
       kiosk upgrade <package.tar.gz>   install a signed release (needs root)
       kiosk <command> --help           options and exit codes of a command`;

export function isCliCommand(name: string): name is CliCommand {
  return (CLI_COMMANDS as readonly string[]).includes(name);
}

export async function runCliCommand(
  name: CliCommand,
  argv: readonly string[],
  io: CliIo = processIo(),
): Promise<number> {
  switch (name) {
    case 'pair':
      return (await import('./pair-command.js')).pairCommand(argv, io);
    case 'status':
      return (await import('./status-command.js')).statusCommand(argv, io);
    case 'journal':
      return (await import('./journal-command.js')).journalCommand(argv, io);
    case 'vouchers':
      return (await import('./vouchers-command.js')).vouchersCommand(argv, io);
    case 'upgrade':
      return (await import('./upgrade-command.js')).upgradeCommand(argv, io);
  }
}
