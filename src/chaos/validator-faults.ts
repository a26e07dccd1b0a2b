/**
 * The ccTalk validator's own faults while the kiosk keeps running (`--acceptor cctalk`): the kind
 * a `powerCut` cannot make, since there the validator loses power with the kiosk or not at all.
 *
 * - `validator_power_loss`: a brown-out or the validator's 12 V plug pulled. It stops answering polls
 *   for `downMs`, a coin inserted meanwhile rolls back to the return cup uncounted, and it comes back
 *   in its power-up state (event counter 0, buffer empty, every channel inhibited). `coinsAfter` are
 *   dropped in as soon as it has power again, before the kiosk's first poll (`beforeRead`), right
 *   after it (`afterRead`), or once the kiosk has opened the channels again (`reopened`: the cut
 *   then waits for open channels too, so that there is something to reopen). Only `reopened` coins
 *   can be taken: the kiosk re-opens one poll after it saw the reset, so the others are returned.
 * - `validator_overflow`: the data line breaks (the mechanism keeps power and its inhibits) while a
 *   customer pays, and `coins` land before the kiosk reads again: more than the 5 results one 229
 *   answer carries, so the oldest are gone from the buffer. The driver must record the loss for the
 *   operator (the journal's `acceptor_lost`); the books count those coins as the operator's to settle.
 *   It waits for the channels to open (on a vending counter only once a product is chosen and paid
 *   by coins) for at most `OPEN_WAIT_MS`, and a fault that found them shut is reported not landed.
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
      coinsWhen: CoinsWhen;
    }
  | { kind: 'validator_overflow'; atMs: number; coins: number[] };

const COINS = [50, 100, 200] as const;
/** When a power loss's coins go in, relative to the kiosk's next read and its re-opened channels. */
export const COINS_WHEN = ['beforeRead', 'afterRead', 'reopened'] as const;
export type CoinsWhen = (typeof COINS_WHEN)[number];

/**
 * How long a fault that needs open channels waits for them. A vending customer reaches the payment
 * by coins only after choosing, the loyalty question and the payment choice: seconds, not the 4 s
 * the first version gave it from a start already up to 2.5 s late.
 */
export const OPEN_WAIT_MS = 10_000;
/** How long the power loss's `reopened` coins wait for the kiosk's inhibits after the power is back. */
export const REOPEN_WAIT_MS = 3000;

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
      coinsWhen: rng.pick(COINS_WHEN),
    };
  }
  if (overflow) {
    // 6 to 8: at least one result more than the buffer holds.
    const n = rng.int(6, 8);
    // Soon after the session starts, then waiting for open channels: a later start would find a
    // quick customer gone, as each of 12 on a vending counter did.
    return {
      kind: 'validator_overflow',
      atMs: rng.int(0, 400),
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
  /** Whether the session's customer is gone: channels shut now stay shut, no use waiting on. */
  customerGone: () => boolean;
  /** The fault could not do its work (`why`): counted in the run's stats as not landed. */
  notLanded: (why: string) => void;
  /** Whether the kiosk says its acceptor accepts (its state's `acceptor`); false when it cannot say. */
  kioskAccepting: () => Promise<boolean>;
  /** A finding of the service, not of the books (logged by the run). */
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `open()` (at most `ms`, and no longer than the kiosk runs and the customer is there);
 * whether it was. Polled at 5 ms: a vending customer's channels may be open for one coin only.
 */
async function until(
  open: () => boolean,
  ms: number,
  hooks: Pick<ValidatorFaultHooks, 'running' | 'customerGone'>,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!open() && Date.now() < deadline && hooks.running() && !hooks.customerGone()) await sleep(5);
  return open();
}

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
  if (!hooks.running()) {
    hooks.notLanded('kiosk_down');
    return;
  }
  if (plan.kind === 'validator_power_loss') {
    // To be re-opened, the channels must have been open: wait for a paying customer first.
    const wasOpen =
      plan.coinsWhen === 'reopened' && (await until(() => device.accepting, OPEN_WAIT_MS, hooks));
    if (!hooks.running()) {
      hooks.notLanded('kiosk_down');
      return;
    }
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
    hooks.trace(
      `validator power lost for ${plan.downMs} ms, ${lost.length} credits unread at the cut, coins ${plan.coinsWhen}`,
    );
    if (plan.coinsWhen === 'afterRead') await nextRead(device, 2000);
    if (plan.coinsWhen === 'reopened' && plan.coinsAfter.length > 0) {
      // The customer is not waited for here: a kiosk that was accepting must reopen on its own.
      const reopened =
        wasOpen &&
        (await until(() => device.accepting, REOPEN_WAIT_MS, { ...hooks, customerGone: () => false }));
      hooks.saw(
        `validator_power_loss:${reopened ? 'coins_after_reopen' : wasOpen ? 'not_reopened' : 'was_shut'}`,
      );
    }
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
      if (!accepting || device.accepting) {
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
  if (!(await until(() => device.accepting, OPEN_WAIT_MS, hooks)) || !hooks.running()) {
    hooks.saw('validator_overflow:not_accepting');
    hooks.notLanded(hooks.running() ? 'channels_shut' : 'kiosk_down');
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
