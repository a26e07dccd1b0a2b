import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { systemdNotifier, runCommand, type RunCommand } from '../../src/ops/systemd-notify.js';
import { recordingLogger } from '../../src/util/logger.js';

function fakeRun(code = 0): { run: RunCommand; calls: Array<{ file: string; args: string[] }> } {
  const calls: Array<{ file: string; args: string[] }> = [];
  const run: RunCommand = async (file, args) => {
    calls.push({ file, args });
    return { code, stderr: code ? 'Failed to notify init system: Connection refused' : '' };
  };
  return { run, calls };
}

describe('ops/systemd-notify', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const { run, calls } = fakeRun();
    const n = systemdNotifier({ env: {}, run });
    assert.equal(n.enabled, false);
    await n.ready('serving');
    await n.watchdog();
    assert.equal(calls.length, 0);
  });

  it('sends READY, STATUS, WATCHDOG and STOPPING through systemd-notify', async () => {
    const { run, calls } = fakeRun();
    const n = systemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify' }, run });
    await n.ready('serving k-0042');
    await n.status('out of service:\nprinter has no paper');
    await n.watchdog();
    await n.stopping();
    assert.deepEqual(
      calls.map((c) => [c.file, ...c.args]),
      [
        ['systemd-notify', 'READY=1', 'STATUS=serving k-0042'],
        ['systemd-notify', 'STATUS=out of service: printer has no paper'],
        ['systemd-notify', 'WATCHDOG=1'],
        ['systemd-notify', 'STOPPING=1'],
      ],
    );
  });

  it('never throws when systemd-notify fails, and warns once per failure spell', async () => {
    const logger = recordingLogger();
    const n = systemdNotifier({ env: { NOTIFY_SOCKET: '/nowhere' }, run: fakeRun(1).run, logger });
    await n.watchdog();
    await n.watchdog();
    assert.equal(logger.records.filter((r) => r.level === 'warn').length, 1);
  });

  it('really runs the binary when it exists (a missing socket is a failure code, not an exception)', async function () {
    if (!existsSync('/usr/bin/systemd-notify') && !existsSync('/bin/systemd-notify')) {
      console.log('      skipped: systemd-notify is not installed');
      this.skip();
    }
    const r = await runCommand('systemd-notify', ['WATCHDOG=1'], {
      ...process.env,
      NOTIFY_SOCKET: '/nonexistent/notify',
    });
    assert.notEqual(r.code, 0);
    const missing = await runCommand('/nonexistent/systemd-notify', [], process.env);
    assert.equal(missing.code, 127);
  });
});
