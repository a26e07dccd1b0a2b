/**
 * The kiosk's receipts (src/app/receipt-printing.ts) over fakes: journaled before they print, a
 * printer failure after the record says `kept`, card numbers masked as configured (read live), the
 * configured header and footer on paper, a recovered sale's receipt numbered by the paid count and
 * journaled with its paid transaction before it prints; receiptTime's layout.
 */
import assert from 'node:assert/strict';
import { ReceiptPrinting, receiptTime } from '../../src/app/receipt-printing.js';
import { KioskConfigSchema } from '../../src/config/config-schema.js';
import type { ReceiptLine } from '../../src/api/schemas.js';
import type { RecoveredReceipt } from '../../src/bookkeeping/recover-session.js';
import type { PrintJob } from '../../hal/printer/printer.js';
import { simulatedHardware } from '../../src/harness/kiosk-process.js';
import { silentLogger } from '../../src/util/logger.js';

const CARD: ReceiptLine = {
  type: 'name-value',
  value: { name: 'Kartennummer', value: '9276004430000123456', decoration: [] },
};

function rig(mode: 'topup' | 'checkout' = 'topup') {
  const config = KioskConfigSchema.parse({
    kiosk: { id: 'k-7', mode },
    api: { baseUrl: 'standin', clientId: 'x' },
    hardware: simulatedHardware(),
    receipts: { header: ['Laden'], footer: ['Danke'] },
  });
  const trail: string[] = [];
  const appended: Record<string, unknown>[] = [];
  const printed: PrintJob[] = [];
  let printerFails = false;
  const receipts = new ReceiptPrinting({
    config,
    journal: {
      state: { lifetime: { sales: { count: 3 }, topUps: { count: 4 } } } as never,
      append: async (entry: Record<string, unknown>) => {
        trail.push(`journal ${String(entry.type)}`);
        appended.push(entry);
        return undefined as never;
      },
    } as never,
    sessions: {
      receipt: async (jobId) => void trail.push(`receipt ${jobId}`),
      printed: async (jobId) => void trail.push(`printed ${jobId}`),
    },
    printer: () => ({
      print: async (job) => {
        if (printerFails) throw new Error('paper out');
        trail.push('print');
        printed.push(job);
      },
    }),
    logger: silentLogger,
  });
  return { config, receipts, trail, appended, printed, failPrinter: () => (printerFails = true) };
}

describe('receipt printing', () => {
  it('a top-up receipt: journaled, printed between header and footer, then marked printed; the card masked', async () => {
    const r = rig();
    const out = await r.receipts.print({
      jobId: 'j1',
      kind: 'receipt',
      lines: [CARD],
      basket: [],
      method: null,
    });
    assert.deepEqual(out, {});
    assert.deepEqual(r.trail, ['receipt j1', 'print', 'printed j1']);
    assert.deepEqual(r.printed[0]?.header, ['Laden']);
    assert.deepEqual(r.printed[0]?.footer, ['Danke']);
    const shown = JSON.stringify(r.printed[0]?.lines);
    assert.ok(!shown.includes('9276004430000123456'), shown);
  });

  it('the configuration is read at each receipt (the fleet changes receipts live)', async () => {
    const r = rig();
    r.config.receipts = { ...r.config.receipts, maskCardNumber: false, header: ['Neu'] };
    await r.receipts.print({ jobId: 'j1', kind: 'receipt', lines: [CARD], basket: [], method: null });
    assert.ok(JSON.stringify(r.printed[0]?.lines).includes('9276004430000123456'));
    assert.deepEqual(r.printed[0]?.header, ['Neu']);
  });

  it('the printer fails after the record: the error says kept, and it is not marked printed', async () => {
    const r = rig();
    r.failPrinter();
    await assert.rejects(
      r.receipts.print({ jobId: 'v1', kind: 'voucher', voucherCode: 'ABC', cents: 120, transactionId: null }),
      (err: Error & { kept?: boolean }) => err.kept === true && err.message === 'paper out',
    );
    assert.deepEqual(r.trail, ['receipt v1']);
  });

  it('a recovered sale: numbered by the paid count, journaled with its paid transaction before it prints', async () => {
    const r = rig('checkout');
    const recovered: RecoveredReceipt = {
      sessionId: 's1',
      jobId: 's1:receipt:1',
      transactionId: 'STX_1',
      kind: 'sale',
      basket: [{ id: 1, desc: 'Kaffee', quantity: 2, priceOne: 180, tax: 7 } as never],
      method: 'cash',
      total: 360,
      terminal: 0,
      cashIn: 400,
      cardMasked: null,
      changed: 40,
      credited: 0,
      voucherIn: 0,
      vouchersOut: [],
      apiLines: [],
      lines: [],
    };
    await r.receipts.printRecovered(recovered);
    assert.deepEqual(r.trail, ['journal receipt', 'print', 'journal printed']);
    const receipt = r.appended[0] as { paid: unknown; sale: { receiptNo?: string } };
    assert.deepEqual(receipt.paid, { transactionId: 'STX_1', method: 'cash', itemCount: 2 });
    assert.equal(receipt.sale.receiptNo, 'k-7-00007');
    assert.ok(JSON.stringify(r.printed[0]?.lines).includes('k-7-00007'));
  });

  it('receiptTime: device-local day.month.year hours:minutes, zero-padded', () => {
    assert.equal(receiptTime(new Date(2026, 0, 5, 9, 3)), '05.01.2026 09:03');
    assert.equal(receiptTime(new Date(2026, 11, 31, 23, 59)), '31.12.2026 23:59');
  });
});
