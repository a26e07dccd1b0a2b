/**
 * The few file-system calls the journal makes, as promises over `fs`'s callback API. They look the
 * function up on the `fs` object at call time, so a test can count fsyncs with `sinon.spy(fs, 'fdatasync')`.
 */
import fs from 'node:fs';

function call<T>(run: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

export const fileIo = {
  open: (path: string, flags: string, mode?: number): Promise<number> =>
    call<number>((cb) => fs.open(path, flags, mode, cb)),
  close: (fd: number): Promise<void> => call<void>((cb) => fs.close(fd, cb)),
  fdatasync: (fd: number): Promise<void> => call<void>((cb) => fs.fdatasync(fd, cb)),
  fsync: (fd: number): Promise<void> => call<void>((cb) => fs.fsync(fd, cb)),
  ftruncate: (fd: number, len: number): Promise<void> => call<void>((cb) => fs.ftruncate(fd, len, cb)),
  /** Writes all of `buf` (looping over short writes) at the end of an O_APPEND descriptor. */
  async writeAll(fd: number, buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const written = await call<number>((cb) => fs.write(fd, buf, off, buf.length - off, null, cb));
      if (written <= 0) throw new Error('write made no progress');
      off += written;
    }
  },
  /** Makes a rename or unlink in `dir` durable (the directory entry is metadata of the directory). */
  async syncDir(dir: string): Promise<void> {
    const fd = await fileIo.open(dir, 'r');
    try {
      await fileIo.fsync(fd);
    } finally {
      await fileIo.close(fd);
    }
  },
};
