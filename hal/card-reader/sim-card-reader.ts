/**
 * Simulated card reader with the real drivers' interface: `scan(text)` is a card held to the reader or
 * a barcode scanned; `unplug()` / `replug()` play the cable.
 */
import { EventEmitter } from 'node:events';
import { simulatedProbe, type ProbeResult } from '../../src/contracts/device.js';
import type { CardReader, CardReaderEvents, ReaderStatus } from './card-reader.js';

export class SimulatedCardReader extends EventEmitter<CardReaderEvents> implements CardReader {
  private plugged = true;
  private running = false;
  private current: ReaderStatus = 'offline';

  get status(): ReaderStatus {
    return this.current;
  }

  start(): void {
    this.running = true;
    this.update();
  }

  /** A read. Returns false when nothing was reported (unplugged or not started), as nothing would be. */
  scan(text: string): boolean {
    if (!text || !/^[\x20-\x7e]+$/.test(text)) throw new Error('a reader only yields printable ASCII text');
    if (this.current !== 'online') return false;
    this.emit('read', text);
    return true;
  }

  unplug(): void {
    this.plugged = false;
    this.update();
  }

  replug(): void {
    this.plugged = true;
    this.update();
  }

  private update(): void {
    const next: ReaderStatus = this.running && this.plugged ? 'online' : 'offline';
    if (next === this.current) return;
    this.current = next;
    this.emit('status', next);
  }

  async probe(): Promise<ProbeResult> {
    return simulatedProbe('reader', { found: this.plugged, status: this.current });
  }

  async close(): Promise<void> {
    this.running = false;
    this.update();
    this.removeAllListeners();
  }
}
