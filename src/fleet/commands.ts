/**
 * Handles `cmd/{name}`: checks, de-duplicates and runs operator commands against the KioskPort, and
 * answers every one of them on the kiosk's own `cmdres` topic: first `accepted` or `rejected`, then
 * `succeeded` or `failed` for an accepted one.
 *
 * - Malformed (not JSON, wrong types, larger than `maxPayloadBytes`): `rejected` / `malformed` or
 *   `too_large`, with `cmdId` when one could be read.
 * - Delivered twice (QoS 1 may): not run again; the last answer is repeated with `duplicate: true`.
 * - Expired (`expiresAt` passed): `rejected` / `expired`. Judged only while the clock is synchronised;
 *   otherwise the broker's message expiry is the only guard (a Pi without RTC may think it is 1970).
 * - Unknown name or bad args: `rejected` / `unknown_command` or `bad_args` with the schema's errors.
 * - Commands that would disturb a customer (maintenance on, lock, restart, reprint, diagnostics, the card
 *   terminal's `end-of-day` and `terminal-cancel`: the terminal is busy while they run; the vending
 *   counter's `settle-release`, which may print) wait for
 *   the idle state up to `idleWaitMs`, then are `rejected` / `busy`. They run one at a time.
 *
 * `handle()` never rejects: every failure becomes an answer or a log line.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { silentLogger, type Logger } from '../util/logger.js';
import {
  COMMAND_ARGS,
  COMMAND_NAMES,
  CommandSchema,
  type CmdresBody,
  type CommandName,
  type RejectReason,
} from './envelope.js';
import { KioskBusyError, type KioskPort } from './kiosk-port.js';
import { scrub } from './scrub.js';

/** A `cmdres` message without its envelope. */
export type CommandAnswer = CmdresBody;

export interface CommandHandlerOptions {
  port: KioskPort;
  /** Publishes an answer on `cmdres`; resolves once the broker has it (or it was given up). Never rejects. */
  answer(a: CommandAnswer): Promise<void>;
  /** Publishes birth, state and health again. */
  rebirth(): Promise<void>;
  /** The kiosk's state may have changed (publish `state`). */
  stateChanged(): void;
  now?: () => number;
  /** Whether device time can be trusted for `expiresAt`. Default: always. */
  clockSynced?: () => boolean;
  /** How long a disturbing command waits for the customer to finish. Default 60 s. */
  idleWaitMs?: number;
  /** Default 500 ms. */
  idlePollMs?: number;
  /** Default 16 KiB. */
  maxPayloadBytes?: number;
  /** How many cmdIds are remembered for de-duplication. Default 500. */
  dedupSize?: number;
  /** A file to keep the remembered cmdIds across restarts (a `restart` delivered twice restarts once). */
  dedupFile?: string;
  logger?: Logger;
}

const DISTURBING = new Set<CommandName>([
  'maintenance',
  'lock',
  'restart',
  'reprint',
  'diagnostics',
  'end-of-day',
  'terminal-cancel',
  // It may print at the kiosk, and it books money: not in the middle of a customer's session.
  'settle-release',
  // It books money, and a customer at the kiosk may be redeeming that very voucher: the session
  // journals its redemption first, so the payout then finds it redeemed (never both).
  'voucher-settle',
]);

export class CommandHandler {
  private readonly seen = new Map<string, CommandAnswer>();
  private exclusive: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly logger: Logger;
  private dedupWrite: Promise<void> = Promise.resolve();

