/**
 * Serial ports for tests on serialport's own mock binding, plus what the mock lacks: unplug and replug.
 * An unplugged path fails to open with ENOENT, like a missing `/dev/serial/by-id/...` link, and an open
 * port on it sees a read error, which serialport turns into `close` with `err.disconnected`.
 *
 * MockBinding keeps its ports in module state: call `reset()` after each test.
 */
import { SerialPortMock } from 'serialport';
import type { SerialPortFactory, SerialPortLike } from './serial-port.js';

type WriteListener = (data: Buffer) => void;
/*
 * The mock binding is taken from serialport itself, not imported from @serialport/binding-mock: that
 * package ships separate CJS and ESM builds, each with its own port table, and serialport uses the CJS one.
 */
const MockBinding = SerialPortMock.binding;
type OpenOptions = Parameters<typeof MockBinding.open>[0];
type MockPortBinding = Awaited<ReturnType<typeof MockBinding.open>>;

export class FakeSerialPorts {
  private readonly plugged = new Set<string>();
  private readonly open = new Map<string, MockPortBinding>();
  private readonly writeListeners = new Map<string, Set<WriteListener>>();
  /** Bytes written per path, across reconnects. */
  readonly written = new Map<string, Buffer[]>();
  /** Successful opens per path. */
  readonly opens = new Map<string, number>();

  readonly factory: SerialPortFactory = {
    create: ({ path, baudRate }): SerialPortLike => {
      const binding = {
        list: () => MockBinding.list(),
        open: (options: OpenOptions) => this.openBinding(options),
      };
      // SerialPortMock spreads its options over its default binding, so a wrapped binding can be passed.
      return new SerialPortMock({
        path,
        baudRate,
        autoOpen: false,
        binding,
      } as unknown as ConstructorParameters<typeof SerialPortMock>[0]);
    },
    exists: async (path: string): Promise<boolean> => this.plugged.has(path),
  };

  /**
   * Unplug the way a pty or some USB adapters do it: the path vanishes but the open port sees no error
   * (serialport's binding keeps reading 0 bytes). Only the driver's presence check can notice.
   */
  vanish(path: string): void {
    this.plugged.delete(path);
    this.open.delete(path);
  }

  private async openBinding(options: OpenOptions): Promise<MockPortBinding> {
    if (!this.plugged.has(options.path)) {
      throw new Error(`Error: No such file or directory, cannot open ${options.path}`);
    }
    const port = await MockBinding.open(options);
    const write = port.write.bind(port);
    port.write = async (buffer: Buffer): Promise<void> => {
      await write(buffer);
      const copy = Buffer.from(buffer);
      const list = this.written.get(options.path) ?? [];
      list.push(copy);
      this.written.set(options.path, list);
      for (const l of this.writeListeners.get(options.path) ?? []) l(copy);
    };
    this.open.set(options.path, port);
    this.opens.set(options.path, (this.opens.get(options.path) ?? 0) + 1);
    return port;
  }

  /** Makes the device appear (first plug or replug). */
  plug(path: string): void {
    MockBinding.createPort(path, { echo: false, record: false });
    this.plugged.add(path);
  }

  /** The device goes away: open fails from now on, and an open port gets a disconnect. */
  unplug(path: string): void {
    this.plugged.delete(path);
    const port = this.open.get(path);
    this.open.delete(path);
    if (!port?.isOpen) return;
    const failure = new Error('Input/output error (device unplugged)');
    port.read = async () => {
      throw failure;
    };
    const internals = port as unknown as { pendingRead: ((err?: Error) => void) | null };
    const pending = internals.pendingRead;
    internals.pendingRead = null;
    pending?.(failure);
  }

  isOpen(path: string): boolean {
    return this.open.get(path)?.isOpen ?? false;
  }

  /** Bytes from the device to the driver. Throws when the port is not open, which a test should notice. */
  emit(path: string, data: Buffer | string): void {
    const port = this.open.get(path);
    if (!port?.isOpen) throw new Error(`${path} is not open`);
    port.emitData(data);
  }

  /** Calls `listener` with every write to `path` (the test plays the device). */
  onWrite(path: string, listener: WriteListener): () => void {
    const set = this.writeListeners.get(path) ?? new Set<WriteListener>();
    set.add(listener);
    this.writeListeners.set(path, set);
    return () => set.delete(listener);
  }

  reset(): void {
    MockBinding.reset();
    this.plugged.clear();
    this.open.clear();
    this.writeListeners.clear();
  }
}
