import assert from 'node:assert/strict';
import type { AnyStateMachine } from 'xstate';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import { kioskMachine } from '../../machines/kiosk.machine.js';
import { MESSAGES } from '../../machines/messages.js';
import { CHECKOUT_SCREENS, KIOSK_SCREENS, screenFor, TOPUP_SCREENS } from '../../machines/screens.js';
import { initialSessionContext } from '../../machines/session-context.js';
import { leafPaths } from '../../machines/state-nodes.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { CARD, card, run, TEST_CONFIG } from './fakes.js';

function valueOf(path: string): unknown {
  const parts = path.split('.');
  return parts.reduceRight<unknown>((acc, p) => (acc === undefined ? p : { [p]: acc }), undefined);
}

const SIZES = [
  { cols: 16, rows: 2 },
  { cols: 20, rows: 4 },
] as const;

function sessionContexts(flow: 'checkout' | 'topup') {
  const base = initialSessionContext(flow, { sessionId: 'S', config: TEST_CONFIG });
  const rich = {
    ...base,
    basket: [
      { id: 11, desc: 'Kaffee mit extra langem Namen', ean: null, quantity: 3, priceOne: 99_999, tax: 19 },
    ],
    card: card({ groupName: 'Sehr lange Kartengruppe', balance: 12_345_678 }),
    inserted: 1_234_567,
    due: 9_999_999,
    target: 50_000,
    voucherCode: 'ABCD-EFGH-IJKL-MNOP-QRST',
    unclaimed: 123_456,
    notice: 'unknown_product' as const,
    problem: 'passcode' as const,
    method: 'cashless' as const,
    outcome: 'paid' as const,
    balanceAfter: 12_345_678,
    now: 100_000,
    waitSince: 0,
    ticks: 7,
  };
  // Realistic values: every catalogue text and amount must fit without clipping (strict).
  const typical = {
    ...rich,
    basket: [{ id: 11, desc: 'Kaffee', ean: null, quantity: 2, priceOne: 150, tax: 19 }],
    card: card({ groupName: 'Gold', balance: 98_765 }),
    inserted: 99_999,
    due: 99_999,
    target: 5000,
    voucherCode: 'K7Q2-9XHD',
    unclaimed: 99_999,
    balanceAfter: 99_999,
  };
  const other = {
    ...typical,
    target: null,
    notice: null,
    problem: 'not_valid' as const,
    method: 'cash' as const,
  };
  return [
    { context: base, strict: true },
    { context: typical, strict: true },
    { context: other, strict: true },
    { context: rich, strict: false },
  ];
}

const machines: [
  string,
  AnyStateMachine,
  Record<string, unknown>,
  () => { context: unknown; strict: boolean }[],
][] = [
  ['checkout', checkoutMachine, CHECKOUT_SCREENS, () => sessionContexts('checkout')],
  ['topup', topupMachine, TOPUP_SCREENS, () => sessionContexts('topup')],
  [
    'kiosk',
    kioskMachine,
    KIOSK_SCREENS,
    () => {
      const k = {
        cfg: { mode: 'topup', receiptsRequired: false, recheckMs: 1, session: {} },
        devices: { printer: 'offline', reader: 'degraded', acceptor: 'ok', display: 'ok' },
        apiReachable: false,
        reason: 'api_unresolved',
        now: 0,
        ticks: 0,
      };
      return [
        { context: k, strict: true },
        { context: { ...k, cfg: { ...k.cfg, mode: 'checkout' }, reason: 'recovery_failed' }, strict: true },
        { context: { ...k, reason: 'pairing_lost' }, strict: true },
      ];
    },
  ],
];

