import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import type { KioskConfig } from '../../src/config/config-schema.js';
import { desiredConfigPath, storeDesiredConfig, withStoredDesired } from '../../src/app/desired-config.js';
import { FLEET_SETTABLE, FleetDesiredSchema, checkDesiredConfig } from '../../src/app/fleet-config-policy.js';
import { DesiredConfigHandler } from '../../src/fleet/desired-config.js';
import type { ConfigReportedBody } from '../../src/fleet/envelope.js';
import { FakeKiosk } from '../fleet/support/fake-kiosk.js';
import { forbiddenDesiredFields } from '../support/hostile-config.js';

const local = (): KioskConfig => {
  const c = loadConfig('config/simulator.json');
  c.journal.dir = join(mkdtempSync(join(tmpdir(), 'kiosk-policy-')), 'journal');
  return c;
};

describe('desired config from the fleet: the allow-list', () => {
  it('allows texts, language, catalogue and prices, top-up amounts and timeouts, applied over the file', () => {
    const file = local();
    const r = checkDesiredConfig(
      {
        version: 9,
        kiosk: { language: 'en', name: 'Bakery' },
        receipts: { header: ['Hello'], footer: ['Bye'] },
        catalogue: [{ id: 1, desc: 'Coffee', priceOne: 250, tax: 19 }],
        topup: { amounts: [500, 1000] },
        timeouts: { inactivityMs: 45_000 },
      },
      file,
    );
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.config.version, 9);
    assert.equal(r.config.kiosk.language, 'en');
    assert.equal(r.config.kiosk.name, 'Bakery');
    assert.equal(r.config.kiosk.id, file.kiosk.id, 'the rest of a section stays the file’s');
    assert.deepEqual(r.config.receipts.footer, ['Bye']);
    assert.equal(r.config.receipts.maskCardNumber, file.receipts.maskCardNumber);
    assert.equal(r.config.catalogue[0]?.priceOne, 250);
    assert.deepEqual(r.config.topup.amounts, [500, 1000]);
    assert.equal(r.config.topup.maxCents, file.topup.maxCents);
    assert.equal(r.config.timeouts.inactivityMs, 45_000);
    assert.deepEqual(r.config.api, file.api);
    assert.deepEqual(r.config.hardware, file.hardware);
    assert.deepEqual(r.config.sim, file.sim);
    assert.deepEqual(r.config.journal, file.journal);
    assert.notEqual(file.kiosk.language === 'en' && file.kiosk.name === 'Bakery', true, 'file untouched');
  });

  for (const [field, part] of forbiddenDesiredFields('http://attacker.example')) {
    it(`rejects a document that sets ${field}, naming it`, () => {
      const r = checkDesiredConfig({ version: 9, receipts: { footer: ['ok'] }, ...part }, local());
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.deepEqual(r.fields, [field]);
      assert.match(
        r.errors.join('; '),
        new RegExp(`not settable from the fleet: ${field.replace('.', '\\.')}`),
      );
    });
  }

  it('rejects unknown fields, top level and inside an allowed section, naming them', () => {
    const r = checkDesiredConfig(
      { version: 9, colour: 'red', kiosk: { language: 'en', theme: 'x' } },
      local(),
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.fields, ['colour', 'kiosk.theme']);
    assert.match(r.errors.join('; '), /unknown field\(s\): colour, kiosk\.theme/);
  });

  it('a whole config document (as older dashboards sent it) is rejected, every forbidden section named', () => {
    const file = JSON.parse(JSON.stringify(local())) as Record<string, unknown>;
    const r = checkDesiredConfig({ ...file, version: 9 }, local());
    assert.equal(r.ok, false);
    if (r.ok) return;
    for (const f of ['api.baseUrl', 'kiosk.id', 'hardware.coin', 'journal.dir', 'sim.tui', 'cardPattern'])
      assert.ok(r.fields.includes(f), `${f} named in ${r.fields.join(', ')}`);
  });

  it('keeps values within bounds: timeouts, top-up against the limits, texts without control characters', () => {
    const bad: Array<[string, Record<string, unknown>]> = [
      ['timeouts.inactivityMs', { timeouts: { inactivityMs: 0 } }],
      ['timeouts.terminalMs', { timeouts: { terminalMs: 3_600_000 } }],
      ['topup.amounts', { topup: { amounts: [50_000] } }],
      ['topup.minCents', { topup: { minCents: 20_000 } }],
      ['receipts.footer.0', { receipts: { footer: ['\x1b\x70\x00 open drawer'] } }],
      ['kiosk.name', { kiosk: { name: 'x\n' } }],
      ['catalogue', { catalogue: [1, 1].map(() => ({ id: 1, desc: 'A', priceOne: 1, tax: 7 })) }],
      ['catalogue.0.priceOne', { catalogue: [{ id: 1, desc: 'A', priceOne: -1, tax: 7 }] }],
      ['version', { version: -1 }],
    ];
    for (const [field, part] of bad) {
      const r = checkDesiredConfig({ version: 9, ...part }, local());
      assert.equal(r.ok, false, field);
      if (!r.ok) assert.ok(r.fields.includes(field), `${field} in ${r.fields.join(', ')}`);
    }
  });

  it('the allow-list tree and the fleet schema name the same fields', () => {
    const fromSchema = Object.entries(FleetDesiredSchema.shape).map(([k, v]) => {
      const inner = (v as { unwrap?: () => unknown }).unwrap?.() ?? v;
      const shape = (inner as { shape?: Record<string, unknown> }).shape;
      return [k, shape && k !== 'catalogue' ? Object.keys(shape).sort() : true];
    });
    const fromTree = Object.entries(FLEET_SETTABLE).map(([k, v]) => [
      k,
      v === true ? true : Object.keys(v).sort(),
    ]);
    assert.deepEqual(fromSchema, fromTree);
  });
});

