import assert from 'node:assert/strict';
import sinon from 'sinon';
import { z } from 'zod';
import { decodeStatus, isStatusByte, statusAnswers } from '../../hal/printer/escpos-status.js';
import { FakeStatusPort, RecordingPrinterInterface } from '../../hal/printer/fake-printers.js';
import { PrinterError } from '../../hal/printer/printer.js';
import type { PrinterStatusEvent } from '../../hal/printer/printer.js';
import { createEscPosPrinter } from '../../hal/printer/escpos-printer.js';
import type { EscPosPrinterOptions } from '../../hal/printer/escpos-printer.js';
import { duplexStatusChannel } from '../../hal/printer/printer-status-channel.js';
import { ReceiptLineSchema } from '../../src/api/schemas.js';
import type { ReceiptLine } from '../../src/api/schemas.js';
import { loadSeedTransactions } from '../support/seeds.js';

const receiptOf = (seed: string): ReceiptLine[] =>
  z.array(ReceiptLineSchema).parse(loadSeedTransactions().get(seed)?.receipt);

function indexOfBytes(haystack: Buffer, needle: number[], from = 0): number {
  return haystack.indexOf(Buffer.from(needle), from);
}

function countBytes(haystack: Buffer, needle: number[]): number {
  let n = 0;
  for (let i = indexOfBytes(haystack, needle); i >= 0; i = indexOfBytes(haystack, needle, i + 1)) n++;
  return n;
}

function rig(options: Partial<EscPosPrinterOptions> = {}) {
  const iface = new RecordingPrinterInterface();
  const port = new FakeStatusPort();
  const channel = duplexStatusChannel(port.connect, { where: 'fake', keepOpen: true });
  const printer = createEscPosPrinter({
    columns: 32,
    interface: iface,
    statusChannel: channel,
    statusTimeoutMs: 200,
    offlineRetryMs: 1000,
    ...options,
  });
  const events: PrinterStatusEvent[] = [];
  printer.on('status', (e) => events.push(e));
  return { iface, port, printer, events };
}

const ESC_INIT = [0x1b, 0x40];
const CODE_PAGE_PC858 = [0x1b, 0x74, 19];
const BOLD_ON = [0x1b, 0x45, 0x01];
const BOLD_OFF = [0x1b, 0x45, 0x00];
const DOUBLE_HEIGHT = [0x1b, 0x21, 0x10];
const FULL_CUT = [0x1d, 0x56, 0x00];

