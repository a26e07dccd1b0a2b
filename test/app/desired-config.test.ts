import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import {
  applyLive,
  desiredConfigPath,
  storeDesiredConfig,
  withStoredDesired,
} from '../../src/app/desired-config.js';

const sim = () => {
  const c = loadConfig('config/simulator.json');
  c.journal.dir = join(mkdtempSync(join(tmpdir(), 'kiosk-desired-')), 'journal');
  return c;
};

describe('desired config from the fleet', () => {
  it('receipt texts and language change live; anything else asks for a restart', () => {
    const current = sim();
    const next = structuredClone(current);
    next.version = current.version + 1;
    next.receipts.footer = ['Neu!'];
    next.kiosk.language = 'en';
    assert.deepEqual(applyLive(current, next), {
      restartRequired: false,
      changed: ['version', 'kiosk', 'receipts'],
    });
    assert.deepEqual(current.receipts.footer, ['Neu!']);
    assert.equal(current.kiosk.language, 'en');
    const later = structuredClone(current);
    later.topup.amounts = [1000];
    assert.equal(applyLive(current, later).restartRequired, true);
    assert.deepEqual(current.topup.amounts, [500, 1000, 2000, 5000], 'not applied live');
  });

  it('a stored newer version is used at the next start, over the file\u2019s paths and secrets', async () => {
    const fromFile = sim();
    await storeDesiredConfig(desiredConfigPath(fromFile), { version: 7, topup: { amounts: [1000, 2000] } });
    const used = withStoredDesired(fromFile);
    assert.equal(used.version, 7);
    assert.deepEqual(used.topup.amounts, [1000, 2000]);
    assert.equal(used.api.clientSecret, fromFile.api.clientSecret);
    assert.equal(used.journal.dir, fromFile.journal.dir);
  });

  it('an older, broken or unreadable stored document is ignored with a message', () => {
    const fromFile = sim();
    const msgs: string[] = [];
    const path = desiredConfigPath(fromFile);
    writeFileSync(path, '{"version": 99, "kiosk": ');
    assert.equal(
      withStoredDesired(fromFile, (m) => msgs.push(m)),
      fromFile,
    );
    writeFileSync(path, JSON.stringify({ version: 99, kiosk: { language: 'fr' } }));
    assert.equal(
      withStoredDesired(fromFile, (m) => msgs.push(m)),
      fromFile,
    );
    assert.equal(msgs.length, 2);
    assert.match(msgs[0]!, /not valid JSON/);
    assert.match(msgs[1]!, /kiosk.language/);
  });
});
