import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { recordingIo } from '../../src/cli/cli-io.js';
import { csvField, csvRecord, parseCsv } from '../../src/util/csv.js';
import { journalCommand } from '../../src/cli/journal-command.js';
import { daySums, EXPORT_COLUMNS, exportJournal } from '../../src/cli/journal-export.js';
import type { SaleFigures } from '../../src/journal/entries.js';
import { Journal } from '../../src/journal/journal.js';
import {
  COLLECTOR,
  DAY2,
  FULL_CARD,
  OTHER_CARD,
  tempKiosk,
  writeSampleJournal,
  type TempKiosk,
} from './fixtures.js';

type Row = Record<(typeof EXPORT_COLUMNS)[number], string>;

function rowsOf(csv: string, sep = ';'): Row[] {
  const [header, ...records] = parseCsv(csv.replace(/^\ufeff/, ''), sep);
  assert.deepEqual(header, [...EXPORT_COLUMNS]);
  return records.map((r) => Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, r[i] ?? ''])) as Row);
}

const sum = (rows: Row[], kind: string) =>
  rows.filter((r) => r.kind === kind).reduce((s, r) => s + Number(r.amount_cents), 0);

describe('cli/kiosk journal export', () => {
  let k: TempKiosk;
  const TZ = ['--tz', 'Europe/Berlin'];
  beforeEach(async () => {
    k = tempKiosk();
    await writeSampleJournal(k.journalDir);
  });
  afterEach(() => k.cleanup());

  async function exportCsv(...args: string[]): Promise<{ code: number; csv: string; stderr: string }> {
    const io = recordingIo();
    const code = await journalCommand(['export', '--config', k.configFile, ...TZ, ...args], io);
    return { code, csv: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
  }

  it('writes one row per money movement; sums equal the journal counters', async () => {
    const { code, csv, stderr } = await exportCsv();
    assert.equal(code, 0, stderr);
    const rows = rowsOf(csv);
    assert.deepEqual(
      rows.map((r) => r.kind),
      [
        'coin_in',
        'coin_in',
        'coin_in',
        'topup',
        'sale_failed',
        'coin_in',
        'unclaimed',
        'cash_collection',
        'coin_in',
      ],
    );
    const { state } = await Journal.read(k.journalDir);
    assert.equal(sum(rows, 'coin_in'), state.lifetime.cashIn.cents);
    assert.equal(sum(rows, 'topup'), state.lifetime.topUps.cents);
    assert.equal(sum(rows, 'sale'), state.lifetime.sales.cents);
    assert.equal(sum(rows, 'unclaimed'), state.lifetime.unclaimed.cents);
    assert.equal(sum(rows, 'cash_collection'), state.lifetime.collections.cents);
    assert.equal(rows.filter((r) => r.kind === 'coin_in').length, state.lifetime.cashIn.count);
    assert.match(stderr, /9 row\(s\) \(Europe\/Berlin\)/);
    assert.match(stderr, /top-ups 5,00 EUR \(1\), cash in 7,50 EUR \(5\)/);
  });

  it('fills the transaction columns: step, API id, outcome, masked card, cents and euros, local time', async () => {
    const rows = rowsOf((await exportCsv()).csv);
    const topup = rows.find((r) => r.kind === 'topup');
    assert.ok(topup);
    assert.equal(topup.session, 'A');
    assert.equal(topup.mode, 'topup');
    assert.equal(topup.amount_cents, '500');
    assert.equal(topup.amount_eur, '5,00');
    assert.equal(topup.payment_step, 'start/cash');
    assert.equal(topup.api_transaction_id, 'STX_A');
    assert.equal(topup.outcome, 'completed');
    assert.equal(topup.card, '9276********2845');
    assert.equal(topup.date, '2025-03-01');
    assert.match(topup.time, /^10:00:\d\d$/, 'Berlin is UTC+1 in March');
    assert.match(topup.utc, /^2025-03-01T09:00:\d\d\.000Z$/);

    const declined = rows.find((r) => r.kind === 'sale_failed');
    assert.ok(declined);
    assert.equal(declined.outcome, 'declined');
    assert.equal(declined.payment_step, 'start/loyalty');
    assert.equal(declined.amount_cents, '349');
    assert.equal(declined.card, '9276********7890', 'only the full number was journalled: masked here');

    const unclaimed = rows.find((r) => r.kind === 'unclaimed');
    assert.equal(unclaimed?.voucher, 'V-0001');
    const collection = rows.find((r) => r.kind === 'cash_collection');
    assert.equal(collection?.by, COLLECTOR);
    assert.equal(collection?.amount_eur, '5,40');
    assert.equal(collection?.note, 'expected 5,50, difference -0,10');
  });

  it('quotes by RFC 4180 and never writes a full card number', async () => {
    const { csv } = await exportCsv();
    assert.ok(csv.includes('"Tech ""Max""; Müller"'), 'field with ; and " quoted, quotes doubled');
    assert.ok(!csv.includes(FULL_CARD) && !csv.includes(OTHER_CARD));
    assert.ok(!/\d{12,}/.test(csv.replace(/STX_\w+/g, '')), 'no long digit run anywhere');
    assert.equal(csvField('a,b', ';'), 'a,b');
    assert.equal(csvField('a;b', ';'), '"a;b"');
    assert.equal(csvField('line\nbreak', ','), '"line\nbreak"');
    assert.equal(csvRecord(['x', 7, null], ','), 'x,7,\r\n');
  });

  it('--from/--to select local dates; --separator , quotes the euro amounts; --out writes 0640 with a BOM', async () => {
    const day2 = rowsOf((await exportCsv('--from', '2025-03-02')).csv);
    assert.deepEqual(
      day2.map((r) => r.kind),
      ['coin_in', 'unclaimed', 'cash_collection', 'coin_in'],
    );
    const day1 = rowsOf((await exportCsv('--to', '2025-03-01')).csv);
    assert.equal(day1.length, 5);
    const comma = await exportCsv('--separator', ',');
    assert.ok(comma.csv.includes(',"5,00",'), 'euro amount quoted when , separates');
    assert.equal(rowsOf(comma.csv, ',').length, 9);

    const out = join(k.dir, 'export.csv');
    const written = await exportCsv('--out', out, '--bom');
    assert.equal(written.code, 0);
    assert.equal(written.csv, '', 'nothing on stdout');
    const text = readFileSync(out, 'utf8');
    assert.ok(text.startsWith('\ufeffdate;time;'));
    assert.ok(text.endsWith('\r\n'));
    assert.equal(rowsOf(text).length, 9);
    assert.equal(statSync(out).mode & 0o777, 0o640);
  });

  it("format 2: a sale's receipt figures on its row, one vat row per rate; a receipt without figures leaves them empty", async () => {
    let now = DAY2 + 3600_000;
    const j = await Journal.open(k.journalDir, { fsync: false, now: () => (now += 1000) });
    const paidSale = async (id: string, sale?: SaleFigures) => {
      await j.append({ type: 'session_started', sessionId: id, mode: 'checkout' });
      await j.append({ type: 'coin_accepted', sessionId: id, cents: 200, source: 'coin' });
      await j.append({
        type: 'tx_created',
        sessionId: id,
        localId: `loc-${id}`,
        basket: { products: [] },
        amount: 529,
      });
      await j.append({
        type: 'api_intent',
        sessionId: id,
        apiId: `STX_${id}`,
        step: 'start/cash',
        jobId: `j${id}`,
        cents: 200,
      });
      await j.append({ type: 'api_outcome', jobId: `j${id}`, result: 'ok' });
      await j.append({
        type: 'receipt',
        sessionId: id,
        jobId: `r${id}`,
        lines: [],
        ...(sale ? { sale } : {}),
      });
      await j.append({ type: 'session_closed', sessionId: id, outcome: 'completed' });
    };
    const figures: SaleFigures = {
      receiptNo: 'k-1-00007',
      kind: 'sale',
      total: 479,
      discount: 50,
      card: 150,
      terminal: 0,
      cashIn: 200,
      voucherIn: 179,
      change: 0,
      credited: 0,
      voucherOut: 0,
      returned: 0,
      reversed: 0,
      inReview: 0,
      vat: [
        { rate: 7, gross: 208, net: 194, vat: 14 },
        { rate: 19, gross: 271, net: 228, vat: 43 },
      ],
    };
    await paidSale('S', figures);
    await paidSale('T');
    await j.close();
    const { csv, stderr } = await exportCsv('--from', '2025-03-02');
    const rows = rowsOf(csv);
    assert.deepEqual(EXPORT_COLUMNS.slice(0, 16).at(-1), 'note', 'the first 16 columns as before');
    assert.match(
      stderr,
      /receipts: sales 4,79 EUR \(1\) after bonus 0,50 EUR, top-ups 0,00 EUR \(0\); 7 %: net 1,94 EUR, VAT 0,14 EUR; 19 %: net 2,28 EUR, VAT 0,43 EUR/,
    );
    const sale = rows.find((r) => r.session === 'S' && r.kind === 'sale');
    assert.ok(sale);
    assert.deepEqual(
      [
        sale.amount_cents,
        sale.receipt_no,
        sale.total_cents,
        sale.discount_cents,
        sale.card_cents,
        sale.cash_in_cents,
      ],
      ['200', 'k-1-00007', '479', '50', '150', '200'],
      'amount: what the payment step moved (the counter); the receipt in its own columns',
    );
    assert.deepEqual([sale.voucher_in_cents, sale.vat_rate], ['179', '']);
    const vat = rows.filter((r) => r.session === 'S' && r.kind === 'vat');
    assert.deepEqual(
      vat.map((r) => [r.amount_cents, r.vat_rate, r.net_cents, r.vat_cents, r.receipt_no, r.date]),
      [
        ['208', '7', '194', '14', '', '2025-03-02'],
        ['271', '19', '228', '43', '', '2025-03-02'],
      ],
    );
    const old = rows.find((r) => r.session === 'T' && r.kind === 'sale');
    assert.deepEqual([old?.receipt_no, old?.total_cents, old?.vat_cents], ['', '', '']);
    assert.equal(rows.filter((r) => r.session === 'T' && r.kind === 'vat').length, 0);
    const { state } = await Journal.read(k.journalDir);
    assert.equal(sum(rows, 'sale'), state.lifetime.sales.cents, 'the sale rows still sum to the counter');
    const { rows: exported } = exportJournal((await Journal.read(k.journalDir)).records, {
      timeZone: 'Europe/Berlin',
      from: '2025-03-02',
    });
    const day = daySums(exported).get('2025-03-02');
    assert.deepEqual(
      [day?.sales, day?.salesNet, day?.vat],
      [{ count: 1, cents: 529 }, 422, 57],
      'a sale counts by its receipt',
    );
  });

  it("names what the operator must look at: coins lost past the validator's buffer and a paid sale whose goods are unknown, neither booked as money", async () => {
    const moneyOf = (rows: Row[]) =>
      rows.filter((r) => r.kind !== 'coins_lost' && r.kind !== 'goods_unsettled').map((r) => r.amount_cents);
    const before = moneyOf(rowsOf((await exportCsv()).csv));
    let now = DAY2 + 3600_000;
    const j = await Journal.open(k.journalDir, { fsync: false, now: () => (now += 1000) });
    await j.append({ type: 'acceptor_lost', results: 3, ev: 17, servedSession: 'V1' });
    await j.append({ type: 'session_started', sessionId: 'V2', mode: 'checkout' });
    await j.append({
      type: 'goods_unsettled',
      sessionId: 'V2',
      jobId: 'V2:recovery-goods:boot',
      cents: 678,
      transactionId: 'STX_V2',
    });
    // What it paid unknown (an older journal's payment record), with the flag and from before it.
    for (const [sessionId, flag] of [
      ['V7', true],
      ['V8', false],
    ] as const)
      await j.append({
        type: 'goods_unsettled',
        sessionId,
        jobId: `${sessionId}:recovery-goods:boot`,
        cents: 0,
        ...(flag ? { amountUnknown: true as const } : {}),
      });
    await j.close();
    const { code, csv, stderr } = await exportCsv();
    assert.equal(code, 0, stderr);
    const rows = rowsOf(csv);
    const lost = rows.filter((r) => r.kind === 'coins_lost');
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.amount_cents, '0');
    assert.equal(lost[0]!.session, '');
    assert.match(lost[0]!.note, /^3 coin validator results lost .*event 17.*V1.*count the cash box/);
    assert.match(lost[0]!.note, /whose unknown \(V1 served when the loss was read, not necessarily/);
    const goods = rows.filter((r) => r.kind === 'goods_unsettled');
    assert.deepEqual(
      goods.map((r) => [r.session, r.amount_cents, r.amount_eur, r.api_transaction_id]),
      [
        ['V2', '678', '6,78', 'STX_V2'],
        ['V7', '', '', ''],
        ['V8', '', '', ''],
      ],
    );
    assert.match(goods[0]!.note, /settle-release V2:recovery-goods:boot/);
    for (const g of goods.slice(1))
      assert.match(
        g.note,
        /^paid, amount unknown, goods unknown .*settle-release V[78]:recovery-goods:boot \(refunded: with the amount paid/,
      );
    // Not money booked: the money rows are the sample journal's alone.
    assert.deepEqual(moneyOf(rows), before);
  });

  it("coins lost past the validator's buffer name their session only where one was served throughout; else both ends, whose unknown", async () => {
    let now = DAY2 + 7200_000;
    const j = await Journal.open(k.journalDir, { fsync: false, now: () => (now += 1000) });
    // Served from the read before them to the loss read: V3's.
    await j.append({
      type: 'acceptor_lost',
      results: 2,
      ev: 30,
      servedSession: 'V3',
      readSession: 'V3',
      lostIn: 'V3',
    });
    // The line broke in V4, V4 timed out, V5 began, then the loss was read: either customer's.
    await j.append({
      type: 'acceptor_lost',
      results: 4,
      ev: 40,
      servedSession: 'V5',
      readSession: 'V4',
      lostIn: 'unknown',
    });
    // Read while idle, the read before in an idle kiosk too.
    await j.append({ type: 'acceptor_lost', results: 1, ev: 45, readSession: null, lostIn: 'unknown' });
    // The first read after a start: the one before was before it.
    await j.append({ type: 'acceptor_lost', results: 1, ev: 50, servedSession: 'V6', lostIn: 'unknown' });
    await j.close();
    const { code, csv, stderr } = await exportCsv();
    assert.equal(code, 0, stderr);
    const lost = rowsOf(csv).filter((r) => r.kind === 'coins_lost' && Number(r.note.split(' ')[0]) > 0);
    const byEv = (ev: number) => lost.find((r) => r.note.includes(`up to event ${ev})`))!;
    assert.equal(byEv(30).session, 'V3');
    assert.match(byEv(30).note, /while serving V3 \(served from the last read before them to the loss\)/);
    assert.equal(byEv(40).session, '', "not V5: the coins may be V4 customer's");
    assert.match(
      byEv(40).note,
      /whose unknown \(V4 served at the read before them, V5 when the loss was read\)/,
    );
    assert.equal(byEv(45).session, '');
    assert.match(
      byEv(45).note,
      /whose unknown \(nobody served at the read before them, nobody when the loss was read\)/,
    );
    assert.equal(byEv(50).session, '');
    assert.match(
      byEv(50).note,
      /whose unknown \(the read before them was before the kiosk started, V6 when the loss was read\)/,
    );
    for (const r of [byEv(30), byEv(40), byEv(45), byEv(50)]) assert.equal(r.amount_cents, '0');
  });

  it('says what an export covers when older records were compacted', async () => {
    let now = Date.UTC(2025, 5, 4, 9, 0, 0); // three months on: older than maxAgeDays
    const j = await Journal.open(k.journalDir, { fsync: false, now: () => (now += 1000) });
    await j.compact();
    await j.append({ type: 'session_started', sessionId: 'E', mode: 'topup' });
    await j.append({ type: 'coin_accepted', sessionId: 'E', cents: 100, source: 'coin' });
    await j.close();
    const { code, csv, stderr } = await exportCsv();
    assert.equal(code, 0);
    const rows = rowsOf(csv);
    assert.ok(rows.some((r) => r.session === 'E' && r.kind === 'coin_in'));
    // Retention dropped the finished sessions' segment (older than maxAgeDays by this clock):
    // only the snapshot's totals remain of them, and the export says so.
    const { records } = await Journal.read(k.journalDir);
    assert.equal(records[0]?.type, 'snapshot');
    assert.match(stderr, /records before seq \d+ were compacted or removed by retention: not in this export/);
    assert.match(stderr, /their lifetime totals then: cash in 7,50 EUR, sales 0,00 EUR, top-ups 5,00 EUR/);
    assert.equal(rows.filter((r) => r.kind === 'coin_in').length, 1);
  });

  it('bad command lines exit 64 with one clear line; help exits 0', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['export', '--from', '2025-02-30'], /--from 2025-02-30 is not a date YYYY-MM-DD/],
      [
        ['export', '--from', '2025-03-02', '--to', '2025-03-01'],
        /--from 2025-03-02 is after --to 2025-03-01/,
      ],
      [['export', '--separator', '|'], /--separator must be ';' or ','/],
      [['export', '--tz', 'Mars/Olympus'], /unknown time zone 'Mars\/Olympus'/],
      [['export', '--frm', 'x'], /unknown option '--frm'/],
      [['import'], /unknown subcommand 'import'/],
      [[], /^usage: kiosk journal export/],
    ];
    for (const [args, want] of cases) {
      const io = recordingIo();
      assert.equal(await journalCommand(args, io), 64, args.join(' '));
      assert.match(io.stderr.join('\n'), want);
    }
    const io = recordingIo();
    assert.equal(await journalCommand(['export', '--help'], io), 0);
    assert.match(io.stdout.join('\n'), /exit codes: 0 written, 1 journal not readable/);
  });

  it('exit 1 when the journal cannot be read, 2 for a bad config', async () => {
    const other = tempKiosk({ journal: { dir: 'nowhere' } });
    try {
      const io = recordingIo();
      assert.equal(await journalCommand(['export', '--config', other.configFile], io), 1);
      assert.match(io.stderr.join('\n'), /cannot read the journal in .*nowhere: ENOENT/);
    } finally {
      other.cleanup();
    }
    const io = recordingIo();
    assert.equal(await journalCommand(['export', '--config', join(k.dir, 'none.json')], io), 2);
  });
});
