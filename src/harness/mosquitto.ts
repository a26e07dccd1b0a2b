/**
 * A real Mosquitto for tests: MQTT 5 features (Will Delay, session expiry, message expiry) are what the
 * fleet contract rests on, and only a real broker proves them.
 *
 * Each broker gets its own temp directory (config, optional persistence, log) and a free loopback port.
 * `restart()` keeps the port and the persistence directory, so persistent sessions and retained messages
 * survive it the way they survive a real broker restart. `pause()`/`resume()` freeze the process
 * (SIGSTOP/SIGCONT): the TCP connections stay open but nothing answers, like a hung broker or a dead link.
 *
 *   const broker = await startMosquitto();
 *   const client = mqtt.connect(broker.url, { protocolVersion: 5 });
 *   ...
 *   await broker.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface MosquittoOptions {
  /** Keep sessions and retained messages on disk in the temp dir, so `restart()` keeps them. Default true. */
  persistence?: boolean;
  /** Path of a password file (mosquitto_passwd format). When given, anonymous clients are refused. */
  passwordFile?: string;
  /** Path of an ACL file. */
  aclFile?: string;
  /** More config lines appended to the listener's config (e.g. `max_queued_messages 5000`). */
  extraConfig?: string[];
  /** Log every broker line to the process stderr (debugging). Default false: kept in `log()` only. */
  verbose?: boolean;
  /** How long to wait for the broker to accept connections. Default 10 s. */
  startTimeoutMs?: number;
}

export interface MosquittoBroker {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The broker's temp directory (config, persistence, and whatever the caller wants to put there). */
  readonly dir: string;
  /** Stops the broker (SIGTERM, persistence written) and deletes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops (SIGTERM) and starts again on the same port with the same persistence. */
  restart(): Promise<void>;
  /** Stops the broker process without removing the temp dir; `start()` brings it back on the same port. */
  halt(opts?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** Starts a halted broker again on the same port. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Whether the broker process is running (paused counts as running). */
  readonly running: boolean;
  /** What the broker wrote to stdout/stderr so far (for failure messages). */
  log(): string;
}

/** The broker binary, or undefined when Mosquitto is not installed (tests then skip with a reason). */
export function findMosquitto(): string | undefined {
  if (existsSync('/usr/sbin/mosquitto')) return '/usr/sbin/mosquitto';
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : undefined;
}

/** `mosquitto_passwd`, or undefined when it is not installed. */
export function findMosquittoPasswd(): string | undefined {
  for (const p of ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v mosquitto_passwd'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : undefined;
}

/**
 * Writes a Mosquitto password file with hashed passwords (via `mosquitto_passwd -b`).
 * Throws when `mosquitto_passwd` is missing.
 */
export async function writePasswordFile(file: string, users: Record<string, string>): Promise<void> {
  const bin = findMosquittoPasswd();
  if (!bin) throw new Error('mosquitto_passwd not found');
  await writeFile(file, '', { mode: 0o600 });
  for (const [user, password] of Object.entries(users)) {
    const r = spawnSync(bin, ['-b', file, user, password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed for ${user}: ${r.stderr || r.stdout}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto not found (looked in /usr/sbin and on PATH)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mosq-'));
  const persistence = opts.persistence ?? true;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const confFile = path.join(dir, 'mosquitto.conf');
  let logText = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;
  let removed = false;

  const writeConfig = async (): Promise<void> => {
    const lines = [
      // Mosquitto 2 started as root drops to the `mosquitto` user, which cannot read our temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      opts.passwordFile ? `password_file ${opts.passwordFile}` : 'allow_anonymous true',
      ...(opts.passwordFile ? ['allow_anonymous false'] : []),
      ...(opts.aclFile ? [`acl_file ${opts.aclFile}`] : []),
      ...(persistence
        ? ['persistence true', `persistence_location ${dir}${path.sep}`, 'persistence_file mosquitto.db']
        : ['persistence false']),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      ...(opts.extraConfig ?? []),
      '',
    ];
    await writeFile(confFile, lines.join('\n'));
  };

  const spawnOnce = async (): Promise<void> => {
    await writeConfig();
    const proc = spawn(bin, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let alive = true;
    exited = new Promise((resolve) => {
      proc.once('exit', () => {
        alive = false;
        resolve();
      });
    });
    const onData = (b: Buffer): void => {
      const s = b.toString();
      logText += s;
      if (logText.length > 200_000) logText = logText.slice(-100_000);
      if (opts.verbose) process.stderr.write(`[mosquitto:${port}] ${s}`);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (!alive) throw new Error(`mosquitto exited on start (port ${port}):\n${logText.slice(-2000)}`);
      if (await canConnect(port)) return;
      await delay(25);
    }
    proc.kill('SIGKILL');
    throw new Error(
      `mosquitto did not accept connections within ${startTimeoutMs} ms:\n${logText.slice(-2000)}`,
    );
  };

  const halt = async (h: { signal?: 'SIGTERM' | 'SIGKILL' } = {}): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT'); // a paused broker cannot handle SIGTERM
    proc.kill(h.signal ?? 'SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  const start = async (): Promise<void> => {
    if (child) return;
    // The same port: clients reconnect to the same URL. Retry a little while the old socket is released.
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      try {
        await spawnOnce();
        return;
      } catch (err) {
        child = undefined;
        if (Date.now() > deadline) throw err;
        await delay(100);
      }
    }
  };

  // First start: a fresh free port; retry with another if someone took it in between.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await spawnOnce();
      break;
    } catch (err) {
      child = undefined;
      if (attempt >= 4) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const broker: MosquittoBroker = {
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      await halt();
      if (!removed) {
        removed = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
    async restart() {
      await halt();
      await start();
    },
    halt,
    start,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    log: () => logText,
  };
  return broker;
}

export interface LatencyProxy {
  /** `mqtt://127.0.0.1:<proxy port>` */
  readonly url: string;
  readonly port: number;
  /** One-way delay added to every chunk, both directions; may be changed while running. */
  delayMs: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a broker that delays every chunk by `delayMs` each way (a WAN or mobile link
 * on loopback): what makes a one-message-per-round-trip replay slow, and an in-flight window fast.
 * Order is kept (equal delays fire in the order they were set).
 */
export async function startLatencyProxy(targetPort: number, delayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket, proxy: { delayMs: number }): void => {
    from.on('data', (chunk) => {
      const d = proxy.delayMs;
      if (d <= 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), d);
    });
    from.on('close', () => setTimeout(() => to.destroy(), proxy.delayMs));
    from.on('error', () => to.destroy());
  };
  const state = { delayMs };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream, state);
    relay(upstream, client, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
