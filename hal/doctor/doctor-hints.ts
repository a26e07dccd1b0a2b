/**
 * What a technician should check when a GPIO device cannot be opened. onoff reports sysfs errors as
 * plain errno codes on `/sys/class/gpio/...`; the hints say what they mean on a Raspberry Pi.
 */
import { GpioChipNotFoundError, GpioPinRangeError } from '../io/sysfs-gpio-base.js';
import { GpioUnavailableError } from '../io/gpio-onoff.js';

export interface GpioFailure {
  status: string;
  hint: string;
}

export function explainGpioError(err: unknown): GpioFailure {
  if (err instanceof GpioUnavailableError) {
    return {
      status: 'no sysfs GPIO',
      hint: 'sysfs GPIO not available: not a Raspberry Pi, or a kernel without CONFIG_GPIO_SYSFS',
    };
  }
  if (err instanceof GpioChipNotFoundError) {
    return { status: err.chips.length ? 'no header chip' : 'no sysfs GPIO', hint: err.message };
  }
  if (err instanceof GpioPinRangeError) return { status: 'bad pin', hint: err.message };
  const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return {
        status: code,
        hint: 'no permission on /sys/class/gpio (or /dev/gpiochip0): add the kiosk user to group gpio (sudo usermod -aG gpio $USER)',
      };
    case 'EBUSY':
      return {
        status: code,
        hint: 'pin in use: is the kiosk running (stop it first), or is the pin claimed by a dtoverlay (1-wire, SPI, UART)?',
      };
    case 'EINVAL':
      return {
        status: code,
        hint: 'the kernel refused the GPIO number: the header chip base was not applied or the pin does not exist',
      };
    case 'ENOENT':
      return { status: code, hint: 'GPIO files missing: sysfs GPIO not available on this system' };
    default:
      return { status: code, hint: (err as Error)?.message ?? String(err) };
  }
}
