/**
 * The `params` of a named action or guard that reads an actor's answer, where the state config is
 * not written inside `createMachine` (shared configs, config helpers), so the done event is named
 * here. Spread into a machine, xstate checks it against the actor the invoke runs. Inside a machine's
 * own config `params: ({ event }) => event.output` is typed by the invoke already.
 */
import type { DoneActorEvent } from 'xstate';

export function doneOutput<T>() {
  return ({ event }: { event: DoneActorEvent<T> }) => event.output;
}
