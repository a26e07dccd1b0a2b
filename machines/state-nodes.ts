/**
 * Walks a machine definition: its leaf states (what a snapshot can be in) and every transition.
 * Used by the screen check, the coverage script and the diagram generator, so that all three see
 * the same list.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

export function allStateNodes(machine: AnyStateMachine): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    out.push(node);
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child);
  };
  walk(machine.root);
  return out;
}

/** Leaf states as dotted paths ("pay.starting"); history pseudo-states are not states one can be in. */
export function leafPaths(machine: AnyStateMachine): string[] {
  return allStateNodes(machine)
    .filter((n) => n.type !== 'history' && Object.keys(n.states).length === 0 && n.path.length > 0)
    .map((n) => n.path.join('.'));
}

export interface TransitionInfo {
  /** Stable key: source path, event type, index among that event's transitions. */
  key: string;
  source: string;
  event: string;
  targets: string[];
  guard: string | null;
}

function describeGuard(guard: unknown): string | null {
  if (!guard) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard)
    return String((guard as { type: string }).type);
  if (typeof guard === 'function') {
    const f = guard as { name?: string; guards?: unknown[] };
    // xstate's and()/or()/not() keep their operands in `guards`.
    if (Array.isArray(f.guards) && f.name) return `${f.name}(${f.guards.map(describeGuard).join(', ')})`;
    return f.name || 'inline';
  }
  return 'guard';
}

export function transitionKey(source: AnyStateNode, eventType: string, index: number): string {
  return `${source.path.join('.') || '(root)'} | ${eventType} | ${index}`;
}

/** Every transition of the machine, eventless ones as event `always`. */
export function allTransitions(machine: AnyStateMachine): TransitionInfo[] {
  const out: TransitionInfo[] = [];
  for (const node of allStateNodes(machine)) {
    for (const [eventType, list] of node.transitions) {
      list.forEach((tr, i) =>
        out.push({
          key: transitionKey(node, eventType, i),
          source: node.path.join('.') || '(root)',
          event: eventType,
          targets: (tr.target ?? []).map((t: AnyStateNode) => t.path.join('.')),
          guard: describeGuard(tr.guard),
        }),
      );
    }
    (node.always ?? []).forEach((tr, i) =>
      out.push({
        key: transitionKey(node, 'always', i),
        source: node.path.join('.') || '(root)',
        event: 'always',
        targets: (tr.target ?? []).map((t: AnyStateNode) => t.path.join('.')),
        guard: describeGuard(tr.guard),
      }),
    );
  }
  return out;
}

/** The key of a taken transition definition (as reported by xstate's `@xstate.microstep` inspection). */
export function keyOfTaken(tr: { source: AnyStateNode; eventType: string }): string {
  const list =
    tr.eventType === '' ? (tr.source.always ?? []) : (tr.source.transitions.get(tr.eventType) ?? []);
  const index = (list as unknown[]).indexOf(tr);
  return transitionKey(tr.source, tr.eventType === '' ? 'always' : tr.eventType, index);
}
