/**
 * The V8 start-up snapshot as a Pi runs it: the release's `bin/kiosk` (what kiosk.service starts)
 * beside a fresh bundle, the snapshot built by `bin/snapshot.mjs` into a directory of its own
 * (`KIOSK_SNAPSHOT_DIR`, /var/lib/kiosk/cache/snapshot under the unit). A complete top-up from the
 * snapshot; and a snapshot that does not fit (another node binary, a damaged file, one V8 refuses)
 * never keeps the kiosk from starting.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { layOutRelease, snapshotEntry } from '../../src/harness/build-bundle.mjs';
import { REPO_ROOT, startKiosk, type KioskProcess } from '../../src/harness/kiosk-process.js';
import { randomUUID } from 'node:crypto';
import { startMosquitto } from '../../src/harness/mosquitto.js';
import { Observer } from '../fleet/support/observer.js';
import { needs, MOSQUITTO } from '../support/real-parts.js';
import { topUpSeedCard, type StartupTimingLine } from '../support/top-up.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('e2e: the start-up snapshot (bin/kiosk, bin/snapshot.mjs)', function () {
  this.timeout(120_000);
  // inside the repository, so that the external (native) packages resolve from node_modules
  const root = join(REPO_ROOT, `node_modules/.cache/kiosk-e2e-snapshot-${process.pid}`);
  const command = join(root, 'bin/kiosk');
  const snapshots = join(root, 'snapshots');
  const blob = join(snapshots, 'kiosk.blob');
  let kiosk: KioskProcess | undefined;

  /** bin/snapshot.mjs with this node, as bin/kiosk runs it in the background. */
  const buildSnapshot = (env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [join(root, 'bin/snapshot.mjs'), '--dir', snapshots], {
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });

  before(async () => {
    await layOutRelease(root);
  });
  beforeEach(() => {
    rmSync(snapshots, { recursive: true, force: true });
    buildSnapshot();
  });
  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** One start of bin/kiosk to the idle screen and exit (KIOSK_EXIT_AT_IDLE); its timing line. */
  async function startToIdle(env: Record<string, string> = {}) {
    const run = await startKiosk({
      entry: { kind: 'command', file: command },
      externalApi: true,
      waitReady: false,
      env: {
        KIOSK_SNAPSHOT_DIR: snapshots,
        KIOSK_EXIT_AT_IDLE: '1',
        KIOSK_SNAPSHOT_BUILD_DELAY: '0',
        ...env,
      },
    });
    try {
      const { code } = await run.exited;
      const line = run.stdout.split('\n').find((l) => l.includes('"start-up timing"'));
      return { code, stderr: run.stderr, timing: line ? (JSON.parse(line) as StartupTimingLine) : undefined };
    } finally {
      await run.stop();
    }
  }

  /**
   * Until bin/kiosk's background build (nice 19: on a loaded machine it may not even have started when
   * the kiosk is at its idle screen) has written a stamp other than `stale`; the stamp is its last write.
   */
  async function rebuilt(stale: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    const stamp = () => (existsSync(`${blob}.stamp`) ? readFileSync(`${blob}.stamp`, 'utf8') : stale);
    while (stamp() === stale) {
      assert.ok(Date.now() < deadline, 'the snapshot was not rebuilt in the background');
      await sleep(100);
    }
  }

  it('tops up a card, started from the snapshot', async () => {
    kiosk = await startKiosk({
      entry: { kind: 'command', file: command },
      externalApi: true,
      env: { KIOSK_SNAPSHOT_DIR: snapshots },
    });
    const timing = await topUpSeedCard(kiosk);
    assert.equal(timing.from, 'snapshot');
    // the snapshot's main function ran: the marker bin/kiosk wrote before the exec is gone
    assert.ok(!existsSync(`${blob}.trying`));
  });

  it('goes online to the fleet from the snapshot, mqtt loaded from dist/kiosk.mqtt.cjs and not held in the script', async function () {
    await needs(this, MOSQUITTO);
    // mqtt and its dependencies are a third of the program: kept apart, their source is neither in the
    // snapshot's heap nor in Node's copy of the blob on a kiosk that has not started its fleet client
    const script = readFileSync(join(root, 'dist/kiosk.script.cjs'), 'utf8');
    assert.doesNotMatch(script, /^\/\/ node_modules\/mqtt\//m, 'mqtt bundled into the script');
    assert.match(readFileSync(join(root, 'dist/kiosk.mqtt.cjs'), 'utf8'), /^\/\/ node_modules\/mqtt\//m);
    const broker = await startMosquitto();
    const id = 'k-snapshot-fleet-01';
    const observer = await Observer.connect(broker.url, [`kiosk/v1/${id}/#`], {
      clientId: `observer-${randomUUID()}`,
    });
    try {
      kiosk = await startKiosk({
        entry: { kind: 'command', file: command },
        externalApi: true,
        env: { KIOSK_SNAPSHOT_DIR: snapshots },
        config: { kiosk: { id }, fleet: { url: broker.url, heartbeatS: 5, outboxDir: 'outbox' } },
      });
      const birth = await observer.message((m) => m.topic === `kiosk/v1/${id}/birth`, 'birth', 15_000);
      assert.equal(birth.json?.id, id);
      assert.match(kiosk.stdout, /"from":"snapshot","msg":"start-up timing"/);
    } finally {
      await kiosk?.stop();
      kiosk = undefined;
      await observer.close();
      await broker.stop();
    }
  });

  it('a snapshot for another node binary (an upgraded node) is not used, and is built anew for the next start', async () => {
    // the stamp as an upgraded node binary leaves it: same path, another size and mtime
    const [key, sum] = readFileSync(`${blob}.stamp`, 'utf8').split('\n');
    const stale = `${key!.replace(/ \d+ \d+ (\d+)$/, ' 1 1 $1')}\n${sum}\n`;
    writeFileSync(`${blob}.stamp`, stale);
    const plain = await startToIdle();
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.timing?.from, undefined, 'started without the snapshot');
    await rebuilt(stale);
    const next = await startToIdle();
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.timing?.from, 'snapshot');
  });

  it('a damaged snapshot (one byte flipped) is not used', async () => {
    const data = readFileSync(blob);
    const at = data.length >> 1;
    data[at] = data[at]! ^ 0xff;
    writeFileSync(blob, data);
    const run = await startToIdle({ KIOSK_SNAPSHOT_BUILD: 'no' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.timing?.from, undefined);
    assert.match(run.stderr, /start-up snapshot .* is damaged/);
  });

  it('a snapshot V8 refuses (other V8 flags, as another node or CPU) costs one start, then the kiosk starts without it', async () => {
    // V8 refuses a blob from another V8 version, other flags or CPU features alike (exit 14, before any
    // JavaScript runs); a stamp made on the spot cannot tell this one from a good one
    rmSync(snapshots, { recursive: true, force: true });
    buildSnapshot({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=2`.trim() });
    const refused = await startToIdle({ KIOSK_SNAPSHOT_BUILD: 'no' });
    assert.equal(refused.code, 14, refused.stderr);
    assert.match(refused.stderr, /Failed to load the startup snapshot/);
    assert.ok(existsSync(`${blob}.trying`), 'the marker of the failed start is left');
    // kiosk.service starts it again 2 s later
    const next = await startToIdle({ KIOSK_SNAPSHOT_BUILD: 'no' });
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.timing?.from, undefined);
    assert.match(next.stderr, /the last start from the start-up snapshot failed/);
    assert.ok(!existsSync(blob), 'the refused snapshot is removed');
  });
});

describe("the start-up snapshot's entry (snapshotEntry of src/harness/build-bundle.mjs)", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-snapshot-entry-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a module that takes the clock, a random value, the environment or an unsupported built-in at load fails the build', () => {
    const build = (atLoad: string) => {
      const entry = join(dir, 'tripwire.snapshot.cjs');
      writeFileSync(
        entry,
        snapshotEntry(
          `(function (exports, require) { 'use strict'; ${atLoad}; exports.runFromSnapshot = () => {}; exports.warmUpForSnapshot = () => {}; })`,
        ),
      );
      const r = spawnSync(
        process.execPath,
        ['--snapshot-blob', join(dir, 'tripwire.blob'), '--build-snapshot', entry],
        {
          encoding: 'utf8',
        },
      );
      return { code: r.status, stderr: r.stderr };
    };
    assert.equal(build('const ok = [1, 2].map((x) => x * 2)').code, 0, 'a pure module builds');
    for (const [atLoad, named] of [
      ['const startedAt = Date.now()', /Date\.now\(\)/],
      ['const id = Math.random()', /Math\.random\(\)/],
      ["const id = require('node:crypto').randomUUID()", /crypto\.randomUUID\(\)/],
      ['const home = process.env.HOME', /process\.env\.HOME/],
      ["const host = require('node:os').hostname()", /os\.hostname\(\)/],
      ['const pid = process.pid', /process\.pid/],
      ["const codes = require('node:http').STATUS_CODES", /node:http used at module load/],
    ] as const) {
      const r = build(atLoad);
      assert.notEqual(r.code, 0, `${atLoad}: built`);
      assert.match(r.stderr, named, atLoad);
    }
  });
});
