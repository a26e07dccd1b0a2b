/**
 * What the bundle loads before anything is imported on demand: the chunks reachable from the entry
 * through static `import` statements (the start-up path), read from esbuild's metafile. A dynamic
 * `import()` starts a lazy chunk; whatever only lazy chunks contain costs nothing at start-up.
 */
import { readFileSync } from 'node:fs';

interface Metafile {
  outputs: Record<
    string,
    {
      bytes: number;
      entryPoint?: string;
      imports: Array<{ path: string; kind: string; external?: boolean }>;
      inputs: Record<string, { bytesInOutput: number }>;
    }
  >;
}

export interface StartupGraph {
  /** Output chunks loaded at start-up (the entry and its static imports, transitively). */
  chunks: string[];
  /** Their size in bytes: what V8 parses before `main` runs. */
  bytes: number;
  /** Packages and `node:` modules the start-up chunks import from outside the bundle. */
  externals: string[];
  /** Bytes in the start-up chunks per source: a package name, or a file of ours. */
  bytesBySource: Map<string, number>;
}

/** The package a bundled input belongs to (`zod`, `@pinojs/redact`), or the input itself. */
function sourceOf(input: string): string {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? m[1]! : input;
}

export function startupGraph(metafilePath: string, entry = 'kiosk.mjs'): StartupGraph {
  const meta = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile;
  const start = Object.keys(meta.outputs).find((k) => k === entry || k.endsWith(`/${entry}`));
  if (!start) throw new Error(`${entry} is not an output of ${metafilePath}`);
  const seen = new Set<string>();
  const externals = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const chunk = todo.pop()!;
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    for (const imp of meta.outputs[chunk]!.imports) {
      if (imp.kind !== 'import-statement') continue;
      if (imp.external) externals.add(imp.path);
      else todo.push(imp.path);
    }
  }
  const bytesBySource = new Map<string, number>();
  let bytes = 0;
  for (const chunk of seen) {
    const out = meta.outputs[chunk]!;
    bytes += out.bytes;
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const source = sourceOf(input);
      bytesBySource.set(source, (bytesBySource.get(source) ?? 0) + bytesInOutput);
    }
  }
  return { chunks: [...seen], bytes, externals: [...externals].sort(), bytesBySource };
}
