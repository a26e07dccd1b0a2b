/** A KioskPort for tests: records what commands did, and lets a test say whether a customer is being served. */
import type { ProbeResult } from '../../../src/contracts/device.js';
import type { ConfigDocument, LifetimeCounters } from '../../../src/fleet/envelope.js';
import type {
  BirthFacts,
  HealthFacts,
  KioskPort,
  VoucherSettleReport,
  KioskStatus,
  ReleaseSettleReport,
  TerminalDutyReport,
} from '../../../src/fleet/kiosk-port.js';

export class FakeKiosk implements KioskPort {
  state: KioskStatus = { state: 'online' };
  serving = false;
  calls: string[] = [];
  configVersion: number | null = null;
  applied: ConfigDocument[] = [];
  failNext: Error | undefined;

  status(): KioskStatus {
    return this.state;
  }
  isServingCustomer(): boolean {
    return this.serving;
  }
  private call(name: string): void {
    this.calls.push(name);
    const f = this.failNext;
    this.failNext = undefined;
    if (f) throw f;
  }
  async setMaintenance(on: boolean): Promise<void> {
    this.call(`maintenance:${on}`);
    this.state = on ? { state: 'maintenance', reason: 'operator' } : { state: 'online' };
  }
  async lock(reason: string): Promise<void> {
    this.call(`lock:${reason}`);
    this.state = { state: 'out_of_service', reason };
  }
  async unlock(): Promise<void> {
    this.call('unlock');
    this.state = { state: 'online' };
  }
  async reprintLast(): Promise<{ reprinted: boolean; receiptId?: string }> {
    this.call('reprint');
    return { reprinted: true, receiptId: 'r-1' };
  }
  async diagnostics(): Promise<ProbeResult[]> {
    this.call('diagnostics');
    return [
      { device: 'printer', driver: 'simulated', found: true, where: 'sim', status: 'ok', required: true },
    ];
  }
  async endOfDay(): Promise<TerminalDutyReport> {
    this.call('end-of-day');
    return { result: 'ok', amountCents: 180, count: 1 };
  }
  async terminalCancel(receiptNumber: string): Promise<TerminalDutyReport> {
    this.call(`terminal-cancel:${receiptNumber}`);
    return { result: 'ok', amountCents: 180 };
  }
  async settleRelease(
    jobId: string,
    how: 'delivered' | 'refunded',
    print: boolean,
    cents?: number,
  ): Promise<ReleaseSettleReport> {
    this.call(`settle-release:${jobId}:${how}:${print}${cents !== undefined ? `:${cents}` : ''}`);
    return how === 'refunded'
      ? { jobId, how, amountCents: cents ?? 180, voucher: 'k-0042.QX7MD2KA', printed: print }
      : { jobId, how, amountCents: 180 };
  }
  async unblockSlot(slot: string): Promise<{ slot: string; stock: number }> {
    this.call(`unblock-slot:${slot}`);
    return { slot, stock: 4 };
  }
  async settleVoucher(ref: string, by: string): Promise<VoucherSettleReport> {
    this.call(`voucher-settle:${ref}:${by}`);
    return { ref, amountCents: 220, by: `office ${by}`, already: false };
  }
  async restart(reason: string): Promise<void> {
    this.call(`restart:${reason}`);
  }
  appliedConfigVersion(): number | null {
    return this.configVersion;
  }
  async applyConfig(doc: ConfigDocument): Promise<{ restartRequired: boolean }> {
    this.call(`applyConfig:${doc.version}`);
    this.applied.push(doc);
    this.configVersion = doc.version;
    return { restartRequired: false };
  }
}

export const birthFacts = (): BirthFacts => ({
  firmware: '0.1.0-test',
  hardware: { model: 'Raspberry Pi 4 Model B', serial: '10000000abcdef' },
  devices: [{ device: 'printer', driver: 'simulated', found: true, status: 'ok' }],
  capabilities: ['topup', 'sale', 'cash'],
  kioskName: 'Bahnhof Süd',
  site: 'test-site',
});

const zero = { count: 0, cents: 0 };
export const counters = (): LifetimeCounters => ({
  sinceInstall: { sales: { count: 3, cents: 2388 }, topups: zero, cashIn: zero },
  sinceCollection: { sales: { count: 1, cents: 796 }, topups: zero, cashIn: zero },
  lastCollectionTs: null,
});

export const healthFacts = (): HealthFacts => ({
  devices: { printer: { health: 'ok', status: 'ok', paper: 'ok' } },
  counters: counters(),
  cpuTempC: 48.5,
  disk: { freeBytes: 1_000_000, totalBytes: 8_000_000 },
});
