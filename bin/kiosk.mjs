#!/usr/bin/env node
// The `kiosk` command. A release ships the bundled dist/kiosk.mjs; a checkout runs the TypeScript through tsx.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node >= 22.1 keeps V8's compiled code on disk (NODE_COMPILE_CACHE names the directory, else the OS
// temp dir; kiosk.service points it at /var/lib/kiosk, since its /tmp is private and emptied at every
// restart): later starts skip compiling the bundle. Node 20, what the Pi runs today, has no such cache.
if (typeof module.enableCompileCache === 'function') {
  module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
  // Node writes the cache at exit; a kiosk is mostly switched off, not stopped: write it once the idle
  // screen is up (src/app/main.ts emits the event; Node >= 22.10 has flushCompileCache).
  process.once('kiosk:first-screen', () => module.flushCompileCache?.());
}

const bundled = fileURLToPath(new URL('../dist/kiosk.mjs', import.meta.url));
if (existsSync(bundled)) {
  await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/app/main.ts', import.meta.url).href);
}
