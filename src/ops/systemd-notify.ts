/**
 * Tells systemd about the kiosk's life: READY=1 once it serves, WATCHDOG=1 while it is healthy,
 * STATUS= for `systemctl status`, STOPPING=1 on shutdown. Does nothing when NOTIFY_SOCKET is unset
 * (started by hand, in tests, on a laptop).
 *
 * Node has no unix datagram sockets, so each message is sent by the `systemd-notify` binary, a
 * child process of the kiosk. Two caveats, both handled in deploy/systemd/kiosk.service:
 * - systemd accepts messages from processes other than the main one only with NotifyAccess=all.
 * - a helper that exits before systemd reads its message could not be matched to the unit;
 *   systemd-notify (since systemd 246) waits until systemd has read it (sd_notify_barrier), so do
 *   not pass --no-block. `--pid` is not needed: the main PID is the kiosk's node process itself
 *   (bin/kiosk must `exec node`).
 * Sending never throws: a failed notification is logged once, and the watchdog will say the rest.
 */
import { execFile } from 'node:child_process';
import { silentLogger, type Logger } from '../util/logger.js';

/** Runs a command and resolves with its exit code (never rejects). */
export type RunCommand = (
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
) => Promise<{ code: number; stderr: string }>;

export const runCommand: RunCommand = (file, args, env) =>
  new Promise((resolve) => {
    execFile(file, args, { env, timeout: 10_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stderr: String(stderr || (err ? err.message : '')) });
    });
  });

export interface ServiceNotifier {
  /** True when a service manager listens (NOTIFY_SOCKET set). */
  readonly enabled: boolean;
  ready(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  watchdog(): Promise<void>;
  stopping(status?: string): Promise<void>;
}

export interface SystemdNotifierOptions {
  env?: NodeJS.ProcessEnv;
  run?: RunCommand;
  /** Path of the helper; default `systemd-notify` from PATH. */
  binary?: string;
  logger?: Logger;
}

/** STATUS= is one line for `systemctl status`; a newline would start a new assignment. */
const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ').slice(0, 200);

export function systemdNotifier(opts: SystemdNotifierOptions = {}): ServiceNotifier {
  const env = opts.env ?? process.env;
  const run = opts.run ?? runCommand;
  const binary = opts.binary ?? 'systemd-notify';
  const logger = opts.logger ?? silentLogger;
  const enabled = Boolean(env.NOTIFY_SOCKET);
  let warned = false;

  const send = async (assignments: string[]): Promise<void> => {
    if (!enabled) return;
    const { code, stderr } = await run(binary, assignments, env);
    if (code !== 0 && !warned) {
      warned = true;
      logger.warn(
        { code, stderr: stderr.trim().slice(0, 200), sent: assignments[0] },
        'systemd-notify failed',
      );
    } else if (code === 0) warned = false;
  };

  return {
    enabled,
    ready: (status) => send(['READY=1', ...(status ? [`STATUS=${oneLine(status)}`] : [])]),
    status: (text) => send([`STATUS=${oneLine(text)}`]),
    watchdog: () => send(['WATCHDOG=1']),
    stopping: (status) => send(['STOPPING=1', ...(status ? [`STATUS=${oneLine(status)}`] : [])]),
  };
}
