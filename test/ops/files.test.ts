import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile, writeSecretFile } from '../../src/ops/secret-file.js';
import {
  isFresh,
  readHealthReport,
  readLastUpgrade,
  readMaintenanceRequest,
  writeHealthReport,
} from '../../src/ops/health-file.js';

describe('ops/secret-file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 0600 in a new 0700 directory, replaces atomically and leaves no temp file', async () => {
    const file = join(dir, 'creds/refresh-token');
    await writeSecretFile(file, 'first\n');
    await writeSecretFile(file, 'second\n');
    assert.equal(readFileSync(file, 'utf8'), 'second\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'creds')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(dir, 'creds')), ['refresh-token']);
    assert.equal(await readSecretFile(file), 'second');
  });

  it('keeps an existing directory’s mode and refuses a world-writable one', async () => {
    mkdirSync(join(dir, 'state'), { mode: 0o750 });
    chmodSync(join(dir, 'state'), 0o750);
    await writeSecretFile(join(dir, 'state/token'), 'x');
    assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o750);
    mkdirSync(join(dir, 'open'));
    chmodSync(join(dir, 'open'), 0o777);
    await assert.rejects(writeSecretFile(join(dir, 'open/token'), 'x'), /writable by everyone/);
  });

  it('refuses to read a secret others can read', async () => {
    writeFileSync(join(dir, 'loose'), 'x', { mode: 0o644 });
    chmodSync(join(dir, 'loose'), 0o644);
    await assert.rejects(readSecretFile(join(dir, 'loose')), /readable by others/);
  });
});

describe('ops/health-file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-health-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes health.json in the one-line shape kiosk-upgrade reads, and reads it back', async () => {
    await writeHealthReport(dir, { version: '1.4.0', state: 'idle', busy: false, ts: 1000, pid: 7 });
    const text = readFileSync(join(dir, 'health.json'), 'utf8');
    assert.equal(text, '{"version":"1.4.0","state":"idle","busy":false,"ts":1000,"pid":7}\n');
    assert.deepEqual(await readHealthReport(dir), {
      version: '1.4.0',
      state: 'idle',
      busy: false,
      ts: 1000,
      pid: 7,
    });
    assert.deepEqual(readdirSync(dir), ['health.json']);
    assert.equal(isFresh({ version: '1', state: 'idle', busy: false, ts: 1000 }, 20_000), true);
    assert.equal(isFresh({ version: '1', state: 'idle', busy: false, ts: 1000 }, 40_000), false);
  });

  it('reads absent or broken files as nothing, and only fresh maintenance requests', async () => {
    assert.equal(await readHealthReport(dir), undefined);
    writeFileSync(join(dir, 'health.json'), '{"version":');
    assert.equal(await readHealthReport(dir), undefined);
    writeFileSync(
      join(dir, 'maintenance-request.json'),
      '{"reason":"upgrade","version":"1.5.0","ts":1000}\n',
    );
    assert.deepEqual(await readMaintenanceRequest(dir, 2000), {
      reason: 'upgrade',
      version: '1.5.0',
      ts: 1000,
    });
    assert.equal(await readMaintenanceRequest(dir, 1000 + 11 * 60_000), undefined);
    writeFileSync(
      join(dir, 'last-upgrade.json'),
      '{"from":"1.0.0","to":"1.1.0","result":"rolled_back","ts":5}\n',
    );
    assert.equal((await readLastUpgrade(dir))?.result, 'rolled_back');
  });
});
