/**
 * Bounded growth of DATA_DIR: the caches (DATA_DIR/cache: LLM answers, pictures, voices, encoded
 * segments) and the outputs (DATA_DIR/out) are pruned by age and by total size, oldest first.
 *
 * A file a job is using is never removed. A job uses a cache entry only right after finding it,
 * and a hit marks the entry used (its modification time is set to now); an output is written by
 * its job and used only until that job ends. So nothing modified within `inUseMs` (the caller makes
 * it longer than any job may run) is ever removed, whatever the limits say.
 */
import { readdir, rm, rmdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.js';

export interface PruneRule {
  /** A folder to keep bounded (its files, at any depth). */
  dir: string;
  /** Files unused for longer than this go. */
  maxAgeMs: number;
  /** Beyond this many bytes in all, the least recently used files go. */
  maxBytes: number;
}

export interface PruneResult {
  removedFiles: number;
  removedBytes: number;
  keptBytes: number;
}

interface FileInfo {
  path: string;
  size: number;
  usedAt: number;
}

/** Marks a cache entry used now (best effort: a failure only makes it look older). */
export async function markUsed(...paths: string[]): Promise<void> {
  const now = new Date();
  await Promise.all(paths.map((path) => utimes(path, now, now).catch(() => undefined)));
}

async function listFiles(dir: string): Promise<FileInfo[]> {
  const files: FileInfo[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const info = await stat(path).catch(() => undefined);
        if (info) files.push({ path, size: info.size, usedAt: info.mtimeMs });
      }
    }
  };
  await walk(dir);
  return files;
}

/** Removes empty folders under `dir` (not `dir` itself); one that is not empty stays. */
async function removeEmptyFolders(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    await removeEmptyFolders(path);
    await rmdir(path).catch(() => undefined);
  }
}

export async function pruneFolder(
  rule: PruneRule,
  options: { inUseMs: number; now?: number },
): Promise<PruneResult> {
  const now = options.now ?? Date.now();
  const files = (await listFiles(rule.dir)).sort((a, b) => a.usedAt - b.usedAt);
  let total = files.reduce((sum, f) => sum + f.size, 0);
  const result: PruneResult = { removedFiles: 0, removedBytes: 0, keptBytes: 0 };
  for (const file of files) {
    const age = now - file.usedAt;
    if (age <= options.inUseMs) continue;
    if (age <= rule.maxAgeMs && total <= rule.maxBytes) continue;
    try {
      await rm(file.path, { force: true });
      total -= file.size;
      result.removedFiles++;
      result.removedBytes += file.size;
    } catch {
      // Another process removed it, or it is not ours to remove: it stays counted.
    }
  }
  if (result.removedFiles > 0) await removeEmptyFolders(rule.dir);
  result.keptBytes = total;
  return result;
}

export interface DataDirPruner {
  /** One pass over every rule now (also run at start and every interval). */
  pruneNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Prunes every rule at start and every `intervalMs`; a failed pass is logged and tried again next time. */
export function startPruning(options: {
  rules: PruneRule[];
  inUseMs: number;
  intervalMs: number;
  log: Logger;
}): DataDirPruner {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const pass = async (): Promise<void> => {
    for (const rule of options.rules) {
      try {
        const result = await pruneFolder(rule, { inUseMs: options.inUseMs });
        if (result.removedFiles > 0) {
          options.log.info('data dir pruned', { dir: rule.dir, removedFiles: result.removedFiles, removedBytes: result.removedBytes, keptBytes: result.keptBytes });
        }
      } catch (error) {
        options.log.warn('data dir pruning failed', { dir: rule.dir, error });
      }
    }
  };
  const pruneNow = (): Promise<void> => {
    running = running.then(pass);
    return running;
  };
  void pruneNow();
  const timer = setInterval(() => {
    if (!stopped) void pruneNow();
  }, options.intervalMs);
  timer.unref();
  return {
    pruneNow,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
