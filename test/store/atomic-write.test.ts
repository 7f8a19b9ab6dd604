import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileAtomic, writeFileAtomic } from '../../src/store/atomic-write.js';

describe('atomic writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelforge-atomic-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replaces a file whole and leaves no temp file, durable or not', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new', { durable: true });
    await writeFileAtomic(path, Buffer.from('newer'));
    expect(await readFile(path, 'utf8')).toBe('newer');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('many writers of one entry at once: the file holds one of their values whole', async () => {
    const path = join(dir, 'entry');
    const values = Array.from({ length: 20 }, (_, i) => `value-${i}-`.repeat(5_000));
    await Promise.all(values.map((v) => writeFileAtomic(path, v)));
    expect(values).toContain(await readFile(path, 'utf8'));
    expect(await readdir(dir)).toEqual(['entry']);
  });

  it('a failed write leaves the old file and no temp file behind', async () => {
    const path = join(dir, 'missing-folder', 'entry');
    await expect(writeFileAtomic(path, 'x')).rejects.toThrow(/ENOENT/);
    await expect(copyFileAtomic(join(dir, 'nope'), join(dir, 'copy'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
