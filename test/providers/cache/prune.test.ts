/**
 * DATA_DIR stays bounded: caches and outputs are pruned by age and total size, oldest first, and
 * never a file a job may be using (used within the in-use window, or held). A cache hit marks an
 * entry used. A failed or cancelled thumbnail leaves no MP4 behind in out/.
 */
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { cancelled } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/log.js';
import { createRuntime } from '../../../src/main.js';
import { ContentStore, pruneFolder } from '../../../src/providers/cache/index.js';
import { MemoryAssembler, MemoryImages, MemoryMusic, MemoryScriptWriter, MemorySpeech } from '../../../src/providers/memory/index.js';

const HOUR = 3_600_000;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-prune-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file of `size` bytes last used `ageMs` ago. */
async function file(path: string, size: number, ageMs: number): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, Buffer.alloc(size, 1));
  const at = new Date(Date.now() - ageMs);
  await utimes(path, at, at);
  return path;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('pruning a DATA_DIR folder', () => {
  it('removes files unused for longer than the age limit, keeps recent ones, and drops emptied folders', async () => {
    const root = join(dir, 'age');
    const old = await file(join(root, 'ab', 'old.bin'), 10, 40 * 24 * HOUR);
    const recent = await file(join(root, 'ef', 'recent.bin'), 10, 1 * HOUR);
    const result = await pruneFolder({ dir: root, maxAgeMs: 30 * 24 * HOUR, maxBytes: 1 << 30 }, { inUseMs: 2 * HOUR });
    expect(result).toMatchObject({ removedFiles: 1, removedBytes: 10, keptBytes: 10 });
    expect(await exists(old)).toBe(false);
    expect(await exists(join(root, 'ab'))).toBe(false);
    expect(await exists(recent)).toBe(true);
  });

  it('over the size limit, removes the least recently used first, but never one used within the in-use window', async () => {
    const root = join(dir, 'size');
    const a = await file(join(root, 'a.mp4'), 400, 10 * HOUR);
    const b = await file(join(root, 'b.mp4'), 400, 8 * HOUR);
    const c = await file(join(root, 'c.mp4'), 400, 6 * HOUR);
    const running = await file(join(root, 'running.mp4'), 400, 10 * 60_000);
    const result = await pruneFolder({ dir: root, maxAgeMs: 30 * 24 * HOUR, maxBytes: 1000 }, { inUseMs: 2 * HOUR });
    expect(result.removedFiles).toBe(2);
    expect([await exists(a), await exists(b), await exists(c), await exists(running)]).toEqual([false, false, true, true]);
    // Still over 1000 bytes, but the only other file may belong to a running job.
    expect(result.keptBytes).toBe(800);
    const tight = await pruneFolder({ dir: root, maxAgeMs: 30 * 24 * HOUR, maxBytes: 100 }, { inUseMs: 2 * HOUR });
    expect(tight.removedFiles).toBe(1);
    expect(await exists(running)).toBe(true);
  });

  it('a cache hit marks the entry used, so age pruning keeps it', async () => {
    const store = new ContentStore(join(dir, 'store'));
    await store.put('aa11', Buffer.from('picture'), { kind: 'image' });
    const folder = join(dir, 'store', 'aa');
    const long = new Date(Date.now() - 40 * 24 * HOUR);
    for (const name of await readdir(folder)) await utimes(join(folder, name), long, long);
    expect(await store.get('aa11')).toBeDefined();
    const result = await pruneFolder({ dir: join(dir, 'store'), maxAgeMs: 30 * 24 * HOUR, maxBytes: 1 << 30 }, { inUseMs: 2 * HOUR });
    expect(result.removedFiles).toBe(0);
    expect(await store.get('aa11')).toBeDefined();
  });
});

describe('a thumbnail that fails or is cancelled', () => {
  class FailingThumbnail extends MemoryAssembler {
    constructor(private readonly error: Error) {
      super();
    }
    override thumbnail(): never {
      throw this.error;
    }
  }

  for (const [what, error] of [
    ['fails', new Error('thumbnail extraction failed')],
    ['is cancelled', cancelled()],
  ] as const) {
    it(`${what}: the job's MP4 does not stay in out/`, async () => {
      const dataDir = await mkdtemp(join(dir, 'thumb-'));
      const config = loadConfig({ DATA_DIR: dataDir });
      const runtime = createRuntime(config, silentLogger(), {
        writer: new MemoryScriptWriter(),
        images: new MemoryImages(),
        speech: new MemorySpeech(),
        music: new MemoryMusic(),
        assembler: new FailingThumbnail(error),
      });
      await expect(
        runtime.render({ topic: 'Tea', durationSec: 10, lang: 'en', aspect: '9:16' }, { jobId: 'j1', thumbnail: true, onProgress: () => undefined }),
      ).rejects.toBe(error);
      expect(await readdir(join(dataDir, 'out'))).toEqual([]);
    });
  }
});
