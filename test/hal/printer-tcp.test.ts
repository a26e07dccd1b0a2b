import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { z } from 'zod';
import { statusAnswers } from '../../hal/printer/escpos-status.js';
import type { PrinterStatus } from '../../hal/printer/printer.js';
import { createEscPosPrinter } from '../../hal/printer/escpos-printer.js';
import { tcpStatusChannel } from '../../hal/printer/printer-status-channel.js';
import { ReceiptLineSchema } from '../../src/api/schemas.js';
import { loadSeedTransactions } from '../support/seeds.js';

/** A network printer on a local port: keeps what it receives, answers DLE EOT n. */
function fakeNetworkPrinter(
  state: { status: PrinterStatus },
  port = 0,
): Promise<{ server: Server; received: Buffer[] }> {
  const received: Buffer[] = [];
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      for (let i = 0; i + 2 < chunk.length; i++) {
        if (chunk[i] === 0x10 && chunk[i + 1] === 0x04) {
          const a = statusAnswers(state.status);
          const n = chunk[i + 2];
          socket.write(Buffer.from([n === 1 ? a.printer : n === 2 ? a.offlineCause : a.paper]));
        }
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, received })));
}

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('hal/printer/escpos-printer over real TCP (tcp://host:port + DLE EOT on the same port)', () => {
  it('prints, goes offline when the printer disappears and comes back on the same driver', async () => {
    const state = { status: 'ok' as PrinterStatus };
    const first = await fakeNetworkPrinter(state);
    const port = (first.server.address() as AddressInfo).port;
    const printer = createEscPosPrinter({
      columns: 32,
      interface: `tcp://127.0.0.1:${port}`,
      statusChannel: tcpStatusChannel('127.0.0.1', port, 500),
      statusTimeoutMs: 500,
    });
    const lines = z.array(ReceiptLineSchema).parse(loadSeedTransactions().get('000')?.receipt);
    try {
      await printer.print({ lines });
      // The library's network interface resolves after writing; give the server a moment to read.
      for (
        let i = 0;
        i < 50 && !Buffer.concat(first.received).includes(Buffer.from([0x1d, 0x56, 0x00]));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const bytes = Buffer.concat(first.received);
      assert.ok(bytes.includes(Buffer.from([0x1b, 0x74, 19])), 'code page PC858 arrived');
      assert.ok(bytes.includes(Buffer.from([0x1d, 0x56, 0x00])), 'cut arrived');

      state.status = 'paper_low';
      assert.equal(await printer.status(), 'paper_low');

      await close(first.server);
      assert.equal(await printer.status(), 'offline');

      const second = await fakeNetworkPrinter(state, port);
      try {
        assert.equal(await printer.status(), 'paper_low');
      } finally {
        await close(second.server);
      }
    } finally {
      await printer.close();
      first.server.close();
    }
  });
});
