/**
 * Space kept for the journal on a filesystem other writers share (logs, the outbox, updates): a file
 * of real bytes (written, not sparse, so the blocks are allocated) in the journal's directory. When
 * an append fails the journal deletes it and so has room to finish the sessions that are open; the
 * kiosk takes no new customer until there is room to write it again (`restore`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileIo } from './file-io.js';

export const RESERVE_FILE = 'space-reserve.bin';

/** Free bytes an unprivileged writer may still use on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.promises.statfs(dir);
  return s.bavail * s.bsize;
}

export class SpaceReserve {
  private held = false;
  private readonly file: string;

  constructor(
    dir: string,
    /** 0: no reserve. */
    readonly bytes: number,
  ) {
    this.file = path.join(dir, RESERVE_FILE);
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Makes sure the reserve file exists at full size, writing what is missing; false when the disk
   * has no room for it (a partial file is removed, it would only take space without being counted).
   */
  async restore(): Promise<boolean> {
    if (this.bytes <= 0) return true;
    if (this.held) return true;
    try {
      const size = await fs.promises
        .stat(this.file)
        .then((s) => s.size)
        .catch(() => 0);
      if (size < this.bytes) {
        const fd = await fileIo.open(this.file, 'a', 0o600);
        try {
          await fileIo.writeAll(fd, Buffer.alloc(this.bytes - size));
          await fileIo.fsync(fd);
        } finally {
          await fileIo.close(fd);
        }
      }
      this.held = true;
      return true;
    } catch {
      await fs.promises.rm(this.file, { force: true }).catch(() => undefined);
      return false;
    }
  }

  /** Gives the space back to the journal; true when there was a reserve to release. */
  async release(): Promise<boolean> {
    if (!this.held) return false;
    this.held = false;
    await fs.promises.rm(this.file, { force: true });
    return true;
  }
}
