/**
 * The real kiosk program as a child process, for end-to-end tests, the chaos harness and benchmarks.
 * `startKiosk()` writes a temp config into a temp dir (in-process stand-in, simulated devices, a free
 * control port), spawns `node --import tsx src/app/main.ts run --config <tmp> --no-tui` and resolves once
 * the control port answers `ping`. Everything afterwards goes through the control port (NDJSON, one
 * answer line per request, in order) and the stand-in's ledger (the file, or `/__sim/ledger` when the
 * stand-in runs as its own process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KioskSummary } from '../contracts/kiosk-summary.js';
import type { HandledRequest } from '../sim/api-server.js';
import type { SaleRecord } from '../sim/ledger.js';
import { ControlClient } from './control-client.js';

/** The repository root (two levels above test/support). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type ConfigDoc = { [k: string]: Json };

/** A card in the stand-in's ledger (the parts tests look at). */
export interface LedgerCardView {
  cardnumber: string;
  cash_balance: number;
  bonus_balance: number;
  points: number;
  lock_status: string;
  [k: string]: unknown;
}

/** One sale the stand-in recorded (money collected outside the card, redeemed from it, loaded onto it). */
export type SaleView = SaleRecord;

export interface LedgerView {
  cards: Record<string, LedgerCardView>;
  sales: SaleView[];
}

/** What the `state` command answers (KioskApp.summary()), plus whatever a newer kiosk adds. */
export type KioskStateView = KioskSummary & { [k: string]: unknown };

/** Every device of the kiosk on its simulated twin: the simulator's, the tests' and the benchmarks' hardware. */
export function simulatedHardware() {
  return {
    display: { driver: 'simulated' },
    reader: { driver: 'simulated' },
    buttons: { driver: 'simulated' },
    coin: { driver: 'simulated' },
    printer: { driver: 'simulated' },
  };
}

/** The base temp config: top-up mode, simulated everything, in-process stand-in answering the terminal fast. */
export function baseConfig(): ConfigDoc {
  return {
    kiosk: { id: 'k-test-0001', mode: 'topup', cardTerminal: false },
    api: {
      baseUrl: 'standin',
      clientId: 'kiosk-demo',
      clientSecret: 'demo-secret',
      standIn: { ledger: 'ledger.json', terminalDelayMs: 100 },
    },
    hardware: simulatedHardware(),
    sim: { controlPort: 0, tui: false },
    journal: { dir: 'journal' },
  };
}

/** The catalogue of config/simulator.json (Kaffee 1,80 / Wasser 0,99 / Sandwich 3,49 / Obstsalat 2,49 on amount1..4). */
export function simulatorCatalogue(): Json {
  const doc = JSON.parse(readFileSync(join(REPO_ROOT, 'config/simulator.json'), 'utf8')) as ConfigDoc;
  return doc.catalogue ?? [];
}

/**
 * Deep merge for config overrides: objects merge key by key, anything else (arrays too) replaces,
 * and `undefined` removes the key.
 */
