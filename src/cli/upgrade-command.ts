/**
 * `kiosk upgrade <package> [upgrader options]`: hands over to the root-owned upgrader
 * (`/usr/local/sbin/kiosk-upgrade`, kept outside the releases so a broken release can still be
 * rolled back) and passes its exit code through: 0 upgraded, 1 usage, 2 package refused, 3 a
 * customer is being served, 4 rolled back, 5 needs a technician (see deploy/kiosk-upgrade.sh).
 *
 * On the Pi, /usr/local/bin/kiosk already runs the upgrader before reaching this program; this
 * command serves a release's own bin/kiosk and checkouts. $KIOSK_UPGRADE_SCRIPT names another
 * upgrader (tests). Node cannot replace itself with exec(2), so the upgrader runs as a child with
 * this terminal; a signal that ends it is reported as 128 + signal number, as a shell does.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CliIo } from './cli-io.js';
import { EXIT, UPGRADE_EXIT } from './exit-codes.js';

export const UPGRADE_HELP = `usage: kiosk upgrade <package.tar.gz> [--busy-wait S] [--health-timeout S] [...]

Verifies the signed release package (PKG.sha256 and PKG.sig beside it), installs it beside the
running release, switches to it and restarts the kiosk; switches back by itself when the new
release is not healthy in time. Never while a customer is paying. Needs root (sudo).
Every argument goes to the upgrader (/usr/local/sbin/kiosk-upgrade --help lists its options).

exit codes: 0 upgraded (or already at that version), 1 usage or internal error, 2 package refused,
            3 a customer is being served (try later), 4 rolled back to the previous release,
            5 neither release is healthy: a technician must look, 126/127 upgrader not runnable/found`;

export const INSTALLED_UPGRADER = '/usr/local/sbin/kiosk-upgrade';

/** Where the upgrader is: the environment's choice, the installed one, or the release's own copy. */
export function findUpgrader(env: NodeJS.ProcessEnv): { path: string | undefined; tried: string[] } {
  const candidates = env.KIOSK_UPGRADE_SCRIPT
    ? [env.KIOSK_UPGRADE_SCRIPT]
    : [
        INSTALLED_UPGRADER,
        // From src/cli/ in a checkout, or from dist/ in a bundled release.
        fileURLToPath(new URL('../../deploy/kiosk-upgrade.sh', import.meta.url)),
        fileURLToPath(new URL('../deploy/kiosk-upgrade.sh', import.meta.url)),
      ];
  return { path: candidates.find((c) => existsSync(c)), tried: candidates };
}

export async function upgradeCommand(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))) {
    if (argv.length === 0) {
      io.err(`kiosk upgrade: which package? (see kiosk upgrade --help)`);
      return EXIT.usage;
    }
    io.out(UPGRADE_HELP);
    return EXIT.ok;
  }
  const { path, tried } = findUpgrader(io.env);
  if (!path) {
    io.err(`kiosk upgrade: no upgrader found (looked for ${tried.join(', ')}); run deploy/install.sh`);
    return UPGRADE_EXIT.notFound;
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    io.err(`kiosk upgrade: ${path} is not executable`);
    return UPGRADE_EXIT.notExecutable;
  }
  return new Promise<number>((resolve) => {
    const child = spawn(path, [...argv], { stdio: 'inherit', env: io.env });
    child.once('error', (err) => {
      io.err(`kiosk upgrade: cannot run ${path}: ${err.message}`);
      resolve(UPGRADE_EXIT.notExecutable);
    });
    child.once('exit', (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}
