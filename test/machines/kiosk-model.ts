/**
 * Model-based testing of the kiosk machine (see model.ts for the idea). The session is an opaque
 * child here: its outcomes (paid, unresolved, crashed) are the child's done/error events. Rules
 * checked after every step: the kiosk itself never enables the acceptor, and every coin that
 * arrives while no session can take it is reported (`strayCents`).
 */
import { createActor, fromPromise, SimulatedClock, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { kioskMachine, type KioskInput } from '../../machines/kiosk.machine.js';
import { keyOfTaken } from '../../machines/state-nodes.js';
import {
  activeAfters,
  activeInvokes,
  delayMs,
  describeEvent,
  generatePathsWith,
  type AnyEvent,
  type ModelPath,
  type ReplayResult,
  type Snap,
} from './model.js';
import { CARD, TEST_CONFIG } from './fakes.js';

type KSnap = SnapshotFrom<typeof kioskMachine>;

const session = (outcome: string) => ({
  outcome,
  inserted: 200,
  paid: outcome === 'paid' ? 200 : 0,
  credited: 0,
  unclaimed: outcome === 'paid' ? 0 : 200,
  transactionId: 'STX',
  voucherCode: null,
});

const OUTCOMES: Record<string, ({ kind: 'done'; output: unknown } | { kind: 'error'; error: unknown })[]> = {
  selfTest: [
    { kind: 'done', output: { apiReachable: true, devices: {} } },
    { kind: 'done', output: { apiReachable: false, devices: {} } },
    { kind: 'done', output: { apiReachable: true, devices: { printer: 'offline' } } },
    { kind: 'done', output: { apiReachable: true, pairingLost: true, devices: {} } },
    { kind: 'error', error: new Error('self-test crashed') },
  ],
  recover: [
    { kind: 'done', output: { unresolved: 0 } },
    { kind: 'done', output: { unresolved: 1 } },
    { kind: 'error', error: new Error('journal unreadable') },
  ],
  topup: [
    { kind: 'done', output: session('paid') },
    { kind: 'done', output: session('unresolved') },
    { kind: 'error', error: new Error('flow crashed') },
  ],
  checkout: [
    { kind: 'done', output: session('paid') },
    { kind: 'error', error: new Error('flow crashed') },
  ],
  // The technician's menu: "leave maintenance" finishes it; a crash leaves maintenance without it.
  serviceMenu: [
    { kind: 'done', output: { left: true } },
    { kind: 'error', error: new Error('menu crashed') },
  ],
};

export const KIOSK_MODELS: { name: string; input: KioskInput }[] = [
  {
    name: 'kiosk (top-up)',
    input: { bootId: 'B', config: { mode: 'topup', receiptsRequired: true, session: TEST_CONFIG } },
  },
  {
    name: 'kiosk (checkout)',
    input: {
      bootId: 'B',
      config: { mode: 'checkout', receiptsRequired: false, session: { ...TEST_CONFIG, terminal: false } },
    },
  },
];

function kioskEvents(snap: Snap): AnyEvent[] {
  const s = snap as unknown as KSnap;
  if (s.status !== 'active') return [];
  const c = s.context;
  const events: AnyEvent[] = [
    { type: 'BUTTON', name: 'ok' },
    { type: 'BUTTON', name: 'service' },
    { type: 'BUTTON_LONG', name: 'service' },
    { type: 'SCAN', data: CARD },
    { type: 'MAINTENANCE', on: true },
    { type: 'MAINTENANCE', on: false },
    { type: 'LOCK' },
    { type: 'UNLOCK' },
    { type: 'RECOVERY_DONE' },
    { type: 'RECOVERY_FAILED', reason: 'journal' },
    { type: 'TICK', now: c.now },
    { type: 'STOCK', slotStock: { A1: 1 } },
  ];
  // What the service menu tells the kiosk (it runs only in maintenance): logged in or out. The PIN gate
  // it carries is only kept and handed to the next menu (test/machines/service-menu.test.ts).
  if (s.matches('maintenance') && c.menuRunning) {
    events.push({ type: 'SERVICE_STATUS', loggedIn: !c.serviceLoggedIn, failedTries: 0, lockedUntil: null });
  }
  for (const device of ['printer', 'acceptor'] as const) {
    events.push({ type: 'DEVICE', device, health: c.devices[device] === 'ok' ? 'offline' : 'ok' });
  }
  if (c.strayCents === 0) events.push({ type: 'COIN', cents: 200 });
  // Coins held unwritten (the journal's disk failed): recorded for the screen, forwarded while serving.
  events.push({ type: 'COINS_HELD', cents: (c.heldCents ?? 0) > 0 ? 0 : 50 });
  // What a child emitted, sent up (machines/emit-up.ts): the kiosk emits it, whatever its state.
  if (s.matches('serving') || s.matches('maintenance')) {
    events.push({ type: 'CHILD_EMITTED', emitted: { type: 'coin_accepted', cents: 100 } });
  }
  // The app tells it once (the token manager stays lost); later ones change nothing.
  if (!c.pairingLost) events.push({ type: 'PAIRING_LOST' });
  for (const a of activeAfters(snap)) events.push({ type: a.eventType });
  for (const inv of activeInvokes(snap)) {
    for (const o of OUTCOMES[inv.src] ?? []) {
      events.push(
        o.kind === 'done'
          ? { type: `xstate.done.actor.${inv.id}`, output: o.output }
          : { type: `xstate.error.actor.${inv.id}`, error: o.error },
      );
    }
  }
  return events;
}

function kioskSerialize(snap: Snap): string {
  const s = snap as unknown as KSnap;
  const c = s.context;
  return JSON.stringify([
    s.value,
    c.locked,
    c.maintenanceRequested,
    c.reason,
    c.devices,
    c.apiReachable,
    c.pairingLost,
    c.lastSession?.outcome ?? null,
    c.strayCents,
    c.serviceLoggedIn,
    c.maintenanceOffPending,
    c.menuRunning,
    c.heldCents ?? 0,
  ]);
}

export function generateKioskPaths(input: KioskInput): ModelPath[] {
  return generatePathsWith(kioskMachine, input, kioskEvents, kioskSerialize);
}

export async function replayKiosk(input: KioskInput, path: ModelPath): Promise<ReplayResult> {
  const clock = new SimulatedClock();
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const fake = (src: string) =>
    fromPromise(
      () =>
        new Promise((resolve, reject) => {
          pending.set(src, { resolve, reject });
        }),
    );
  const acceptor: boolean[] = [];
  const statesReached = new Set<string>();
  const transitionsTaken = new Set<string>();
  const machine = kioskMachine.provide({
    actors: {
      selfTest: fake('selfTest'),
      recover: fake('recover'),
      topup: fake('topup'),
      checkout: fake('checkout'),
      serviceMenu: fake('serviceMenu'),
    } as never,
    actions: {
      setAcceptor: (_, p) => {
        acceptor.push(p.enabled);
      },
    },
  });
  const actor = createActor(machine, {
    input,
    clock,
    inspect: (ev) => {
      // Only state machines take microsteps; the fake children are promise actors.
      if (ev.type !== '@xstate.microstep') return;
      for (const n of (ev.snapshot as KSnap)._nodes) statesReached.add(n.path.join('.') || '(root)');
      for (const tr of (ev as unknown as { _transitions: { eventType: string | null }[] })._transitions) {
        if (tr.eventType !== null) transitionsTaken.add(keyOfTaken(tr as never));
      }
    },
  });
  let expectedStray = 0;
  const check = () => {
    const s = actor.getSnapshot();
    for (const n of s._nodes) statesReached.add(n.path.join('.') || '(root)');
    if (acceptor.includes(true)) throw new Error('the kiosk enabled the acceptor itself');
    if (s.context.strayCents !== expectedStray) {
      throw new Error(`stray coins ${s.context.strayCents}, expected ${expectedStray}`);
    }
  };
  actor.start();
  // Starting enters the initial state; xstate reports only where the first macrostep settles.
  for (const n of kioskMachine.root.initial?.target ?? []) statesReached.add(n.path.join('.'));
  await new Promise<void>((r) => setImmediate(r));
  check();
  for (let i = 0; i < path.events.length; i++) {
    const e = path.events[i] as AnyEvent;
    const s = actor.getSnapshot();
    if (e.type.startsWith('xstate.done.actor.') || e.type.startsWith('xstate.error.actor.')) {
      const id = e.type.replace(/^xstate\.(done|error)\.actor\./, '');
      const inv = activeInvokes(s as never).find((x) => x.id === id);
      const p = inv && pending.get(inv.src);
      if (!p || !inv) throw new Error(`no pending actor ${id}`);
      pending.delete(inv.src);
      if (e.type.startsWith('xstate.done')) p.resolve(e.output);
      else p.reject(e.error);
    } else if (e.type.startsWith('xstate.after.')) {
      const after = activeAfters(s as never).find((a) => a.eventType === e.type);
      if (!after) throw new Error(`no timer ${e.type}`);
      clock.increment(delayMs({ machine: kioskMachine as AnyStateMachine }, s, after.delay));
    } else {
      if (e.type === 'COIN' && !s.matches('idle') && !s.matches('serving')) expectedStray += Number(e.cents);
      actor.send(e as never);
    }
    await new Promise<void>((r) => setImmediate(r));
    check();
    const got = kioskSerialize(actor.getSnapshot() as never);
    if (got !== path.states[i]) {
      throw new Error(`step ${i + 1} (${describeEvent(e)}): expected ${path.states[i]}, got ${got}`);
    }
  }
  actor.stop();
  return {
    statesReached,
    transitionsTaken,
    finalMoney: { inserted: 0, paid: 0, credited: 0, unclaimed: 0, changed: 0, returned: 0, reversed: 0 },
    finishedBy: 'path',
  };
}
