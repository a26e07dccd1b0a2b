/**
 * Exit codes of the `kiosk` subcommands, for scripts (the table in docs/operations.md). Each command
 * uses the shared ones below plus its own small numbers; 64 is EX_USAGE from sysexits.h, as
 * `kiosk run` already uses it for a bad command line.
 */
export const EXIT = {
  ok: 0,
  /** The command line is wrong: unknown option, missing value, bad date. Nothing was done. */
  usage: 64,
  /** The configuration file is missing or invalid (same as `kiosk run`). */
  config: 2,
} as const;

/** `kiosk status`: whether the kiosk runs and serves customers. */
export const STATUS_EXIT = {
  healthy: 0,
  notRunning: 1,
  config: 2,
  /** Running but not taking customers (out of service, maintenance). */
  outOfService: 3,
} as const;

/** `kiosk journal export`. */
export const EXPORT_EXIT = {
  ok: 0,
  /** The journal could not be read (permissions, missing directory) or the output not written. */
  io: 1,
  config: 2,
} as const;

/** `kiosk vouchers`. */
export const VOUCHERS_EXIT = {
  ok: 0,
  /** The journal could not be read or opened. */
  io: 1,
  config: 2,
  /** A payout was refused: no such open voucher, or the kiosk runs (it writes the journal). */
  refused: 3,
} as const;

/** `kiosk upgrade`: the upgrader's own codes pass through; these are for when it cannot be started. */
export const UPGRADE_EXIT = {
  /** The upgrade script exists but cannot be executed (as a shell would say). */
  notExecutable: 126,
  /** No upgrade script found (as a shell would say). */
  notFound: 127,
} as const;
