import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { DEPLOY, fakePiRoot, fakeRelease, install, run, tempDir } from './support.js';

/**
 * kiosk-upgrade.sh against a temporary root with fake releases. The fake restart command plays
 * the service manager and the app: it starts whatever `current` points at, and a release whose
 * `behaviour` file says healthy writes health.json as the real app would.
 */
describe('deploy/kiosk-upgrade.sh with fake releases', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let keys: string;

  const fakeRestart = `
    set -eu
    cur="$KIOSK_ROOT/opt/kiosk/current"
    echo "$KIOSK_VERSION" >>"$KIOSK_ROOT/restarts.log"
    if [ "$(cat "$cur/behaviour")" = healthy ]; then
      printf '{"version":"%s","state":"idle","busy":false,"ts":%s}\\n' "$(cat "$cur/VERSION")" "$(date +%s%3N)" \\
        >"$KIOSK_ROOT/var/lib/kiosk/health.json"
    fi`;

  before(() => {
    keys = tempDir('kiosk-keys-');
    const gen = (args: string[]) => assert.equal(run('openssl', args).status, 0, args.join(' '));
    gen(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(keys, 'rsa.pem')]);
    gen(['pkey', '-in', join(keys, 'rsa.pem'), '-pubout', '-out', join(keys, 'rsa.pub.pem')]);
    gen([
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-out',
      join(keys, 'other.pem'),
    ]);
    gen(['genpkey', '-algorithm', 'ed25519', '-out', join(keys, 'ed.pem')]);
    gen(['pkey', '-in', join(keys, 'ed.pem'), '-pubout', '-out', join(keys, 'ed.pub.pem')]);
  });
  after(() => rmSync(keys, { recursive: true, force: true }));

  let template: string;
  before(() => {
    const base = tempDir('kiosk-upgrade-template-');
    template = fakePiRoot(join(base, 'root'));
    const r = install(template, fakeRelease(join(base, 'build-1.0.0'), '1.0.0'), '1.0.0');
    assert.equal(r.status, 0, r.stderr);
    copyFileSync(join(keys, 'rsa.pub.pem'), join(template, 'etc/kiosk/release-pubkey.pem'));
  });
  after(() => rmSync(join(template, '..'), { recursive: true, force: true }));

  beforeEach(() => {
    dir = tempDir('kiosk-upgrade-');
    root = join(dir, 'root');
    // A copy of one installed root (cp -a keeps modes, owners and links) saves an install per test.
    assert.equal(run('cp', ['-a', template, root]).status, 0);
    writeFileSync(join(dir, 'restart.sh'), fakeRestart);
    chmodSync(join(dir, 'restart.sh'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const pack = (version: string, behaviour: 'healthy' | 'sick' = 'healthy', key = 'rsa.pem'): string => {
    const build = fakeRelease(join(dir, `build-${version}`), version, behaviour);
    const r = run('bash', [
      join(DEPLOY, 'upgrade/pack-release.sh'),
      '--dir',
      build,
      '--version',
      version,
      '--key',
      join(keys, key),
      '--out',
      join(dir, 'out'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };

  const upgrade = (pkg: string, extra: string[] = []) =>
    run(
      'bash',
      [
        join(root, 'usr/local/sbin/kiosk-upgrade'),
        '--root',
        root,
        '--restart-cmd',
        join(dir, 'restart.sh'),
        '--health-timeout',
        '1',
        '--busy-wait',
        '0',
        ...extra,
        pkg,
      ],
      { KIOSK_UPGRADE_POLL_S: '0.1' },
    );

  const current = () => readlinkSync(join(root, 'opt/kiosk/current'));
  const lastUpgrade = () => JSON.parse(readFileSync(join(root, 'var/lib/kiosk/last-upgrade.json'), 'utf8'));
  const restarts = () => readFileSync(join(root, 'restarts.log'), 'utf8').trim().split('\n');

  it('upgrades: verifies, unpacks beside the old release, switches the link, restarts, records', () => {
    const r = upgrade(pack('1.1.0'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(current(), 'releases/1.1.0');
    assert.ok(existsSync(join(root, 'opt/kiosk/releases/1.0.0/bin/kiosk')), 'the previous release stays');
    assert.deepEqual(restarts(), ['1.1.0']);
    assert.deepEqual(
      { from: lastUpgrade().from, to: lastUpgrade().to, result: lastUpgrade().result },
      { from: '1.0.0', to: '1.1.0', result: 'upgraded' },
    );
    assert.ok(
      !existsSync(join(root, 'var/lib/kiosk/maintenance-request.json')),
      'the drain request is withdrawn',
    );
    assert.deepEqual(
      readdirSync(join(root, 'opt/kiosk/releases')).filter((n) => n.startsWith('.')),
      [],
      'no temporary directory left behind',
    );
  });

  it('accepts an Ed25519 release key', () => {
    copyFileSync(join(keys, 'ed.pub.pem'), join(root, 'etc/kiosk/release-pubkey.pem'));
    const r = upgrade(pack('1.1.0', 'healthy', 'ed.pem'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(current(), 'releases/1.1.0');
  });

  it('refuses a package whose checksum does not match (exit 2), touching nothing', () => {
    const pkg = pack('1.1.0');
    writeFileSync(`${pkg}.sha256`, `${'0'.repeat(64)}  kiosk-1.1.0.tar.gz\n`);
    const r = upgrade(pkg);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /checksum mismatch/);
    assert.equal(current(), 'releases/1.0.0');
    assert.ok(!existsSync(join(root, 'opt/kiosk/releases/1.1.0')));
    assert.ok(!existsSync(join(root, 'restarts.log')), 'nothing was restarted');
  });

  it('refuses a package signed by another key (exit 2), even with a matching checksum', () => {
    const r = upgrade(pack('1.1.0', 'healthy', 'other.pem'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad signature/);
    assert.equal(current(), 'releases/1.0.0');
    assert.ok(!existsSync(join(root, 'opt/kiosk/releases/1.1.0')));
  });

  it('refuses a package changed after signing (exit 2)', () => {
    const pkg = pack('1.1.0');
    const other = pack('1.2.0');
    copyFileSync(other, pkg);
    const sum = run('sha256sum', [pkg]).stdout.split(' ')[0];
    writeFileSync(`${pkg}.sha256`, `${sum}  kiosk-1.1.0.tar.gz\n`);
    const r = upgrade(pkg);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad signature/);
  });

  it('rolls back by itself when the new release does not become healthy in time (exit 4)', () => {
    const r = upgrade(pack('1.1.0', 'sick'));
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /rolled back to 1\.0\.0/);
    assert.equal(current(), 'releases/1.0.0');
    assert.deepEqual(restarts(), ['1.1.0', '1.0.0']);
    assert.equal(lastUpgrade().result, 'rolled_back');
    assert.ok(existsSync(join(root, 'opt/kiosk/releases/1.1.0')), 'the sick release stays for diagnosis');
  });

  it('does not take a stale health report from the old release for the new one', () => {
    // health.json says 1.1.0 but was written before the switch: not proof that 1.1.0 runs.
    writeFileSync(
      join(root, 'var/lib/kiosk/health.json'),
      JSON.stringify({ version: '1.1.0', state: 'idle', busy: false, ts: Date.now() - 60_000 }),
    );
    const r = upgrade(pack('1.1.0', 'sick'));
    assert.equal(r.status, 4, r.stderr);
  });

  it('refuses while a customer is being served (exit 3) and leaves the running release alone', () => {
    writeFileSync(
      join(root, 'var/lib/kiosk/health.json'),
      JSON.stringify({ version: '1.0.0', state: 'payment', busy: true, ts: Date.now() }),
    );
    const r = upgrade(pack('1.1.0'));
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /customer is being served/);
    assert.equal(current(), 'releases/1.0.0');
    assert.ok(!existsSync(join(root, 'restarts.log')), 'nothing was restarted');
  });

  it('ignores a busy flag from a kiosk that stopped writing its health file', () => {
    writeFileSync(
      join(root, 'var/lib/kiosk/health.json'),
      JSON.stringify({ version: '1.0.0', state: 'payment', busy: true, ts: Date.now() - 10 * 60_000 }),
    );
    const r = upgrade(pack('1.1.0'));
    assert.equal(r.status, 0, r.stderr);
  });

  it('reports a kiosk that is healthy in neither release as needing a technician (exit 5)', () => {
    writeFileSync(join(dir, 'restart.sh'), 'echo "$KIOSK_VERSION" >>"$KIOSK_ROOT/restarts.log"\n');
    const r = upgrade(pack('1.1.0'));
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /needs a technician/);
    assert.equal(current(), 'releases/1.0.0', 'still the previous release, the better bet');
    assert.equal(lastUpgrade().result, 'rollback_unhealthy');
  });

  it('does nothing for the version already running, and keeps three releases at most', () => {
    assert.equal(upgrade(pack('1.1.0')).status, 0);
    const same = upgrade(pack('1.1.0'));
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stderr, /already at 1\.1\.0/);
    assert.equal(upgrade(pack('1.2.0')).status, 0);
    assert.equal(upgrade(pack('1.3.0')).status, 0);
    assert.deepEqual(readdirSync(join(root, 'opt/kiosk/releases')).sort(), ['1.1.0', '1.2.0', '1.3.0']);
    assert.equal(current(), 'releases/1.3.0');
  });

  it('refuses a package without a VERSION file or bin/kiosk (exit 2)', () => {
    const pkg = pack('1.1.0');
    const stage = tempDir('kiosk-bad-pkg-');
    writeFileSync(join(stage, 'README'), 'no kiosk here\n');
    assert.equal(run('tar', ['-czf', pkg, '-C', stage, '.']).status, 0);
    rmSync(stage, { recursive: true });
    const sum = run('sha256sum', [pkg]).stdout.split(' ')[0];
    writeFileSync(`${pkg}.sha256`, `${sum}  kiosk-1.1.0.tar.gz\n`);
    assert.equal(
      run('openssl', ['dgst', '-sha256', '-sign', join(keys, 'rsa.pem'), '-out', `${pkg}.sig`, pkg]).status,
      0,
    );
    const r = upgrade(pkg);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no VERSION file/);
    assert.equal(current(), 'releases/1.0.0');
  });
});
