/**
 * What every VideoAssembler does for uploads (the ffmpeg one and its in-memory twin): a thumbnail
 * that fits a chat's 320x320 box, and `fitToSize`. Called inside a describe whose hooks have made
 * a video of a few seconds: `videoAssemblerUploadContract(() => ({ assembler, video, dir }))`.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { FinishedVideo, VideoAssembler } from '../../src/pipeline/ports.js';
import { caught } from '../helpers/errors.js';

export interface UploadHarness {
  assembler: VideoAssembler;
  /** A video of a few seconds; the limits used here follow from its size. */
  video: FinishedVideo;
  /** Scratch folder for outputs. */
  dir: string;
}

export function videoAssemblerUploadContract(get: () => UploadHarness): void {
  it('contract: thumbnail() fits the 320x320 box and keeps the aspect', async () => {
    const { assembler, video, dir } = get();
    const thumb = await assembler.thumbnail(video.path, join(dir, 'contract-thumb.jpg'), 1);
    expect(thumb.path).toBe(join(dir, 'contract-thumb.jpg'));
    expect(Math.max(thumb.width, thumb.height)).toBe(320);
    expect(thumb.width / thumb.height).toBeCloseTo(video.width / video.height, 1);
    expect((await stat(thumb.path)).size).toBeGreaterThan(0);
  });

  it('contract: fitToSize() copies a video that already fits', async () => {
    const { assembler, video, dir } = get();
    const out = join(dir, 'contract-fits.mp4');
    const fitted = await assembler.fitToSize(video.path, out, video.sizeBytes + 1);
    expect(fitted).toMatchObject({ path: out, sizeBytes: video.sizeBytes, width: video.width, height: video.height });
    expect((await stat(out)).size).toBe(video.sizeBytes);
  });

  it('contract: fitToSize() makes a video over the limit fit under it, as long as before', async () => {
    const { assembler, video, dir } = get();
    const limit = Math.floor(video.sizeBytes * 0.6);
    const fitted = await assembler.fitToSize(video.path, join(dir, 'contract-smaller.mp4'), limit);
    expect(fitted.sizeBytes).toBeLessThanOrEqual(limit);
    expect(fitted.sizeBytes).toBe((await stat(fitted.path)).size);
    expect(fitted.durationSec).toBeCloseTo(video.durationSec, 0);
  });

  it('contract: fitToSize() says too_large with the size and the limit, and leaves nothing, when nothing watchable fits', async () => {
    const { assembler, video, dir } = get();
    const error = await caught(assembler.fitToSize(video.path, join(dir, 'contract-tiny.mp4'), 20_000));
    expect(error.code).toBe('too_large');
    expect(error.params).toEqual({ bytes: video.sizeBytes, limitBytes: 20_000 });
    expect((await readdir(dir)).filter((name) => name.startsWith('contract-tiny'))).toEqual([]);
  });
}