describe('desired config from the fleet: the handler applies nothing that fails the allow-list', () => {
  it('a forbidden field is rejected whole with its name in config/reported, even at the applied version', async () => {
    const file = local();
    const kiosk = new FakeKiosk();
    kiosk.configVersion = 3;
    const reports: ConfigReportedBody[] = [];
    const handler = new DesiredConfigHandler({
      port: kiosk,
      validateConfig: (doc) => {
        const r = checkDesiredConfig(doc, file);
        return r.ok ? { ok: true } : { ok: false, errors: r.errors, fields: r.fields };
      },
      report: async (r) => void reports.push(r),
      idlePollMs: 1,
    });
    const send = (o: object) => handler.handle(Buffer.from(JSON.stringify(o)));
    await send({
      version: 4,
      api: { baseUrl: 'http://attacker.example/api/v2' },
      receipts: { footer: ['x'] },
    });
    await send({ version: 3, sim: { controlPort: 7070 } });
    await send({ version: 5, receipts: { footer: ['fine'] } });
    assert.deepEqual(
      reports.map((r) => [r.version, r.status, r.fields]),
      [
        [4, 'rejected', ['api.baseUrl']],
        [3, 'rejected', ['sim.controlPort']],
        [5, 'applied', undefined],
      ],
    );
    assert.deepEqual(kiosk.calls, ['applyConfig:5'], 'only the clean document reached the kiosk');
  });
});

describe('desired config stored for the next start', () => {
  it('a stored document is applied over the file through the allow-list again', async () => {
    const fromFile = local();
    await storeDesiredConfig(desiredConfigPath(fromFile), { version: 7, topup: { amounts: [1000, 2000] } });
    const used = withStoredDesired(fromFile);
    assert.equal(used.version, 7);
    assert.deepEqual(used.topup.amounts, [1000, 2000]);
    assert.deepEqual(used.api, fromFile.api);
  });

  it('a stored document with a forbidden field (an older firmware stored whole documents) is ignored', async () => {
    const fromFile = local();
    const msgs: string[] = [];
    await storeDesiredConfig(desiredConfigPath(fromFile), {
      version: 7,
      api: { baseUrl: 'http://attacker.example/api/v2' },
      hardware: { coin: { driver: 'simulated' } },
    });
    assert.ok(existsSync(desiredConfigPath(fromFile)));
    assert.equal(
      withStoredDesired(fromFile, (m) => msgs.push(m)),
      fromFile,
    );
    assert.match(msgs.join(), /not settable from the fleet: api\.baseUrl, hardware\.coin/);
  });
});
