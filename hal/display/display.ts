/**
 * A small character display (16x2 or 20x4). The kiosk hands over the whole screen as text and the
 * driver decides what actually has to change on the glass; callers never clear, position or redraw.
 * The real driver is `pcf8574-lcd.ts` (HD44780 behind a PCF8574 on I2C), the twin is `sim/display.ts`.
 */
import type { DeviceHealth, Probeable } from '../../src/contracts/device.js';

/**
 * `status` is emitted whenever the display's health changes, and once more after the driver had to
 * re-initialise the controller (an I/O error such as EREMOTEIO: a loose wire, a brown-out). Such a
 * re-init is reported even when it succeeded, so the fleet can see a flaky cable before it fails.
 */
export interface DisplayStatusEvent {
  /** `ok`: the last write reached the display; `offline`: it did not, even after retries. */
  health: Extract<DeviceHealth, 'ok' | 'offline'>;
  /** Error code of the fault that caused this event (`EREMOTEIO`, `ENXIO`, `ENOENT`, ...), if any. */
  cause?: string;
  /** True when the controller was initialised again because of `cause`. */
  reinitialised: boolean;
}

export interface DisplayEvents {
  status: [DisplayStatusEvent];
}

export interface Display extends Probeable {
  readonly cols: number;
  readonly rows: number;

  /**
   * Shows `lines` as the whole screen: line i goes to row i, shorter lines are padded with blanks,
   * longer ones cut, missing rows blank. Text is Unicode; characters the display cannot draw are
   * replaced by a readable fallback (`Ä` -> `Ae` when no custom character is free, `?` at worst).
   *
   * Resolves once the frame was written or given up on. It does NOT reject on I/O errors: a broken
   * display must not stop a sale. Faults are reported through `status`, and the next `show` (or
   * `probe`) tries again from a fresh initialisation. Calls made while a write is running are
   * coalesced: only the newest frame is written.
   */
  show(lines: readonly string[]): Promise<void>;

  /** Switches the backlight; same error behaviour as `show`. */
  setBacklight(on: boolean): Promise<void>;

  /** Health as of the last write or probe. */
  health(): DeviceHealth;

  on<K extends keyof DisplayEvents>(event: K, listener: (...args: DisplayEvents[K]) => void): this;
  off<K extends keyof DisplayEvents>(event: K, listener: (...args: DisplayEvents[K]) => void): this;

  /** Releases the bus; the display keeps showing what it showed. */
  close(): Promise<void>;
}
