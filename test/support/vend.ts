/** The vending counter in the real kiosk program: a power cut in the middle of a release. */
import type { KioskProcess } from '../../src/harness/kiosk-process.js';

/**
 * Kills the program once the release's intent is durable (its log line), while the slot is held
 * (`slot hold`): after the restart that release's outcome is unknown. The state alone would say only
 * that the machine asked for the release; under load the cut could land before the intent, a
 * different case.
 */
export async function cutMidRelease(k: KioskProcess): Promise<void> {
  await k.waitFor(
    () => Promise.resolve(k.logs()),
    (logs) => logs.some((l) => l.msg === 'release intent journaled: firing'),
    20_000,
  );
  await k.kill();
}
