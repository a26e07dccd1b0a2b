/**
 * The two processes the chaos harness plays with: the real kiosk program and the API stand-in,
 * each a plain `node --import tsx` child (one process, so SIGKILL is a real power cut and SIGSTOP
 * a real hang), and the kiosk's NDJSON control port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../harness/control-client.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnTsx(
  script: string,
  args: string[],
  opts: { preload?: string[]; env?: Record<string, string> } = {},
): ChildProcess {
  const preload = (opts.preload ?? []).flatMap((p) => ['--import', join(REPO_ROOT, p)]);
  return spawn(process.execPath, ['--import', 'tsx', ...preload, join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
}

/** Counts the child's output lines that match each pattern (e.g. a journal alert in the log). */
function countLines(child: ChildProcess, patterns: Record<string, RegExp>, counts: Record<string, number>) {
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines)
      for (const [name, re] of Object.entries(patterns))
        if (re.test(line)) counts[name] = (counts[name] ?? 0) + 1;
  });
}

/** Keeps the last bytes of a child's output, for error messages. */
function tail(child: ChildProcess): () => string {
  let out = '';
  const add = (b: Buffer) => {
    out = (out + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** The API stand-in in its own process, on a fixed port with its ledger on disk (so it can be killed and restarted). */
export class StandInProcess {
  private child: ChildProcess | undefined;
  private paused = false;
  readonly url: string;

  constructor(
    readonly port: number,
    readonly ledgerPath: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get baseUrl(): string {
    return `${this.url}/api/v2`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawnTsx('src/sim/api-server-cli.ts', [
      '--port',
      String(this.port),
      '--ledger',
      this.ledgerPath,
      '--terminal-delay-ms',
      '100',
    ]);
    this.child = child;
    this.paused = false;
    const output = tail(child);
    // A budget for a loaded machine (several harnesses on 2 shared cores), not a guess at the time.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!this.running) throw new Error(`stand-in exited: ${output()}`);
      try {
        if ((await fetch(`${this.url}/__sim/cards`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`stand-in did not start: ${output()}`);
      await sleep(50);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    if (this.paused) child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited(child);
    this.paused = false;
  }

  pause(): void {
    if (this.running && !this.paused) {
      this.child!.kill('SIGSTOP');
      this.paused = true;
    }
  }

  resume(): void {
    if (this.running && this.paused) {
      this.child!.kill('SIGCONT');
      this.paused = false;
    }
  }

  /** Up and answering (restarted if it was killed, resumed if paused). */
  async ensureUp(): Promise<void> {
    this.resume();
    if (!this.running) await this.start();
  }

  async operator(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<void> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(timer);
  }
}

export class KioskDown extends Error {}

/** The real kiosk program with a control port. */
export class KioskProcess {
  private child: ChildProcess | undefined;
  private readonly control = new ControlClient(
    () => this.controlPort,
    (message) => new KioskDown(message),
  );
  private output: () => string = () => '';

  /** Output lines matching `opts.watch`, by name, over every start. */
  readonly counts: Record<string, number> = {};

  constructor(
    readonly configPath: string,
    readonly controlPort: number,
    private readonly opts: {
      preload?: string[];
      env?: Record<string, string>;
      watch?: Record<string, RegExp>;
    } = {},
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get log(): string {
    return this.output();
  }

  /** Sends a signal to the running program (e.g. SIGUSR2 for the clock shift's preload). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** Starts the program and resolves once the control port answers. */
  async start(): Promise<void> {
    const child = spawnTsx('src/app/main.ts', ['run', '--config', this.configPath, '--no-tui'], this.opts);
    this.child = child;
    this.output = tail(child);
    if (this.opts.watch) countLines(child, this.opts.watch, this.counts);
    child.once('exit', () => this.drop(new KioskDown('kiosk exited')));
    // A budget: a boot after a journal repair on a loaded 2-core machine took over 30 s.
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (!this.running) throw new Error(`kiosk exited at start: ${this.output()}`);
      try {
        const r = await this.request({ cmd: 'ping' }, 1000);
        if (r.pong) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`kiosk did not start: ${this.output()}`);
      await sleep(50);
    }
  }

  /** SIGKILL: the power cut. */
  async kill(): Promise<void> {
    const child = this.child;
    this.drop(new KioskDown('killed'));
    if (!child || !this.running) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  /** SIGTERM and wait (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const child = this.child;
    this.drop(new KioskDown('stopped'));
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
  }

  async request(obj: object, timeoutMs = 3000): Promise<Record<string, unknown>> {
    if (!this.running) throw new KioskDown('kiosk not running');
    return this.control.request<Record<string, unknown>>(obj, timeoutMs);
  }

  private drop(err: Error): void {
    this.control.close(err);
  }
}
