/**
 * One chaos run: the real kiosk program (simulated hardware) against the API stand-in in its own
 * process (ledger on disk), random customer sessions through the control port, and at random
 * moments: SIGKILL of the kiosk (a power cut) and restart, SIGKILL or SIGSTOP of the stand-in,
 * injected API faults, an unplugged reader, a printer out of paper. At the end the kiosk is
 * restarted with the API up so that recovery settles what is open, and the three books are
 * reconciled (books.ts).
 *
 * Every choice comes from the run's seeded PRNG; what is not deterministic is timing: where
 * exactly a kill lands depends on how fast the processes run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../journal/journal.js';
import { DEMO_CARDS } from '../sim/demo-cards.js';
import { reconcile, type LedgerFileView, type Reconciliation } from './books.js';
import { freePort, KioskDown, KioskProcess, StandInProcess } from './processes.js';
import { Rng } from './prng.js';

export interface RunOptions {
  /** Customer sessions per run. */
  sessions: number;
  /** Probability that a session gets a kiosk power cut at a random moment. */
  killRate: number;
  /** Keep the run's directory (journal, ledger, config) for inspection. */
  keep?: boolean;
  /** Keep the directory of a run with findings or an error (for inspection). */
  keepBad?: boolean;
  log?: (line: string) => void;
}

export interface RunResult {
  run: number;
  seed: number;
  mode: 'topup' | 'checkout';
  dir: string | null;
  sessions: number;
  kioskKills: number;
  standInKills: number;
  standInPauses: number;
  faults: Record<string, number>;
  deviceFaults: number;
  coinsAccepted: number;
  coinsRefused: number;
  /** Restarts after which the kiosk was not idle within the wait (out of service while the API was away). */
  notIdleAfterRestart: number;
  idleAtEnd: boolean;
  endScreen: string[];
  books: Reconciliation;
  error?: string;
  ms: number;
}

const PLENTY = '9276000000000059';
const SEED = '9276004429942845';
const EMPTY = '9276000000000018';
const BONUS = '9276000000000042';
const LOCKED = '9276000000000026';
const OTHER = '9276000000000034';
const UNKNOWN = '9276999999999999';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CATALOGUE = [
  { id: 1, desc: 'Kaffee', ean: '4000000000017', priceOne: 180, tax: 19, button: 'amount1' },
  { id: 2, desc: 'Wasser 0,5 l', ean: '4999012345678', priceOne: 99, tax: 19, button: 'amount2' },
  { id: 3, desc: 'Sandwich Romano', ean: '4000000000031', priceOne: 349, tax: 7, button: 'amount3' },
  { id: 4, desc: 'Obstsalat', ean: '4000000000048', priceOne: 249, tax: 7, button: 'amount4' },
];

type Fault = { name: string; rule: object };
const FAULTS: ReadonlyArray<readonly [Fault, number]> = [
  [{ name: 'drop_after_commit start', rule: { path: '/start/', fault: { type: 'drop_after_commit' } } }, 4],
  [{ name: 'drop_before_commit start', rule: { path: '/start/', fault: { type: 'drop_before_commit' } } }, 2],
  [
    {
      name: 'drop_after_commit create',
      rule: { method: 'POST', path: '/Smart/Transactions', fault: { type: 'drop_after_commit' } },
    },
    1,
  ],
  [{ name: '503', rule: { method: 'POST', fault: { type: 'status', status: 503 }, times: 2 } }, 2],
  [{ name: 'latency > timeout', rule: { path: '/start/', fault: { type: 'latency', ms: 2500 } } }, 2],
  [{ name: 'latency 800 ms', rule: { fault: { type: 'latency', ms: 800 }, times: 3 } }, 1],
  [{ name: 'not_json start', rule: { path: '/start/', fault: { type: 'not_json' } } }, 1],
  [{ name: 'token expired', rule: { fault: { type: 'expire_token', as: '401' } } }, 1],
];

