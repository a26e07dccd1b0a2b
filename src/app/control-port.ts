/**
 * The simulated kiosk's control port: newline-delimited JSON on 127.0.0.1, one answer line per
 * request, for tests, demos and remote tools. Bad requests get `{"error": "..."}` and the kiosk
 * keeps running; nothing here can reach real hardware.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as z from 'zod';
import { describeZodError } from '../api/schemas.js';
import { silentLogger, type Logger } from '../util/logger.js';

const Device = z.enum(['reader', 'printer', 'display', 'acceptor', 'buttons']);
export type ControlDevice = z.infer<typeof Device>;

export const ControlRequestSchema = z.discriminatedUnion('cmd', [
  z.object({ cmd: z.literal('press'), button: z.string().min(1).max(20) }),
  z.object({ cmd: z.literal('longpress'), button: z.string().min(1).max(20) }),
  z.object({ cmd: z.literal('scan'), data: z.string().min(1).max(256) }),
  /**
   * `late`: a coin already in the validator when the line went to inhibit: it drops in the box
   * whatever the acceptor is told (the chaos harness drops one while the card terminal runs).
   */
  z.object({ cmd: z.literal('coin'), cents: z.int().positive().max(100_000), late: z.boolean().optional() }),
  z.object({ cmd: z.literal('paper'), state: z.enum(['ok', 'low', 'out']) }),
  /** Printer: `fail` (the next `jobs` receipts, default 1, stop half-way with an I/O error), `ok`. */
  z.object({
    cmd: z.literal('printer'),
    action: z.enum(['fail', 'ok']),
    jobs: z.int().min(1).max(100).optional(),
  }),
  z.object({ cmd: z.literal('unplug'), device: Device }),
  z.object({ cmd: z.literal('replug'), device: Device }),
  z.object({ cmd: z.literal('display') }),
  z.object({ cmd: z.literal('state') }),
  z.object({ cmd: z.literal('receipts') }),
  z.object({ cmd: z.literal('cards') }),
  z.object({ cmd: z.literal('ping') }),
  /**
   * Vending counter: `jam` (next releases give nothing), `break` (sensor always active), `hold` (a
   * release waits mid-way, e.g. for a power cut in a test), `fix` (all back to normal).
   */
  z.object({
    cmd: z.literal('slot'),
    slot: z.string().min(1).max(8),
    action: z.enum(['jam', 'break', 'fix', 'hold']),
  }),
  /** Change hopper: `empty`, `refill` (coins), `jam` (next payout stops after `coins`), `offline`, `online`. */
  z.object({
    cmd: z.literal('hopper'),
    action: z.enum(['empty', 'refill', 'jam', 'offline', 'online']),
    coins: z.int().min(0).max(10_000).optional(),
  }),
]);
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

/** What the control port can do to the simulated kiosk; the app implements it over the sim twins. */
export interface SimControls {
  press(button: string): void;
  longPress(button: string): void;
  scan(data: string): void;
  /** Whether the acceptor took the coin (an inhibited acceptor returns it). */
  coin(cents: number, late?: boolean): { accepted: boolean };
  paper(state: 'ok' | 'low' | 'out'): void;
  printer(action: 'fail' | 'ok', jobs?: number): void;
  unplug(device: ControlDevice): void;
  replug(device: ControlDevice): void;
  display(): string[];
  state(): Record<string, unknown>;
  receipts(): string[][];
  cards(): Array<{ cardnumber: string; note: string }>;
  slot(slot: string, action: 'jam' | 'break' | 'fix' | 'hold'): void;
  hopper(action: 'empty' | 'refill' | 'jam' | 'offline' | 'online', coins?: number): { coins: number };
}

const MAX_LINE = 16 * 1024;
const KNOWN = new Set(ControlRequestSchema.options.map((o) => o.shape.cmd.value as string));

export function handleControlLine(line: string, controls: SimControls): object {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { error: 'not JSON: send one JSON object per line, e.g. {"cmd":"display"}' };
  }
  const parsed = ControlRequestSchema.safeParse(json);
  if (!parsed.success) {
    const cmd = (json as { cmd?: unknown } | null)?.cmd;
    if (typeof cmd === 'string' && !KNOWN.has(cmd)) return { error: `unknown cmd "${cmd.slice(0, 20)}"` };
    return { error: `bad request: ${describeZodError(parsed.error)}` };
  }
  const r = parsed.data;
  try {
    switch (r.cmd) {
      case 'press':
        controls.press(r.button);
        return { ok: true };
      case 'longpress':
        controls.longPress(r.button);
        return { ok: true };
      case 'scan':
        controls.scan(r.data);
        return { ok: true };
      case 'coin':
        return { ok: true, ...controls.coin(r.cents, r.late) };
      case 'paper':
        controls.paper(r.state);
        return { ok: true };
      case 'printer':
        controls.printer(r.action, r.jobs);
        return { ok: true };
      case 'unplug':
        controls.unplug(r.device);
        return { ok: true };
      case 'replug':
        controls.replug(r.device);
        return { ok: true };
      case 'display':
        return { lines: controls.display() };
      case 'state':
        return controls.state();
      case 'receipts':
        return { receipts: controls.receipts() };
      case 'cards':
        return { cards: controls.cards() };
      case 'ping':
        return { pong: true };
      case 'slot':
        controls.slot(r.slot, r.action);
        return { ok: true };
      case 'hopper':
        return { ok: true, ...controls.hopper(r.action, r.coins) };
    }
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Whether the control port may open with this configuration: never beside a real (non-simulated) coin
 * acceptor, unless the local file says `sim.controlPortWithRealAcceptor: true`. Anyone on the machine
 * who can reach 127.0.0.1 could otherwise drive a kiosk that takes real money.
 */
export function controlPortDecision(config: {
  sim: { controlPort?: number | undefined; controlPortWithRealAcceptor: boolean };
  hardware: { coin?: { driver: string } | undefined };
}): { open: true; port: number } | { open: false; reason: string | null } {
  const port = config.sim.controlPort;
  if (port === undefined) return { open: false, reason: null };
  const driver = config.hardware.coin?.driver ?? 'simulated';
  if (driver !== 'simulated' && !config.sim.controlPortWithRealAcceptor)
    return {
      open: false,
      reason: `control port not opened: the coin acceptor is real (driver "${driver}"); set sim.controlPortWithRealAcceptor in the local config to allow it`,
    };
  return { open: true, port };
}

export interface ControlPort {
  port: number;
  close(): Promise<void>;
}

export async function startControlPort(
  port: number,
  controls: SimControls,
  logger: Logger = silentLogger,
): Promise<ControlPort> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        // Every line gets an answer, a blank one too: a client waiting for it must not hang.
        const answer = line
          ? handleControlLine(line, controls)
          : { error: 'empty line: send one JSON command per line, e.g. {"cmd":"state"}' };
        socket.write(`${JSON.stringify(answer)}\n`);
      }
      if (buffer.length > MAX_LINE) {
        buffer = '';
        socket.write(`${JSON.stringify({ error: `line longer than ${MAX_LINE} bytes` })}\n`);
      }
    });
    socket.on('error', (err) => logger.debug({ err: err.message }, 'control port: client error'));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  logger.info({ port: actual }, 'control port listening on 127.0.0.1');
  return {
    port: actual,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
