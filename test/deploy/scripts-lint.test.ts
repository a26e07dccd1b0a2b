import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEPLOY, run, tempDir, which } from './support.js';
import { needs, SHELLCHECK } from '../support/real-parts.js';

/** Every shell script under deploy/: *.sh files and executables with a shell shebang. */
function shellScripts(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...shellScripts(path));
    else if (name.endsWith('.sh') || /^#!.*\b(ba)?sh\b/.test(readFileSync(path, 'utf8').split('\n')[0] ?? ''))
      found.push(path);
  }
  return found;
}

describe('deploy scripts and units', function () {
  this.timeout(60_000);

  it('finds the scripts it is meant to check', () => {
    const names = shellScripts(DEPLOY).map((p) => relative(DEPLOY, p));
    for (const s of [
      'install.sh',
      'uninstall.sh',
      'kiosk-upgrade.sh',
      'lib/common.sh',
      'upgrade/pack-release.sh',
    ])
      assert.ok(names.includes(s), `${s} among ${names.join(', ')}`);
  });

  it('every script passes shellcheck', async function () {
    await needs(this, SHELLCHECK);
    // and the release's own command (kiosk.service's ExecStart), which picks the start-up snapshot
    const scripts = [...shellScripts(DEPLOY), join(DEPLOY, '../bin/kiosk')];
    const r = run('shellcheck', ['-x', '--severity=style', ...scripts]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('every script is strict (set -euo pipefail) or a library that says which shell it is for', () => {
    for (const path of shellScripts(DEPLOY)) {
      const text = readFileSync(path, 'utf8');
      if (path.includes('/lib/') && !text.startsWith('#!'))
        assert.match(text, /^# shellcheck shell=bash/m, path);
      else assert.match(text, /^set -euo pipefail$/m, path);
    }
  });

  it('kiosk.service passes systemd-analyze verify', function () {
    if (!which('systemd-analyze')) {
      console.log('      skipped: systemd-analyze is not installed');
      this.skip();
    }
    const dir = tempDir('kiosk-unit-');
    try {
      // verify wants the ExecStart binary to exist: a test-only copy points at a stand-in.
      const bin = join(dir, 'kiosk');
      writeFileSync(bin, '#!/bin/sh\n');
      chmodSync(bin, 0o755);
      const unit = readFileSync(join(DEPLOY, 'systemd/kiosk.service'), 'utf8');
      assert.match(
        unit,
        /^ExecStart=\/opt\/kiosk\/current\/bin\/kiosk run --config \/etc\/kiosk\/kiosk.json$/m,
      );
      const copy = join(dir, 'kiosk.service');
      writeFileSync(copy, unit.replace('/opt/kiosk/current/bin/kiosk', bin));
      const r = run('systemd-analyze', ['verify', copy]);
      const output = (r.stdout + r.stderr).trim();
      if (
        r.status !== 0 &&
        /Failed to (connect|initialize|setup)|not booted|System has not been booted/i.test(output)
      ) {
        console.log(`      skipped: systemd-analyze verify cannot run here: ${output.split('\n')[0]}`);
        this.skip();
      }
      assert.equal(r.status, 0, output);
      // Unknown or misspelt keys are only warnings: any line about our unit is a failure.
      const aboutUnit = output.split('\n').filter((l) => l.includes('kiosk.service'));
      assert.deepEqual(aboutUnit, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kiosk.service has the settings the kiosk depends on', () => {
    const unit = readFileSync(join(DEPLOY, 'systemd/kiosk.service'), 'utf8');
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'WatchdogSec=30',
      'Restart=always',
      'RestartSec=2',
      'User=kiosk',
      'SupplementaryGroups=gpio i2c dialout lp',
      'EnvironmentFile=-/etc/kiosk/secrets.env',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'PrivateTmp=yes',
      'ProtectHome=yes',
    ])
      assert.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
    assert.match(unit, /^ReadWritePaths=\/var\/lib\/kiosk\b/m);
    assert.match(unit, /^StartLimitBurst=\d+$/m);
    // Node 22's compile cache: in the kiosk's writable state, not the private /tmp emptied at each start
    assert.match(unit, /^Environment=NODE_COMPILE_CACHE=\/var\/lib\/kiosk\//m);
    // the start-up snapshot bin/kiosk builds and starts from: in the writable state too
    assert.match(unit, /^Environment=KIOSK_SNAPSHOT_DIR=\/var\/lib\/kiosk\//m);
    assert.doesNotMatch(unit, /^Requires=.*time-sync/m, 'never blocks on time synchronisation');
  });
});
