/**
 * The layering rules of the code base as data: which folder may import which. The import-rules test
 * checks every import of every source file against this table, and checks that docs/architecture.md
 * lists each layer, so the rules on paper and in the code cannot drift apart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

import ts from 'typescript';

export interface LayerRule {
  /** Layers (folders) this one may import from; its own folder is always allowed. */
  may: readonly string[];
  /** npm packages and `node:` modules it may import: `*` for any, else an explicit list. */
  packages: '*' | readonly string[];
  /** Why the rule exists (shown when it is broken). */
  why: string;
}

const KIOSK_BELOW_APP = [
  'machines',
  'hal',
  'src/api',
  'src/bookkeeping',
  'src/config',
  'src/contracts',
  'src/flows',
  'src/fleet',
  'src/journal',
  'src/ops',
  'src/sim',
  'src/util',
];

export const LAYERS: Record<string, LayerRule> = {
  'src/util': {
    may: [],
    packages: '*',
    why: 'leaf helpers (logger, privacy masks, seeded PRNG, sale-value: the kiosk and the dashboard share it) everything may use',
  },
  'src/contracts': {
    may: [],
    packages: [],
    why: 'types shared by several layers (device health, probe results): no code, no dependencies',
  },
  'src/api': {
    // src/contracts: the doctor's probe row (types only) for the card terminal's row.
    may: ['src/util', 'src/contracts'],
    packages: ['zod', 'node:crypto', 'node:http', 'node:https'],
    why: 'the only code that speaks HTTP to secuconnect; validates at the edge',
  },
  machines: {
    may: ['src/api', 'src/util', 'src/contracts'],
    packages: ['xstate'],
    why: 'pure machines: every effect is an actor or action provided from outside (no I/O, no node: modules)',
  },
  hal: {
    may: ['src/util', 'src/contracts', 'src/api'],
    packages: '*',
    why: 'one folder per device: interface, real driver, simulated twin, fakes; knows nothing of flows',
  },
  'src/journal': {
    may: ['src/api', 'src/util'],
    packages: ['zod', 'node:fs', 'node:fs/promises', 'node:path', 'node:crypto', 'node:os'],
    why: 'the durable money log; knows nothing of machines, devices or the network',
  },
  'src/flows': {
    may: ['machines', 'src/api', 'src/util', 'src/contracts'],
    packages: ['xstate'],
    why: 'the machines’ API actors over the client interface',
  },
  'src/bookkeeping': {
    may: ['machines', 'src/api', 'src/flows', 'src/journal', 'src/util', 'src/contracts'],
    packages: ['node:crypto'],
    why: 'the money trail: session journal, recovery and receipt jobs, independent of the composition root',
  },
  'src/sim': {
    may: ['src/api', 'src/util'],
    packages: '*',
    why: 'the API stand-in: a copy of the cloud, not of the kiosk',
  },
  'src/fleet': {
    may: ['src/util', 'src/contracts'],
    packages: '*',
    why: 'MQTT reporter behind a narrow KioskPort; the kiosk serves customers the same without a broker',
  },
  'src/config': {
    may: ['hal', 'src/util', 'src/contracts', 'src/api'],
    packages: ['zod', 'node:fs', 'node:path'],
    why: 'the configuration schema and loader, shared by the program and the command-line tools',
  },
  'src/ops': { may: ['src/api', 'src/util'], packages: '*', why: 'service manager, watchdog, pairing' },
  'src/cli': {
    may: [
      'hal',
      'src/api',
      'src/bookkeeping',
      'src/config',
      'src/contracts',
      'src/fleet',
      'src/journal',
      'src/ops',
      'src/util',
    ],
    packages: '*',
    why: 'command-line tools: status, journal export, pairing; they never import the running program',
  },
  'src/app': {
    may: [...KIOSK_BELOW_APP, 'src/cli', 'src(root)'],
    packages: '*',
    why: 'the composition root: builds drivers, client, machines, journal and reporter and wires them',
  },
  'src(root)': {
    may: ['hal', 'src/api', 'src/config', 'src/util', 'src/contracts'],
    packages: '*',
    why: 'single-file entry points (the hardware doctor; the card terminal is asked through the API)',
  },
  'src/dashboard': {
    may: ['src/fleet', 'src/util', 'src/contracts'],
    packages: '*',
    why: 'runs on an operator’s machine, not on the kiosk: only the fleet contract is shared',
  },
  'src/fleet-sim': {
    may: ['src/fleet', 'src/util', 'src/contracts'],
    packages: '*',
    why: 'simulated kiosks that speak the fleet contract, for the dashboard and its benchmark',
  },
  'src/harness': {
    may: ['src/api', 'src/contracts', 'src/journal', 'src/sim', 'src/util'],
    packages: '*',
    why: 'drives real processes (kiosk, broker) for tests, benchmarks and the chaos harness',
  },
  'src/chaos': {
    may: [
      // hal's byte-level fakes: the harness plays a device on a real serial line (validator-line.ts).
      'hal',
      'machines',
      'src/api',
      'src/bookkeeping',
      'src/fleet',
      'src/harness',
      'src/journal',
      'src/sim',
      'src/util',
    ],
    packages: '*',
    why: 'the chaos harness: kills the real program, plays devices on real lines, and reconciles the books (the fleet’s too, through the fleet contract); no app internals',
  },
  bench: {
    may: [...KIOSK_BELOW_APP, 'src/app', 'src/dashboard', 'src/fleet-sim', 'src/harness', 'src/cli'],
    packages: '*',
    why: 'benchmarks print figures; they must not depend on test code',
  },
  scripts: {
    may: ['machines', 'src/api', 'src/util', 'src/contracts'],
    packages: '*',
    why: 'generators (state diagrams); they must not depend on test code',
  },
  bin: { may: [], packages: '*', why: 'the installed launcher' },
};

