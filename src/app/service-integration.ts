/**
 * Under systemd: READY once the kiosk runs, the watchdog fed only while the event loop and the
 * machines are healthy, and the health file the upgrade script reads to decide on a roll-back.
 */
import { StuckStateGuard } from '../ops/stuck-state.js';
import { systemdNotifier } from '../ops/systemd-notify.js';
import { Watchdog } from '../ops/watchdog.js';
import { writeHealthReport } from '../ops/health-file.js';
import type { Logger } from '../util/logger.js';
import type { KioskApp } from './kiosk-app.js';
import { FIRMWARE_VERSION } from './version.js';

/** States a healthy kiosk never stays in for long: a longer stay means it hangs. */
const TRANSIENT_LIMIT_MS: Record<string, number> = {
  booting: 60_000,
  selfTest: 120_000,
  recovering: 15 * 60_000,
  evaluating: 10_000,
};

export async function startServiceIntegration(
  app: KioskApp,
  logger: Logger,
  stateDir = process.env.KIOSK_STATE_DIR ?? '/var/lib/kiosk',
) {
  const notifier = systemdNotifier({ logger });
  const guard = new StuckStateGuard();
  const track = () => {
    const s = app.summary();
    const top = s.state.split('.')[0] ?? s.state;
    guard.enter('kiosk', top, TRANSIENT_LIMIT_MS[top]);
  };
  app.on('change', track);
  track();
  const watchdog = new Watchdog({ notifier, isHealthy: () => guard.verdict(), logger });
  watchdog.start();
  const writeHealth = () => {
    const s = app.summary();
    void writeHealthReport(stateDir, {
      version: FIRMWARE_VERSION,
      state: s.state,
      busy: s.state.startsWith('serving'),
      ts: Date.now(),
      pid: process.pid,
      reason: s.reason,
      devices: app.deviceHealth(),
    }).catch((err: Error) => logger.warn({ err: err.message }, 'health file not written'));
  };
  const healthTimer = setInterval(writeHealth, 10_000);
  healthTimer.unref();
  writeHealth();
  await notifier.ready('serving');
  return {
    async stop() {
      clearInterval(healthTimer);
      watchdog.stop();
      await notifier.stopping();
    },
  };
}
