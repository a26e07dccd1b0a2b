import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempKiosk, writeSampleJournal, type TempKiosk } from './fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/kiosk.mjs', import.meta.url));

describe('cli through bin/kiosk.mjs (the dispatch in src/app/main.ts)', function () {
  this.timeout(30_000);
  let k: TempKiosk;
  before(async () => {
    k = tempKiosk();
    await writeSampleJournal(k.journalDir);
  });
  after(() => k.cleanup());

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, KIOSK_CONFIG: k.configFile, KIOSK_STATE_DIR: k.dir },
    });

  it('routes status, journal export and help; exit codes reach the shell', () => {
    const status = run('status', '--json');
    assert.equal(status.status, 1, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { kioskId: string }).kioskId, 'k-test-0007');

    const csv = run('journal', 'export', '--tz', 'UTC');
    assert.equal(csv.status, 0, csv.stderr);
    assert.match(csv.stdout, /^date;time;utc;seq;kind;/);
    assert.match(csv.stderr, /9 row\(s\)/);

    const bad = run('status', '--nope');
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /unknown option '--nope'/);

    const help = run('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /kiosk journal export --config <file>/);
    const word = run('help');
    assert.equal(word.status, 0, '`kiosk help` is a command, not an unknown one');
    assert.equal(word.stdout, help.stdout);
  });
});
