/**
 * What every ImageProvider must do, whoever implements it (offline art, OpenAI images, a cache).
 * Imported by the providers' test files: `imageProviderContract('offline', async () => ({ provider }))`.
 */
import { loadImage } from '@napi-rs/canvas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import type { ImageProvider, ImageRequest } from '../../src/pipeline/ports.js';

export interface ImageProviderHarness {
  provider: ImageProvider;
  cleanup?: () => Promise<void>;
}

export interface ImageContractOptions {
  /** The size to ask for; small by default to keep CPU use modest. */
  width?: number;
  height?: number;
  /** The provider returns exactly the requested size (the offline art does; image APIs round to their own sizes). */
  exactSize?: boolean;
}

const MAGIC: Record<string, (b: Buffer) => boolean> = {
  jpg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  webp: (b) => b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP',
};

export function imageRequest(overrides: Partial<ImageRequest> = {}): ImageRequest {
  return {
    prompt: 'A wide view of the walls of Constantinople at dawn, ships in the harbour',
    style: 'flat graphic illustration',
    width: 270,
    height: 480,
    index: 0,
    total: 6,
    mood: 'epic',
    keywords: 'walls Constantinople dawn',
    ...overrides,
  };
}

export function imageProviderContract(name: string, make: () => Promise<ImageProviderHarness>, options: ImageContractOptions = {}): void {
  const width = options.width ?? 270;
  const height = options.height ?? 480;

  describe(`ImageProvider contract: ${name}`, () => {
    let harness: ImageProviderHarness;
    beforeAll(async () => {
      harness = await make();
    });
    afterAll(async () => {
      await harness?.cleanup?.();
    });

    it('names its model and says whether it is offline', () => {
      expect(typeof harness.provider.model).toBe('string');
      expect(harness.provider.model.length).toBeGreaterThan(0);
      expect(typeof harness.provider.offline).toBe('boolean');
    });

    it('returns a decodable picture whose bytes match the extension it reports', async () => {
      const result = await harness.provider.generate(imageRequest({ width, height }));
      expect(['png', 'jpg', 'webp']).toContain(result.ext);
      expect(MAGIC[result.ext]?.(result.data)).toBe(true);
      const image = await loadImage(result.data);
      expect(image.width).toBeGreaterThan(0);
      expect(image.height).toBeGreaterThan(0);
      if (options.exactSize) {
        expect([image.width, image.height]).toEqual([width, height]);
      } else {
        // Portrait in, portrait out: the renderer crops, but must not be handed a landscape picture.
        expect(image.height).toBeGreaterThanOrEqual(image.width);
      }
    });

    it('draws a picture for every segment of a video and every mood', async () => {
      const moods = ['calm', 'epic', 'dark', 'upbeat', 'mysterious'] as const;
      const results = await Promise.all(
        moods.map((mood, index) => harness.provider.generate(imageRequest({ width, height, mood, index, total: moods.length, keywords: `part ${index + 1}` }))),
      );
      for (const result of results) expect(result.data.length).toBeGreaterThan(1000);
    });

    it('refuses to start with an aborted signal, as a cancelled ReelforgeError', async () => {
      const controller = new AbortController();
      controller.abort();
      const error: unknown = await harness.provider.generate(imageRequest({ width, height }), controller.signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReelforgeError);
      expect((error as ReelforgeError).code).toBe('cancelled');
    });
  });
}
