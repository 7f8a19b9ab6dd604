import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import type { ImageRequest } from '../../../src/pipeline/ports.js';
import { OfflineIllustrator } from '../../../src/providers/offline/illustrator.js';
import { imageProviderContract, imageRequest } from '../../contracts/image-provider.js';

imageProviderContract('offline illustrator', () => Promise.resolve({ provider: new OfflineIllustrator() }), { exactSize: true });

const illustrator = new OfflineIllustrator();

/** The picture decoded and shrunk to `w`×`h` RGB values, to compare compositions rather than JPEG noise. */
async function thumbnail(data: Buffer, w = 27, h = 48, crop?: { x: number; y: number; w: number; h: number }): Promise<number[]> {
  const image = await loadImage(data);
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  if (crop) ctx.drawImage(image, crop.x, crop.y, crop.w, crop.h, 0, 0, w, h);
  else ctx.drawImage(image, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  return Array.from(rgba).filter((_, i) => i % 4 !== 3);
}

function meanDifference(a: number[], b: number[]): number {
  return a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] ?? 0)), 0) / a.length;
}

async function draw(overrides: Partial<ImageRequest>): Promise<Buffer> {
  return (await illustrator.generate(imageRequest(overrides))).data;
}

describe('OfflineIllustrator', () => {
  it('draws JPEG at the requested size, 1080x1920 by default', async () => {
    const result = await illustrator.generate(imageRequest({ width: 0, height: 0 }));
    expect(result.ext).toBe('jpg');
    const image = await loadImage(result.data);
    expect([image.width, image.height]).toEqual([1080, 1920]);
    const landscape = await loadImage(await draw({ width: 480, height: 270 }));
    expect([landscape.width, landscape.height]).toEqual([480, 270]);
  });

  it('makes every segment of a video look different', async () => {
    const total = 8;
    const pictures = await Promise.all(
      Array.from({ length: total }, (_, index) => draw({ index, total, keywords: 'walls Constantinople dawn' })).map(async (p) => thumbnail(await p)),
    );
    for (let i = 0; i < total; i++) {
      for (let j = i + 1; j < total; j++) {
        // Mean difference per channel on a 0-255 scale; JPEG noise alone stays under 2.
        expect(meanDifference(pictures[i] as number[], pictures[j] as number[]), `segments ${i} and ${j}`).toBeGreaterThan(8);
      }
    }
  });

  it('gives each mood its own palette', async () => {
    const moods = ['calm', 'epic', 'dark', 'upbeat', 'mysterious'] as const;
    const pictures = await Promise.all(moods.map(async (mood) => thumbnail(await draw({ mood, prompt: 'the same prompt' }), 9, 16)));
    const brightness = pictures.map((p) => p.reduce((a, b) => a + b, 0) / p.length);
    const [calm, , dark] = brightness as [number, number, number, number, number];
    expect(dark).toBeLessThan(calm);
    for (let i = 0; i < moods.length; i++) {
      for (let j = i + 1; j < moods.length; j++) expect(meanDifference(pictures[i] as number[], pictures[j] as number[])).toBeGreaterThan(8);
    }
  });

  it('is deterministic for the same request', async () => {
    const a = await draw({ index: 3, total: 7 });
    const b = await draw({ index: 3, total: 7 });
    expect(a.equals(b)).toBe(true);
  });

  it('draws the key words as a title, Cyrillic included (real glyphs, not boxes)', async () => {
    // Same prompt and index, so the art is identical and only the title differs. Missing glyphs
    // would draw the same box for every letter, making the two pictures the same.
    const titleArea = { x: 0, y: 0.2 * 480, w: 270, h: 0.32 * 480 };
    const base = { prompt: 'Константинополь', index: 2, total: 6 };
    const [zhe, sha, none] = await Promise.all([
      draw({ ...base, keywords: 'ЖЖЖ ЖЖЖ' }).then((d) => thumbnail(d, 90, 52, titleArea)),
      draw({ ...base, keywords: 'ШШШ ШШШ' }).then((d) => thumbnail(d, 90, 52, titleArea)),
      draw({ ...base, keywords: '   ' }).then((d) => thumbnail(d, 90, 52, titleArea)),
    ]);
    expect(meanDifference(zhe, sha)).toBeGreaterThan(3);
    expect(meanDifference(zhe, none)).toBeGreaterThan(10);
  });

  it('fits a long title inside the picture', async () => {
    const data = await draw({ keywords: 'Константинопольские градостроительные достопримечательности', width: 270, height: 480 });
    // The title panel is dark and the edges are art: the outer columns must not carry title text,
    // so they change little when the title changes.
    const left = { x: 0, y: 96, w: 8, h: 200 };
    const withTitle = await thumbnail(data, 4, 50, left);
    const without = await thumbnail(await draw({ keywords: 'x', width: 270, height: 480 }), 4, 50, left);
    expect(meanDifference(withTitle, without)).toBeLessThan(5);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(illustrator.generate(imageRequest(), controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });
});
