/**
 * An append-only JSON-lines file with group commit: every append is durable (written and fsynced)
 * before its promise resolves, and appends that arrive during an fsync share the next one. One
 * process owns a journal at a time (a pid lock file beside it). On open the caller folds the old
 * records into its state and `compact`s: the file is rewritten to just what is still needed.
 */
import { closeSync, openSync, fsyncSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReelforgeError } from '../core/errors.js';

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Directories opened by this process: a second instance in the same process is as wrong as another process. */
const openInProcess = new Set<string>();

export class Journal<R> {
  private handle: FileHandle | undefined;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly lockPath: string,
  ) {}

  /** Takes the lock and reads every whole record; a torn last line (a crash mid-write) is dropped. */
  static async open<R>(path: string): Promise<{ journal: Journal<R>; records: R[] }> {
    await mkdir(dirname(path), { recursive: true });
    const lockPath = `${path}.lock`;
    await takeLock(lockPath);
    const journal = new Journal<R>(path, lockPath);
    const records: R[] = [];
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        await journal.releaseLock();
        throw error;
      }
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as R);
      } catch {
        // Only the last line can be torn; anything unparsable is skipped rather than blocking start-up.
      }
    }
    return { journal, records };
  }

  /** Atomically replaces the file with `records` and opens it for appending. */
  async compact(records: readonly R[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const body = records.map((r) => JSON.stringify(r) + '\n').join('');
    await writeFile(tmp, body);
    const tmpHandle = await open(tmp, 'r+');
    try {
      await tmpHandle.sync();
    } finally {
      await tmpHandle.close();
    }
    await rename(tmp, this.path);
    syncDir(dirname(this.path));
    this.handle = await open(this.path, 'a');
  }

  append(record: R): Promise<void> {
    if (this.closed || !this.handle) return Promise.reject(new ReelforgeError('internal', 'The job journal is closed.'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: JSON.stringify(record) + '\n', resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.handle) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.handle.write(batch.map((p) => p.line).join(''));
          await this.handle.sync();
          for (const p of batch) p.resolve();
        } catch (error) {
          for (const p of batch) p.reject(new ReelforgeError('internal', 'Could not write the job journal.', { cause: error }));
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flushing;
      await this.handle?.close();
    } finally {
      await this.releaseLock();
    }
  }

  private async releaseLock(): Promise<void> {
    openInProcess.delete(this.lockPath);
    await rm(this.lockPath, { force: true });
  }
}

async function takeLock(lockPath: string): Promise<void> {
  if (openInProcess.has(lockPath)) {
    throw new ReelforgeError('config', `The job journal ${dirname(lockPath)} is already open in this process.`);
  }
  for (let tries = 0; tries < 2; tries++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      openInProcess.add(lockPath);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new ReelforgeError(
        'config',
        `Another reelforge process (pid ${holder}) is using the job queue in ${dirname(lockPath)}; set REDIS_URL to share jobs between processes.`,
      );
    }
    // The holder died (a crash or SIGKILL) or was this process before a restart: the lock is stale.
    await rm(lockPath, { force: true });
  }
  throw new ReelforgeError('internal', `Could not lock the job journal in ${dirname(lockPath)}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync of the directory makes the rename itself durable. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function journalPath(dir: string): string {
  return join(dir, 'journal.jsonl');
}
