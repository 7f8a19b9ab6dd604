import { describe, expect, it } from 'vitest';
import { ReelforgeError, cancelled } from '../../src/core/errors.js';
import type { Receipt } from '../../src/core/receipt.js';
import type { JobContext, JobProcessor } from '../../src/queue/types.js';
import { MemorySettingsStore } from '../../src/store/memory-settings-store.js';
import { withUsageRecording } from '../../src/store/record-usage.js';

const job = (attempt: number, lastAttempt = attempt >= 2): JobContext => ({
  id: 'j1',
  attempt,
  lastAttempt,
  signal: new AbortController().signal,
  progress: () => undefined,
  data: {
    request: { topic: 't', durationSec: 30, lang: 'en', aspect: '9:16' },
    owner: { platform: 'telegram', userId: '7' },
    target: null,
    createdAt: 0,
  },
});

const receipt = { title: 't', durationSec: 30, costUsd: 0.01, llm: { totalTokens: 500 }, images: { generated: 5, reused: 1 } } as Receipt;

describe('usage recording around the job processor', () => {
  it('counts a completed job with its tokens, cost, images and length', async () => {
    const store = new MemorySettingsStore();
    const processor = withUsageRecording(() => Promise.resolve({ receipt }), store);
    await processor(job(1));
    expect(await store.stats()).toMatchObject({ jobs: 1, completed: 1, tokens: 500, costUsd: 0.01, images: 6, videoSec: 30, users: 1 });
  });

  it('counts a failure once: only when no retry follows', async () => {
    const store = new MemorySettingsStore();
    const failing: JobProcessor = () => Promise.reject(new ReelforgeError('provider_unavailable', 'down', { retryable: true }));
    const processor = withUsageRecording(failing, store);
    await expect(processor(job(1))).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect((await store.stats()).jobs).toBe(0);
    await expect(processor(job(2))).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(await store.stats()).toMatchObject({ jobs: 1, failed: 1 });
  });

  it('counts a cancel, but not a shutdown that will resume the job', async () => {
    const store = new MemorySettingsStore();
    await expect(withUsageRecording(() => Promise.reject(cancelled('x')), store)(job(1, true))).rejects.toMatchObject({ code: 'cancelled' });
    await expect(
      withUsageRecording(() => Promise.reject(cancelled('x', { retryable: true })), store)(job(1, true)),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(await store.stats()).toMatchObject({ jobs: 1, cancelled: 1 });
  });
});
