/**
 * How a machine that may run as a child (a checkout or top-up session, the service menu) tells its
 * outgoing events. xstate 5 delivers an `emit` only to listeners on the emitting actor, and a parent
 * cannot listen to its child's emits; the app could not either, since a child emits at its start
 * (the replayed first coin) before the app sees it. So the event is emitted (typed by the machine's
 * `types.emitted`: a session or the menu run alone, in tests) and, when a parent runs the machine,
 * also sent up as `CHILD_EMITTED`, which the kiosk emits in turn: the app listens on the kiosk alone.
 * The parent's mailbox keeps their order, and the child's done event comes after them.
 */
import type { AnyActorRef } from 'xstate';
import type { ChildEmittedEvent } from './events.js';
import type { FlowEvent, ServiceReportEvent } from './ports.js';

/** The part of xstate's `enqueue` (enqueueActions) this needs, typed with the machine's emitted events. */
export interface EmitEnqueuer<E extends ChildEmittedEvent['emitted']> {
  emit(event: E): void;
  sendParent(event: ChildEmittedEvent): void;
}

export function emitUp<E extends FlowEvent | ServiceReportEvent>(
  enqueue: EmitEnqueuer<E>,
  self: Pick<AnyActorRef, '_parent'>,
  event: E,
): void {
  enqueue.emit(event);
  if (self._parent) enqueue.sendParent({ type: 'CHILD_EMITTED', emitted: event });
}
