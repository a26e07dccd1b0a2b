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

// The release's one-file script with a V8 code cache (bin/code-cache.mjs): about a sixth less start-up
// CPU than the ES module bundle on Node 20. KIOSK_CODE_CACHE=off runs the ES module bundle instead.
const script = fileURLToPath(new URL('../dist/kiosk.script.cjs', import.meta.url));
const bundled = fileURLToPath(new URL('../dist/kiosk.mjs', import.meta.url));
if (process.env.KIOSK_CODE_CACHE !== 'off' && existsSync(script)) {
  const { runScript } = await import('./code-cache.mjs');
  runScript(script);
} else if (existsSync(bundled)) {
  await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/app/main.ts', import.meta.url).href);
}
