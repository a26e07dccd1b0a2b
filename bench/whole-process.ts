/**
 * One process timed as the operating system counts it, for the start-up benches: wall, CPU
 * (user + sys) and peak RSS, from wait4's rusage in a small Python parent (microseconds;
 * /usr/bin/time rounds to 10 ms, which is a fifth of what a `node -e 0` costs without
 * NODE_EXTRA_CA_CERTS). `PYTHON` names the interpreter (default python3). And what the benches that
 * start the kiosk by hand share: the variants of their command line, a config each.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, baseConfig, freePort, mergeConfig } from '../src/harness/kiosk-process.js';

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

/**
 * The environment kiosk.service gives the kiosk (its `Environment=` lines) but for the directories,
 * which a bench gives its own: the benches' default variants start the release as the unit does.
 */
export function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(REPO_ROOT, 'deploy/systemd/kiosk.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const [, key, value] of unit.matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(.*)$/gm)) {
    if (!['NODE_COMPILE_CACHE', 'KIOSK_SNAPSHOT_DIR'].includes(key!)) env[key!] = value!;
  }
  return env;
}

/** One way to start the kiosk, as the start-up and idle-memory benches take it on their command line. */
export interface StartVariant {
  name: string;
  /** The Node binary (`node`: the one running the bench). */
  node: string;
  /** Node's own flags, given after the binary's name (`node --no-opt:...`). */
  flags: string[];
  entry: string;
  env: Record<string, string>;
}

/** `name=node[ flags]:entry[:K=V...]` (see bench/app-startup-pairs.ts). */
export function parseVariant(spec: string): StartVariant {
  const eq = spec.indexOf('=');
  const [node, entry, ...envs] = spec.slice(eq + 1).split(':');
  if (eq < 1 || !node || !entry) throw new Error(`--variant 'name=node:entry[:K=V...]', got ${spec}`);
  const [bin, ...flags] = node.split(' ').filter(Boolean);
  return {
    name: spec.slice(0, eq),
    node: bin === 'node' ? process.execPath : bin!,
    flags,
    entry,
    env: Object.fromEntries(envs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
}

/**
 * The command line of `kiosk run` for a variant: a `.blob` entry is a start-up snapshot given to
 * `node --snapshot-blob`; one without a js extension is a command run as it is (a release's bin/kiosk,
 * which finds its node in PATH); anything else a script run by the variant's node.
 */
export function variantArgv(v: StartVariant, configPath: string): string[] {
  const run = ['run', '--config', configPath, '--no-tui'];
  if (v.entry.endsWith('.blob')) return [v.node, ...v.flags, '--snapshot-blob', v.entry, ...run];
  if (!/\.(c|m)?js$/.test(v.entry)) return [v.entry, ...run];
  return [v.node, ...v.flags, v.entry, ...run];
}

/**
 * A kiosk config for the benches that start the kiosk by hand: simulated devices, a free control port,
 * its own journal `<dir>/journal-<name>`, the API at `apiBaseUrl` (the stand-in as its own process, as
 * the real API is for a Pi), with `fleetUrl` a fleet of its own (`k-bench-<name>`, its outbox beside the
 * journal); written to `<dir>/config-<name>.json`.
 */
export async function writeBenchConfig(dir: string, name: string, apiBaseUrl: string, fleetUrl?: string) {
  const journal = join(dir, `journal-${name}`);
  mkdirSync(journal, { recursive: true });
  const controlPort = await freePort();
  const config = mergeConfig(baseConfig(), {
    api: { baseUrl: apiBaseUrl, standIn: undefined },
    sim: { controlPort, tui: false },
    journal: { dir: journal },
    ...(fleetUrl
      ? {
          kiosk: { id: `k-bench-${name}` },
          fleet: { url: fleetUrl, heartbeatS: 30, outboxDir: join(dir, `outbox-${name}`) },
        }
      : {}),
  });
  const path = join(dir, `config-${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return { path, controlPort };
}
