#!/usr/bin/env node
// The `kiosk` command. A release ships the bundled dist/kiosk.mjs; a checkout runs the TypeScript through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundled = fileURLToPath(new URL('../dist/kiosk.mjs', import.meta.url));
if (existsSync(bundled)) {
  await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/app/main.ts', import.meta.url).href);
}
