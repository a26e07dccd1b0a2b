/**
 * Test doubles for the flow machines: every actor a sinon stub behind `fromPromise`, every provided
 * action recorded, time on xstate's SimulatedClock. A test reads like a customer's story.
 */
import type { PayChangeOutput, ReleaseItemOutput, ReverseTerminalOutput } from '../../machines/vend-ports.js';
import sinon from 'sinon';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import type { CheckoutMachine } from '../../machines/checkout.machine.js';
import type { TopupMachine } from '../../machines/topup.machine.js';
import { ApiError, type ApiErrorKind, type Outcome } from '../../src/api/errors.js';
import type {
  CancelOutput,
  CardInfo,
  CreditCardOutput,
  FlowEvent,
  LookupCardOutput,
  PaymentResult,
  PreTransactionOutput,
  ReadBackOutput,
  RecordUnclaimedOutput,
  RedeemVoucherOutput,
  TransactionRef,
} from '../../machines/ports.js';
import type { SessionConfig, SessionInput } from '../../machines/session-context.js';
import type { HardwareEvent } from '../../machines/events.js';
import type { SessionEvent } from '../../machines/session.setup.js';

export const CARD = '9276004429942845';
export const OTHER_CARD = '9276000000000001';

export function card(over: Partial<CardInfo> = {}): CardInfo {
  return {
    valid: true,
    lockStatus: 'unlocked',
    stockStatus: 'active',
    passcode: 0,
    balance: 1250,
    cashBalance: 1000,
    bonusBalance: 250,
    groupName: 'Stammkunde',
    ...over,
  };
}

export const CATALOGUE: SessionConfig['catalogue'] = [
  { id: 11, desc: 'Kaffee', ean: '4006381333931', priceOne: 150, tax: 19 },
  { id: 12, desc: 'Wasser', ean: '96385074', priceOne: 250, tax: 7 },
  { id: 13, desc: 'Brezel', ean: null, priceOne: 90, tax: 7 },
];

export const TEST_CONFIG: Partial<SessionConfig> = {
  catalogue: CATALOGUE,
  topupAmounts: [500, 1000, 2000],
  maxTopup: 5000,
  inactivityMs: 30_000,
  warningMs: 10_000,
  messageMs: 3_000,
  cashlessLimitMs: 60_000,
  retryMs: 1_000,
  slowMs: 3_000,
  maxRetries: 2,
  maxReadBacks: 2,
};

export function apiError(
  kind: ApiErrorKind,
  outcome: Outcome,
  extra: { httpStatus?: number; code?: number } = {},
) {
  return new ApiError({
    kind,
    outcome,
    message: `${kind} ${outcome}`,
    operation: 'test',
    ...(extra.httpStatus !== undefined ? { httpStatus: extra.httpStatus } : {}),
    ...(extra.code !== undefined
      ? { body: { status: 'error' as const, error: 'ProductFormatException', code: extra.code } }
      : {}),
  });
}

export const RECEIPT = [{ type: 'textline' as const, value: { text: 'Danke', decoration: [] } }];

/** Stubs with successful defaults; override `.resolves/.rejects/.onCall` per test. */
export function stubs() {
  return {
    lookupCard: sinon.stub<[unknown], Promise<LookupCardOutput>>().resolves({
      kind: 'found',
      card: card(),
      transactionId: 'STX_LOOKUP',
    }),
    createTransaction: sinon.stub<[unknown], Promise<TransactionRef>>().resolves({ id: 'STX_NEW', sum: 0 }),
    updateTransaction: sinon
      .stub<[unknown], Promise<TransactionRef>>()
      .resolves({ id: 'STX_LOOKUP', sum: 0 }),
    preTransaction: sinon.stub<[unknown], Promise<PreTransactionOutput>>().resolves({ missingSum: 0 }),
    startPayment: sinon
      .stub<[unknown], Promise<PaymentResult>>()
      .resolves({ id: 'STX', status: 'ok', took: 'effect', receipt: RECEIPT, balance: 2250 }),
    readBack: sinon.stub<[unknown], Promise<ReadBackOutput>>().resolves({
      took: 'effect',
      result: { id: 'STX', status: 'ok', took: 'effect', receipt: RECEIPT, balance: 2250 },
    }),
    abortTransaction: sinon.stub<[unknown], Promise<unknown>>().resolves({}),
    cancelTransaction: sinon
      .stub<[unknown], Promise<CancelOutput>>()
      .resolves({ status: 'cancelled', took: 'cancelled' }),
    creditCard: sinon.stub<[unknown], Promise<CreditCardOutput>>().resolves({
      transactionId: 'STX_CREDIT',
      receipt: RECEIPT,
      balance: 9999,
    }),
    recordUnclaimed: sinon
      .stub<[unknown], Promise<RecordUnclaimedOutput>>()
      .resolves({ voucherCode: 'V-0001' }),
    print: sinon.stub<[unknown], Promise<unknown>>().resolves(undefined),
    redeemVoucher: sinon
      .stub<[{ code: string }], Promise<RedeemVoucherOutput>>()
      .resolves({ ok: true, cents: 500, ref: 'k-0042.AAAAAAAA' }),
    releaseItem: sinon.stub<[unknown], Promise<ReleaseItemOutput>>().resolves({ outcome: 'delivered' }),
    payChange: sinon
      .stub<[{ cents: number }], Promise<PayChangeOutput>>()
      .callsFake(async (input) => ({ paidCents: input.cents, outcome: 'complete' })),
    reverseTerminal: sinon.stub<[unknown], Promise<ReverseTerminalOutput>>().resolves({ outcome: 'ok' }),
  };
}
export type Stubs = ReturnType<typeof stubs>;

