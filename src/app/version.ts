/** The firmware version reported in `birth` and by `kiosk version`; kept in step with package.json by a test. */
export const FIRMWARE_VERSION = '0.1.0';
