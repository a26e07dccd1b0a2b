/**
 * The fleet's topic tree, `kiosk/v1/{id}/...`. The kiosk id stands alone in one topic level so the
 * broker's ACL can bind rights to it (`%u` / `%c`); site, tenant and location travel in payloads, so a
 * kiosk that moves keeps its topics. Changing this tree is a versioned change (`v1` -> `v2`).
 */

export const TOPIC_VERSION = 'v1';
export const TOPIC_ROOT = `kiosk/${TOPIC_VERSION}`;

/** Letters, digits, `-` and `_`: never `/`, `+`, `#` or `$`, which would break topic levels and ACLs. */
export const KIOSK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Names used in a topic level (`alert/{name}`, `evt/{type}`, `cmd/{name}`). */
export const TOPIC_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function isKioskId(id: string): boolean {
  return KIOSK_ID_PATTERN.test(id);
}

export interface KioskTopics {
  readonly base: string;
  readonly state: string;
  readonly birth: string;
  readonly health: string;
  alert(name: string): string;
  evt(type: string): string;
  cmd(name: string): string;
  /** `cmd/+`: what the kiosk subscribes to. */
  readonly cmdAll: string;
  readonly cmdres: string;
  readonly configDesired: string;
  readonly configReported: string;
}

/** Topic builders for one kiosk. Throws on an id or name that would break the topic tree (a programming error). */
export function kioskTopics(id: string): KioskTopics {
  if (!isKioskId(id)) throw new Error(`invalid kiosk id for MQTT topics: ${JSON.stringify(id)}`);
  const base = `${TOPIC_ROOT}/${id}`;
  const named = (kind: string, name: string): string => {
    if (!TOPIC_NAME_PATTERN.test(name)) throw new Error(`invalid ${kind} name: ${JSON.stringify(name)}`);
    return `${base}/${kind}/${name}`;
  };
  return {
    base,
    state: `${base}/state`,
    birth: `${base}/birth`,
    health: `${base}/health`,
    alert: (name) => named('alert', name),
    evt: (type) => named('evt', type),
    cmd: (name) => named('cmd', name),
    cmdAll: `${base}/cmd/+`,
    cmdres: `${base}/cmdres`,
    configDesired: `${base}/config/desired`,
    configReported: `${base}/config/reported`,
  };
}

/** Subscriptions for the back end (dashboard): retained and live topics of all kiosks, and the shared event stream. */
export const fleetSubscriptions = {
  /** Everything of every kiosk (retained state, birth, health, alerts, config, cmdres; events too). */
  all: `${TOPIC_ROOT}/+/#`,
  /** Events only, shared between several workers of one group (each event goes to one worker). */
  sharedEvents: (group: string): string => `$share/${group}/${TOPIC_ROOT}/+/evt/#`,
} as const;

export type KioskTopicKind =
  'state' | 'birth' | 'health' | 'alert' | 'evt' | 'cmd' | 'cmdres' | 'config/desired' | 'config/reported';

export interface ParsedKioskTopic {
  id: string;
  kind: KioskTopicKind;
  /** The alert name, event type or command name for `alert`, `evt`, `cmd`. */
  name?: string;
}

/** Reads a topic of the tree; undefined for anything that is not a `kiosk/v1` topic of a known kind. */
export function parseKioskTopic(topic: string): ParsedKioskTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const id = parts[2] ?? '';
  if (!isKioskId(id)) return undefined;
  const rest = parts.slice(3);
  const [a, b] = rest;
  if (rest.length === 1 && (a === 'state' || a === 'birth' || a === 'health' || a === 'cmdres')) {
    return { id, kind: a };
  }
  if (rest.length === 2 && (a === 'alert' || a === 'evt' || a === 'cmd') && b && TOPIC_NAME_PATTERN.test(b)) {
    return { id, kind: a, name: b };
  }
  if (rest.length === 2 && a === 'config' && (b === 'desired' || b === 'reported')) {
    return { id, kind: `config/${b}` };
  }
  return undefined;
}
