/**
 * Debian's chromium for browser tests (driven by playwright-core; no downloaded browsers). The flags
 * keep it from phoning home and from needing a sandbox or a GPU in CI containers.
 */
import { existsSync } from 'node:fs';

import { needs, CHROMIUM, MOSQUITTO } from '../support/real-parts.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** In a `before` hook: skips the suite (saying why) when chromium or Mosquitto is missing; fails under CI. */
export async function skipWithoutBrowserAndBroker(ctx: Mocha.Context): Promise<void> {
  await needs(ctx, CHROMIUM, MOSQUITTO);
}