export function mergeConfig(base: ConfigDoc, patch: Record<string, unknown>): ConfigDoc {
  const out: ConfigDoc = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (value === undefined) delete out[key];
    else if (isPlainObject(value) && isPlainObject(current))
      out[key] = mergeConfig(current as ConfigDoc, value as Record<string, unknown>);
    else out[key] = value as Json;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A TCP port that was free a moment ago (bind to 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface StartKioskOptions {
  /** Deep-merged into baseConfig() (see mergeConfig). */
  config?: Record<string, unknown>;
  /** Written verbatim as the config file instead (e.g. broken JSON); disables the control-port wait. */
  rawConfig?: string;
  /** Pass this path as `--config` as it is (e.g. a file that does not exist); nothing is written. */
  configFile?: string;
  /** Run the stand-in as its own process (`src/sim/api-server-cli.ts`) and point `api.baseUrl` at it. */
  externalApi?: boolean;
  /** Reuse this directory (e.g. a restart after a kill); a fresh temp dir otherwise. */
  dir?: string;
  /** Extra environment for the kiosk process. */
  env?: Record<string, string>;
  /**
   * How to start: tsx on the sources (default; `KIOSK_E2E_ENTRY` names a bundle or launcher instead),
   * `bin/kiosk.mjs`, a bundle file (run by node), or a command run as it is (a release's `bin/kiosk`).
   */
  entry?:
    { kind: 'tsx' } | { kind: 'bin' } | { kind: 'bundle'; file: string } | { kind: 'command'; file: string };
  /**
   * The Node binary (default: `KIOSK_E2E_NODE`, else the one running this; the code-cache tests run
   * a Node 22 too).
   */
  node?: string;
  /** Wait until the control port answers ping (default true; false for configs meant to fail). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** Keep the temp dir after stop() (for a restart, or to inspect it). */
  keepDir?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class KioskProcess {
  /** performance.now() when the process was spawned (start-up benchmarks measure from here). */
  readonly spawnedAt = performance.now();
  stdout = '';
  stderr = '';
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly control = new ControlClient(() => this.controlPort ?? 0);
  private apiChild: ChildProcess | undefined;

  constructor(
    readonly child: ChildProcess,
    /** The temp dir holding config.json, the ledger and the journal. */
    readonly dir: string,
    readonly configPath: string,
    /** The config as written (undefined for a raw config). */
    readonly config: ConfigDoc | undefined,
    /** The control port (undefined when the config has none). */
    readonly controlPort: number | undefined,
    /** The external stand-in's root URL (`http://127.0.0.1:P`), when it runs as its own process. */
    readonly apiUrl: string | undefined,
    private readonly keepDir: boolean,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => (this.stdout += s));
    child.stderr?.on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.control.close(new Error(`kiosk exited (${code ?? signal})`));
        resolveExit(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The stand-in's ledger file when it runs in-process (relative paths resolve against the config). */
  get ledgerPath(): string | undefined {
    if (this.apiUrl) return join(this.dir, 'api-ledger.json');
    const api = this.config?.api as { standIn?: { ledger?: string } } | undefined;
    const ledger = api?.standIn?.ledger ?? 'var/sim-ledger.json';
    return resolve(this.dir, ledger);
  }

  /** Structured log lines from stdout (pino JSON), skipping anything that is not JSON. */
  logs(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by a kill
      }
    }
    return out;
  }

  /** One NDJSON round trip on a persistent connection; answers come back in request order. */
  async request<T = Record<string, unknown>>(obj: unknown): Promise<T> {
    if (this.controlPort === undefined) throw new Error('this kiosk has no control port');
    if (this.hasExited) throw new Error(`kiosk has exited: ${this.stderr.slice(-500)}`);
    return this.control.request<T>(obj);
  }

  async display(): Promise<string[]> {
    const r = await this.request<{ lines: string[] }>({ cmd: 'display' });
    return r.lines;
  }

  /** The display as one string, lines joined by newlines (handy for regex assertions). */
  async screen(): Promise<string> {
    return (await this.display()).join('\n');
  }

  async state(): Promise<KioskStateView> {
    return this.request<KioskStateView>({ cmd: 'state' });
  }

  async receipts(): Promise<string[][]> {
    const r = await this.request<{ receipts: string[][] }>({ cmd: 'receipts' });
    return r.receipts;
  }

  async press(button: string): Promise<void> {
    await this.ok({ cmd: 'press', button });
  }

  async longPress(button: string): Promise<void> {
    await this.ok({ cmd: 'longpress', button });
  }

  async scan(data: string): Promise<void> {
    await this.ok({ cmd: 'scan', data });
  }

  async coin(cents: number): Promise<{ accepted: boolean }> {
    return this.ok({ cmd: 'coin', cents }) as Promise<{ ok: true; accepted: boolean }>;
  }

  /**
   * A coin the acceptor takes whatever it was asked (already in the chute, or a pulse acceptor that
   * cannot refuse one value): how a test overpays a checkout whose per-coin inhibit refuses the coin.
   */
  async lateCoin(cents: number): Promise<void> {
    await this.ok({ cmd: 'coin', cents, late: true });
  }

  private async ok(req: object): Promise<Record<string, unknown>> {
    const r = await this.request(req);
    if ('error' in r) throw new Error(`control port refused ${JSON.stringify(req)}: ${String(r.error)}`);
    return r;
  }

  /** The stand-in's cards and sales: from `/__sim/ledger` (own process) or the ledger file (in-process). */
  async ledger(): Promise<LedgerView> {
    if (this.apiUrl) {
      const res = await fetch(`${this.apiUrl}/__sim/ledger`);
      const body = (await res.json()) as { cards: LedgerCardView[]; sales: SaleView[] };
      return { cards: Object.fromEntries(body.cards.map((c) => [c.cardnumber, c])), sales: body.sales };
    }
    const path = this.ledgerPath;
    if (!path || !existsSync(path)) throw new Error(`no ledger file at ${path}`);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as LedgerView;
    return { cards: doc.cards, sales: doc.sales };
  }

  /** Balance (cash + bonus, cents) of a card in the ledger. */
  async balance(card: string): Promise<number> {
    const c = (await this.ledger()).cards[card];
    if (!c) throw new Error(`card ${card} not in the ledger`);
    return c.cash_balance + c.bonus_balance;
  }

  /** The external stand-in's request log (`GET /__sim/requests`): what arrived and what it is done with. */
  async apiRequests(): Promise<{ received: { method: string; path: string }[]; handled: HandledRequest[] }> {
    if (!this.apiUrl)
      throw new Error('the request log needs the stand-in as its own process (externalApi: true)');
    const res = await fetch(`${this.apiUrl}/__sim/requests`);
    return (await res.json()) as { received: { method: string; path: string }[]; handled: HandledRequest[] };
  }

  /** Waits until the external stand-in has the request (body included) whose path ends in `pathSuffix`. */
  async waitForApiReceived(pathSuffix: string, timeoutMs = 20_000): Promise<void> {
    await this.pollApiLog(`received ${pathSuffix}`, timeoutMs, (log) =>
      log.received.some((r) => r.path.endsWith(pathSuffix)) ? true : undefined,
    );
  }

  /**
   * Waits until the external stand-in is done with a request whose path ends in `pathSuffix`: after a
   * kill the server still finishes (or drops) the call nobody waits for. Works with the kiosk dead.
   */
  async waitForApiDone(pathSuffix: string, timeoutMs = 20_000): Promise<HandledRequest> {
    return this.pollApiLog(`finished ${pathSuffix}`, timeoutMs, (log) =>
      log.handled.find((r) => r.path.endsWith(pathSuffix)),
    );
  }

  private async pollApiLog<T>(
    what: string,
    timeoutMs: number,
    pick: (log: Awaited<ReturnType<KioskProcess['apiRequests']>>) => T | undefined,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = pick(await this.apiRequests());
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`the stand-in never ${what} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Faults for the external stand-in (`POST /__sim/faults`), see docs/api-stand-in.md. */
  async faults(rules: unknown): Promise<void> {
    if (!this.apiUrl) throw new Error('faults need the stand-in as its own process (externalApi: true)');
    const res = await fetch(`${this.apiUrl}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rules),
    });
    if (!res.ok) throw new Error(`faults refused: ${res.status} ${await res.text()}`);
  }

  /**
   * Polls `probe` until `predicate` accepts its value; returns that value. Fails with the last value
   * seen (and the kiosk's stderr tail) after `timeoutMs`.
   */
  async waitFor<T>(
    probe: () => Promise<T>,
    predicate: (value: T) => boolean,
    timeoutMs = 5000,
    what = 'condition',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    for (;;) {
      if (this.hasExited)
        throw new Error(`kiosk exited while waiting for ${what}: ${this.stderr.slice(-500)}`);
      last = await probe();
      if (predicate(last)) return last;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until the display (lines joined by '\n') matches `pattern`; returns the lines. */
  async waitForScreen(pattern: RegExp, timeoutMs = 5000): Promise<string[]> {
    return this.waitFor(
      () => this.display(),
      (lines) => pattern.test(lines.join('\n')),
      timeoutMs,
      `display ${pattern}`,
    );
  }

  /** Waits until the state command's `state` (and, when given, `flow`) match. */
  async waitForState(state: RegExp, flow?: RegExp, timeoutMs = 5000): Promise<KioskStateView> {
    return this.waitFor(
      () => this.state(),
      (s) => state.test(s.state) && (!flow || flow.test(s.flow ?? '')),
      timeoutMs,
      `state ${state}${flow ? ` / ${flow}` : ''}`,
    );
  }

  /** Waits until the kiosk is idle (self-test and recovery done, attract screen showing). */
  async waitForIdle(timeoutMs = 10_000): Promise<KioskStateView> {
    return this.waitForState(/^idle$/, undefined, timeoutMs);
  }

  /**
   * Idle with no open session in the journal: the session's close is written (fsync) just after the
   * machine is back in idle, so `waitForIdle` alone may still see it open.
   */
  async waitForSettled(timeoutMs = 10_000): Promise<KioskStateView> {
    return this.waitFor(
      () => this.state(),
      (s) => s.state === 'idle' && s.journal.openSessions === 0,
      timeoutMs,
      'idle with no open session',
    );
  }

  /** Sends a signal (default SIGKILL) and waits for the exit; the temp dir stays (for a restart). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    this.closeSocket();
    if (!this.hasExited) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, wait for the exit (SIGKILL after `timeoutMs`), stop the external stand-in, remove the temp dir. */
  async stop(timeoutMs = 8000): Promise<ExitInfo> {
    this.closeSocket();
    if (!this.hasExited) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const info = await this.exited;
    clearTimeout(timer);
    await this.stopApi();
    if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true });
    return info;
  }

  /** Stops only the external stand-in (e.g. to make the API unreachable mid-run). */
  async stopApi(): Promise<void> {
    const api = this.apiChild;
    if (!api || api.exitCode !== null || api.signalCode !== null) return;
    await new Promise<void>((r) => {
      api.once('exit', () => r());
      api.kill('SIGTERM');
    });
  }

  /** @internal */
  attachApi(child: ChildProcess): void {
    this.apiChild = child;
  }

  private closeSocket(): void {
    this.control.close();
  }
}