describe('screens', () => {
  for (const [name, machine, table, contexts] of machines) {
    it(`${name}: every state has a screen`, () => {
      const missing = leafPaths(machine).filter((p) => !(p in table));
      assert.deepEqual(missing, []);
    });

    it(`${name}: every state fits 16x2 and 20x4 in German and English, exact row count`, () => {
      for (const path of leafPaths(machine)) {
        for (const { context, strict } of contexts()) {
          for (const size of SIZES) {
            for (const lang of ['de', 'en'] as const) {
              const lines = screenFor(
                { value: valueOf(path), context, machine: { id: name } },
                { ...size, lang, strict },
              );
              assert.equal(lines.length, size.rows, `${name} ${path}`);
              for (const l of lines)
                assert.ok(l.length <= size.cols, `${name} ${path} ${lang}: "${l}" > ${size.cols}`);
              assert.ok((lines[0] ?? '').trim().length > 0, `${name} ${path}: first line empty`);
            }
          }
        }
      }
    });
  }

  it('German by default, money German style, English selectable', async () => {
    const h = run(topupMachine);
    await h.send({ type: 'SCAN', data: CARD });
    assert.deepEqual(screenFor(h.snapshot, { cols: 20, rows: 4 }), [
      'Guthaben 12,50 EUR',
      'Betrag wählen',
      'Karte: Stammkunde',
      '1=5 2=10 3=20',
    ]);
    assert.deepEqual(screenFor(h.snapshot, { cols: 16, rows: 2, lang: 'en' }), [
      'Balance 12,50',
      'Choose amount',
    ]);
    await h.press('amount2');
    await h.coins(200);
    assert.deepEqual(screenFor(h.snapshot, { cols: 16, rows: 2 }), ['Bitte einwerfen', 'Noch 8,00 EUR']);
  });

  it('a lost device pairing says so, not "no connection" (de/en, 16x2 and 20x4)', () => {
    const context = {
      cfg: { mode: 'topup', receiptsRequired: false, recheckMs: 1, session: {} },
      devices: { printer: 'ok', reader: 'ok', acceptor: 'ok', display: 'ok' },
      apiReachable: true,
      pairingLost: true,
      reason: 'pairing_lost',
      now: 0,
      ticks: 0,
    };
    const show = (size: { cols: 16 | 20; rows: 2 | 4 }, lang: 'de' | 'en') =>
      screenFor({ value: 'outOfService', context, machine: { id: 'kiosk' } }, { ...size, lang });
    assert.deepEqual(show({ cols: 16, rows: 2 }, 'de'), ['Außer Betrieb', 'Neu koppeln']);
    assert.deepEqual(show({ cols: 20, rows: 4 }, 'de'), [
      'Außer Betrieb',
      'Neu koppeln',
      'Bitte entschuldigen',
      '',
    ]);
    assert.deepEqual(show({ cols: 16, rows: 2 }, 'en'), ['Out of service', 'Pair again']);
    assert.deepEqual(show({ cols: 20, rows: 4 }, 'en'), ['Out of service', 'Pair again', 'Sorry', '']);
  });

  it('waiting shows a moving indicator, and past slowMs why it takes long', async () => {
    const h = run(checkoutMachine);
    h.stubs.startPayment.callsFake(() => new Promise(() => {}));
    await h.send({ type: 'TICK', now: 1000 });
    await h.press('amount1', 'ok', 'amount2');
    const a = screenFor(h.snapshot, { cols: 16, rows: 2 });
    await h.send({ type: 'TICK', now: 1250 });
    const b = screenFor(h.snapshot, { cols: 16, rows: 2 });
    assert.notEqual(a[0], b[0], 'the indicator moves');
    assert.ok(a[0]?.startsWith('Terminal 1,50'), 'what the terminal will charge');
    assert.equal(a[1], 'Karte vorhalten');
    await h.send({ type: 'TICK', now: 4000 });
    assert.equal(screenFor(h.snapshot, { cols: 16, rows: 2 })[1], 'Terminal wartet');
    assert.equal(screenFor(h.snapshot, { cols: 20, rows: 4, now: 1500 })[0], 'Terminal 1,50 EUR..');
  });

  it('a cancel long after the card lookup shows "cancelling", not "server slow" at once', async () => {
    const h = run(topupMachine);
    h.stubs.abortTransaction.callsFake(() => new Promise(() => {}));
    await h.send({ type: 'TICK', now: 1000 });
    await h.send({ type: 'SCAN', data: CARD });
    await h.send({ type: 'TICK', now: 1100 }, { type: 'TICK', now: 6000 });
    await h.press('cancel');
    assert.equal(h.value(), 'cancelling.aborting');
    const screen = screenFor(h.snapshot, { cols: 20, rows: 4 });
    assert.ok(!screen.some((l) => /langsam|dauert/.test(l)), screen.join(' | '));
    await h.send({ type: 'TICK', now: 10_000 });
    assert.ok(
      screenFor(h.snapshot, { cols: 20, rows: 4 }).some((l) => /langsam|dauert/.test(l)),
      'still says why when it does take long',
    );
  });

  it('the kiosk shows its session screen while serving', async () => {
    const { createActor } = await import('xstate');
    const actor = createActor(kioskMachine, { input: { bootId: 'B', config: { mode: 'topup' } } });
    actor.start();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(screenFor(actor.getSnapshot(), { cols: 16, rows: 2 }), [
      'Karte aufladen',
      'Karte scannen',
    ]);
    actor.send({ type: 'BUTTON', name: 'ok' });
    assert.deepEqual(screenFor(actor.getSnapshot(), { cols: 16, rows: 2 }), [
      'Karte scannen',
      'zum Aufladen',
    ]);
    actor.stop();
  });

  it('idle says "no change" before the first coin, and "no receipt" with paper out', async () => {
    const { createActor } = await import('xstate');
    const actor = createActor(kioskMachine, { input: { bootId: 'B', config: { mode: 'checkout' } } });
    actor.start();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(screenFor(actor.getSnapshot(), { cols: 20, rows: 4 })[3], 'Kein Wechselgeld');
    // A 2-row display lets the hint and the warning take turns (3 s each).
    assert.equal(screenFor(actor.getSnapshot(), { cols: 16, rows: 2, now: 3_000 })[1], 'Kein Wechselgeld');
    actor.send({ type: 'DEVICE', device: 'printer', health: 'degraded' });
    assert.equal(screenFor(actor.getSnapshot(), { cols: 20, rows: 4, lang: 'en' })[3], 'No receipt');
    actor.stop();
  });

  it('maintenance switched on by the fleet shows "Wartung", the PIN prompt only after a button', async () => {
    const { createActor } = await import('xstate');
    const actor = createActor(kioskMachine, { input: { bootId: 'B', config: { mode: 'topup' } } });
    actor.start();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    actor.send({ type: 'MAINTENANCE', on: true });
    assert.deepEqual(screenFor(actor.getSnapshot(), { cols: 16, rows: 2 }), ['Wartung', 'Bitte später']);
    actor.send({ type: 'BUTTON', name: 'up' });
    assert.equal(screenFor(actor.getSnapshot(), { cols: 16, rows: 2 })[0], 'Service-PIN');
    actor.stop();
  });

  it('the catalogue has the same keys in German and English', () => {
    assert.deepEqual(Object.keys(MESSAGES.en).sort(), Object.keys(MESSAGES.de).sort());
  });
});
