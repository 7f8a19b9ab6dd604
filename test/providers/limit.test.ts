import { describe, expect, it } from 'vitest';
import { limitImages, limitSpeech } from '../../src/providers/limit.js';
import { sleep } from '../../src/core/sleep.js';
import { MemoryImages, MemorySpeech } from '../../src/providers/memory/index.js';
import type { ImageProvider, ImageRequest } from '../../src/pipeline/ports.js';

const request = (index: number): ImageRequest => ({ prompt: `p${index}`, style: '', width: 10, height: 10, index, total: 8, mood: 'calm', keywords: 'k' });

describe('process-wide provider limits', () => {
  it('never lets more calls than the limit run at once, across callers', async () => {
    let running = 0;
    let peak = 0;
    const slow: ImageProvider = {
      offline: false,
      model: 'slow',
      async generate(r) {
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        return { data: Buffer.from(r.prompt), ext: 'png' };
      },
    };
    const limited = limitImages(slow, 2);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => limited.generate(request(i))));
    expect(peak).toBe(2);
    expect(results.map((r) => r.data.toString())).toEqual(Array.from({ length: 8 }, (_, i) => `p${i}`));
    expect(limited.model).toBe('slow');
  });

  it('drops a waiting call at once when its job is cancelled', async () => {
    const limited = limitSpeech(new MemorySpeech({ latencyMs: 200 }), 1);
    const controller = new AbortController();
    const first = limited.synthesize({ text: 'one two', lang: 'en' });
    const second = limited.synthesize({ text: 'three', lang: 'en' }, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(second).rejects.toThrow();
    await expect(first).resolves.toMatchObject({ ext: 'wav' });
    expect(limitImages(new MemoryImages(), 1).offline).toBe(true);
  });
});
