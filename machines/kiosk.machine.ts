/**
 * The kiosk's own life: booting -> selfTest -> recovering -> idle (attract screen) -> serving (a
 * checkout or top-up session as the child `flow`) -> back to idle; maintenance (service long-press
 * or fleet command) and fleet locks wait until no customer is paying; out of service with a reason
 * until the cause goes away. The flow machines are actors here so that the app can hand in provided
 * versions: `kioskMachine.provide({ actors: { topup: topupMachine.provide({...}), ... } })`.
 *
 * Recovery contract (the journal implements it): `recovering` invokes the `recover` actor; it may
 * finish (done -> serve, error -> out of service `recovery_failed`) or, if it is a callback actor,
 * answer with `RECOVERY_DONE` / `RECOVERY_FAILED`.
 */
import {
  and,
  assign,
  emit,
  enqueueActions,
  fromPromise,
  not,
  sendTo,
  setup,
  type SnapshotFrom,
} from 'xstate';
import {
  heldCoinsOf,
  type ChildEmittedEvent,
  type KioskInputEvent,
  type ServiceStatusEvent,
} from './events.js';
import { blockingReason, type OutOfServiceReason } from './kiosk-health.js';
import type { DeviceHealth } from '../src/contracts/device.js';
import type {
  DeviceName,
  FlowEvent,
  RecoverOutput,
  SelfTestOutput,
  ServiceReportEvent,
  SetAcceptorParams,
} from './ports.js';
import type { SessionConfig, SessionOutput } from './session-context.js';
import { checkoutMachine } from './checkout.machine.js';
import { topupMachine } from './topup.machine.js';
import { serviceMenuMachine, type PinGate, type ServiceMenuConfig } from './service-menu.machine.js';

export interface KioskConfig {
  mode: 'topup' | 'checkout';
  /** Out of service when the printer is offline. */
  receiptsRequired: boolean;
  /** Pause before a new self-test when out of service for a reason that may pass (API). */
  recheckMs: number;
  session: Partial<SessionConfig>;
  /** The service menu's PIN rules (the PIN hash stays with the app's `checkPin`). */
  service: Partial<ServiceMenuConfig>;
}

export interface KioskInput {
  /** Unique per boot (e.g. time + random): session and job ids never repeat across restarts. */
  bootId: string;
  config: Partial<KioskConfig> & Pick<KioskConfig, 'mode'>;
}

export interface KioskContext {
  cfg: KioskConfig;
  bootId: string;
  sessionSeq: number;
  now: number;
  ticks: number;
  devices: Record<DeviceName, DeviceHealth>;
  apiReachable: boolean;
  /** The device pairing is dead: out of service until an operator pairs again and restarts. */
  pairingLost: boolean;
  locked: boolean;
  /** Maintenance asked for while a customer was paying: entered when the session ends. */
  maintenanceRequested: boolean;
  reason: OutOfServiceReason | null;
  firstEvent: Extract<KioskInputEvent, { type: 'BUTTON' | 'SCAN' | 'COIN' }> | null;
  lastSession: SessionOutput | null;
  /** Coins that arrived while nobody could be served (acceptor should be inhibited): reported as debt. */
  strayCents: number;
  /** Coins held unwritten by the app (COINS_HELD): shown on the out-of-service screen until written. */
  heldCents?: number;
  /** The service menu's PIN gate, kept here so that a new menu (maintenance re-entered) starts from it. */
  serviceGate: PinGate;
  /** A technician is logged in to the service menu. */
  serviceLoggedIn: boolean;
  /** The fleet ended maintenance while a technician was logged in: left when they log out. */
  maintenanceOffPending: boolean;
  /** The menu child runs (it does in maintenance unless it crashed). */
  menuRunning: boolean;
  /** Maintenance came from the fleet and no button was pressed since: the screen says "Wartung". */
  maintenanceByFleet: boolean;
}

export type KioskEvent = KioskInputEvent | ServiceStatusEvent | ChildEmittedEvent;

/**
 * Everything the kiosk tells the app (`actor.on`): its own faults and debts, and what its children
 * emit (a session's `FlowEvent`s, the menu's reports), in the order they happened.
 */
