/** Temporary roots, fake releases and a throwaway release key for the deploy script tests. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  lstatSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEPLOY = resolve(import.meta.dirname, '../../deploy');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

export function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** A built app as install.sh and pack-release.sh expect it: bin/kiosk plus a marker file. */
export function fakeRelease(dir: string, version: string, behaviour: 'healthy' | 'sick' = 'healthy'): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'bin/kiosk'), '#!/bin/sh\necho "kiosk fake $0 $*"\n');
  chmodSync(join(dir, 'bin/kiosk'), 0o755);
  writeFileSync(join(dir, 'VERSION'), `${version}\n`);
  writeFileSync(join(dir, 'behaviour'), `${behaviour}\n`);
  return dir;
}

/** A minimal Raspberry Pi OS root: firmware files with the serial console on. */
export function fakePiRoot(root: string): string {
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  writeFileSync(join(root, 'boot/firmware/config.txt'), '[all]\ndtparam=audio=on\n#dtparam=i2c_arm=off\n');
  writeFileSync(
    join(root, 'boot/firmware/cmdline.txt'),
    'console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n',
  );
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndialout:x:20:pi\npi:x:1000:\n');
  return root;
}

export function install(root: string, release: string, version: string): SpawnSyncReturns<string> {
  return run('bash', [
    join(DEPLOY, 'install.sh'),
    '--root',
    root,
    '--release',
    release,
    '--version',
    version,
  ]);
}

/** Every path under root with type+mode, numeric owner, size, mtime and link target, sorted. */
export function treeListing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const link = st.isSymbolicLink() ? ` -> ${readlinkSync(abs)}` : '';
    out.push(
      `${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '-' : st.size} ${st.mtimeMs}${link}`,
    );
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name);
  };
  walk('');
  return out;
}

/** Mode bits (e.g. 0o750) of a path. */
export const modeOf = (path: string): number => lstatSync(path).mode & 0o7777;

/** Parses an /etc/passwd or /etc/group file into name -> fields. */
export function etcEntries(text: string): Map<string, string[]> {
  return new Map(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':'))
      .map((f) => [f[0] ?? '', f]),
  );
}
