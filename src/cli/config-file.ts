/**
 * The configuration for a subcommand: `--config <file>` or $KIOSK_CONFIG (which /usr/local/bin/kiosk
 * sets to /etc/kiosk/kiosk.json), loaded with the same validation as `kiosk run`. A problem becomes
 * a `CliConfigError` whose message lists what to fix; the command exits 2.
 */
import { ConfigError, loadConfig } from '../config/config.js';
import type { KioskConfig } from '../config/config-schema.js';

export class CliConfigError extends Error {
  override readonly name = 'CliConfigError';
}

export function loadCliConfig(
  command: string,
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): { file: string; config: KioskConfig } {
  const path = file ?? env.KIOSK_CONFIG;
  if (!path)
    throw new CliConfigError(`kiosk ${command}: no configuration: pass --config <file> or set KIOSK_CONFIG`);
  try {
    return { file: path, config: loadConfig(path, env) };
  } catch (err) {
    if (err instanceof ConfigError)
      throw new CliConfigError(
        `kiosk ${command}: configuration ${err.file} is not valid:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    throw err;
  }
}
