/**
 * The stores the store tests run against, both real: a SQLite file in a temp directory, and the
 * PostgreSQL on 127.0.0.1:5432 (or $DASHBOARD_TEST_PG) in a schema of its own per run, dropped after.
 * PostgreSQL not answering is a failure, not a skip: .ci/run starts it, and a store test that quietly
 * ran on SQLite only would prove nothing about the fleet's real database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FleetStore } from '../../src/dashboard/store/fleet-store.js';

export const TEST_PG_URL = process.env.DASHBOARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StoreTarget {
  name: 'sqlite' | 'postgres';
  /** Opens (or reopens, as after a restart) this target's store. */
  open(): Promise<FleetStore>;
  /** The spec `--store` would take, and the schema for PostgreSQL. */
  spec: string;
  schema: string | undefined;
  cleanup(): Promise<void>;
}

export function sqliteTarget(): StoreTarget {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dash-store-'));
  const file = path.join(dir, 'dashboard.sqlite');
  return {
    name: 'sqlite',
    spec: file,
    schema: undefined,
    open: () => FleetStore.open(file),
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresTarget(): StoreTarget {
  const schema = `dash_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    name: 'postgres',
    spec: TEST_PG_URL,
    schema,
    open: async () => {
      try {
        return await FleetStore.open(TEST_PG_URL, { schema });
      } catch (err) {
        throw new Error(
          `PostgreSQL at ${TEST_PG_URL} is not usable (${(err as Error).message}); .ci/run starts it, or set DASHBOARD_TEST_PG`,
          { cause: err },
        );
      }
    },
    async cleanup() {
      const s = await FleetStore.open(TEST_PG_URL, { schema });
      await s.dropSchema(schema);
      await s.close();
    },
  };
}

export const STORE_TARGETS: (() => StoreTarget)[] = [sqliteTarget, postgresTarget];
