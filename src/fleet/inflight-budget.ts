/**
 * The broker's Receive Maximum (MQTT 5 CONNACK; 65,535 when absent) bounds the QoS 1 publishes that may
 * await their PUBACK on one connection, all topics together; a client that sends more is disconnected
 * (reason 0x93; Mosquitto advertises its `max_inflight_messages`, 20 by default). MQTT.js does not count
 * them, so the reporter and the outbox pump share one budget per connection.
 */
export class InflightBudget {
  private used = 0;
  private readonly waiters: Array<() => void> = [];
  readonly max: number;

  constructor(receiveMaximum: number | undefined) {
    const n = receiveMaximum ?? 65_535;
    this.max = Number.isInteger(n) && n >= 1 ? Math.min(n, 65_535) : 65_535;
  }

  get inUse(): number {
    return this.used;
  }

  /** Slots free now. */
  free(): number {
    return Math.max(0, this.max - this.used);
  }

  /** Takes a slot if one is free. */
  take(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  /** A PUBACK (or a refusal) came: the slot is free again; whoever waits for one is told. */
  release(): void {
    if (this.used > 0) this.used--;
    for (const w of [...this.waiters]) w();
  }

  /** Called after every release (until the connection, and with it the budget, is dropped). */
  onRelease(listener: () => void): void {
    this.waiters.push(listener);
  }
}
