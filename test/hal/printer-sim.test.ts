import assert from 'node:assert/strict';
import sinon from 'sinon';
import { z } from 'zod';
import { PrinterError } from '../../hal/printer/printer.js';
import type { PrinterStatusEvent } from '../../hal/printer/printer.js';
import { SimulatedPrinter } from '../../hal/printer/sim-printer.js';
import { ReceiptLineSchema } from '../../src/api/schemas.js';
import { loadSeedTransactions } from '../support/seeds.js';

const lines = z.array(ReceiptLineSchema).parse(loadSeedTransactions().get('004')?.receipt);

describe('hal/printer/sim-printer (simulated twin)', () => {
  it('keeps printed receipts as text and the same ESC/POS bytes the real driver sends', async () => {
    const printer = new SimulatedPrinter({ columns: 48 });
    await printer.print({ lines, header: ['Kiosk Hauptbahnhof'] });
    assert.equal(printer.receipts.length, 1);
    const [receipt] = printer.receipts;
    assert.equal(receipt?.text[0], '               Kiosk Hauptbahnhof');
    assert.ok(receipt?.text.includes('------------ Kundenkarte Aufladung -------------'));
    assert.deepEqual(receipt?.bytes, (await printer.render({ lines, header: ['Kiosk Hauptbahnhof'] })).bytes);
    assert.deepEqual([...(receipt?.bytes.subarray(0, 5) ?? [])], [0x1b, 0x40, 0x1b, 0x74, 19]);
  });

  it('paper low prints, paper out refuses with a typed error', async () => {
    const printer = new SimulatedPrinter();
    const events: PrinterStatusEvent[] = [];
    printer.on('status', (e) => events.push(e));
    printer.setPaper('low');
    await printer.print({ lines });
    printer.setPaper('out');
    await assert.rejects(
      printer.print({ lines }),
      (e: unknown) => e instanceof PrinterError && e.kind === 'paper_out',
    );
    assert.equal(printer.receipts.length, 1);
    assert.deepEqual(
      events.map((e) => e.status),
      ['paper_low', 'paper_out'],
    );
    printer.setPaper('ok');
    await printer.reprint();
    assert.equal(printer.receipts.length, 2);
  });

  it('unplugged: a job with a short deadline fails as offline; replugged it prints', async () => {
    const printer = new SimulatedPrinter({ columns: 32, offlineRetryMs: 5 });
    printer.unplug();
    assert.equal(await printer.status(), 'offline');
    await assert.rejects(
      printer.print({ lines, deadline: Date.now() + 20 }),
      (e: unknown) => e instanceof PrinterError && e.kind === 'offline' && e.printed === 'no',
    );
    assert.equal((await printer.probe()).found, false);
    printer.replug();
    assert.equal(await printer.status(), 'ok');
    await printer.print({ lines });
    assert.equal(printer.receipts.length, 1);
  });

  it('failing mid-print: half a receipt comes out, the job fails as write_failed with printed unknown; the next prints', async () => {
    const printer = new SimulatedPrinter();
    printer.failMidPrint(1);
    await assert.rejects(
      printer.print({ lines }),
      (e: unknown) => e instanceof PrinterError && e.kind === 'write_failed' && e.printed === 'unknown',
    );
    const torn = printer.receipts[0]!;
    assert.equal(torn.text.at(-1), '~~ torn ~~');
    assert.ok(torn.text.length < (await printer.render({ lines })).text.length);
    assert.equal(printer.lastReceipt()?.printed, false, 'kept for a reprint');
    await printer.reprint();
    assert.deepEqual(printer.receipts[1]?.text, (await printer.render({ lines })).text);
  });

  it('an expired deadline is never printed', async () => {
    const printer = new SimulatedPrinter();
    await assert.rejects(
      printer.print({ lines, deadline: Date.now() - 1 }),
      (e: unknown) => e instanceof PrinterError && e.kind === 'expired',
    );
    assert.equal(printer.receipts.length, 0);
    assert.equal(printer.lastReceipt()?.printed, false);
  });

  it('watch polls the status and emits changes until stopped', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const printer = new SimulatedPrinter();
      const seen: string[] = [];
      printer.on('status', (e) => seen.push(e.status));
      const stop = printer.watch(1000);
      await clock.tickAsync(10);
      printer.setPaper('low');
      await clock.tickAsync(1000);
      printer.unplug();
      await clock.tickAsync(1000);
      stop();
      printer.replug();
      await clock.tickAsync(5000);
      assert.deepEqual(seen, ['ok', 'paper_low', 'offline']);
    } finally {
      clock.restore();
    }
  });
});
