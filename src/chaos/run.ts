/**
 * One chaos run: the real kiosk program (simulated hardware) against the API stand-in in its own
 * process (ledger on disk), random customer sessions through the control port, and at random
 * moments: SIGKILL of the kiosk (a power cut) and restart, SIGKILL or SIGSTOP of the stand-in,
 * injected API faults, an unplugged reader, a printer out of paper; and the fault kinds of issue 13
 * item 7 and issue 15 item 6 (`FAULT_KINDS`): card-terminal payments, the journal's disk filled, a
 * byte flipped in the journal between a kill and the restart, the wall clock jumped by hours, a
 * broker outage, the printer failing mid-print; on a vending counter jams, stuck sensors, an empty or
 * jamming hopper and power cuts during a release or a payout; with the ccTalk validator its own power
 * losses and buffer overflows while the kiosk runs (validator-faults.ts). At the end the kiosk is
 * restarted with the API up so that recovery settles what is open, and the books are reconciled (books.ts).
 *
 * Every choice comes from the run's seeded PRNG; what is not deterministic is timing: where
 * exactly a kill lands depends on how fast the processes run.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../journal/journal.js';
import type { JournalRecord } from '../journal/state.js';
import { DEMO_CARDS } from '../sim/demo-cards.js';
import { startMosquitto, type MosquittoBroker } from '../harness/mosquitto.js';
import { reconcile, type LedgerFileView, type Reconciliation } from './books.js';
import { FleetObserver } from './fleet-observer.js';
import { freePort, KioskDown, KioskProcess, StandInProcess } from './processes.js';
import { Rng } from '../util/prng.js';
import { VALIDATOR_MAX_CENTS, ValidatorLine } from './validator-line.js';
import { planValidatorFault, validatorFault, type ValidatorKind } from './validator-faults.js';

/** The fault kinds beyond power cuts and API faults, each counted in the summary. */
export const FAULT_KINDS = [
  'terminal',
  'clock_jump',
  'terminal_coins',
  'printer_fail',
  'disk_full',
  'broker_outage',
  'byte_flip',
] as const;
/** On a vending counter only (issue 15). */
export const GOODS_KINDS = [
  'slot_jam',
  'sensor_stuck',
  'hopper_empty',
  'hopper_jam',
  'cut_in_release',
  'cut_in_payout',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number] | (typeof GOODS_KINDS)[number] | ValidatorKind;

/** Whether this process may mount a tmpfs (the disk-full kind needs one). */
export const canMount = process.getuid?.() === 0;

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
  /** Each session's faults and story, for debugging a run. */
  trace?: (line: string) => void;
  /** Probability per session of each fault kind of `FAULT_KINDS` (default 0.25); 0 turns them off. */
  kindRate?: number;
  /** Probability per session of each goods kind on a vending counter (default 0.15). */
  goodsRate?: number;
  /** Force the run's mode (default: by the PRNG, 45 % top-up, 30 % vending counter, 25 % checkout). */
  mode?: 'topup' | 'checkout' | 'vending';
  /** The first sessions of the run take every kind that applies, two per session (the short test). */
  cover?: boolean;
  /**
   * The coin acceptor: the simulated one (coins through the control port, default) or the ccTalk
   * driver against a validator the harness plays over a socat pty pair (`validator-line.ts`).
   */
  acceptor?: 'simulated' | 'cctalk';
  /**
   * With the ccTalk validator: probability per session of each of its own faults while the kiosk runs
   * (`VALIDATOR_KINDS`: power loss, buffer overflow; validator-faults.ts). Default 0.2; 0 makes a seed's
   * choices those of the harness before the kinds existed.
   */
  validatorRate?: number;
  /**
   * Checkout and vending: probability per session that the customer pays by coins to the end (no
   * card terminal, no walking away): a coin the acceptor returns is followed by the next smaller one,
   * and coins go in until the kiosk stops asking for money. Default 0: the customer of seeds run
   * before it (who stops at the first coin returned, so coin payments of those modes are rare).
   */
  coinPayRate?: number;
}

