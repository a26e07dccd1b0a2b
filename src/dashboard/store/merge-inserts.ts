/**
 * Fewer round trips for a batch: single-row INSERTs with the same SQL become one multi-row INSERT.
 *
 * PostgreSQL (through `pg`) runs one statement per round trip, so a batch of 500 money events (two
 * statements each) costs 1 000 round trips, about a second on a busy machine; merged it is a handful.
 * What is merged keeps the meaning of running the statements one after another:
 * - only `INSERT INTO t (...) VALUES (?, ...)` with no `ON CONFLICT` or with `ON CONFLICT ... DO
 *   NOTHING` (a row that conflicts with an earlier one of the same statement is skipped, exactly as it
 *   would have been on its own; `DO UPDATE` could touch a row twice and is never merged);
 * - a row joins an earlier statement only if nothing between them mentions the same table, so no
 *   INSERT moves across an UPDATE (or other statement) of its table;
 * - at most `maxParams` parameters per statement (PostgreSQL allows 65 535).
 * The merged SQL depends on the row count, so `maxRows` keeps the number of distinct statements (and
 * prepared plans) small: runs are cut into chunks of 1, 2, 4, ... up to maxRows rows.
 */
import type { Param, Statement } from './database.js';

const SINGLE_ROW_INSERT =
  /^\s*INSERT INTO (\w+)\s*\(([^)]*)\)\s*VALUES\s*(\((?:\s*\?\s*,)*\s*\?\s*\))\s*(ON CONFLICT\b[\s\S]*\bDO NOTHING\s*)?$/i;

interface Group {
  table: string;
  head: string;
  tuple: string;
  tail: string;
  rows: (readonly Param[])[];
}

/** The table a statement mentions (FROM, INTO, UPDATE, JOIN), lower case. */
function tablesOf(sql: string): string[] {
  return [...sql.matchAll(/\b(?:FROM|INTO|UPDATE|JOIN)\s+(\w+)/gi)].map((m) => m[1]!.toLowerCase());
}

export function mergeInserts(
  statements: readonly Statement[],
  opts: { maxParams?: number; maxRows?: number } = {},
): Statement[] {
  const maxParams = opts.maxParams ?? 60_000;
  const maxRows = opts.maxRows ?? 256;
  // In order: plain statements and merge groups; `open` maps a SQL text to its group still accepting rows.
  const out: (Statement | Group)[] = [];
  const open = new Map<string, Group>();
  for (const s of statements) {
    const m = SINGLE_ROW_INSERT.exec(s.sql);
    if (m) {
      const group = open.get(s.sql);
      if (group) {
        group.rows.push(s.params);
        continue;
      }
      const g: Group = {
        table: m[1]!.toLowerCase(),
        head: `INSERT INTO ${m[1]} (${m[2]}) VALUES `,
        tuple: m[3]!,
        tail: m[4] ? ` ${m[4].trim()}` : '',
        rows: [s.params],
      };
      // Another statement for the same table closes the groups of that table.
      for (const [sql, other] of open) if (other.table === g.table) open.delete(sql);
      open.set(s.sql, g);
      out.push(g);
      continue;
    }
    const touched = tablesOf(s.sql);
    for (const [sql, g] of open) if (touched.includes(g.table)) open.delete(sql);
    out.push(s);
  }
  const result: Statement[] = [];
  for (const item of out) {
    if (!('rows' in item)) {
      result.push(item);
      continue;
    }
    const perRow = Math.max(1, item.rows[0]!.length);
    const cap = Math.max(1, Math.min(maxRows, Math.floor(maxParams / perRow)));
    let i = 0;
    while (i < item.rows.length) {
      // The largest power of two that fits what is left (and the cap): few distinct SQL texts.
      let n = 1;
      while (n * 2 <= Math.min(cap, item.rows.length - i)) n *= 2;
      const rows = item.rows.slice(i, i + n);
      result.push({
        sql: `${item.head}${Array.from({ length: n }, () => item.tuple).join(', ')}${item.tail}`,
        params: rows.flat(),
      });
      i += n;
    }
  }
  return result;
}
