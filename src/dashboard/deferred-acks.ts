/**
 * PUBACKs held back until a message is stored, without holding up the messages behind it.
 *
 * MQTT.js hands a client the next incoming message only after the previous one's `handleMessage`
 * called back, and it sends the PUBACK at that moment. Waiting there for the commit made every event
 * cost one transaction of its own (about 120 events/s per connection on PostgreSQL). Instead the link
 * takes each message at once (so the write buffer groups them into one transaction per batch) and
 * sends the PUBACK itself when the message is committed, through this queue:
 *
 * - PUBACKs go out in the order the messages arrived (MQTT 5 [MQTT-4.6.0-2]), each only once it and
 *   every message before it on this connection are stored;
 * - how many are outstanding is bounded by the write buffer: when it is full the link stops reading
 *   (the client's Receive Maximum should bound it too, but Mosquitto 2.0.11 was seen to exceed it);
 * - a new connection voids what the old one was owed: the broker redelivers those messages (same
 *   session) and the ledger's key makes the second copy harmless. A PUBACK of the old connection sent
 *   on the new one could acknowledge a different message with the same packet id.
 */
export class DeferredAcks {
  private queue: { messageId: number; ready: boolean }[] = [];
  private generation = 0;
  /** Most PUBACKs outstanding at once (the figure the benchmark reports). */
  maxWaiting = 0;

  /** `send` writes one PUBACK on the current connection; it is called in arrival order. */
  constructor(private readonly send: (messageId: number) => void) {}

  get waiting(): number {
    return this.queue.length;
  }

  /** Registers a message whose PUBACK is owed; call the returned function once it is stored. */
  hold(messageId: number): () => void {
    const entry = { messageId, ready: false };
    const generation = this.generation;
    this.queue.push(entry);
    if (this.queue.length > this.maxWaiting) this.maxWaiting = this.queue.length;
    return () => {
      if (generation !== this.generation || entry.ready) return;
      entry.ready = true;
      this.flush();
    };
  }

  /** The connection is gone: nothing owed on it is sent any more. */
  reset(): void {
    this.queue = [];
    this.generation++;
  }

  private flush(): void {
    while (this.queue[0]?.ready) this.send(this.queue.shift()!.messageId);
  }
}