export interface RunResult {
  run: number;
  seed: number;
  mode: 'topup' | 'checkout' | 'vending';
  dir: string | null;
  /** Fault kinds injected (`FAULT_KINDS`, `GOODS_KINDS`), and what the harness saw them do. */
  kinds: Partial<Record<FaultKind, number>>;
  observed: Record<string, number>;
  /** Injected faults that could not do their work, by `kind:why` (an overflow that found the channels shut). */
  notLanded: Record<string, number>;
  /** Kinds this run could not try, with why (e.g. disk_full without root). */
  skipped: string[];
  sessions: number;
  kioskKills: number;
  standInKills: number;
  standInPauses: number;
  faults: Record<string, number>;
  deviceFaults: number;
  coinsAccepted: number;
  coinsRefused: number;
  /** Sessions whose customer paid by coins to the end (`coinPayRate`). */
  coinPayers: number;
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

/** The vending counter of `config/vending.json`: a slot per product and a change hopper of 10 ct coins. */
const VENDING_HARDWARE = {
  slots: {
    driver: 'simulated',
    slots: [
      { id: 'A1', product: 1, capacity: 40, initialStock: 30, lowAt: 2 },
      { id: 'A2', product: 2, capacity: 40, initialStock: 30, lowAt: 2 },
      { id: 'B1', product: 3, capacity: 40, initialStock: 30, lowAt: 1 },
      { id: 'B2', product: 4, capacity: 40, initialStock: 30, lowAt: 1 },
    ],
  },
  hopper: { driver: 'simulated', coinCents: 10, coins: 100 },
};
/** The hopper keeps its counters across the kiosk's power cuts (a file in the run's dir), pays 8 coins a second. */
const hopperOf = (dir: string) => ({
  ...VENDING_HARDWARE.hopper,
  stateFile: join(dir, 'hopper.json'),
  coinMs: 120,
});
/** The coins a customer may try, largest first (one returned: the next smaller). */
const COIN_SIZES = [1000, 500, 200, 100, 50, 20, 10];
const SLOT_OF_BUTTON: Record<string, string> = { amount1: 'A1', amount2: 'A2', amount3: 'B1', amount4: 'B2' };

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

/**
 * A power cut: the kiosk killed (SIGKILL) and, unless it keeps its own supply, the validator's power
 * gone with it (`validatorPowerCut`: its buffer lost). The coins not journaled by then are in flight at
 * the cut (`unconfirmedAtKill`), counted once the kill is done: a coin the acceptor took while the kill
 * ran (the dead kiosk's channels still open) is one of them. Counted before the kill, as the harness
 * did, such a coin was booked lost (chaos seed 48007 run 0: "200 ct accepted but never journaled", 0
 * unconfirmed). A validator that keeps its power keeps its buffer too: its coins come back through
 * the driver's resume, so nothing is in flight. Returns the cents unconfirmed at the cut.
 */
export async function cutPower(
  book: { unconfirmed: number; acceptor: { unconfirmedAtKill: number } },
  validatorKeepsPower: boolean,
  kill: () => Promise<void>,
  validatorPowerCut?: () => void,
): Promise<number> {
  await kill();
  const unconfirmed = book.unconfirmed;
  if (!validatorKeepsPower) {
    validatorPowerCut?.();
    book.acceptor.unconfirmedAtKill += unconfirmed;
  }
  book.unconfirmed = 0;
  return unconfirmed;
}

export async function chaosRun(run: number, seed: number, opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const rng = new Rng(seed * 7919 + run);
  const kindRate = opts.kindRate ?? 0.25;
  const goodsRate = opts.goodsRate ?? 0.15;
  const validatorRate = opts.validatorRate ?? 0.2;
  const coinPayRate = opts.coinPayRate ?? 0;
  const mode =
    opts.mode ??
    rng.weighted([
      ['topup', 45],
      ['vending', 30],
      ['checkout', 25],
    ] as const);
  const checkout = mode !== 'topup';
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-chaos-'));
  const api = new StandInProcess(await freePort(), join(dir, 'ledger.json'));
  const controlPort = await freePort();
  const configPath = join(dir, 'config.json');
  const journalDir = join(dir, 'journal');
  mkdirSync(journalDir);
  const skipped: string[] = [];
  // The disk-full kind fills a small filesystem of the journal's own: a tmpfs, which needs root.
  let mounted = false;
  if (kindRate > 0 && canMount) {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', journalDir]);
      mounted = true;
    } catch (err) {
      skipped.push(`disk_full: mount of a tmpfs failed (${(err as Error).message.split('\n')[0]})`);
    }
  } else if (kindRate > 0) skipped.push('disk_full: not root, cannot mount a tmpfs for the journal');
  const kioskId = `k-chaos-${seed}-${run}`;
  const broker: MosquittoBroker | undefined = kindRate > 0 ? await startMosquitto() : undefined;
  const observer = broker ? await FleetObserver.connect(broker.url, kioskId) : undefined;
  const clockFile = join(dir, 'clock-offset');
  let clockOffset = 0;
  writeFileSync(clockFile, '0');
  const vending = mode === 'vending';
  const validator = opts.acceptor === 'cctalk' ? await ValidatorLine.open() : undefined;
  writeFileSync(
    configPath,
    JSON.stringify({
      kiosk: { id: kioskId, mode: checkout ? 'checkout' : 'topup', cardTerminal: checkout && kindRate > 0 },
      api: {
        baseUrl: api.baseUrl,
        clientId: 'kiosk-demo',
        clientSecret: 'demo-secret',
        timeoutMs: 1500,
        isDemo: true,
      },
      hardware: {
        ...Object.fromEntries(
          ['display', 'reader', 'buttons', 'coin', 'printer'].map((d) => [d, { driver: 'simulated' }]),
        ),
        ...(validator
          ? {
              coin: {
                driver: 'cctalk',
                path: validator.path,
                pollMs: 50,
                timeoutMs: 300,
                backoff: { initialMs: 50, maxMs: 200, presenceCheckMs: 200 },
              },
            }
          : {}),
        ...(vending ? { ...VENDING_HARDWARE, hopper: hopperOf(dir) } : {}),
      },
      // The control port refuses to open beside a real acceptor unless told: here the harness is the operator.
      sim: { controlPort, tui: false, ...(validator ? { controlPortWithRealAcceptor: true } : {}) },
      catalogue: CATALOGUE,
      timeouts: { inactivityMs: 2000, warningMs: 800, terminalMs: 5000, resultMs: 300 },
      journal: {
        dir: journalDir,
        onApiDown: 'serve',
        ...(mounted
          ? { reserveBytes: 64 * 1024, lowFreeBytes: 384 * 1024, minFreeBytes: 256 * 1024, spaceCheckMs: 200 }
          : {}),
      },
      ...(broker
        ? { fleet: { url: broker.url, heartbeatS: 5, willDelayS: 1, outboxDir: join(dir, 'outbox') } }
        : {}),
    }),
  );
  const kiosk = new KioskProcess(configPath, controlPort, {
    preload: ['src/chaos/wall-clock-shift.ts'],
    env: { CHAOS_CLOCK_FILE: clockFile },
    watch: { journalDamaged: /(?=.*"journal alert")(?=.*"damaged")/ },
  });
  const result: RunResult = {
    run,
    seed,
    mode,
    kinds: {},
    observed: {},
    notLanded: {},
    skipped,
    dir: opts.keep ? dir : null,
    sessions: 0,
    kioskKills: 0,
    standInKills: 0,
    standInPauses: 0,
    faults: {},
    deviceFaults: 0,
    coinsAccepted: 0,
    coinsRefused: 0,
    coinPayers: 0,
    notIdleAfterRestart: 0,
    idleAtEnd: false,
    endScreen: [],
    books: undefined as unknown as Reconciliation,
    ms: 0,
  };
  // The acceptor's book: coins taken, and those whose journaling the harness has not seen yet.
  const acceptor = {
    cents: 0,
    coins: 0,
    unconfirmedAtKill: 0,
    uncertainAtKill: 0,
    overflowCents: 0,
    overflowCoins: 0,
  };
  /** Cents the kiosk's journal should show now: taken, less what a cut or an overflow kept from it. */
  const journalable = () => acceptor.cents - acceptor.unconfirmedAtKill - acceptor.overflowCents;
  let unconfirmed = 0;