/** The layer a repository-relative path belongs to: `src/<folder>` or the top-level folder. */
export function layerOf(path: string): string {
  const parts = path.split(sep).join('/').split('/');
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}` : 'src(root)';
  return parts[0]!;
}

export interface ImportEdge {
  file: string;
  specifier: string;
  /** The imported layer for a relative import, or the package name. */
  target: { layer: string } | { pkg: string };
}

const SOURCE = /\.(ts|mts|mjs|js)$/;

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const packageOf = (spec: string): string =>
  spec.startsWith('node:')
    ? spec
    : spec.startsWith('@')
      ? spec.split('/').slice(0, 2).join('/')
      : spec.split('/')[0]!;

/** Every import (static, re-export, dynamic) of the source files under `roots`, parsed by TypeScript. */
export function importEdges(repo: string, roots: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const root of roots) {
    for (const abs of walk(join(repo, root), [])) {
      const file = relative(repo, abs);
      const info = ts.preProcessFile(readFileSync(abs, 'utf8'), true, true);
      for (const { fileName: specifier } of info.importedFiles) {
        if (specifier.startsWith('.')) {
          const target = normalize(join(dirname(file), specifier));
          edges.push({ file, specifier, target: { layer: layerOf(target) } });
        } else {
          edges.push({ file, specifier, target: { pkg: packageOf(specifier) } });
        }
      }
    }
  }
  return edges;
}

/** The broken rules among `edges`, one readable line each. */
export function violations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = layerOf(e.file);
    const rule = LAYERS[from];
    if (!rule) {
      out.push(
        `${e.file}: layer ${from} has no rule (add it to test/architecture/layers.ts and docs/architecture.md)`,
      );
      continue;
    }
    if ('layer' in e.target) {
      const to = e.target.layer;
      if (to !== from && !rule.may.includes(to))
        out.push(`${e.file} imports ${e.specifier}: ${from} may not import ${to} (${rule.why})`);
    } else if (rule.packages !== '*' && !rule.packages.includes(e.target.pkg)) {
      out.push(
        `${e.file} imports package ${e.target.pkg}: ${from} may import only ${rule.packages.join(', ') || 'no packages'} (${rule.why})`,
      );
    }
  }
  return out;
}