export async function chaosRun(run: number, seed: number, opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const rng = new Rng(seed * 7919 + run);
  const mode = rng.chance(0.6) ? 'topup' : 'checkout';
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-chaos-'));
  const api = new StandInProcess(await freePort(), join(dir, 'ledger.json'));
  const controlPort = await freePort();
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      kiosk: { id: 'k-chaos-0001', mode, cardTerminal: false },
      api: {
        baseUrl: api.baseUrl,
        clientId: 'kiosk-demo',
        clientSecret: 'demo-secret',
        timeoutMs: 1500,
        isDemo: true,
      },
      hardware: Object.fromEntries(
        ['display', 'reader', 'buttons', 'coin', 'printer'].map((d) => [d, { driver: 'simulated' }]),
      ),
      sim: { controlPort, tui: false },
      catalogue: CATALOGUE,
      timeouts: { inactivityMs: 2000, warningMs: 800, terminalMs: 5000, resultMs: 300 },
      journal: { dir: join(dir, 'journal'), onApiDown: 'serve' },
    }),
  );
  const kiosk = new KioskProcess(configPath, controlPort);
  const result: RunResult = {
    run,
    seed,
    mode,
    dir: opts.keep ? dir : null,
    sessions: 0,
    kioskKills: 0,
    standInKills: 0,
    standInPauses: 0,
    faults: {},
    deviceFaults: 0,
    coinsAccepted: 0,
    coinsRefused: 0,
    notIdleAfterRestart: 0,
    idleAtEnd: false,
    endScreen: [],
    books: undefined as unknown as Reconciliation,
    ms: 0,
  };
  // The acceptor's book: coins taken, and those whose journaling the harness has not seen yet.
  const acceptor = { cents: 0, coins: 0, unconfirmedAtKill: 0, uncertainAtKill: 0 };
  let unconfirmed = 0;

  const state = async () =>
    (await kiosk.request({ cmd: 'state' })) as {
      state: string;
      flow: string | null;
      journal: { openSessions: number; cashBoxCents: number };
    };
  const waitFor = async (pred: (s: Awaited<ReturnType<typeof state>>) => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await state();
      if (pred(s)) return s;
      if (Date.now() > deadline) return null;
      await sleep(40);
    }
  };
  const press = (button: string) => kiosk.request({ cmd: 'press', button });
  const scan = (data: string) => kiosk.request({ cmd: 'scan', data });
  const coin = async (cents: number): Promise<boolean> => {
    let r: Record<string, unknown>;
    try {
      r = await kiosk.request({ cmd: 'coin', cents });
    } catch (err) {
      if (err instanceof KioskDown) acceptor.uncertainAtKill += cents;
      throw err;
    }
    if (r.accepted !== true) {
      result.coinsRefused += 1;
      return false;
    }
    acceptor.cents += cents;
    acceptor.coins += 1;
    result.coinsAccepted += 1;
    unconfirmed += cents;
    // Confirmed once the journal's cash box shows it (the journal's fsync returned).
    const target = acceptor.cents - acceptor.unconfirmedAtKill;
    if (await waitFor((s) => s.journal.cashBoxCents >= target, 2000)) unconfirmed = 0;
    return true;
  };

  const topupCustomer = async () => {
    const kind = rng.weighted([
      ['normal', 5],
      ['open', 2],
      ['walk', 2],
      ['cancel', 2],
      ['coinsFirst', 1],
      ['noCard', 1],
    ] as const);
    const card = rng.weighted([
      [PLENTY, 4],
      [SEED, 2],
      [EMPTY, 2],
      [BONUS, 1],
      [LOCKED, 1],
      [OTHER, 1],
      [UNKNOWN, 1],
    ] as const);
    if (kind === 'coinsFirst' || kind === 'noCard') {
      for (let i = rng.int(1, 2); i > 0; i--) await coin(rng.pick([50, 100, 200]));
      await sleep(rng.int(0, 300));
    }
    if (kind !== 'noCard') {
      await scan(card);
      await waitFor((s) => s.state !== 'serving.topup' || !/lookingUp/.test(s.flow ?? ''), 4000);
      await sleep(rng.int(0, 200));
      await press(kind === 'open' ? 'ok' : rng.pick(['amount1', 'amount2']));
    }
    for (let i = rng.int(1, 6); i > 0; i--) {
      if (!(await coin(rng.pick([50, 100, 200, 200, 500, 1000])))) break;
      await sleep(rng.int(0, 150));
    }
    if (kind === 'open') await press('ok');
    if (kind === 'cancel' || kind === 'noCard') await press('cancel');
    return kind;
  };

  const checkoutCustomer = async () => {
    const kind = rng.weighted([
      ['normal', 5],
      ['card', 3],
      ['walk', 2],
      ['cancel', 2],
    ] as const);
    for (let i = rng.int(1, 3); i > 0; i--)
      await press(rng.pick(['amount1', 'amount2', 'amount3', 'amount4']));
    if (kind === 'card' || rng.chance(0.2)) {
      await scan(rng.pick([PLENTY, SEED, EMPTY, BONUS, LOCKED]));
      await waitFor((s) => !/lookingUp/.test(s.flow ?? ''), 4000);
    }
    await press('ok');
    const s = await waitFor(
      (x) => x.state !== 'serving.checkout' || !/preparing|applyingCard/.test(x.flow ?? ''),
      4000,
    );
    if (s && /confirmLoyalty/.test(s.flow ?? '')) {
      if (kind !== 'walk') await press(kind === 'cancel' ? 'cancel' : 'ok');
      return `${kind}/loyalty`;
    }
    for (let i = rng.int(1, 8); i > 0; i--) {
      if (!(await coin(rng.pick([50, 100, 200, 200, 500, 1000])))) break;
      await sleep(rng.int(0, 150));
    }
    if (kind === 'cancel') await press('cancel');
    return kind;
  };

  const restartKiosk = async () => {
    await kiosk.start();
    const s = await waitFor((x) => x.state === 'idle', 8000);
    if (!s) result.notIdleAfterRestart += 1;
    const now = await state();
    // Coins taken but not journaled before the power cut are gone from the kiosk's view.
    const missing = acceptor.cents - now.journal.cashBoxCents;
    if (missing > acceptor.unconfirmedAtKill)
      log(
        `run ${run}: ${missing} ct missing from the journal after restart, ${acceptor.unconfirmedAtKill} unconfirmed`,
      );
  };

  try {
    await api.start();
    await kiosk.start();
    await waitFor((x) => x.state === 'idle', 10_000);
    for (let n = 0; n < opts.sessions; n++) {
      result.sessions += 1;
      // Faults for this session, decided before it starts.
      if (rng.chance(0.35)) {
        const f = rng.weighted(FAULTS);
        await api.operator('POST', '/__sim/faults', f.rule);
        result.faults[f.name] = (result.faults[f.name] ?? 0) + 1;
      }
      const timers: Array<Promise<void>> = [];
      const at = (ms: number, fn: () => Promise<void>) =>
        timers.push(
          sleep(ms)
            .then(fn)
            .catch((e: Error) => log(`run ${run}: chaos action failed: ${e.message}`)),
        );
      let killed = false;
      if (rng.chance(opts.killRate)) {
        at(rng.int(0, 3500), async () => {
          killed = true;
          acceptor.unconfirmedAtKill += unconfirmed;
          unconfirmed = 0;
          await kiosk.kill();
          result.kioskKills += 1;
        });
      }
      const apiChaos = rng.weighted([
        ['kill', 10],
        ['pause', 10],
        ['none', 80],
      ] as const);
      if (apiChaos === 'kill') {
        const when = rng.int(0, 2500);
        const down = rng.int(300, 2500);
        at(when, async () => {
          await api.kill();
          result.standInKills += 1;
          await sleep(down);
          await api.start();
        });
      } else if (apiChaos === 'pause') {
        const when = rng.int(0, 2500);
        const hang = rng.int(500, 4000);
        at(when, async () => {
          api.pause();
          result.standInPauses += 1;
          await sleep(hang);
          api.resume();
        });
      }
      const device = rng.chance(0.08) ? rng.pick(['reader', 'paper'] as const) : null;
      if (device) {
        const when = rng.int(0, 2000);
        at(when, async () => {
          if (device === 'reader') await kiosk.request({ cmd: 'unplug', device: 'reader' });
          else await kiosk.request({ cmd: 'paper', state: 'out' });
          result.deviceFaults += 1;
        });
      }
      const customer = mode === 'topup' ? topupCustomer() : checkoutCustomer();
      try {
        await customer;
        await waitFor((s) => s.state !== 'serving.topup' && s.state !== 'serving.checkout', 12_000);
      } catch (err) {
        if (!(err instanceof KioskDown)) throw err;
      }
      await Promise.all(timers);
      if (killed || !kiosk.running) {
        await sleep(rng.int(0, 400));
        await restartKiosk();
      } else if (device) {
        await kiosk.request({ cmd: 'replug', device: 'reader' }).catch(() => undefined);
        await kiosk.request({ cmd: 'paper', state: 'ok' }).catch(() => undefined);
      }
      await api.ensureUp();
      await api.operator('DELETE', '/__sim/faults');
      if (device && kiosk.running) {
        await kiosk.request({ cmd: 'replug', device: 'reader' }).catch(() => undefined);
        await kiosk.request({ cmd: 'paper', state: 'ok' }).catch(() => undefined);
      }
    }
    // The end: API up, faults gone; a clean restart so that recovery settles what is open.
    await api.ensureUp();
    await api.operator('DELETE', '/__sim/faults');
    if (kiosk.running) {
      await waitFor((s) => s.state !== 'serving.topup' && s.state !== 'serving.checkout', 12_000).catch(
        () => null,
      );
      await kiosk.stop();
    }
    await restartKiosk();
    const settled = await waitFor((s) => s.state === 'idle' && s.journal.openSessions === 0, 20_000);
    result.idleAtEnd = settled !== null;
    result.endScreen = ((await kiosk.request({ cmd: 'display' })).lines as string[]) ?? [];
  } catch (err) {
    result.error = `${(err as Error).message}\n${kiosk.log.slice(-1500)}`;
  } finally {
    await kiosk.stop().catch(() => undefined);
    await api.stop().catch(() => undefined);
  }
  const { records, state: folded } = await Journal.read(join(dir, 'journal'));
  const ledger = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as LedgerFileView;
  result.books = reconcile({
    acceptor,
    journal: { records, state: folded },
    ledger,
    initialBalances: Object.fromEntries(
      DEMO_CARDS.map((c) => [c.cardnumber, c.cash_balance + c.bonus_balance]),
    ),
  });
  const bad = result.books.findings.length > 0 || result.error !== undefined;
  if (opts.keep || (opts.keepBad && bad)) result.dir = dir;
  else rmSync(dir, { recursive: true, force: true });
  result.ms = Date.now() - started;
  return result;
}
