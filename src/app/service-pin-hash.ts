/**
 * Makes the `service` config section for a service-menu PIN:
 *   npx tsx src/app/service-pin-hash.ts 1234      (or the PIN on stdin, to keep it out of the shell history)
 * prints {"pinHash":"scrypt:...","pinLength":4}; paste it into the config's `service` section.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { hashPin, PIN_PATTERN } from './service-pin.js';

export async function pinHashMain(
  args: string[],
  stdin: () => string,
): Promise<{ code: number; out: string }> {
  const pin = (args[0] ?? stdin()).trim();
  if (!PIN_PATTERN.test(pin)) return { code: 2, out: 'usage: service-pin-hash <PIN of 4 to 8 digits>' };
  return { code: 0, out: JSON.stringify({ pinHash: await hashPin(pin), pinLength: pin.length }) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { code, out } = await pinHashMain(process.argv.slice(2), () => readFileSync(0, 'utf8'));
  (code === 0 ? process.stdout : process.stderr).write(`${out}\n`);
  process.exitCode = code;
}
