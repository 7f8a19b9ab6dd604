/**
 * An append-only JSON-lines file with group commit: every append is durable (written and fsynced)
 * before its promise resolves, and appends that arrive during an fsync share the next one. A write
 * is all-or-nothing: when the disk is full or a file-size limit cuts it short, the file is cut back
 * to the last whole record and the append rejects, so the next record never lands glued to a torn
 * line. One process owns a journal at a time (a lock file beside it, see `takeLock`). On open the
 * caller folds the old records into its state and `compact`s: the file is rewritten to just what
 * is still needed.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, fsyncSync, readFileSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
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
  /** Bytes of whole, durable records: where the file is cut back to when a write fails. */
  private goodSize = 0;
  /** A failed write left bytes past `goodSize` that could not be removed yet. */
  private torn = false;

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
    this.goodSize = Buffer.byteLength(body);
    this.torn = false;
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
        const bytes = Buffer.from(batch.map((p) => p.line).join(''));
        try {
          if (this.torn) await this.cutBack(this.handle);
          await writeAll(this.handle, bytes);
          await this.handle.sync();
          this.goodSize += bytes.length;
          for (const p of batch) p.resolve();
        } catch (error) {
          // None of the batch counts: take back whatever part of it reached the file.
          await this.cutBack(this.handle).catch(() => undefined);
          for (const p of batch) p.reject(new ReelforgeError('internal', 'Could not write the job journal.', { cause: error }));
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Truncates the file to its last whole record (appends then continue from there). */
  private async cutBack(handle: FileHandle): Promise<void> {
    this.torn = true;
    await handle.truncate(this.goodSize);
    await handle.sync();
    this.torn = false;
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

/** Who holds a lock: the pid alone is not enough (pids are reused, after a reboot above all). */
interface LockHolder {
  pid: number;
  /** The kernel's boot id: a lock from before a reboot is stale whatever its pid. */
  bootId?: string;
  /** The holder's start time (clock ticks after boot, /proc/<pid>/stat): a reused pid has another. */
  startTicks?: number;
}

/**
 * Takes the journal's lock. The lock file is made whole before it appears (written aside, then
 * hard-linked into place, which fails if one exists), and a stale one (its holder is gone: a crash,
 * a reboot, a reused pid) is moved aside by rename, which only one of several racing processes
 * can do to the same file; the one that moved a live lock by mistake puts it back.
 */
async function takeLock(lockPath: string): Promise<void> {
  if (openInProcess.has(lockPath)) {
    throw new ReelforgeError('config', `The job journal ${dirname(lockPath)} is already open in this process.`);
  }
  const me: LockHolder = { pid: process.pid, ...bootAndStart(process.pid) };
  const mine = `${lockPath}.${randomUUID()}`;
  try {
    // Inside the try: a write cut short (a full disk) leaves no stray file behind.
    await writeFile(mine, JSON.stringify(me), { flag: 'wx' });
    for (let tries = 0; tries < 5; tries++) {
      try {
        await link(mine, lockPath);
        openInProcess.add(lockPath);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = await readLock(lockPath);
      if (!seen) continue; // released meanwhile
      if (holderAlive(seen.holder, seen.mtimeMs)) {
        throw new ReelforgeError(
          'config',
          `Another reelforge process (pid ${seen.holder.pid}) is using the job queue in ${dirname(lockPath)}; set REDIS_URL to share jobs between processes.`,
        );
      }
      // Stale. Move exactly that file aside; a rival may have replaced it meanwhile.
      const aside = `${lockPath}.stale-${randomUUID()}`;
      try {
        await rename(lockPath, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = await readLock(aside);
      if (moved && moved.text !== seen.text) {
        // A rival's fresh lock: put it back (fails only if a third process took the place meanwhile).
        await link(aside, lockPath).catch(() => undefined);
      }
      await unlink(aside).catch(() => undefined);
    }
    throw new ReelforgeError('internal', `Could not lock the job journal in ${dirname(lockPath)}.`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function readLock(path: string): Promise<{ text: string; holder: LockHolder; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, holder: parseHolder(text), mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseHolder(text: string): LockHolder {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) }; // the older format: a pid alone
  try {
    const value = JSON.parse(trimmed) as Partial<LockHolder>;
    return {
      pid: typeof value.pid === 'number' ? value.pid : 0,
      ...(typeof value.bootId === 'string' ? { bootId: value.bootId } : {}),
      ...(typeof value.startTicks === 'number' ? { startTicks: value.startTicks } : {}),
    };
  } catch {
    return { pid: 0 }; // unreadable: no one can be holding it
  }
}

function holderAlive(holder: LockHolder, lockMtimeMs: number): boolean {
  if (!holder.pid || !isAlive(holder.pid)) return false;
  const now = bootAndStart(holder.pid);
  // Written before this boot: whoever has that pid now is someone else.
  if (holder.bootId && now.bootId && holder.bootId !== now.bootId) return false;
  if (!holder.bootId && now.bootTimeMs !== undefined && lockMtimeMs < now.bootTimeMs) return false;
  // Same pid, another start time: the pid was reused (a container's pid 1 after a restart, too).
  if (holder.startTicks !== undefined && now.startTicks !== undefined && holder.startTicks !== now.startTicks) return false;
  // This very process, yet not in `openInProcess`: a lock left by an earlier run with the same pid.
  return holder.pid !== process.pid;
}

/** Linux facts that tell one process's life from another's; empty elsewhere (the pid check remains). */
function bootAndStart(pid: number): { bootId?: string; startTicks?: number; bootTimeMs?: number } {
  const out: { bootId?: string; startTicks?: number; bootTimeMs?: number } = {};
  try {
    out.bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux
  }
  try {
    // Field 22 of /proc/<pid>/stat, counted after the command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    if (Number.isFinite(ticks)) out.startTicks = ticks;
  } catch {
    // not Linux, or the process is gone
  }
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (btime) out.bootTimeMs = Number(btime) * 1000;
  } catch {
    // not Linux
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes every byte (a regular file may take fewer than asked, e.g. up to a file-size limit). */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new ReelforgeError('internal', 'The job journal took no bytes.');
    offset += bytesWritten;
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
