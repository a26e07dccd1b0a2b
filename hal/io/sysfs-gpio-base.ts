/**
 * Since kernel 6.6 the header pins are no longer GPIO 0..53: the header chip gets a base such as 512
 * (Pi 4 / Pi 3) or 571 (Pi 5), and exporting a plain BCM number fails with EINVAL. The base can change
 * between kernels, so it is read from sysfs at start and never hard-coded.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Labels of the chip that drives the 40-pin header, in order of preference. On a Pi 5 the header is on
 * the RP1 south bridge; the SoC's own chips (`gpio-brcmstb@...`) and the firmware expander
 * (`raspberrypi-exp-gpio`) are never the header, so only exact labels count.
 */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export const DEFAULT_SYSFS_GPIO_ROOT = '/sys/class/gpio';

export interface GpioChipInfo {
  /** Directory name, e.g. `gpiochip512`. */
  name: string;
  base: number;
  label: string;
  ngpio: number;
}

/** No sysfs GPIO at all, or no chip with a header label: the error says which and what was seen. */
export class GpioChipNotFoundError extends Error {
  constructor(
    message: string,
    readonly chips: GpioChipInfo[],
  ) {
    super(message);
    this.name = 'GpioChipNotFoundError';
  }
}

/** A BCM number outside the header chip's range. */
export class GpioPinRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpioPinRangeError';
  }
}

export async function listGpioChips(root: string = DEFAULT_SYSFS_GPIO_ROOT): Promise<GpioChipInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new GpioChipNotFoundError(`no sysfs GPIO at ${root} (${code})`, []);
  }
  const chips: GpioChipInfo[] = [];
  for (const name of entries.filter((e) => e.startsWith('gpiochip')).sort()) {
    const dir = join(root, name);
    try {
      const [base, label, ngpio] = await Promise.all(
        ['base', 'label', 'ngpio'].map(async (f) => (await readFile(join(dir, f), 'utf8')).trim()),
      );
      chips.push({ name, base: Number(base), label: label ?? '', ngpio: Number(ngpio) });
    } catch {
      // A chip directory without the usual files is not one we can use; the others may still be.
    }
  }
  return chips;
}

/** Picks the header chip: the first whose label is a known header label (Pi 5: `pinctrl-rp1`). */
export function pickHeaderChip(chips: GpioChipInfo[]): GpioChipInfo {
  const found = HEADER_CHIP_LABELS.map((label) => chips.find((c) => c.label === label)).find(Boolean);
  if (!found) {
    const seen = chips.length ? chips.map((c) => `${c.name} "${c.label}" base ${c.base}`).join(', ') : 'none';
    throw new GpioChipNotFoundError(
      `no GPIO header chip found (looked for ${HEADER_CHIP_LABELS.join(', ')}; chips: ${seen})`,
      chips,
    );
  }
  return found;
}

/** Translates BCM numbers to the kernel's global GPIO numbers for one header chip. */
export class GpioNumbering {
  constructor(readonly chip: GpioChipInfo) {}

  toGlobal(bcm: number): number {
    if (!Number.isInteger(bcm) || bcm < 0 || bcm >= this.chip.ngpio) {
      throw new GpioPinRangeError(
        `BCM ${bcm} is outside ${this.chip.label} (${this.chip.ngpio} lines at base ${this.chip.base})`,
      );
    }
    return this.chip.base + bcm;
  }

  describe(bcm: number): string {
    return `BCM ${bcm} (gpio ${this.chip.base + bcm})`;
  }
}

export async function readGpioNumbering(root: string = DEFAULT_SYSFS_GPIO_ROOT): Promise<GpioNumbering> {
  return new GpioNumbering(pickHeaderChip(await listGpioChips(root)));
}
