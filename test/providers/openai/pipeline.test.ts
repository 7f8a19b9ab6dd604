/**
 * The OpenAI providers driving the real pipeline (memory assembler and music: no ffmpeg here),
 * through the real SDK and the fake server, with faults injected on every endpoint.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateVideoRequest } from '../../../src/core/request.js';
import { createSegmentReview } from '../../../src/pipeline/dedup.js';
import { limitImages, limitSpeech } from '../../../src/providers/limit.js';
import { estimateCost } from '../../../src/pipeline/pricing.js';
import { runPipeline, type PipelineDeps } from '../../../src/pipeline/run-pipeline.js';
import { MemoryAssembler, MemoryMusic } from '../../../src/providers/memory/index.js';
import { createOpenAiProviders } from '../../../src/providers/openai/index.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

describe('the pipeline on OpenAI providers', () => {
  let fake: FakeOpenAiServer;
  let dir: string;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ imageScale: 0.1, quirks: 'all' });
  });
  afterAll(() => fake.close());
  beforeEach(async () => {
    fake.reset();
    dir = await mkdtemp(join(tmpdir(), 'reelforge-openai-pipeline-'));
    return () => rm(dir, { recursive: true, force: true });
  });

  function deps(maxAttempts = 4): PipelineDeps & { assembler: MemoryAssembler } {
    const providers = createOpenAiProviders({
      apiKey: 'sk-test',
      baseURL: fake.baseURL,
      llmModel: 'gpt-4o-mini',
      imageModel: 'gpt-image-1-mini',
      imageQuality: 'low',
      ttsModel: 'gpt-4o-mini-tts',
      ttsVoice: 'alloy',
      cacheDir: join(dir, 'cache'),
      timeouts: { streamIdleMs: 300 },
      retry: { maxAttempts, baseDelayMs: 5, maxDelayMs: 20 },
    });
    return {
      writer: providers.writer,
      fixer: providers.fixer,
      images: limitImages(providers.images, 4),
      speech: limitSpeech(providers.speech, 4),
      music: new MemoryMusic(),
      assembler: new MemoryAssembler(),
        reviewFor: (profile) => createSegmentReview(profile),
      estimateCost: (usage) =>
        estimateCost({
          llmModel: 'gpt-4o-mini',
          usage: usage.llm,
          imageModel: 'gpt-image-1-mini',
          imageQuality: 'low',
          imagesGenerated: usage.imagesGenerated,
          size: { width: usage.width, height: usage.height },
          ttsModel: 'gpt-4o-mini-tts',
          ttsCharacters: usage.ttsCharacters,
        }).totalUsd,
    };
  }

  it('makes a balanced 60 s video in at most 2 LLM calls, reusing the duplicate picture, despite faults everywhere', async () => {
    fake.inject('chat', { kind: 'stall', afterChars: 700 });
    fake.inject('chat', { kind: 'rate_limit', retryAfter: '0' });
    fake.inject('images', { kind: 'server_error' }, 2);
    fake.inject('speech', { kind: 'rate_limit' });
    const d = deps();
    const receipt = await runPipeline(
      { request: validateVideoRequest({ duration: 60, topic: 'The fall of Constantinople' }), workDir: dir, outPath: join(dir, 'out.mp4') },
      d,
    );
    expect(receipt.offline).toBe(false);
    expect(receipt.segments).toBe(12);
    expect(receipt.llm.calls).toBe(2); // the script, then one batched rewrite of the two-person scene
    expect(receipt.llm.totalTokens).toBeLessThanOrEqual(2_500);
    expect(receipt.images.reused).toBe(1);
    expect(receipt.images.generated).toBe(11);
    expect(receipt.costUsd).toBeGreaterThan(0);
    expect(d.assembler.finished).toBeDefined();
    const fixes = fake.requestsTo('chat').filter((r) => r.status === 200).at(-1)!;
    expect((fixes.body.messages as Array<{ content: string }>)[1]!.content).toMatch(/^#\d+ people: shows/m);
  });

  it('pays nothing the second time for the same job (LLM, images and speech from the caches)', async () => {
    const run = () =>
      runPipeline(
        { request: validateVideoRequest({ duration: 30, topic: 'How honeybees make honey' }), workDir: dir, outPath: join(dir, 'out.mp4') },
        deps(),
      );
    const first = await run();
    const paid = fake.requests.length;
    const second = await run();
    expect(fake.requests.length).toBe(paid);
    expect(second.llm.calls).toBe(0);
    expect(first.segments).toBe(second.segments);
  });

  it('ends with a clear, retryable error and no video when the provider keeps failing', async () => {
    fake.inject('chat', { kind: 'server_error', status: 503 }, 10);
    const d = deps(3);
    const out = join(dir, 'out.mp4');
    await expect(
      runPipeline({ request: validateVideoRequest({ duration: 30, topic: 'Tea' }), workDir: dir, outPath: out }, d),
    ).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(fake.requestsTo('chat')).toHaveLength(3);
    expect(d.assembler.finished).toBeUndefined();
    await expect(readFile(out)).rejects.toThrow();
  });
});