export type KioskEmitted = FlowEvent | ServiceReportEvent;

type DoneFlow = { output: SessionOutput };

/** Session ids are derived, never stored twice: the app journals coins under the same id. */
export function sessionIdOf(bootId: string, sessionSeq: number): string {
  return `${bootId}-${sessionSeq}`;
}

/** Both flows are invoked alike: same id (the screen and the app look for `flow`), input and endings. */
function sessionInvoke(src: 'topup' | 'checkout') {
  return {
    id: 'flow',
    src,
    input: ({ context }: { context: KioskContext }) => ({
      sessionId: sessionIdOf(context.bootId, context.sessionSeq),
      // The printer as it is now: with paper low or out the customer is told before paying.
      config: { ...context.cfg.session, receiptPossible: context.devices.printer === 'ok' },
      firstEvent: context.firstEvent,
      now: context.now,
    }),
    onDone: { target: '#kiosk.afterSession', actions: 'recordSession' },
    onError: {
      target: '#kiosk.outOfService',
      actions: { type: 'setReason', params: { reason: 'internal' } },
    },
  } as const;
}

export const kioskMachine = setup({
  types: {
    context: {} as KioskContext,
    events: {} as KioskEvent,
    input: {} as KioskInput,
    emitted: {} as KioskEmitted,
  },
  actors: {
    selfTest: fromPromise<SelfTestOutput>(async () => ({ apiReachable: true, devices: {} })),
    recover: fromPromise<RecoverOutput>(async () => ({ unresolved: 0 })),
    topup: topupMachine,
    checkout: checkoutMachine,
    serviceMenu: serviceMenuMachine,
  },
  delays: {
    recheck: ({ context }) => context.cfg.recheckMs,
  },
  actions: {
    setAcceptor: (_, _params: SetAcceptorParams) => {},
    /** A child's event (machines/emit-up.ts), emitted as the kiosk's own. */
    emitChildEvent: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'CHILD_EMITTED') enqueue.emit(event.emitted);
    }),
    forwardToFlow: sendTo('flow', ({ event }) => event),
    /** Only while the menu runs (after a crash of the menu, maintenance goes on without it). */
    forwardToMenu: enqueueActions(({ context, event, enqueue }) => {
      if (context.menuRunning) enqueue.sendTo('menu', event);
    }),
    menuStarted: assign({ menuRunning: true }),
    recordService: assign(({ event }) =>
      event.type === 'SERVICE_STATUS'
        ? {
            serviceGate: { failedTries: event.failedTries, lockedUntil: event.lockedUntil },
            serviceLoggedIn: event.loggedIn,
          }
        : {},
    ),
    deferMaintenanceOff: assign({ maintenanceOffPending: true }),
    cancelMaintenanceOff: assign({ maintenanceOffPending: false }),
    leaveService: assign({ serviceLoggedIn: false, maintenanceOffPending: false, menuRunning: false }),
    reportMenuCrash: enqueueActions(({ event, enqueue }) => {
      const err = (event as unknown as { error?: unknown }).error;
      enqueue.assign({ menuRunning: false, serviceLoggedIn: false });
      enqueue.emit({
        type: 'fault',
        what: 'service_menu',
        detail: err instanceof Error ? err.message : String(err),
      });
    }),
    tick: assign(({ context, event }) =>
      event.type === 'TICK' ? { now: event.now, ticks: context.ticks + 1 } : {},
    ),
    rememberFirstEvent: assign(({ event }) =>
      event.type === 'BUTTON' || event.type === 'SCAN' || event.type === 'COIN' ? { firstEvent: event } : {},
    ),
    newSession: assign(({ context }) => ({ sessionSeq: context.sessionSeq + 1 })),
    recordDevice: assign(({ context, event }) =>
      event.type === 'DEVICE' ? { devices: { ...context.devices, [event.device]: event.health } } : {},
    ),
    recordHeldCoins: assign(({ event }) => {
      const cents = heldCoinsOf(event);
      return cents === null ? {} : { heldCents: cents };
    }),
    recordStock: assign(({ context, event }) => {
      if (event.type !== 'STOCK') return {};
      const session = { ...context.cfg.session, slotStock: { ...event.slotStock } };
      if (typeof event.givesChange === 'boolean') session.givesChange = event.givesChange;
      if (Array.isArray(event.coinValues)) session.coinValues = event.coinValues.filter(Number.isSafeInteger);
      return { cfg: { ...context.cfg, session } };
    }),
    recordSelfTest: assign(({ context, event }) => {
      const out = (event as unknown as DoneFlow & { output: SelfTestOutput }).output;
      return {
        apiReachable: out.apiReachable,
        pairingLost: out.pairingLost ?? false,
        devices: { ...context.devices, ...out.devices },
      };
    }),
    recordSession: enqueueActions(({ event, enqueue }) => {
      const out = (event as unknown as DoneFlow).output;
      enqueue.assign({ lastSession: out, firstEvent: null });
      if (out.outcome === 'unresolved') enqueue.assign({ reason: 'api_unresolved' as const });
    }),
    setReason: assign((_, params: { reason: OutOfServiceReason }) => ({ reason: params.reason })),
    reasonFromHealth: assign(({ context }) => ({ reason: blockingReason(healthView(context)) })),
    recordPairingLost: assign({ pairingLost: true }),
    lock: assign({ locked: true }),
    unlock: assign({ locked: false }),
    requestMaintenance: assign(({ event }) => ({
      maintenanceRequested: event.type === 'MAINTENANCE' ? event.on : true,
      maintenanceByFleet: event.type === 'MAINTENANCE',
    })),
    noteMaintenanceSource: assign(({ event }) => ({ maintenanceByFleet: event.type === 'MAINTENANCE' })),
    buttonInMaintenance: assign({ maintenanceByFleet: false }),
    clearMaintenance: assign({ maintenanceRequested: false }),
    clearReason: assign({ reason: null }),
    reportStrayCoin: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'COIN') return;
      enqueue.assign({ strayCents: context.strayCents + event.cents });
      enqueue.emit({ type: 'coin_accepted', cents: event.cents });
      enqueue.emit({
        type: 'debt',
        transactionId: null,
        cents: event.cents,
        detail: 'coin while not serving',
      });
    }),
    reportOutOfService: emit(({ context }) => ({
      type: 'fault' as const,
      what: 'out_of_service',
      detail: context.reason ?? '',
    })),
  },
  guards: {
    isTopup: ({ context }) => context.cfg.mode === 'topup',
    isServiceButton: ({ event }) =>
      (event.type === 'BUTTON_LONG' || event.type === 'BUTTON') && event.name === 'service',
    maintenanceOn: ({ event }) => event.type === 'MAINTENANCE' && event.on,
    maintenanceOff: ({ event }) => event.type === 'MAINTENANCE' && !event.on,
    locked: ({ context }) => context.locked,
    serviceLoggedIn: ({ context }) => context.serviceLoggedIn,
    loggedOutWithOffPending: ({ context, event }) =>
      event.type === 'SERVICE_STATUS' && !event.loggedIn && context.maintenanceOffPending,
    maintenanceRequested: ({ context }) => context.maintenanceRequested,
    blocked: ({ context }) => blockingReason(healthView(context)) !== null,
    recoveryLeftDebts: ({ event }) =>
      ((event as unknown as { output: RecoverOutput }).output?.unresolved ?? 0) > 0,
    sessionUnresolved: ({ context }) => context.lastSession?.outcome === 'unresolved',
    /** Reasons that may pass by themselves: try the self-test again later. */
    mayRecheck: ({ context }) =>
      context.reason === 'api_unreachable' ||
      context.reason === 'api_unresolved' ||
      context.reason === 'recovery_failed' ||
      context.reason === 'self_test',
  },
}).createMachine({
  id: 'kiosk',
  context: ({ input }) => ({
    cfg: {
      receiptsRequired: false,
      recheckMs: 60_000,
      session: {},
      service: {},
      ...input.config,
    },
    bootId: input.bootId,
    sessionSeq: 0,
    now: 0,
    ticks: 0,
    devices: { printer: 'ok', reader: 'ok', acceptor: 'ok', display: 'ok', storage: 'ok' },
    apiReachable: true,
    pairingLost: false,
    locked: false,
    maintenanceRequested: false,
    reason: null,
    firstEvent: null,
    lastSession: null,
    strayCents: 0,
    heldCents: 0,
    serviceGate: { failedTries: 0, lockedUntil: null },
    serviceLoggedIn: false,
    maintenanceOffPending: false,
    menuRunning: false,
    maintenanceByFleet: false,
  }),
  on: {
    TICK: { actions: 'tick' },
    DEVICE: { actions: 'recordDevice' },
    COINS_HELD: { actions: 'recordHeldCoins' },
    LOCK: { actions: 'lock' },
    UNLOCK: { actions: 'unlock' },
    COIN: { actions: 'reportStrayCoin' },
    STOCK: { actions: 'recordStock' },
    // While serving only noted: the session ends as its calls fail, then `evaluating` blocks.
    PAIRING_LOST: { actions: 'recordPairingLost' },
    CHILD_EMITTED: { actions: 'emitChildEvent' },
  },
  entry: { type: 'setAcceptor', params: { enabled: false } },
  initial: 'booting',
  states: {
    booting: { always: 'selfTest' },
    selfTest: {
      invoke: {
        id: 'selfTest',
        src: 'selfTest',
        onDone: { target: 'recovering', actions: 'recordSelfTest' },
        onError: { target: 'outOfService', actions: { type: 'setReason', params: { reason: 'self_test' } } },
      },
    },
    recovering: {
      invoke: {
        id: 'recover',
        src: 'recover',
        onDone: [
          {
            guard: 'recoveryLeftDebts',
            target: 'outOfService',
            actions: { type: 'setReason', params: { reason: 'recovery_failed' } },
          },
          { target: 'evaluating' },
        ],
        onError: {
          target: 'outOfService',
          actions: { type: 'setReason', params: { reason: 'recovery_failed' } },
        },
      },
      on: {
        RECOVERY_DONE: 'evaluating',
        RECOVERY_FAILED: {
          target: 'outOfService',
          actions: { type: 'setReason', params: { reason: 'recovery_failed' } },
        },
      },
    },
    evaluating: {
      always: [
        {
          guard: 'locked',
          target: 'outOfService',
          actions: { type: 'setReason', params: { reason: 'locked' } },
        },
        { guard: 'maintenanceRequested', target: 'maintenance' },
        { guard: 'blocked', target: 'outOfService', actions: 'reasonFromHealth' },
        { target: 'idle', actions: 'clearReason' },
      ],
    },
    idle: {
      entry: { type: 'setAcceptor', params: { enabled: false } },
      on: {
        BUTTON: [
          // The service button is for technicians (long press); a short press does not start a session.
          { guard: 'isServiceButton' },
          { target: 'serving', actions: 'rememberFirstEvent' },
        ],
        BUTTON_LONG: { guard: 'isServiceButton', target: 'maintenance', actions: 'noteMaintenanceSource' },
        SCAN: { target: 'serving', actions: 'rememberFirstEvent' },
        // A coin wakes the kiosk: the session accounts for it.
        COIN: { target: 'serving', actions: 'rememberFirstEvent' },
        MAINTENANCE: { guard: 'maintenanceOn', target: 'maintenance', actions: 'noteMaintenanceSource' },
        LOCK: { target: 'evaluating', actions: 'lock' },
        DEVICE: { target: 'evaluating', actions: 'recordDevice' },
        PAIRING_LOST: { target: 'evaluating', actions: 'recordPairingLost' },
      },
    },
    serving: {
      entry: 'newSession',
      initial: 'pick',
      on: {
        BUTTON: { actions: 'forwardToFlow' },
        SCAN: { actions: 'forwardToFlow' },
        COIN: { actions: 'forwardToFlow' },
        TICK: { actions: ['tick', 'forwardToFlow'] },
        DEVICE: { actions: ['recordDevice', 'forwardToFlow'] },
        COINS_HELD: { actions: ['recordHeldCoins', 'forwardToFlow'] },
        // The running session hears whether the hopper can still pay change (it dropped out, came back).
        STOCK: { actions: ['recordStock', 'forwardToFlow'] },
        // Never while a customer pays: remembered, entered when the session ends.
        BUTTON_LONG: { guard: 'isServiceButton', actions: 'requestMaintenance' },
        MAINTENANCE: { actions: 'requestMaintenance' },
      },
      states: {
        pick: { always: [{ guard: 'isTopup', target: 'topup' }, { target: 'checkout' }] },
        topup: { invoke: sessionInvoke('topup') },
        checkout: { invoke: sessionInvoke('checkout') },
      },
    },
    afterSession: {
      always: [{ guard: 'sessionUnresolved', target: 'outOfService' }, { target: 'evaluating' }],
    },
    maintenance: {
      entry: [{ type: 'setAcceptor', params: { enabled: false } }, 'clearMaintenance', 'menuStarted'],
      exit: 'leaveService',
      // The technician's menu (PIN first); it finishes when they choose "leave maintenance".
      invoke: {
        id: 'menu',
        src: 'serviceMenu',
        input: ({ context }) => ({
          config: context.cfg.service,
          gate: context.serviceGate,
          now: context.now,
        }),
        onDone: { target: 'evaluating' },
        onError: { actions: 'reportMenuCrash' },
      },
      on: {
        BUTTON: { actions: ['buttonInMaintenance', 'forwardToMenu'] },
        TICK: { actions: ['tick', 'forwardToMenu'] },
        SERVICE_STATUS: [
          { guard: 'loggedOutWithOffPending', target: 'evaluating', actions: 'recordService' },
          { actions: 'recordService' },
        ],
        // A technician at work is not thrown out by the fleet: maintenance ends when they log out.
        MAINTENANCE: [
          { guard: and(['maintenanceOff', 'serviceLoggedIn']), actions: 'deferMaintenanceOff' },
          { guard: 'maintenanceOff', target: 'evaluating' },
          { actions: 'cancelMaintenanceOff' },
        ],
        BUTTON_LONG: { guard: 'isServiceButton', target: 'evaluating' },
      },
    },
    outOfService: {
      entry: [{ type: 'setAcceptor', params: { enabled: false } }, 'reportOutOfService'],
      after: { recheck: { guard: 'mayRecheck', target: 'selfTest' } },
      on: {
        UNLOCK: { target: 'evaluating', actions: 'unlock' },
        // A device coming back may end a device fault; the API and recovery reasons wait for the recheck.
        DEVICE: { guard: not('mayRecheck'), target: 'evaluating', actions: 'recordDevice' },
        MAINTENANCE: { guard: 'maintenanceOn', target: 'maintenance', actions: 'noteMaintenanceSource' },
        BUTTON_LONG: { guard: 'isServiceButton', target: 'maintenance', actions: 'noteMaintenanceSource' },
      },
    },
  },
});

function healthView(context: KioskContext) {
  return {
    mode: context.cfg.mode,
    locked: context.locked,
    apiReachable: context.apiReachable,
    pairingLost: context.pairingLost,
    receiptsRequired: context.cfg.receiptsRequired,
    terminal: context.cfg.session.terminal ?? true,
    devices: context.devices,
  };
}

export type KioskMachine = typeof kioskMachine;

/** What the kiosk is doing, for the fleet and the status file. */
export type KioskPhase = 'starting' | 'idle' | 'serving' | 'maintenance' | 'outOfService';

/** The phase read with the machine's own typed states, so that no caller matches state names as strings. */
export function kioskPhaseOf(snapshot: SnapshotFrom<KioskMachine>): KioskPhase {
  if (snapshot.matches('maintenance')) return 'maintenance';
  if (snapshot.matches('outOfService')) return 'outOfService';
  if (snapshot.matches('serving') || snapshot.matches('afterSession')) return 'serving';
  if (snapshot.matches('idle')) return 'idle';
  return 'starting';
}
