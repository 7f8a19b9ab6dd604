/**
 * A paid answer is not thrown away over a short disk-full spell: the content store waits for room
 * and keeps it. Needs a real full filesystem: a small tmpfs, so the test runs as root (CI does) and
 * is skipped elsewhere.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentStore } from '../../../src/providers/cache/index.js';

const run = promisify(execFile);
let dir = '';
let mounted = false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-full-'));
  if (process.getuid?.() !== 0) return;
  mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).then(
    () => true,
    () => false,
  );
});
afterAll(async () => {
  if (mounted) await run('umount', ['-l', dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Writes until the filesystem refuses another byte; returns the ballast file's path. */
async function fill(path: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      for (;;) {
        const ok = await handle.write(Buffer.alloc(size)).then(
          () => true,
          () => false,
        );
        if (!ok) break;
      }
    }
  } finally {
    await handle.close();
  }
}

describe('the content store on a full disk', () => {
  it('waits for room and keeps a paid answer written while the disk was full', async (context) => {
    if (!mounted) context.skip();
    const ballast = join(dir, 'ballast');
    await fill(ballast);
    const store = new ContentStore(join(dir, 'store'));
    const data = Buffer.alloc(100 * 1024, 7);
    let settled = false;
    const put = store.put('ab'.repeat(32), data, { ext: 'jpg' }).finally(() => (settled = true));
    // Still waiting while the disk stays full...
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(settled).toBe(false);
    // ...and done once there is room again.
    await rm(ballast);
    await put;
    const entry = await store.get<{ ext: string }>('ab'.repeat(32));
    expect(entry?.meta).toEqual({ ext: 'jpg' });
    expect(entry?.data.equals(data)).toBe(true);
  });
});