  constructor(private readonly opts: CommandHandlerOptions) {
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Loads remembered cmdIds from `dedupFile` (missing or broken file: starts empty). */
  async load(): Promise<void> {
    if (!this.opts.dedupFile) return;
    try {
      const ids = JSON.parse(await readFile(this.opts.dedupFile, 'utf8')) as unknown;
      if (Array.isArray(ids)) {
        for (const id of ids) {
          if (typeof id === 'string')
            this.seen.set(id, { cmdId: id, cmd: '', status: 'succeeded', duplicate: true });
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn({ err }, 'commands: dedup file unreadable');
    }
  }

  /** Handles one message of `cmd/{name}`. Never rejects. */
  async handle(name: string, payload: Buffer): Promise<void> {
    try {
      await this.handleUnsafe(name, payload);
    } catch (err) {
      this.logger.error({ err, cmd: name }, 'commands: unexpected error');
    }
  }

  private async handleUnsafe(name: string, payload: Buffer): Promise<void> {
    const max = this.opts.maxPayloadBytes ?? 16 * 1024;
    if (payload.length > max) {
      return this.reject(null, name, 'too_large', [`payload of ${payload.length} bytes exceeds ${max}`]);
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.reject(null, name, 'malformed', ['payload is not JSON']);
    }
    const parsed = CommandSchema.safeParse(json);
    if (!parsed.success) {
      const maybeId = (json as { cmdId?: unknown } | null)?.cmdId;
      const cmdId = typeof maybeId === 'string' && maybeId.length <= 100 ? maybeId : null;
      return this.reject(cmdId, name, 'malformed', issues(parsed.error.issues));
    }
    const cmd = parsed.data;

    const before = this.seen.get(cmd.cmdId);
    if (before) {
      this.logger.info({ cmdId: cmd.cmdId, cmd: name }, 'commands: duplicate delivery, not run again');
      await this.opts.answer({ ...before, cmdId: cmd.cmdId, cmd: before.cmd || name, duplicate: true });
      return;
    }
    this.remember(cmd.cmdId, { cmdId: cmd.cmdId, cmd: name, status: 'accepted' });

    const synced = this.opts.clockSynced?.() ?? true;
    if (synced && cmd.expiresAt <= this.now()) {
      return this.reject(cmd.cmdId, name, 'expired', [`expired at ${new Date(cmd.expiresAt).toISOString()}`]);
    }
    if (!isCommandName(name)) {
      return this.reject(cmd.cmdId, name, 'unknown_command', [`known: ${COMMAND_NAMES.join(', ')}`]);
    }
    const args = COMMAND_ARGS[name].safeParse(cmd.args);
    if (!args.success) return this.reject(cmd.cmdId, name, 'bad_args', issues(args.error.issues));

    const disturbing =
      DISTURBING.has(name) && !(name === 'maintenance' && (args.data as { on: boolean }).on === false);
    if (!disturbing) return this.run(cmd.cmdId, name, args.data);

    // One disturbing command at a time; each waits for the customer to finish.
    const turn = this.exclusive.then(async () => {
      if (!(await this.waitIdle())) {
        return this.reject(cmd.cmdId, name, 'busy', ['a customer is being served']);
      }
      return this.run(cmd.cmdId, name, args.data);
    });
    this.exclusive = turn.catch(() => undefined);
    return turn;
  }

  private async run(cmdId: string, name: CommandName, args: Record<string, unknown>): Promise<void> {
    await this.send({ cmdId, cmd: name, status: 'accepted' });
    let result: unknown;
    try {
      result = await this.execute(name, args);
    } catch (err) {
      if (err instanceof KioskBusyError) return this.reject(cmdId, name, 'busy', [err.message]);
      const reason = err instanceof Error ? err.message : String(err);
      return this.send({ cmdId, cmd: name, status: 'failed', reason: reason.slice(0, 500) });
    }
    await this.send({ cmdId, cmd: name, status: 'succeeded', result: scrub(result) });
    if (name === 'restart') {
      // answered first: the operator learns it is happening before the kiosk goes away
      await this.opts.port.restart((args.reason as string | undefined) ?? 'operator command');
    }
  }

  private async execute(name: CommandName, args: Record<string, unknown>): Promise<unknown> {
    const port = this.opts.port;
    switch (name) {
      case 'ping':
        return { pong: true, ts: this.now(), state: port.status().state, busy: port.isServingCustomer() };
      case 'rebirth':
        await this.opts.rebirth();
        return {};
      case 'maintenance': {
        await port.setMaintenance(args.on as boolean, args.reason as string | undefined);
        this.opts.stateChanged();
        return { state: port.status().state };
      }
      case 'lock': {
        await port.lock((args.reason as string | undefined) ?? 'locked by operator');
        this.opts.stateChanged();
        return { state: port.status().state };
      }
      case 'unlock': {
        await port.unlock();
        this.opts.stateChanged();
        return { state: port.status().state };
      }
      case 'reprint':
        return port.reprintLast();
      case 'diagnostics':
        return { probes: await port.diagnostics() };
      case 'end-of-day':
        return port.endOfDay();
      case 'terminal-cancel':
        return port.terminalCancel(args.receiptNumber as string, args.reason as string | undefined);
      case 'settle-release':
        return port.settleRelease(
          args.jobId as string,
          args.how as 'delivered' | 'refunded',
          (args.print as boolean | undefined) ?? false,
          args.cents as number | undefined,
        );
      case 'unblock-slot':
        return port.unblockSlot(args.slot as string);
      case 'voucher-settle':
        return port.settleVoucher(args.ref as string, args.by as string);
      case 'restart':
        return { restarting: true };
    }
  }

  private async waitIdle(): Promise<boolean> {
    const port = this.opts.port;
    const limit = this.opts.idleWaitMs ?? 60_000;
    const poll = this.opts.idlePollMs ?? 500;
    let waited = 0;
    while (port.isServingCustomer()) {
      if (waited >= limit) return false;
      await new Promise((r) => setTimeout(r, poll));
      waited += poll;
    }
    return true;
  }

  private async reject(
    cmdId: string | null,
    cmd: string,
    reason: RejectReason,
    errors: string[],
  ): Promise<void> {
    this.logger.info({ cmdId, cmd, reason }, 'commands: rejected');
    await this.send({ cmdId, cmd: cmd.slice(0, 100), status: 'rejected', reason, errors });
  }

  private async send(a: CommandAnswer): Promise<void> {
    if (a.cmdId) this.remember(a.cmdId, a);
    await this.opts.answer(a);
  }

  private remember(cmdId: string, a: CommandAnswer): void {
    const isNew = !this.seen.has(cmdId);
    this.seen.delete(cmdId);
    this.seen.set(cmdId, a);
    const limit = this.opts.dedupSize ?? 500;
    while (this.seen.size > limit) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
    if (isNew) this.persistDedup();
  }

  private persistDedup(): void {
    const file = this.opts.dedupFile;
    if (!file) return;
    const ids = [...this.seen.keys()];
    this.dedupWrite = this.dedupWrite
      .then(async () => {
        await writeFile(`${file}.tmp`, JSON.stringify(ids));
        await rename(`${file}.tmp`, file);
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'commands: dedup file not written'));
  }
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_ARGS, name);
}

function issues(list: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  return list.slice(0, 10).map((i) => `${i.path.map((p) => String(p)).join('.') || '(root)'}: ${i.message}`);
}
