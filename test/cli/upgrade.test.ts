import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingIo } from '../../src/cli/cli-io.js';
import { findUpgrader, upgradeCommand } from '../../src/cli/upgrade-command.js';

describe('cli/kiosk upgrade', () => {
  let dir: string;
  let script: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-upgrade-cli-'));
    script = join(dir, 'fake-upgrade');
    // Records its arguments and exits with the code it is told to.
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\nexit "\${FAKE_EXIT:-0}"\n`);
    chmodSync(script, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the upgrader with every argument and passes its exit code through', async () => {
    for (const exit of [0, 2, 3, 4, 5]) {
      const io = recordingIo({
        KIOSK_UPGRADE_SCRIPT: script,
        FAKE_EXIT: String(exit),
        PATH: process.env.PATH,
      });
      const code = await upgradeCommand(['/tmp/kiosk-1.5.0.tar.gz', '--busy-wait', '0'], io);
      assert.equal(code, exit);
      assert.deepEqual(readFileSync(join(dir, 'args'), 'utf8').trim().split('\n'), [
        '/tmp/kiosk-1.5.0.tar.gz',
        '--busy-wait',
        '0',
      ]);
    }
  });

  it('a signal that ends the upgrader is 128 + its number, as in a shell', async () => {
    writeFileSync(script, '#!/bin/sh\nkill -TERM $$\n');
    const io = recordingIo({ KIOSK_UPGRADE_SCRIPT: script, PATH: process.env.PATH });
    assert.equal(await upgradeCommand(['pkg.tar.gz'], io), 128 + 15);
  });

  it('127 when there is no upgrader, 126 when it cannot be executed, 64 without a package', async () => {
    let io = recordingIo({ KIOSK_UPGRADE_SCRIPT: join(dir, 'missing') });
    assert.equal(await upgradeCommand(['pkg.tar.gz'], io), 127);
    assert.match(io.stderr.join('\n'), /no upgrader found/);
    chmodSync(script, 0o644);
    io = recordingIo({ KIOSK_UPGRADE_SCRIPT: script });
    assert.equal(await upgradeCommand(['pkg.tar.gz'], io), 126);
    io = recordingIo({ KIOSK_UPGRADE_SCRIPT: script });
    assert.equal(await upgradeCommand([], io), 64);
    assert.match(io.stderr.join('\n'), /which package\?/);
    io = recordingIo({ KIOSK_UPGRADE_SCRIPT: script });
    assert.equal(await upgradeCommand(['--help'], io), 0);
    assert.match(io.stdout.join('\n'), /^usage: kiosk upgrade <package.tar.gz>/);
  });

  it("finds the release's own deploy/kiosk-upgrade.sh when nothing else is there", () => {
    const found = findUpgrader({});
    assert.ok(found.tried.includes('/usr/local/sbin/kiosk-upgrade'));
    assert.ok(found.path, `one of ${found.tried.join(', ')}`);
    assert.match(found.path, /kiosk-upgrade(\.sh)?$/);
  });
});
