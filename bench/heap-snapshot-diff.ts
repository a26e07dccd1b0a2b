/**
 * Compares two heap snapshots of the same process (V8 keeps object ids stable between them): which
 * (type, constructor) counts and sizes grew, and for the objects that are new in the second snapshot the
 * retainer path up to the first object that already existed in the first one (the holder that grows).
 *
 *   node --max-old-space-size=4000 --import tsx bench/heap-snapshot-diff.ts a.heapsnapshot b.heapsnapshot
 *
 * Run as its own process (bench/app-heap-growth.ts forks it): parsing a snapshot allocates hundreds of
 * MB, which must not land in the heap being measured.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [fileA, fileB] = process.argv.slice(2);
if (!fileA || !fileB) {
  console.error('usage: heap-snapshot-diff.ts <before.heapsnapshot> <after.heapsnapshot>');
  process.exit(64);
}
const load = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Snapshot;

/** Node type names that are the engine's own (compiled code, hidden bookkeeping), not the program's. */
const ENGINE = new Set(['code', 'hidden', 'synthetic', 'native', 'object shape']);

function view(s: Snapshot) {
  const f = s.snapshot.meta.node_fields;
  const nf = f.length;
  const at = (name: string) => f.indexOf(name);
  const [ti, ni, si, ii, eci] = [at('type'), at('name'), at('self_size'), at('id'), at('edge_count')];
  const types = s.snapshot.meta.node_types[0];
  const count = s.nodes.length / nf;
  return {
    count,
    type: (i: number) => types[s.nodes[i * nf + ti]!]!,
    name: (i: number) =>
      String(s.strings[s.nodes[i * nf + ni]!])
        .slice(0, 60)
        .replace(/\s+/g, ' '),
    size: (i: number) => s.nodes[i * nf + si]!,
    id: (i: number) => s.nodes[i * nf + ii]!,
    edges: (i: number) => s.nodes[i * nf + eci]!,
  };
}

const a = load(fileA);
const va = view(a);
let maxIdA = 0;
const before = new Map<string, [number, number]>();
for (let i = 0; i < va.count; i++) {
  const key = `${va.type(i)}:${va.name(i)}`;
  const e = before.get(key) ?? [0, 0];
  e[0]++;
  e[1] += va.size(i);
  before.set(key, e);
  if (!ENGINE.has(va.type(i))) maxIdA = Math.max(maxIdA, va.id(i));
}

const b = load(fileB);
const vb = view(b);
const after = new Map<string, [number, number]>();
for (let i = 0; i < vb.count; i++) {
  const key = `${vb.type(i)}:${vb.name(i)}`;
  const e = after.get(key) ?? [0, 0];
  e[0]++;
  e[1] += vb.size(i);
  after.set(key, e);
}
const grown = [...after]
  .map(([k, [c, sz]]) => [k, c - (before.get(k)?.[0] ?? 0), sz - (before.get(k)?.[1] ?? 0)] as const)
  .filter(([, c, sz]) => c !== 0 || sz !== 0)
  .sort((x, y) => y[2] - x[2]);
console.log('grown most (bytes, count, type:name):');
for (const [k, c, sz] of grown.slice(0, 15))
  console.log(`  ${String(sz).padStart(9)} ${String(c).padStart(7)}  ${k}`);

// reverse edges, to walk from a new object to whoever holds it
const m = b.snapshot.meta;
const ef = m.edge_fields.length;
const edgeTypes = m.edge_types[0];
const nf = m.node_fields.length;
const retainers: Array<Array<[number, number]>> = Array.from({ length: vb.count }, () => []);
for (let i = 0, e = 0; i < vb.count; i++) {
  for (let k = 0; k < vb.edges(i); k++, e += ef) {
    if (edgeTypes[b.edges[e]!] === 'weak') continue;
    retainers[b.edges[e + 2]! / nf]!.push([i, e]);
  }
}
const edgeName = (e: number) => {
  const t = edgeTypes[b.edges[e]!];
  return t === 'element' || t === 'hidden' ? '[]' : String(b.strings[b.edges[e + 1]!]);
};
const isNew = (i: number) => vb.id(i) > maxIdA;
const label = (i: number) => `${vb.type(i)}:${vb.name(i)}`;
const paths = new Map<string, number>();
for (let i = 0; i < vb.count; i++) {
  if (!isNew(i) || ENGINE.has(vb.type(i))) continue;
  const out = [label(i)];
  let cur = i;
  for (let d = 0; d < 12; d++) {
    const r = retainers[cur]!;
    if (r.length === 0) break;
    const [p, e] = r.find(([q]) => !isNew(q)) ?? r[0]!;
    out.push(`<-${edgeName(e)}- ${label(p)}`);
    cur = p;
    if (!isNew(p)) break;
  }
  const key = out.join(' ');
  paths.set(key, (paths.get(key) ?? 0) + 1);
}
console.log('new objects by retainer path (count, path up to the first object that existed before):');
for (const [k, c] of [...paths].sort((x, y) => y[1] - x[1]).slice(0, 15))
  console.log(`  ${String(c).padStart(7)}  ${k}`);