/** Starts the stand-in as its own process on a free port; resolves once it answers. */
export async function startApiProcess(
  ledgerPath: string,
  extraArgs: string[] = ['--terminal-delay-ms', '100'],
): Promise<{ child: ChildProcess; url: string; baseUrl: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'src/sim/api-server-cli.ts'),
      '--port',
      String(port),
      '--ledger',
      ledgerPath,
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stand-in exited (${child.exitCode}): ${output}`);
    try {
      const res = await fetch(`${url}/__sim/cards`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`stand-in did not answer in time: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, baseUrl: `${url}/api/v2` };
}

/**
 * The command line that starts a kiosk: `[program, ...args]`. `KIOSK_E2E_ENTRY=<file>` runs every
 * kiosk of a test run from a build (e.g. a release's bin/kiosk.mjs) and `KIOSK_E2E_NODE=<program>`
 * with another Node (scripts/check-arm64.sh: a wrapper that runs the arm64 Node under qemu; the tsx
 * entry would need esbuild's native binary for that architecture, so it goes with KIOSK_E2E_ENTRY).
 * A test's own `entry` and `node` win over both.
 */
export function kioskCommand(
  opts: Pick<StartKioskOptions, 'entry' | 'node'>,
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const built = env.KIOSK_E2E_ENTRY;
  const entry = opts.entry ?? (built ? { kind: 'bundle' as const, file: built } : { kind: 'tsx' as const });
  const run = ['run', '--config', configPath, '--no-tui'];
  if (entry.kind === 'command') return [entry.file, ...run];
  const script =
    entry.kind === 'tsx'
      ? ['--import', 'tsx', join(REPO_ROOT, 'src/app/main.ts')]
      : entry.kind === 'bin'
        ? [join(REPO_ROOT, 'bin/kiosk.mjs')]
        : [entry.file];
  return [opts.node ?? (env.KIOSK_E2E_NODE || process.execPath), ...script, ...run];
}