  /** Coins accepted in the current session; they must reach the fleet unless a power cut or a full disk hit it. */
  let sessionCoins: number[] = [];
  const mustArrive: number[] = [];
  const count = (kind: FaultKind) => (result.kinds[kind] = (result.kinds[kind] ?? 0) + 1);
  const saw = (what: string) => (result.observed[what] = (result.observed[what] ?? 0) + 1);

  const state = async () =>
    (await kiosk.request({ cmd: 'state' })) as {
      state: string;
      flow: string | null;
      reason: string | null;
      journal: { openSessions: number; cashBoxCents: number; unwritable?: string };
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
  /** At the ccTalk validator: taken when its channel is open (the kiosk's last inhibit), else returned. */
  const validatorCoin = async (line: ValidatorLine, cents: number): Promise<boolean> => {
    if (!kiosk.running) throw new KioskDown('the kiosk is down');
    // The kiosk opens the channels by its own frames (231, 228) a poll after the screen asks for money.
    const deadline = Date.now() + 600;
    while (!line.device.accepts(cents) && Date.now() < deadline) await sleep(20);
    const taken = line.device.insert(cents);
    opts.trace?.(
      `run ${run}: ${cents} ct at the validator: ${taken ? 'taken' : 'returned'}, event ${line.device.event}`,
    );
    return taken;
  };
  /** `late`: a coin already in the validator when the acceptor was inhibited (it drops in anyway). */
  const coin = async (asked: number, late = false): Promise<boolean> => {
    const cents = validator ? Math.min(asked, VALIDATOR_MAX_CENTS) : asked;
    let r: Record<string, unknown>;
    try {
      r = validator
        ? { accepted: await validatorCoin(validator, cents) }
        : await kiosk.request({ cmd: 'coin', cents, ...(late ? { late: true } : {}) });
    } catch (err) {
      if (err instanceof KioskDown) acceptor.uncertainAtKill += cents;
      throw err;
    }
    if (r.accepted !== true) {
      result.coinsRefused += 1;
      return false;
    }
    tookCoin(cents);
    // Confirmed once the journal's cash box shows it (the journal's fsync returned); coins an
    // overflow took out of the kiosk's reach meanwhile lower the target.
    const target = journalable();
    const overflowBefore = acceptor.overflowCents;
    if (
      await waitFor((s) => s.journal.cashBoxCents >= target - (acceptor.overflowCents - overflowBefore), 2000)
    )
      unconfirmed = 0;
    return true;
  };
  /**
   * Coins the validator took that the kiosk can never read (the validator's faults): they never
   * reach the journal as coins, so they are neither awaited as unconfirmed nor due at the fleet.
   */
  function neverJournaled(lost: readonly number[]): number {
    const cents = lost.reduce((a, c) => a + c, 0);
    unconfirmed = Math.max(0, unconfirmed - cents);
    for (const c of lost) {
      const i = sessionCoins.indexOf(c);
      if (i >= 0) sessionCoins.splice(i, 1);
    }
    return cents;
  }
  /**
   * Credits the validator's buffer lost before the kiosk read them (validator_overflow), booked as
   * they appear: at the fault's end, or after a restart when the kiosk was killed before it read.
   */
  let overflowBooked = 0;
  function bookOverflow(): void {
    const lost = validator?.device.dropped.overflowed.slice(overflowBooked) ?? [];
    overflowBooked += lost.length;
    acceptor.overflowCents += neverJournaled(lost);
    acceptor.overflowCoins += lost.length;
  }
  /** A coin the acceptor took: the acceptor's book and the session's coins. */
  function tookCoin(cents: number): void {
    acceptor.cents += cents;
    acceptor.coins += 1;
    result.coinsAccepted += 1;
    unconfirmed += cents;
    sessionCoins.push(cents);
  }

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

  /** Coins until the kiosk stops asking (`coinPay`): a coin returned, the next smaller one. */
  const payByCoins = async () => {
    for (let i = 0; i < 30; i++) {
      if (!/collecting|paying/.test((await state()).flow ?? '')) break;
      let asked: number | undefined = rng.pick([50, 100, 200, 200, 500, 1000]);
      while (asked !== undefined && !(await coin(asked))) asked = COIN_SIZES.find((c) => c < asked!);
      if (asked === undefined) break;
      await sleep(rng.int(0, 150));
    }
  };

  /**
   * `terminal`: pays at the card terminal when offered (`coins`: and drops coins meanwhile); `coinPay`:
   * pays by coins to the end, a smaller coin after one returned.
   */
  const checkoutCustomer = async (first: string, terminal: false | 'plain' | 'coins', coinPay = false) => {
    const drawn = rng.weighted([
      ['normal', 5],
      ['card', 3],
      ['walk', 2],
      ['cancel', 2],
    ] as const);
    const kind = coinPay ? 'normal' : drawn;
    await press(first);
    for (let i = rng.int(0, 2); i > 0; i--)
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
    if (s && /choosePayment/.test(s.flow ?? '')) {
      if (terminal) {
        const drop = async () =>
          saw((await coin(rng.pick([50, 100, 200]))) ? 'terminal_coins:taken' : 'terminal_coins:refused');
        if (terminal === 'coins' && rng.chance(0.5)) {
          // A coin and the terminal button at the same moment: whichever the kiosk sees first wins,
          // and the coin must be settled either way.
          await Promise.all([drop(), press('amount2')]);
          return `${kind}/terminal+coin race`;
        }
        await press('amount2');
        if (terminal === 'coins') {
          // Coins dropped while the terminal runs: the acceptor may refuse them; those it takes are
          // the session's and must be settled like any other.
          await sleep(rng.int(0, 80));
          for (let i = rng.int(1, 2); i > 0; i--) await drop();
          // One that was already in the validator as the terminal took over: it drops in the box while
          // the terminal runs, so the session has a terminal payment and coins to settle.
          if (rng.chance(0.7) && (await coin(rng.pick([50, 100, 200]), true))) saw('terminal_coins:late');
        }
        return `${kind}/terminal`;
      }
      if (kind === 'walk' && rng.chance(0.5)) return kind;
      await press('amount1');
    }
    if (coinPay) {
      await payByCoins();
      return 'coin payer';
    }
    for (let i = rng.int(1, 8); i > 0; i--) {
      if (!(await coin(rng.pick([50, 100, 200, 200, 500, 1000])))) break;
      await sleep(rng.int(0, 150));
    }
    if (kind === 'cancel') await press('cancel');
    return kind;
  };

  /**
   * Flips one byte of a frame in the newest journal segment that is not its last frame (a flip
   * there is a torn write by definition, docs/journal.md) and returns the record it carried, so
   * that the books know what the journal lost.
   */
  const flipByte = (): JournalRecord[] => {
    const seg = readdirSync(journalDir)
      .filter((n) => /^journal-\d+\.log$/.test(n))
      .sort()
      .at(-1);
    if (!seg) return [];
    const file = join(journalDir, seg);
    const bytes = readFileSync(file);
    const starts: number[] = [0];
    for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
    if (starts.length < 3) return [];
    const line = rng.int(0, starts.length - 2 - 1);
    const from = starts[line]!;
    const to = starts[line + 1]! - 1;
    const at = rng.int(from, to);
    const original = bytes.subarray(from, to).toString('utf8');
    let flipped = bytes[at]! ^ rng.int(1, 255);
    if (flipped === 0x0a) flipped ^= 0x01;
    bytes[at] = flipped;
    writeFileSync(file, bytes);
    saw('byte_flip:flipped');
    try {
      const rec = JSON.parse(original.slice(9)) as { seq?: unknown; type?: unknown };
      if (
        typeof rec.seq === 'number' &&
        typeof rec.type === 'string' &&
        !['snapshot', 'check'].includes(rec.type)
      )
        return [rec as JournalRecord];
    } catch {
      // the header line: no record
    }
    return [];
  };
  const damaged: JournalRecord[] = [];

  const restartKiosk = async (flip = false) => {
    if (flip) {
      damaged.push(...flipByte());
    }
    const damagedBefore = kiosk.counts.journalDamaged ?? 0;
    await kiosk.start();
    const s = await waitFor((x) => x.state === 'idle', 8000);
    if (!s) result.notIdleAfterRestart += 1;
    if (flip && (kiosk.counts.journalDamaged ?? 0) > damagedBefore) saw('byte_flip:journal_damaged');
    const now = await state();
    // An overflow the killed kiosk had not read yet: read by now, at its start.
    bookOverflow();
    // Coins taken but not journaled before the power cut are gone from the kiosk's view.
    const missing = acceptor.cents - acceptor.overflowCents - now.journal.cashBoxCents;
    if (missing > acceptor.unconfirmedAtKill)
      log(
        `run ${run}: ${missing} ct missing from the journal after restart, ${acceptor.unconfirmedAtKill} unconfirmed`,
      );
  };

  /** The kinds that apply to this run, and for `cover` which ones each early session takes. */
  const applicable: FaultKind[] =
    kindRate > 0
      ? [
          ...FAULT_KINDS.filter(
            (k) => (checkout || !k.startsWith('terminal')) && (mounted || k !== 'disk_full'),
          ),
          ...(vending ? GOODS_KINDS : []),
        ]
      : [];
  const coverSession = (n: number) => !!opts.cover && 2 * n < applicable.length;
  const chooseKinds = (n: number): Set<FaultKind> => {
    const chosen = new Set<FaultKind>();
    for (const k of applicable)
      if (rng.chance((GOODS_KINDS as readonly string[]).includes(k) ? goodsRate : kindRate)) chosen.add(k);
    // Covering: the first sessions take exactly two kinds each (and no random power cut), so that
    // each kind is seen doing its work alone at least once.
    if (coverSession(n)) return new Set(applicable.slice(2 * n, 2 * n + 2));
    // One terminal choice per customer.
    if (chosen.has('terminal') && chosen.has('terminal_coins')) chosen.delete('terminal');
    // A held release is for the cut; the jam/stuck sensor would end it before.
    if (chosen.has('cut_in_release')) {
      chosen.delete('slot_jam');
      chosen.delete('sensor_stuck');
    }
    return chosen;
  };

  try {
    await api.start();
    await kiosk.start();
    await waitFor((x) => x.state === 'idle', 10_000);
    for (let n = 0; n < opts.sessions; n++) {
      result.sessions += 1;
      sessionCoins = [];
      // Faults for this session, decided before it starts.
      if (rng.chance(0.35)) {
        const f = rng.weighted(FAULTS);
        await api.operator('POST', '/__sim/faults', f.rule);
        result.faults[f.name] = (result.faults[f.name] ?? 0) + 1;
      }
      const kinds = chooseKinds(n);
      // Drawn only with a rate: seeds run before the option make the same choices at 0.
      const coinPay = checkout && coinPayRate > 0 && rng.chance(coinPayRate);
      if (coinPay) {
        kinds.delete('terminal');
        kinds.delete('terminal_coins');
        result.coinPayers += 1;
      }
      for (const k of kinds) count(k);
      const timers: Array<Promise<void>> = [];
      const at = (ms: number, fn: () => Promise<void>) =>
        timers.push(
          sleep(ms)
            .then(fn)
            .catch((e: Error) => log(`run ${run}: chaos action failed: ${e.message}`)),
        );
      let killed = false;
      let diskFilled = false;
      const powerCut = async () => {
        if (!kiosk.running) return;
        killed = true;
        // A validator with its own supply (or a crash of the program alone) keeps its buffer: a coin
        // credited there but not yet journaled must come back through the driver's resume, so it
        // may not count as lost. One on the kiosk's supply loses its buffer with the power.
        const validatorKeepsPower = validator ? rng.chance(0.5) : false;
        const inFlight = {
          acceptor,
          get unconfirmed() {
            return unconfirmed;
          },
          set unconfirmed(cents: number) {
            unconfirmed = cents;
          },
        };
        const unconfirmedNow = await cutPower(
          inFlight,
          validatorKeepsPower,
          () => kiosk.kill(),
          validator ? () => validator.device.powerCut() : undefined,
        );
        result.kioskKills += 1;
        if (!validator) return;
        if (!validatorKeepsPower) {
          saw('validator:power_lost');
          opts.trace?.(`run ${run}: validator power lost, ${unconfirmedNow} ct unconfirmed`);
          return;
        }
        saw('validator:power_kept');
        opts.trace?.(`run ${run}: validator keeps power, ${unconfirmedNow} ct unconfirmed`);
        // The kiosk died accepting: a customer's coin still goes in, and only the restart can count it.
        const late = rng.pick([50, 100, 200]);
        if (rng.chance(0.5) && validator.device.accepts(late) && validator.device.insert(late)) {
          acceptor.cents += late;
          acceptor.coins += 1;
          result.coinsAccepted += 1;
          saw('validator:coin_while_down');
          opts.trace?.(`run ${run}: ${late} ct into the validator while the kiosk is down`);
        }
      };
      if (
        rng.chance(opts.killRate) &&
        !coverSession(n) &&
        !kinds.has('cut_in_release') &&
        !kinds.has('cut_in_payout')
      )
        at(rng.int(0, 3500), powerCut);
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

      // The new kinds (issue 13 item 7, issue 15 item 6).
      if (kinds.has('clock_jump')) {
        const when = rng.int(0, 3000);
        // Back or forward by 1 to 6 hours; sometimes back to the true time (time sync arriving).
        const to = rng.chance(0.2) ? 0 : clockOffset + rng.pick([-1, 1]) * rng.int(1, 6) * 3_600_000;
        at(when, async () => {
          clockOffset = to;
          writeFileSync(clockFile, String(to));
          kiosk.signal('SIGUSR2');
          saw('clock_jump:jumped');
        });
      }
      if (kinds.has('broker_outage') && broker) {
        const when = rng.int(0, 3000);
        const down = rng.int(500, 4000);
        at(when, async () => {
          await broker.halt({ signal: rng.chance(0.5) ? 'SIGKILL' : 'SIGTERM' });
          await sleep(down);
          await broker.start();
          saw('broker_outage:restarted');
        });
      }
      // A power cut armed above may land while the devices are being set up: that is a cut like any other.
      const setup = (req: object) =>
        kiosk.request(req).catch((e: Error): Record<string, unknown> => {
          if (!(e instanceof KioskDown)) throw e;
          return {};
        });
      if (kinds.has('printer_fail')) await setup({ cmd: 'printer', action: 'fail' });
      const receiptsBefore = kinds.has('printer_fail')
        ? (((await setup({ cmd: 'receipts' })).receipts as string[][] | undefined) ?? []).length
        : 0;
      if (kinds.has('disk_full')) {
        at(rng.int(0, 3000), async () => {
          fillDisk(journalDir);
          diskFilled = true;
          if (
            kiosk.running &&
            (await waitFor((x) => x.reason === 'storage' || x.journal.unwritable !== undefined, 6000).catch(
              () => null,
            ))
          )
            saw('disk_full:out_of_service');
        });
      }
      const first = rng.pick(['amount1', 'amount2', 'amount3', 'amount4']);
      if (vending) {
        const slot = SLOT_OF_BUTTON[first]!;
        if (kinds.has('slot_jam')) await setup({ cmd: 'slot', slot, action: 'jam' });
        if (kinds.has('sensor_stuck')) await setup({ cmd: 'slot', slot, action: 'break' });
        if (kinds.has('hopper_empty')) await setup({ cmd: 'hopper', action: 'empty' });
        if (kinds.has('hopper_jam')) await setup({ cmd: 'hopper', action: 'jam', coins: rng.int(0, 3) });
        if (kinds.has('cut_in_release')) {
          await setup({ cmd: 'slot', slot, action: 'hold' });
          at(0, async () => {
            if (await waitFor((x) => /paid\.releasing/.test(x.flow ?? ''), 12_000).catch(() => null)) {
              await sleep(rng.int(0, 300));
              saw('cut_in_release:cut');
              await powerCut();
            } else if (kiosk.running) await kiosk.request({ cmd: 'slot', slot, action: 'fix' });
          });
        }
        if (kinds.has('cut_in_payout')) {
          at(0, async () => {
            if (await waitFor((x) => /changing/.test(x.flow ?? ''), 12_000).catch(() => null)) {
              // Inside the payout (8 coins a second): before the first coin, or some coins out.
              await sleep(rng.int(0, 300));
              saw('cut_in_payout:cut');
              await powerCut();
            }
          });
        }
      }
      // The validator's own faults, the kiosk running on (validator-faults.ts).
      let customerGone = false;
      const vplan = validator ? planValidatorFault(rng, validatorRate) : null;
      if (validator && vplan) {
        count(vplan.kind);
        at(vplan.atMs, () =>
          validatorFault(validator.device, vplan, {
            taken: (cents) => tookCoin(cents),
            unreadAtCut: (lost) => (acceptor.unconfirmedAtKill += neverJournaled(lost)),
            saw,
            trace: (line) => opts.trace?.(`run ${run}: ${line}`),
            running: () => kiosk.running,
            customerGone: () => customerGone,
            notLanded: (why) => {
              const k = `${vplan.kind}:${why}`;
              result.notLanded[k] = (result.notLanded[k] ?? 0) + 1;
              opts.trace?.(`run ${run}: ${vplan.kind} not landed: ${why}`);
            },
            kioskAccepting: async () =>
              ((await kiosk.request({ cmd: 'state' }).catch(() => ({}))) as { acceptor?: string })
                .acceptor === 'accepting',
            log: (line) => log(`run ${run}: ${line}`),
          }).then(bookOverflow),
        );
      }
      const terminal = kinds.has('terminal_coins') ? 'coins' : kinds.has('terminal') ? 'plain' : false;
      const customer = (checkout ? checkoutCustomer(first, terminal, coinPay) : topupCustomer()).finally(
        () => {
          customerGone = true;
        },
      );
      try {
        const story = await customer;
        opts.trace?.(
          `run ${run} session ${n}: [${[...kinds].join(' ')}] ${story}, ${sessionCoins.length} coins`,
        );
        await waitFor((s) => s.state !== 'serving.topup' && s.state !== 'serving.checkout', 12_000);
      } catch (err) {
        if (!(err instanceof KioskDown)) throw err;
        opts.trace?.(`run ${run} session ${n}: [${[...kinds].join(' ')}] cut: ${(err as Error).message}`);
      }
      await Promise.all(timers);
      if (kinds.has('printer_fail') && kiosk.running) {
        const receipts = (await kiosk.request({ cmd: 'receipts' })).receipts as string[][];
        if (receipts.slice(receiptsBefore).some((r) => r.at(-1) === '~~ torn ~~')) saw('printer_fail:torn');
        await kiosk.request({ cmd: 'printer', action: 'ok' });
      }
      if (diskFilled) unfillDisk(journalDir);
      // A byte flip happens between a kill and the restart: the session's own power cut, or one now.
      if (kinds.has('byte_flip') && kiosk.running) await powerCut();
      if (killed || !kiosk.running) {
        await sleep(rng.int(0, 400));
        await restartKiosk(kinds.has('byte_flip'));
      } else {
        if (device) {
          await kiosk.request({ cmd: 'replug', device: 'reader' }).catch(() => undefined);
          await kiosk.request({ cmd: 'paper', state: 'ok' }).catch(() => undefined);
        }
        if (diskFilled) await waitFor((s) => s.state === 'idle', 10_000);
      }
      if (!killed && !diskFilled) mustArrive.push(...sessionCoins);
      if (vending && kiosk.running) {
        // The devices come back (a technician's visit); a block stays until the slot is counted.
        for (const slot of Object.values(SLOT_OF_BUTTON))
          await kiosk.request({ cmd: 'slot', slot, action: 'fix' }).catch(() => undefined);
        await kiosk.request({ cmd: 'hopper', action: 'refill', coins: 100 }).catch(() => undefined);
      }
      await api.ensureUp();
      await api.operator('DELETE', '/__sim/faults');
      if (device && kiosk.running) {
        await kiosk.request({ cmd: 'replug', device: 'reader' }).catch(() => undefined);
        await kiosk.request({ cmd: 'paper', state: 'ok' }).catch(() => undefined);
      }
    }
    // The end: API and broker up, faults gone; a clean restart so that recovery settles what is open.
    await api.ensureUp();
    await api.operator('DELETE', '/__sim/faults');
    if (broker && !broker.running) await broker.start();
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
    // Whatever the outbox still holds goes out now that the broker is up.
    await observer?.quiet(1500, 15_000);
  } catch (err) {
    result.error = `${(err as Error).message}\n${kiosk.log.slice(-1500)}`;
  } finally {
    await kiosk.stop().catch(() => undefined);
    await api.stop().catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    await validator?.close().catch(() => undefined);
  }
  bookOverflow();
  const { records, state: folded } = await Journal.read(journalDir);
  // A run that failed before the stand-in wrote its ledger has sold nothing (its error is reported).
  const ledgerFile = join(dir, 'ledger.json');
  const ledger: LedgerFileView = existsSync(ledgerFile)
    ? (JSON.parse(readFileSync(ledgerFile, 'utf8')) as LedgerFileView)
    : { cards: {}, transactions: {}, sales: [] };
  result.books = reconcile({
    acceptor,
    journal: { records, state: folded },
    ledger,
    initialBalances: Object.fromEntries(
      DEMO_CARDS.map((c) => [c.cardnumber, c.cash_balance + c.bonus_balance]),
    ),
    damaged,
    goods: vending,
    ...(vending ? { hopperPaidCents: hopperPaid(dir) } : {}),
    ...(observer ? { fleet: { events: observer.events, mustArrive } } : {}),
  });
  const bad = result.books.findings.length > 0 || result.error !== undefined;
  const keep = opts.keep || (opts.keepBad && bad);
  if (mounted) {
    // The journal sits on the run's own tmpfs: a kept run keeps a copy (`journal-copy`), as the
    // finding's cause is usually in it.
    if (keep) cpSync(journalDir, join(dir, 'journal-copy'), { recursive: true });
    try {
      execFileSync('umount', [journalDir]);
    } catch (err) {
      log(`run ${run}: umount ${journalDir} failed: ${(err as Error).message}`);
    }
  }
  if (keep) result.dir = dir;
  else rmSync(dir, { recursive: true, force: true });
  result.ms = Date.now() - started;
  return result;
}

/** Cents the simulated hopper counted out in its life (its state file); 0 if it never started. */
function hopperPaid(dir: string): number {
  const file = hopperOf(dir).stateFile;
  if (!existsSync(file)) return 0;
  const { counts } = JSON.parse(readFileSync(file, 'utf8')) as { counts: { lifetime: number } };
  return counts.lifetime * VENDING_HARDWARE.hopper.coinCents;
}

/** Fills the filesystem at `dir` until the kernel says ENOSPC. */
function fillDisk(dir: string): void {
  try {
    writeFileSync(join(dir, 'filler'), Buffer.alloc(8 * 1024 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

function unfillDisk(dir: string): void {
  rmSync(join(dir, 'filler'), { force: true });
}
