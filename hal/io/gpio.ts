/**
 * The small pin interface the button and coin drivers use. The real one sits on `onoff` (sysfs GPIO,
 * `gpio-onoff.ts`); tests use `fakes/gpio-pin.ts`, where the test drives edges with timestamps, because
 * onoff's sysfs root cannot be redirected.
 *
 * Values are logical: with `activeLow` a physically low line reads 1 (the kernel inverts it, as onoff does).
 */

export type Level = 0 | 1;

export interface PinEdge {
  /** Logical level after the edge. Consecutive edges may repeat a level when a bounce was too fast to see. */
  value: Level;
  /** Monotonic milliseconds (performance.now() for real pins); widths and gaps are measured with this. */
  at: number;
}

export interface InputPinOptions {
  activeLow?: boolean;
}

export interface OutputPinOptions {
  activeLow?: boolean;
  /** Logical level written when the pin is set up, before anything else can run. */
  initial: Level;
}

export interface GpioPin {
  /** BCM number as configured and wired, e.g. 17. */
  readonly bcm: number;
  /** Global kernel GPIO number after adding the header chip's base (e.g. 529 for BCM 17 at base 512). */
  readonly gpio: number;
  read(): Promise<Level>;
  write(value: Level): Promise<void>;
  /** Calls `listener` for each edge (both directions). Returns the function that stops watching. */
  watch(listener: (edge: PinEdge) => void): () => void;
  /** Releases the pin (sysfs unexport). The pin is unusable afterwards. */
  unexport(): void;
}

/**
 * Opens pins by BCM number. Throws when the pin cannot be exported: no sysfs GPIO on this machine,
 * no permission (user not in group `gpio`), or a pin already in use; the error says which.
 */
export interface GpioPinFactory {
  input(bcm: number, options?: InputPinOptions): GpioPin;
  output(bcm: number, options: OutputPinOptions): GpioPin;
}
