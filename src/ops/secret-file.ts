/**
 * Files that hold a secret (the refresh token from `kiosk pair`): written so that no other user
 * can ever read them, not even for a moment, and never half-written. The content goes to a new
 * file created with mode 0600, is flushed, then renamed over the old one; a missing directory is
 * created 0700. A directory that others may write to is refused (they could swap the file).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

export class SecretFileError extends Error {
  override readonly name = 'SecretFileError';
}

export async function writeSecretFile(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  // World-writable without the sticky bit: anyone could rename our file away.
  if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0)
    throw new SecretFileError(`${dir} is writable by everyone: not storing a secret there`);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.chmod(0o600); // the umask cannot widen it, but a restrictive umask may have narrowed it oddly
    await fh.writeFile(content);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Reads a secret file; refuses one that group or others can read (someone loosened it). */
export async function readSecretFile(path: string): Promise<string> {
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0)
    throw new SecretFileError(
      `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`,
    );
  return (await readFile(path, 'utf8')).trim();
}