/** Lets promise chains of resolved actors settle (no wall-clock time involved). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The flow with every actor a stub and every action recorded. */
export function provideSession(
  machine: SessionMachine | TopupMachine,
  s: Stubs,
  acceptor: boolean[],
  /** The `accept` list of every setAcceptor call, in step with `acceptor` (undefined: all coins). */
  accepts: (readonly number[] | undefined)[] = [],
): SessionMachine {
  const actors = Object.fromEntries(
    Object.entries(s).map(([name, stub]) => [
      name,
      fromPromise(({ input }: { input: unknown }) => (stub as sinon.SinonStub)(input) as Promise<unknown>),
    ]),
  );
  return (machine as SessionMachine).provide({
    actions: {
      setAcceptor: (_: unknown, p: { enabled: boolean; accept?: readonly number[] }) => {
        acceptor.push(p.enabled);
        accepts.push(p.accept);
      },
    },
    actors,
  } as never);
}

/** Both flows share setup and context; the harness treats them alike. */
type SessionMachine = CheckoutMachine;

export function run(
  machine: SessionMachine | TopupMachine,
  opts: { config?: Partial<SessionConfig>; firstEvent?: HardwareEvent; stubs?: Stubs } = {},
) {
  const s = opts.stubs ?? stubs();
  const clock = new SimulatedClock();
  const acceptor: boolean[] = [];
  const accepts: (readonly number[] | undefined)[] = [];
  const events: FlowEvent[] = [];
  const provided = provideSession(machine, s, acceptor, accepts);
  const input: SessionInput = {
    sessionId: 'S1',
    config: { ...TEST_CONFIG, ...opts.config },
    firstEvent: opts.firstEvent ?? null,
  };
  const actor = createActor(provided, { input, clock });
  actor.on('*', (e) => events.push(e));
  actor.start();
  const h = {
    actor,
    clock,
    stubs: s,
    acceptor,
    events,
    get snapshot() {
      return actor.getSnapshot();
    },
    value(): string {
      return stateString(actor.getSnapshot().value);
    },
    get context() {
      return actor.getSnapshot().context;
    },
    async send(...evs: SessionEvent[]) {
      for (const e of evs) {
        actor.send(e);
        await flush();
      }
    },
    async press(...names: string[]) {
      for (const name of names) await h.send({ type: 'BUTTON', name } as HardwareEvent);
    },
    async coins(...cents: number[]) {
      for (const c of cents) await h.send({ type: 'COIN', cents: c });
    },
    async flushAll() {
      await flush(10);
    },
    async advance(ms: number) {
      clock.increment(ms);
      await flush();
    },
    acceptorOn(): boolean {
      return acceptor.at(-1) === true;
    },
    /** The coin values the last setAcceptor asked for (undefined: all, or the acceptor is off). */
    acceptList(): readonly number[] | undefined {
      return accepts.at(-1);
    },
  };
  return h;
}

export function stateString(value: unknown): string {
  if (typeof value === 'string') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.map(([k, v]) => `${k}.${stateString(v)}`).join(',');
}

export function money(ctx: { inserted: number; paid: number; credited: number; unclaimed: number }) {
  return { inserted: ctx.inserted, paid: ctx.paid, credited: ctx.credited, unclaimed: ctx.unclaimed };
}
