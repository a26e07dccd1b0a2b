/**
 * A card reader as the flows see it: something that yields the text of a card or barcode.
 * Drivers: `line-reader.ts` (barcode / NFC readers that type one line per read over USB-CDC),
 * `pn532-reader.ts` (PN532 NFC over UART); twin: `sim/card-reader.ts`.
 *
 * Events:
 * - `read` (text): one read: the digits of a card number, an EAN, or a UID in hex/decimal. Never empty,
 *   printable ASCII only. The same card held on a PN532 is reported once until it is taken away.
 * - `status` ('online' | 'offline'): the reader came or went (unplugged, open failed). While offline the
 *   driver keeps retrying with back-off; the flows only need to show "reader not available".
 *
 * Card numbers are personal data: drivers log them only through `maskCard`.
 */
import type { EventEmitter } from 'node:events';
import type { Probeable } from '../../src/contracts/device.js';

export type ReaderStatus = 'online' | 'offline';

export interface CardReaderEvents {
  read: [text: string];
  status: [status: ReaderStatus];
}

export interface CardReader extends Probeable, Pick<EventEmitter<CardReaderEvents>, 'on' | 'off' | 'once'> {
  readonly status: ReaderStatus;
  /** Starts opening the port; never throws for a missing device (it reports `offline` and retries). */
  start(): void;
  close(): Promise<void>;
}