describe('hal/printer/escpos-printer (node-thermal-printer + DLE EOT)', () => {
  it('prints seed 000 as ESC/POS: PC858, bold on/off, CP858 umlaut and euro, cut', async () => {
    const { iface, port, printer } = rig();
    await printer.print({ lines: receiptOf('000'), header: ["John's Bakery"], footer: ['Preise in €'] });
    assert.equal(iface.jobs.length, 1);
    const bytes = iface.bytes();

    assert.deepEqual(
      [...bytes.subarray(0, 5)],
      [...ESC_INIT, ...CODE_PAGE_PC858],
      'reset, then code page PC858',
    );
    assert.equal(countBytes(bytes, [0x1b, 0x74]), 1, 'no silent code page switches');
    assert.equal(countBytes(bytes, BOLD_ON), 3, 'three important lines');
    assert.equal(countBytes(bytes, BOLD_OFF), 3);
    const amount = indexOfBytes(bytes, [...BOLD_ON, ...DOUBLE_HEIGHT, ...Buffer.from('7,96 EUR\n')]);
    assert.ok(amount > 0, 'important amount is bold and double height');
    assert.ok(indexOfBytes(bytes, [0x1b, 0x21, 0x00, ...BOLD_OFF], amount) > amount, 'then back to normal');
    // "Zahlung über:" with ü = 0x81 in CP858; the euro sign is 0xD5 there.
    assert.ok(indexOfBytes(bytes, [...Buffer.from('Zahlung '), 0x81, ...Buffer.from('ber:')]) > 0);
    assert.ok(indexOfBytes(bytes, [...Buffer.from('Preise in '), 0xd5]) > 0);
    assert.ok(indexOfBytes(bytes, FULL_CUT) > amount, 'cut after the receipt');
    assert.ok(indexOfBytes(bytes, Buffer.from('Kartennummer:   9276004429942845\n').toJSON().data) > 0);

    assert.deepEqual(
      port.streams[0]?.requests,
      [4, 1],
      'paper sensor and printer status asked before printing',
    );
    assert.deepEqual(printer.lastReceipt()?.printed, true);
    assert.equal(printer.lastReceipt()?.text.at(-1), '          Preise in €');
  });

  it('prints barcode lines as ESC/POS symbols: QR model 2 with its data stored, Code128 set B with HRI below', async () => {
    const { iface, printer } = rig();
    const voucher = 'KV1.AB12.CD34';
    await printer.print({
      lines: [
        { type: 'barcode', value: { symbology: 'qr', data: voucher } },
        { type: 'barcode', value: { symbology: 'code128', data: '4006381333931' } },
      ],
    });
    const bytes = iface.bytes();
    const model2 = indexOfBytes(bytes, [0x1d, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    assert.ok(model2 > 0, 'GS ( k: QR model 2');
    // GS ( k pL pH 1 P 0 <data>: pL counts the data plus 3, then the symbol is printed (GS ( k ... 1 Q 0).
    const store = [0x1d, 0x28, 0x6b, voucher.length + 3, 0x00, 0x31, 0x50, 0x30, ...Buffer.from(voucher)];
    const stored = indexOfBytes(bytes, store);
    assert.ok(stored > model2, 'the voucher code stored whole in the symbol');
    assert.ok(
      indexOfBytes(bytes, [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30], stored) > stored,
      'and printed',
    );
    assert.equal(indexOfBytes(bytes, [...Buffer.from(`[qr: ${voucher}]`)]), -1, 'the symbol, not its text');

    const code = '4006381333931';
    const barcode = indexOfBytes(bytes, [
      0x1d,
      0x6b,
      0x49,
      code.length + 2,
      0x7b,
      0x42,
      ...Buffer.from(code),
    ]);
    assert.ok(barcode > stored, 'GS k 73: Code128, code set B, the data whole');
    const settings = bytes.subarray(barcode - 12, barcode);
    assert.deepEqual(
      [...settings],
      [0x1d, 0x48, 2, 0x1d, 0x66, 0, 0x1d, 0x77, 2, 0x1d, 0x68, 60],
      'HRI below (GS H 2), font A, module width 2 (GS w: 2..6), 60 dots high',
    );
    assert.ok(indexOfBytes(bytes, FULL_CUT) > barcode, 'cut after the symbols');
  });

  it('a barcode line beyond printable ASCII is printed as text: no symbol whose byte count could run into the commands', async () => {
    const { iface, printer } = rig();
    // 'é' is two bytes in UTF-8: a symbol framed by the character count would leave ESC p (drawer kick) outside it.
    const data = 'KV1-é\x1bp\x00\x19\xfa';
    await printer.print({
      lines: [
        { type: 'barcode', value: { symbology: 'qr', data } },
        { type: 'barcode', value: { symbology: 'code128', data } },
      ],
    });
    const bytes = iface.bytes();
    assert.equal(indexOfBytes(bytes, [0x1d, 0x28, 0x6b]), -1, 'no QR command');
    assert.equal(indexOfBytes(bytes, [0x1d, 0x6b]), -1, 'no barcode command');
    assert.equal(indexOfBytes(bytes, [0x1b, 0x70]), -1, 'no ESC p reaches the printer');
    // é is 0x82 in CP858
    assert.ok(indexOfBytes(bytes, [...Buffer.from('[qr: KV1-'), 0x82]) > 0, 'the code printed as text');
    assert.ok(indexOfBytes(bytes, [...Buffer.from('[barcode: KV1-'), 0x82]) > 0);
  });

  it('refuses to print without paper: typed error, nothing sent, receipt kept for display', async () => {
    const { iface, port, printer, events } = rig();
    port.state = { status: 'paper_out', silent: false };
    await assert.rejects(
      printer.print({ lines: receiptOf('001') }),
      (err: unknown) => err instanceof PrinterError && err.kind === 'paper_out' && err.printed === 'no',
    );
    assert.equal(iface.jobs.length, 0);
    assert.equal(printer.lastReceipt()?.printed, false);
    assert.ok(printer.lastReceipt()?.text.includes('10,00 EUR'));
    assert.deepEqual(events, [{ status: 'paper_out' }]);
    assert.equal(printer.health(), 'offline');
  });

  it('prints on paper low and reports it', async () => {
    const { iface, port, printer, events } = rig();
    port.state = { status: 'paper_low', silent: false };
    await printer.print({ lines: receiptOf('003') });
    assert.equal(iface.jobs.length, 1);
    assert.deepEqual(events, [{ status: 'paper_low', detail: 'paper_near_end' }]);
    assert.equal(printer.health(), 'degraded');
  });

  it('decodes the DLE EOT bits: paper near end 2-3, out 5-6, offline causes', () => {
    assert.deepEqual(decodeStatus({ paper: 0x12, printer: 0x12 }), { status: 'ok' });
    assert.deepEqual(decodeStatus({ paper: 0x12 | 0x0c, printer: 0x12 }).status, 'paper_low');
    assert.deepEqual(decodeStatus({ paper: 0x12 | 0x60, printer: 0x12 | 0x08 }).status, 'paper_out');
    assert.deepEqual(decodeStatus({ paper: 0x12, printer: 0x12 | 0x08, offlineCause: 0x12 | 0x04 }), {
      status: 'offline',
      detail: 'cover_open',
    });
    assert.deepEqual(decodeStatus({ paper: 0x12, printer: 0x1a, offlineCause: 0x32 }).status, 'paper_out');
    assert.ok(isStatusByte(0x12) && isStatusByte(0x7e) && !isStatusByte(0x41) && !isStatusByte(0x92));
    assert.deepEqual(statusAnswers('paper_out'), { paper: 0x7e, printer: 0x1a, offlineCause: 0x32 });
  });

  it('reports a cover open as offline with the cause (asks DLE EOT 2)', async () => {
    const { port, printer } = rig();
    port.state = { status: 'offline', detail: 'cover_open', silent: false };
    assert.equal(await printer.status(), 'offline');
    assert.deepEqual(port.streams[0]?.requests, [4, 1, 2]);
    const probe = await printer.probe();
    assert.equal(probe.status, 'offline (cover_open)');
    assert.match(probe.hint ?? '', /cover/);
  });

  describe('with fake timers', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });
    afterEach(() => clock.restore());

    it('a printer that does not answer is offline after the read timeout', async () => {
      const { port, printer, events } = rig();
      port.state = { status: 'ok', silent: true };
      const status = printer.status();
      await clock.tickAsync(250);
      assert.equal(await status, 'offline');
      assert.deepEqual(events, [{ status: 'offline', detail: 'no_answer' }]);
    });

    it('unplug and replug: offline, then ok again without a new driver', async () => {
      const { iface, port, printer, events } = rig();
      assert.equal(await printer.status(), 'ok');
      port.unplug();
      iface.unplugged = true;
      assert.equal(await printer.status(), 'offline');
      port.replug();
      iface.unplugged = false;
      assert.equal(await printer.status(), 'ok');
      await printer.print({ lines: receiptOf('003') });
      assert.equal(iface.jobs.length, 1);
      assert.deepEqual(
        events.map((e) => e.status),
        ['ok', 'offline', 'ok'],
      );
      assert.equal(port.connections, 2, 'reconnected once');
    });

    it('a job waits for an offline printer until its deadline, then fails without printing', async () => {
      const { iface, port, printer } = rig();
      port.unplug();
      const job = printer.print({ lines: receiptOf('001'), deadline: Date.now() + 5_000 });
      const outcome = assert.rejects(
        job,
        (err: unknown) => err instanceof PrinterError && err.kind === 'offline',
      );
      await clock.tickAsync(6_000);
      await outcome;
      port.replug();
      await clock.tickAsync(10_000);
      assert.equal(iface.jobs.length, 0, 'never printed later');
    });

    it('a job prints when the printer comes back before the deadline', async () => {
      const { iface, port, printer } = rig();
      port.unplug();
      const job = printer.print({ lines: receiptOf('001'), deadline: Date.now() + 30_000 });
      await clock.tickAsync(3_000);
      port.replug();
      await clock.tickAsync(1_500);
      await job;
      assert.equal(iface.jobs.length, 1);
    });

    it('a queued job expires behind a slow one instead of printing much later', async () => {
      const { iface, printer } = rig();
      const slow = iface.execute.bind(iface);
      iface.execute = async (buffer: Buffer) => {
        await new Promise((resolve) => setTimeout(resolve, 90_000));
        await slow(buffer);
      };
      const first = printer.print({ lines: receiptOf('000') });
      const second = printer.print({ lines: receiptOf('001'), deadline: Date.now() + 30_000 });
      const outcome = assert.rejects(
        second,
        (err: unknown) => err instanceof PrinterError && err.kind === 'expired',
      );
      await clock.tickAsync(100_000);
      await first;
      await outcome;
      assert.equal(iface.jobs.length, 1);
      assert.ok(printer.lastReceipt()?.text.includes('10,00 EUR'), 'the expired receipt is still kept');
    });
  });

  it('a broken connection while sending is write_failed with an unknown outcome', async () => {
    const { iface, printer } = rig();
    iface.unplugged = true;
    await assert.rejects(
      printer.print({ lines: receiptOf('000') }),
      (err: unknown) =>
        err instanceof PrinterError && err.kind === 'write_failed' && err.printed === 'unknown',
    );
    assert.equal(printer.health(), 'offline');
  });

  it('reprints the last receipt byte for byte', async () => {
    const { iface, printer } = rig();
    await printer.print({ lines: receiptOf('004') });
    await printer.reprint();
    assert.equal(iface.jobs.length, 2);
    assert.deepEqual(iface.jobs[1], iface.jobs[0]);
  });

  it('without a status channel only reachability is known', async () => {
    const { iface, printer } = rig({ statusChannel: undefined });
    assert.equal(await printer.status(), 'ok');
    iface.unplugged = true;
    assert.equal(await printer.status(), 'offline');
  });

  it('the TCP-style channel connects per query and closes the connection after each', async () => {
    const port = new FakeStatusPort();
    const channel = duplexStatusChannel(port.connect, { where: 'fake', keepOpen: false });
    assert.equal(await channel.query(Buffer.from([0x10, 0x04, 0x04]), 200), 0x12);
    assert.equal(await channel.query(Buffer.from([0x10, 0x04, 0x01]), 200), 0x12);
    assert.equal(port.connections, 2);
    assert.ok(port.streams.every((s) => s.destroyed));
  });

  it('probe says what to check', async () => {
    const { port, printer } = rig({ required: true });
    assert.deepEqual(await printer.probe(), {
      device: 'printer',
      driver: 'escpos',
      where: 'custom interface (status: fake)',
      required: true,
      found: true,
      status: 'ok',
    });
    port.state = { status: 'paper_out', silent: false };
    const out = await printer.probe();
    assert.equal(out.status, 'paper_out');
    assert.match(out.hint ?? '', /load a new roll/);
  });
});
