/**
 * Write-then-rename, so a reader sees the old file or the new one, never half of one. The temp name
 * carries the pid and random bytes, so two processes writing the same entry do not share a temp file;
 * the temp file goes whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, open, rename, rm } from 'node:fs/promises';

export interface AtomicWriteOptions {
  /** fsync the data before the rename: for state that must survive a power cut, not for caches. */
  durable?: boolean;
}

function tempName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

export async function writeFileAtomic(path: string, data: Buffer | string, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = tempName(path);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const temp = tempName(to);
  try {
    await copyFile(from, temp);
    await rename(temp, to);
  } finally {
    await rm(temp, { force: true });
  }
}
