import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageSize, readImageSize } from '../../../src/providers/ffmpeg/image-size.js';
import { runFfmpeg } from '../../../src/providers/ffmpeg/run-ffmpeg.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelforge-image-size-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readImageSize: a picture\'s pixel size from its header', () => {
  it.each([
    ['PNG', 'a.png', [], 334, 222],
    ['JPEG', 'a.jpg', [], 1024, 1536],
    ['WebP (lossy)', 'a.webp', ['-c:v', 'libwebp'], 322, 124],
    ['WebP (lossless)', 'l.webp', ['-c:v', 'libwebp', '-lossless', '1'], 98, 76],
  ])('reads %s files written by ffmpeg', async (_kind, name, codec, width, height) => {
    const path = join(dir, name);
    await runFfmpeg(['-y', '-f', 'lavfi', '-i', `color=c=0x336699:s=${width}x${height}`, '-frames:v', '1', ...codec, '-update', '1', path]);
    expect(await readImageSize(path)).toEqual({ width, height });
  });

  it('answers undefined for what is not a picture, so the render falls back to full-size motion', async () => {
    const path = join(dir, 'text.png');
    await writeFile(path, 'not really a PNG');
    expect(await readImageSize(path)).toBeUndefined();
    expect(parseImageSize(Buffer.from([0xff, 0xd8, 0xff]))).toBeUndefined();
    expect(parseImageSize(Buffer.alloc(0))).toBeUndefined();
  });
});
