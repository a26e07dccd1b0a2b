/**
 * A real pseudo-terminal pair for end-to-end tests of the serial drivers: bytes written on one end come
 * out on the other, through the kernel's tty layer like a USB-CDC device. Started with
 * `socat -d -d pty,raw,echo=0 pty,raw,echo=0`; the two `/dev/pts/N` paths are parsed from socat's stderr.
 * Optional `link` names give stable paths (like `/dev/serial/by-id/...`) so that an "unplug" (stop) and
 * "replug" (start again) keep the path the driver was configured with.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export interface PtyPair {
  /** The driver's end (the link name when one was given). */
  a: string;
  /** The device's end, where the test plays the reader. */
  b: string;
  /** The raw `/dev/pts/N` paths socat printed. */
  pts: [string, string];
  stop(): Promise<void>;
}

/** Path of the socat binary, or undefined when it is not installed. */
export async function findSocat(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'socat');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const PTY_LINE = /PTY is (\/dev\/pts\/\d+)/g;

export async function startPtyPair(
  options: { linkA?: string; linkB?: string; socat?: string; timeoutMs?: number } = {},
): Promise<PtyPair> {
  const socat = options.socat ?? (await findSocat());
  if (!socat) throw new Error('socat not found');
  const end = (link?: string): string => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
  const child: ChildProcess = spawn(socat, ['-d', '-d', end(options.linkA), end(options.linkB)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pts = await new Promise<[string, string]>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`socat did not report two ptys in time: ${stderr}`));
    }, options.timeoutMs ?? 5000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${code}: ${stderr}`));
    });
    child.stderr?.setEncoding('utf8');
    const onData = (chunk: string): void => {
      stderr += chunk;
      const found = [...stderr.matchAll(PTY_LINE)].map((m) => m[1] ?? '');
      // Both ends exist once the transfer loop starts; before that the second pty may not be there yet.
      if (found.length >= 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        // Later stderr (socat logs its own exit) must not run this again; keep draining the pipe.
        child.stderr?.off('data', onData);
        child.stderr?.on('data', () => {});
        resolve([found[0] ?? '', found[1] ?? '']);
      }
    };
    child.stderr?.on('data', onData);
  });
  return {
    a: options.linkA ?? pts[0],
    b: options.linkB ?? pts[1],
    pts,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