/** Starts the kiosk program (see the module comment). */
export async function startKiosk(opts: StartKioskOptions = {}): Promise<KioskProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kiosk-e2e-'));
  const configPath = opts.configFile ?? join(dir, 'config.json');
  let config: ConfigDoc | undefined;
  let controlPort: number | undefined;
  let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
  if (opts.configFile !== undefined) {
    // as given
  } else if (opts.rawConfig !== undefined) {
    writeFileSync(configPath, opts.rawConfig);
  } else {
    config = mergeConfig(baseConfig(), opts.config ?? {});
    const sim = (config.sim ?? {}) as { controlPort?: number };
    if (sim.controlPort === 0) {
      controlPort = await freePort();
      config = mergeConfig(config, { sim: { controlPort } });
    } else controlPort = sim.controlPort;
    if (opts.externalApi) {
      api = await startApiProcess(join(dir, 'api-ledger.json'));
      config = mergeConfig(config, { api: { baseUrl: api.baseUrl, standIn: undefined } });
    }
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  }
  const [bin, ...args] = kioskCommand(opts, configPath);
  const child = spawn(bin!, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kiosk = new KioskProcess(
    child,
    dir,
    configPath,
    config,
    controlPort,
    api?.url,
    opts.keepDir ?? opts.dir !== undefined,
  );
  if (api) kiosk.attachApi(api.child);
  if (opts.waitReady === false || config === undefined || controlPort === undefined) return kiosk;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (kiosk.hasExited) {
      await kiosk.stopApi();
      throw new Error(`kiosk exited before its control port answered:\n${kiosk.stderr}\n${kiosk.stdout}`);
    }
    try {
      const r = await kiosk.request<{ pong?: boolean }>({ cmd: 'ping' });
      if (r.pong) return kiosk;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await kiosk.stop();
      throw new Error(`kiosk control port did not answer in time:\n${kiosk.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
