/**
 * A content-addressed store on disk: an entry's name is the sha256 of a canonical JSON key, so the
 * same request always lands on the same file and a retried or resumed job finds what it paid for.
 * Writes go to a temp file and are renamed into place, so a reader never sees half a file; the
 * metadata file is written last and marks the entry complete.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { whileDiskFull } from '../../core/while-disk-full.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import { markUsed } from './prune.js';

/** JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function contentKey(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

export interface StoredEntry<M> {
  data: Buffer;
  meta: M;
}

/** How long a write of a paid answer waits for a full disk to have room again. */
const DISK_FULL_WAIT_MS = 30_000;

export class ContentStore {
  constructor(readonly dir: string) {}

  private paths(hash: string): { folder: string; data: string; meta: string } {
    const folder = join(this.dir, hash.slice(0, 2));
    return { folder, data: join(folder, `${hash}.bin`), meta: join(folder, `${hash}.json`) };
  }

  async get<M>(hash: string): Promise<StoredEntry<M> | undefined> {
    const p = this.paths(hash);
    let metaText: string;
    try {
      metaText = await readFile(p.meta, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const meta = JSON.parse(metaText) as M;
      const data = await readFile(p.data);
      await markUsed(p.data, p.meta); // recently used: pruning keeps it
      return { data, meta };
    } catch {
      // A damaged entry is a miss: the caller pays once more and overwrites it.
      return undefined;
    }
  }

  /**
   * What is stored here was paid for: a full disk is waited out (up to `DISK_FULL_WAIT_MS`) before the
   * write fails, so a job tried again after a short disk-full spell finds its answers instead of
   * paying for them twice.
   */
  async put<M>(hash: string, data: Buffer, meta: M): Promise<void> {
    const p = this.paths(hash);
    await whileDiskFull(
      async () => {
        await mkdir(p.folder, { recursive: true });
        await writeFileAtomic(p.data, data);
        await writeFileAtomic(p.meta, JSON.stringify(meta));
      },
      { what: 'keep a paid answer', maxWaitMs: DISK_FULL_WAIT_MS, firstDelayMs: 250 },
    );
  }
}
