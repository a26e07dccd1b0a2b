import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, checkConfig, loadConfig } from '../../src/config/config.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';

const write = (doc: unknown): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-config-'));
  const file = join(dir, 'kiosk.json');
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return file;
};
const simHardware = simulatedHardware;
const minimal = () => ({
  kiosk: { id: 'k-0001', mode: 'topup' },
  api: { baseUrl: 'https://connect-testing.secuconnect.com/api/v2', clientId: 'c', clientSecret: 's' },
  hardware: simHardware(),
});
const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('no error');
};

describe('config: one validated JSON file', () => {
  it('the shipped configs are valid', () => {
    const sim = loadConfig('config/simulator.json');
    assert.equal(sim.api.baseUrl, 'standin');
    assert.equal(sim.hardware.display?.driver, 'simulated');
    const pi = loadConfig('config/example.pi.json');
    assert.equal(pi.hardware.display?.driver, 'hd44780-pcf8574');
    assert.equal(pi.hardware.printer?.driver, 'escpos');
    assert.ok(pi.journal.dir.startsWith('/var/lib/kiosk'));
  });

  it('the vending demo config: four simulated slots on catalogue products and a simulated hopper', () => {
    const v = loadConfig('config/vending.json');
    assert.equal(v.kiosk.mode, 'checkout');
    assert.deepEqual(
      v.hardware.slots?.slots.map((s) => [s.id, s.product]),
      [
        ['A1', 1],
        ['A2', 2],
        ['B1', 3],
        ['B2', 4],
      ],
    );
    assert.equal(v.hardware.hopper?.driver, 'simulated');
  });

  it('vend slots: each names a catalogue product once, pins used once, only in checkout mode', () => {
    const product = { id: 1, desc: 'Kaffee', priceOne: 180, tax: 19 };
    const gpioSlot = (id: string, productId: number, out: number, sensor: number) => ({
      id,
      product: productId,
      output: { bcm: out, mode: 'pulse' },
      sensor: { bcm: sensor, kind: 'drop' },
    });
    const doc = (slots: unknown, mode = 'checkout') => ({
      ...minimal(),
      kiosk: { id: 'k-0001', mode },
      catalogue: [product],
      hardware: { ...simHardware(), slots },
    });
    const ok = loadConfig(write(doc({ driver: 'gpio', slots: [gpioSlot('A1', 1, 5, 6)] })));
    assert.equal(ok.hardware.slots?.slots[0]?.initialStock, 0);
    const bad = problems(() =>
      loadConfig(
        write(doc({ driver: 'gpio', slots: [gpioSlot('A1', 1, 5, 6), gpioSlot('A1', 7, 6, 12)] }, 'topup')),
      ),
    ).join('\n');
    assert.match(bad, /slot A1 configured twice/);
    assert.match(bad, /BCM 6 is already slot A1 sensor/);
    assert.match(bad, /product 7 is not in the catalogue/);
    assert.match(bad, /kiosk\.mode "checkout"/);
  });

  it('fills defaults for what is left out', () => {
    const c = loadConfig(write(minimal()));
    assert.deepEqual(c.topup.amounts, [500, 1000, 2000, 5000]);
    assert.equal(c.kiosk.language, 'de');
  });

  it('names the field and what is wrong', () => {
    assert.deepEqual(problems(() => loadConfig(write('{"kiosk": '))).length, 1);
    assert.match(problems(() => loadConfig(write('{"kiosk": ')))[0]!, /not valid JSON/);
    assert.match(
      problems(() => loadConfig('/nonexistent/kiosk.json'))[0]!,
      /cannot read the file \(ENOENT\)/,
    );
    const bad = minimal() as Record<string, unknown>;
    (bad.kiosk as Record<string, unknown>).mode = 'vending';
    (bad.hardware as Record<string, unknown>).display = { driver: 'hd44780-pcf8574', address: 999 };
    bad.topup = { amounts: [500, 10.5] };
    bad.hardwre = {};
    bad.timeouts = { inactivtyMs: 1000 };
    const p = problems(() => loadConfig(write(bad)));
    assert.ok(
      p.some((m) => m.startsWith('kiosk.mode:')),
      p.join('\n'),
    );
    assert.ok(
      p.some((m) => m.startsWith('hardware.display.address:')),
      p.join('\n'),
    );
    assert.ok(
      p.some((m) => m.startsWith('topup.amounts.1:')),
      p.join('\n'),
    );
    assert.ok(
      p.some((m) => /unknown key\(s\) hardwre/.test(m)),
      p.join('\n'),
    );
    assert.ok(
      p.some((m) => /^timeouts: unknown key\(s\) inactivtyMs/.test(m)),
      p.join('\n'),
    );
  });

  it('a misspelt button name is refused at load, not a button that silently does nothing', () => {
    const doc = minimal();
    doc.hardware.buttons = {
      driver: 'gpio',
      pins: { ok: 17, cancle: 27 },
      longPressButtons: ['servcie'],
    } as never;
    const p = problems(() => loadConfig(write(doc)));
    assert.ok(
      p.some((m) => /^hardware\.buttons\.pins.*cancle/.test(m)),
      p.join('\n'),
    );
    assert.ok(
      p.some((m) => m.startsWith('hardware.buttons.longPressButtons.0:')),
      p.join('\n'),
    );
    doc.hardware.buttons = { driver: 'gpio', pins: { ok: 17, cancel: 27 } } as never;
    assert.deepEqual(
      Object.keys(loadConfig(write(doc)).hardware.buttons?.driver === 'gpio' ? { ok: 1 } : {}),
      ['ok'],
    );
  });

  it('a device left out is named', () => {
    const doc = minimal();
    delete (doc.hardware as Record<string, unknown>).printer;
    assert.deepEqual(
      problems(() => loadConfig(write(doc))),
      ['hardware.printer: missing: give its settings or {"driver":"simulated"}'],
    );
  });

  it('a misspelt section is named where the real one is missing', () => {
    const doc = minimal();
    const hw = doc.hardware as Record<string, unknown>;
    hw.printr = hw.printer;
    delete hw.printer;
    assert.deepEqual(
      problems(() => loadConfig(write(doc))),
      [
        'hardware.printer: missing: give its settings or {"driver":"simulated"} (found "hardware.printr": misspelt?)',
      ],
    );
  });

  it('broken JSON is reported with line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-config-'));
    const file = join(dir, 'kiosk.json');
    writeFileSync(file, '{\n  "kiosk": {},\n  api: 1\n}\n');
    assert.match(problems(() => loadConfig(file))[0]!, /not valid JSON: .*\(line 3, column 3\)$/);
  });

  it('secrets come from the environment; a missing secret is named', () => {
    const doc = minimal();
    delete (doc.api as { clientSecret?: string }).clientSecret;
    assert.match(problems(() => loadConfig(write(doc), {}))[0]!, /api.clientSecret: missing/);
    const c = loadConfig(write(doc), { KIOSK_API_CLIENT_SECRET: 'from-env' });
    assert.equal(c.api.clientSecret, 'from-env');
  });

  it('checkConfig serves the fleet\u2019s desired config: errors, not exceptions', () => {
    assert.equal(checkConfig(minimal()).ok, true);
    const r = checkConfig({ ...minimal(), cardPattern: '([' });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors.join(), /^cardPattern: give a digits-and-length rule/);
    const r2 = checkConfig('nonsense');
    assert.equal(r2.ok, false);
  });
});
