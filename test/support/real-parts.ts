/**
 * The real parts a test talks to (a Mosquitto broker, socat pseudo-terminals, Chromium, shellcheck,
 * openssl). On a developer's machine without one, its tests are skipped with a line saying what to
 * install. Under CI (`.ci/run` exports REQUIRE_REAL_PARTS=1; a `CI` variable counts too) every part is
 * installed first, so a missing one is a failure: a skip there would turn a broken install into a green
 * run that tested nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { findMosquitto, findMosquittoPasswd } from '../../src/harness/mosquitto.js';
import { findSocat } from './socat.js';

export interface RealPart {
  name: string;
  /** How to install it on Debian, for the skip line. */
  install: string;
  present(): boolean | Promise<boolean>;
}

export function partsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
  return flag(env.REQUIRE_REAL_PARTS) || flag(env.CI);
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export const MOSQUITTO: RealPart = {
  name: 'mosquitto',
  install: 'apt-get install mosquitto',
  present: () => findMosquitto() !== undefined,
};
/** The broker and its password tool (the ACL and listener tests write password files). */
export const MOSQUITTO_PASSWD: RealPart = {
  name: 'mosquitto_passwd',
  install: 'apt-get install mosquitto',
  present: () => findMosquittoPasswd() !== undefined,
};
export const SOCAT: RealPart = {
  name: 'socat',
  install: 'apt-get install socat',
  present: async () => (await findSocat()) !== undefined,
};
export const CHROMIUM: RealPart = {
  name: 'chromium',
  install: 'apt-get install chromium',
  present: () => existsSync('/usr/bin/chromium'),
};
export const SHELLCHECK: RealPart = {
  name: 'shellcheck',
  install: 'apt-get install shellcheck',
  present: () => onPath('shellcheck'),
};
/** The reverse proxy of docs/dashboard.md's TLS example (Debian's nginx-light is enough). */
export const NGINX: RealPart = {
  name: 'nginx',
  install: 'apt-get install nginx-light',
  present: () => onPath('nginx') || existsSync('/usr/sbin/nginx'),
};
export const OPENSSL: RealPart = {
  name: 'openssl',
  install: 'apt-get install openssl',
  present: () => onPath('openssl'),
};

/**
 * In a `before` hook or a test: goes on when every part is here; otherwise skips (saying what is
 * missing) or, where parts are required, fails.
 */
export async function needs(ctx: Mocha.Context, ...parts: RealPart[]): Promise<void> {
  const missing: RealPart[] = [];
  for (const part of parts) if (!(await part.present())) missing.push(part);
  if (missing.length === 0) return;
  const what = missing.map((p) => `${p.name} (${p.install})`).join(', ');
  if (partsRequired()) throw new Error(`missing real parts under CI: ${what}; .ci/run installs them`);
  console.log(`      skipped: not installed: ${what}`);
  ctx.skip();
}
