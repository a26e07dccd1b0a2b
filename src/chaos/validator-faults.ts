/**
 * The ccTalk validator's own faults while the kiosk keeps running (`--acceptor cctalk`): the kind
 * a `powerCut` cannot make, since there the validator loses power with the kiosk or not at all.
 *
 * - `validator_power_loss`: a brown-out or the validator's 12 V plug pulled. It stops answering polls
 *   for `downMs`, a coin inserted meanwhile rolls back to the return cup uncounted, and it comes back
 *   in its power-up state (event counter 0, buffer empty, every channel inhibited). `coinsAfter` are
 *   dropped in as soon as it has power again, before the kiosk's first poll (`beforeRead`) or right
 *   after it: whether they are taken depends on whether the kiosk opened the channels again.
 * - `validator_overflow`: the data line breaks (the mechanism keeps power and its inhibits) while a
 *   customer pays, and `coins` land before the kiosk reads again: more than the 5 results one 229
 *   answer carries, so the oldest are gone from the buffer. The driver must record the loss for the
 *   operator (the journal's `acceptor_lost`); the books count those coins as the operator's to settle.
 *
 * The plan is drawn from the run's PRNG (so a seed repeats it); `validatorFault` runs it.
 */
import type { Rng } from '../util/prng.js';
import type { FakeCctalkValidator } from '../../hal/coin-acceptor/fake-cctalk-validator.js';

export const VALIDATOR_KINDS = ['validator_power_loss', 'validator_overflow'] as const;
export type ValidatorKind = (typeof VALIDATOR_KINDS)[number];

export type ValidatorFaultPlan =
  | {
      kind: 'validator_power_loss';
      atMs: number;
      downMs: number;
      coinsAfter: number[];
      beforeRead: boolean;
    }
  | { kind: 'validator_overflow'; atMs: number; coins: number[] };

const COINS = [50, 100, 200] as const;

/**
 * This session's validator fault, if any: one at most (the two would hide each other), each with
 * probability `rate`. No draw at all when `rate` is 0, so that a seed run without this kind makes the
 * same choices as before the kind existed.
 */
export function planValidatorFault(rng: Rng, rate: number): ValidatorFaultPlan | null {
  if (rate <= 0) return null;
  const power = rng.chance(rate);
  const overflow = rng.chance(rate);
  if (power && (!overflow || rng.chance(0.5))) {
    const n = rng.chance(0.6) ? rng.int(1, 3) : 0;
    return {
      kind: 'validator_power_loss',
      atMs: rng.int(0, 3000),
      downMs: rng.int(200, 2500),
      coinsAfter: Array.from({ length: n }, () => rng.pick(COINS)),
      beforeRead: rng.chance(0.5),
    };
  }
  if (overflow) {
    // 6 to 8: at least one result more than the buffer holds.
    const n = rng.int(6, 8);
    return {
      kind: 'validator_overflow',
      atMs: rng.int(0, 2500),
      coins: Array.from({ length: n }, () => rng.pick(COINS)),
    };
  }
  return null;
}

export interface ValidatorFaultHooks {
  /** A coin the validator took (its credit): the acceptor's book counts it. */
  taken: (cents: number) => void;
  /** Credits the validator had not been polled for when its power went (in flight, like a power cut's). */
  unreadAtCut: (cents: number[]) => void;
  saw: (what: string) => void;
  trace: (line: string) => void;
  /** Whether the kiosk still runs (a power cut of the session may land first). */
  running: () => boolean;
  /** Whether the kiosk says its acceptor accepts (its state's `acceptor`); false when it cannot say. */
  kioskAccepting: () => Promise<boolean>;
  /** A finding of the service, not of the books (logged by the run). */
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the host sent its next 229 (at most `ms`); false if it did not. */
async function nextRead(device: FakeCctalkValidator, ms: number): Promise<boolean> {
  const reads = device.reads;
  const deadline = Date.now() + ms;
  while (device.reads === reads && Date.now() < deadline) await sleep(5);
  return device.reads !== reads;
}

/** Runs `plan` against the validator the harness plays (after `plan.atMs`, which the caller waits). */
export async function validatorFault(
  device: FakeCctalkValidator,
  plan: ValidatorFaultPlan,
  hooks: ValidatorFaultHooks,
): Promise<void> {
  if (!hooks.running()) return;
  if (plan.kind === 'validator_power_loss') {
    // A credit the kiosk has not polled yet dies with the validator's buffer, in the field as here;
    // the cut waits for the next read (50 ms) so that the fault is the validator's, not that race.
    const readBy = Date.now() + 1000;
    while (device.unreadCredits > 0 && Date.now() < readBy) await sleep(5);
    const unread = device.dropped.unreadAtPowerCut.length;
    device.powerOff();
    hooks.saw('validator_power_loss:cut');
    await sleep(plan.downMs);
    device.powerOn();
    const lost = device.dropped.unreadAtPowerCut.slice(unread);
    if (lost.length > 0) hooks.unreadAtCut(lost);
    hooks.trace(`validator power lost for ${plan.downMs} ms, ${lost.length} credits unread at the cut`);
    if (!plan.beforeRead) await nextRead(device, 2000);
    for (const cents of plan.coinsAfter) {
      const taken = device.insert(cents);
      if (taken) hooks.taken(cents);
      hooks.saw(`validator_power_loss:coin_${taken ? 'taken' : 'returned'}`);
      hooks.trace(
        `${cents} ct at the validator just after its power came back: ${taken ? 'taken' : 'returned'}`,
      );
    }
    // The kiosk that believes it accepts must have opened the channels again (the driver's reset).
    const by = Date.now() + 2000;
    for (;;) {
      const accepting = hooks.running() && (await hooks.kioskAccepting());
      if (!accepting || (device.master && device.mask !== 0)) {
        if (accepting) hooks.saw('validator_power_loss:reopened');
        break;
      }
      if (Date.now() > by) {
        hooks.saw('validator_power_loss:kiosk_accepting_validator_inhibited');
        hooks.log('after its power loss the validator is inhibited while the kiosk says it accepts');
        break;
      }
      await sleep(50);
    }
    return;
  }
  // Only while the channels are open does a coin go in: wait for the customer to be asked for money.
  const deadline = Date.now() + 4000;
  while (!(device.master && device.mask !== 0) && Date.now() < deadline) await sleep(20);
  if (!device.master || device.mask === 0 || !hooks.running()) {
    hooks.saw('validator_overflow:not_accepting');
    return;
  }
  const overflowed = device.dropped.overflowed.length;
  device.silent = true;
  hooks.saw('validator_overflow:line_broken');
  for (const cents of plan.coins) if (device.insert(cents)) hooks.taken(cents);
  await sleep(400);
  device.silent = false;
  if (!(await nextRead(device, 3000))) hooks.saw('validator_overflow:not_read');
  // The credits past the buffer are booked by the run from `device.dropped` (bookOverflow): a kiosk
  // killed meanwhile reads them only after its restart, past this fault's end.
  const lost = device.dropped.overflowed.slice(overflowed);
  if (lost.length > 0) hooks.saw('validator_overflow:credits_lost');
  hooks.trace(
    `validator line broken: ${plan.coins.join(' ')} ct inserted, ${lost.join(' ') || 'no'} credits past the buffer`,
  );
}
