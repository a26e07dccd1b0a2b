/**
 * One process timed as the operating system counts it, for the start-up benches: wall, CPU
 * (user + sys) and peak RSS, from wait4's rusage in a small Python parent (microseconds;
 * /usr/bin/time rounds to 10 ms, which is a fifth of what a `node -e 0` costs without
 * NODE_EXTRA_CA_CERTS). `PYTHON` names the interpreter (default python3).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/harness/kiosk-process.js';

/** Runs argv, writes its wall and CPU seconds and peak RSS (kB) to the file named first. */
const TIMER = `
import os, sys, time
t0 = time.monotonic()
pid = os.spawnvp(os.P_NOWAIT, sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
open(sys.argv[1], 'w').write('%f %f %f %d\\n' % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
`;
const PYTHON = process.env.PYTHON ?? 'python3';

/** One run: wall and CPU seconds, peak RSS in MB. */
export async function timed(argv: string[], env: Record<string, string> = {}) {
  const out = join(tmpdir(), `kiosk-bench-time-${process.pid}`);
  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', TIMER, out, ...argv], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('exit', resolve);
    child.once('error', reject);
  });
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  const [wall, user, sys, maxKb] = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number);
  rmSync(out, { force: true });
  return { wall: wall!, cpu: user! + sys!, peakMb: maxKb! / 1024 };
}
