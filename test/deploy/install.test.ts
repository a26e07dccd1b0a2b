import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEPLOY,
  etcEntries,
  fakePiRoot,
  fakeRelease,
  install,
  isRoot,
  modeOf,
  run,
  tempDir,
  treeListing,
} from './support.js';

describe('deploy/install.sh against a temporary root', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let release: string;

  beforeEach(() => {
    dir = tempDir('kiosk-install-');
    root = fakePiRoot(join(dir, 'root'));
    release = fakeRelease(join(dir, 'build-1.0.0'), '1.0.0');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = (p: string) => readFileSync(join(root, p), 'utf8');

  it('creates the kiosk system user and puts it in the device groups', () => {
    const r = install(root, release, '1.0.0');
    assert.equal(r.status, 0, r.stderr);
    const users = etcEntries(read('etc/passwd'));
    const groups = etcEntries(read('etc/group'));
    const kiosk = users.get('kiosk');
    assert.ok(kiosk, 'kiosk in passwd');
    assert.equal(kiosk[5], '/var/lib/kiosk');
    assert.equal(kiosk[6], '/usr/sbin/nologin');
    const uid = Number(kiosk[2]);
    assert.ok(uid >= 100 && uid < 1000, `system uid, got ${uid}`);
    assert.equal(groups.get('kiosk')?.[2], kiosk[3], 'primary group is kiosk');
    for (const g of ['gpio', 'i2c', 'dialout', 'lp']) {
      assert.ok(groups.get(g)?.[3]?.split(',').includes('kiosk'), `kiosk in ${g}`);
    }
    // An existing group keeps its id and its members.
    assert.equal(groups.get('dialout')?.[2], '20');
    assert.deepEqual(groups.get('dialout')?.[3]?.split(','), ['pi', 'kiosk']);
    assert.match(read('etc/shadow'), /^kiosk:!\*:/m, 'the account is locked');
  });

  it('lays out release, config, state, unit, udev rules and tools with their modes and owners', () => {
    const r = install(root, release, '1.0.0');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readlinkSync(join(root, 'opt/kiosk/current')), 'releases/1.0.0');
    assert.equal(modeOf(join(root, 'opt/kiosk/releases/1.0.0/bin/kiosk')), 0o755);
    assert.equal(modeOf(join(root, 'etc/kiosk')), 0o750);
    assert.equal(modeOf(join(root, 'etc/kiosk/kiosk.json')), 0o640);
    assert.equal(modeOf(join(root, 'etc/kiosk/secrets.env')), 0o640);
    assert.equal(modeOf(join(root, 'var/lib/kiosk')), 0o750);
    assert.equal(modeOf(join(root, 'etc/systemd/system/kiosk.service')), 0o644);
    assert.equal(modeOf(join(root, 'usr/local/bin/kiosk')), 0o755);
    assert.equal(readlinkSync(join(root, 'usr/local/sbin/kiosk-upgrade')), '../lib/kiosk/kiosk-upgrade.sh');
    assert.match(
      read('etc/kiosk/kiosk.json'),
      /"refreshTokenFile"/,
      'kiosk.json from config/example.pi.json',
    );
    assert.match(read('etc/systemd/system/kiosk.service'), /^Type=notify$/m);
    assert.match(read('etc/udev/rules.d/99-kiosk.rules'), /reader not configured/);
    assert.equal(read('etc/modules-load.d/kiosk.conf'), 'i2c-dev\n');
    if (!isRoot()) {
      console.log('      (owners not checked: the test does not run as root, so install.sh cannot chown)');
      return;
    }
    const uid = Number(etcEntries(read('etc/passwd')).get('kiosk')?.[2]);
    const gid = Number(etcEntries(read('etc/group')).get('kiosk')?.[2]);
    const owner = (p: string) => {
      const st = statSync(join(root, p));
      return [st.uid, st.gid];
    };
    assert.deepEqual(owner('var/lib/kiosk'), [uid, gid]);
    assert.deepEqual(owner('etc/kiosk'), [0, gid]);
    assert.deepEqual(owner('etc/kiosk/secrets.env'), [0, gid]);
    assert.deepEqual(owner('etc/kiosk/kiosk.json'), [0, gid]);
    assert.deepEqual(owner('opt/kiosk/releases/1.0.0/bin/kiosk'), [0, 0]);
  });

  it('turns on I2C and the UART and takes the login console off the serial port', () => {
    assert.equal(install(root, release, '1.0.0').status, 0);
    const config = read('boot/firmware/config.txt');
    assert.match(config, /^dtparam=i2c_arm=on$/m);
    assert.doesNotMatch(config, /i2c_arm=off/, 'the commented-out line was replaced, not duplicated');
    assert.match(config, /^enable_uart=1$/m);
    assert.match(config, /^dtparam=audio=on$/m, 'other settings stay');
    assert.equal(
      read('boot/firmware/cmdline.txt'),
      'console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n',
    );
  });

  it('is idempotent: a second run changes no path, mode, owner, size, mtime or link', () => {
    assert.equal(install(root, release, '1.0.0').status, 0);
    const first = treeListing(root);
    const again = install(root, release, '1.0.0');
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(treeListing(root), first);
    assert.ok(first.length > 40, `listing covers the tree (${first.length} paths)`);
  });

  it('never overwrites the operator’s kiosk.json and secrets.env, but tightens their modes', () => {
    assert.equal(install(root, release, '1.0.0').status, 0);
    writeFileSync(join(root, 'etc/kiosk/kiosk.json'), '{"mine":true}\n');
    writeFileSync(join(root, 'etc/kiosk/secrets.env'), 'KIOSK_API_CLIENT_SECRET=s3cret\n', { mode: 0o644 });
    const r = install(root, release, '1.0.0');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(read('etc/kiosk/kiosk.json'), '{"mine":true}\n');
    assert.equal(read('etc/kiosk/secrets.env'), 'KIOSK_API_CLIENT_SECRET=s3cret\n');
    assert.equal(modeOf(join(root, 'etc/kiosk/secrets.env')), 0o640);
  });

  it('installs a second version beside the first and refuses a changed build under an old version', () => {
    assert.equal(install(root, release, '1.0.0').status, 0);
    const next = fakeRelease(join(dir, 'build-1.1.0'), '1.1.0');
    assert.equal(install(root, next, '1.1.0').status, 0);
    assert.equal(readlinkSync(join(root, 'opt/kiosk/current')), 'releases/1.1.0');
    assert.ok(existsSync(join(root, 'opt/kiosk/releases/1.0.0/bin/kiosk')), 'the old release stays');
    writeFileSync(join(next, 'behaviour'), 'changed\n');
    const r = install(root, next, '1.1.0');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /already installed with different content/);
  });

  it('writes udev rules from devices.env and rejects values that are not USB ids', () => {
    assert.equal(install(root, release, '1.0.0').status, 0);
    writeFileSync(
      join(root, 'etc/kiosk/devices.env'),
      'KIOSK_READER_VENDOR=0403\nKIOSK_READER_PRODUCT=6001\nKIOSK_READER_SERIAL=A10K3\n' +
        'KIOSK_PRINTER_KIND=usblp\nKIOSK_PRINTER_VENDOR=0416\nKIOSK_PRINTER_PRODUCT=5011\n',
    );
    assert.equal(install(root, release, '1.0.0').status, 0);
    const rules = read('etc/udev/rules.d/99-kiosk.rules');
    assert.match(
      rules,
      /^SUBSYSTEM=="tty", ATTRS\{idVendor\}=="0403", ATTRS\{idProduct\}=="6001", ATTRS\{serial\}=="A10K3", SYMLINK\+="kiosk-reader", GROUP="dialout", MODE="0660"$/m,
    );
    assert.match(
      rules,
      /^SUBSYSTEM=="usbmisc", KERNEL=="lp\[0-9\]\*", ATTRS\{idVendor\}=="0416", ATTRS\{idProduct\}=="5011", SYMLINK\+="kiosk-printer", GROUP="lp", MODE="0660"$/m,
    );
    writeFileSync(
      join(root, 'etc/kiosk/devices.env'),
      'KIOSK_READER_VENDOR=04"03\nKIOSK_READER_PRODUCT=6001\n',
    );
    const bad = install(root, release, '1.0.0');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /KIOSK_READER_VENDOR/);
    assert.equal(read('etc/udev/rules.d/99-kiosk.rules'), rules, 'the previous rules stay in place');
  });

  it('refuses to run without a release or with a bad version name', () => {
    assert.notEqual(install(root, join(dir, 'nowhere'), '1.0.0').status, 0);
    const r = install(root, release, '../evil');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not a release name/);
    assert.ok(!existsSync(join(root, 'opt')), 'nothing was installed');
  });

  it('uninstall.sh keeps config and state, --purge removes them and the user', () => {
    assert.equal(install(root, release, '1.0.0').status, 0);
    const keep = run('bash', [join(DEPLOY, 'uninstall.sh'), '--root', root]);
    assert.equal(keep.status, 0, keep.stderr);
    assert.ok(!existsSync(join(root, 'opt/kiosk')));
    assert.ok(!existsSync(join(root, 'etc/systemd/system/kiosk.service')));
    assert.ok(!existsSync(join(root, 'usr/local/bin/kiosk')));
    assert.ok(existsSync(join(root, 'etc/kiosk/kiosk.json')));
    assert.ok(existsSync(join(root, 'var/lib/kiosk')));
    const purge = run('bash', [join(DEPLOY, 'uninstall.sh'), '--root', root, '--purge']);
    assert.equal(purge.status, 0, purge.stderr);
    assert.ok(!existsSync(join(root, 'etc/kiosk')));
    assert.equal(etcEntries(read('etc/passwd')).has('kiosk'), false);
    assert.equal(etcEntries(read('etc/group')).has('kiosk'), false);
    assert.deepEqual(etcEntries(read('etc/group')).get('dialout'), ['dialout', 'x', '20', 'pi']);
    assert.equal(etcEntries(read('etc/passwd')).get('pi')?.[6], '/bin/bash', 'other accounts untouched');
  });
});
