/**
 * Every provider call has an idle and an overall deadline: a response that stalls before its
 * headers or in the middle of its body is abandoned and tried again, then ends in a clear error.
 * Through the real SDK against the fake OpenAI server's stall faults.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ImageRequest } from '../../../src/pipeline/ports.js';
import { createOpenAiClient, type OpenAiConnection } from '../../../src/providers/openai/client.js';
import { OpenAiImages } from '../../../src/providers/openai/images.js';
import { OpenAiLlm } from '../../../src/providers/openai/llm.js';
import { OpenAiSpeech } from '../../../src/providers/openai/speech.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';
import { caught } from '../../helpers/errors.js';

const picture: ImageRequest = { prompt: 'The walls at dawn', style: 'oil painting', width: 1080, height: 1920, index: 0, total: 2, mood: 'epic', keywords: 'walls' };
const story = {
  name: 'story',
  schema: z.object({ title: z.string(), segments: z.array(z.object({ narration: z.string(), imagePrompt: z.string() })).min(1) }),
  system: 'Write a short story as JSON.',
  user: 'Topic: The fall of Constantinople\nLanguage: en\n12 s, 2 segments, ~30 words.',
};

// Tight deadlines, so a stall costs well under a second; the SDK's own header timeout stays long,
// as in production, so only the new deadlines can end a stall.
const TIMEOUTS = { requestMs: 60_000, streamIdleMs: 60_000, idleMs: 400, overallMs: 3_000 };

describe('provider deadlines', () => {
  let fake: FakeOpenAiServer;
  let connection: OpenAiConnection;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ imageScale: 0.25 });
    connection = createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, timeouts: TIMEOUTS });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
  });

  it('an image whose body stalls after its headers is abandoned and fetched again', { timeout: 15_000 }, async () => {
    fake.inject('images', { kind: 'hang_mid_body' });
    const result = await new OpenAiImages(connection, { model: 'gpt-image-1-mini' }).generate(picture);
    expect(result.data.length).toBeGreaterThan(1000);
    expect(fake.requestsTo('images')).toHaveLength(2);
  });

  it('an image request that never gets headers is abandoned and sent again', { timeout: 15_000 }, async () => {
    fake.inject('images', { kind: 'hang_before_headers' });
    const result = await new OpenAiImages(connection, { model: 'gpt-image-1-mini' }).generate(picture);
    expect(result.ext).toBe('jpg');
    expect(fake.requestsTo('images')).toHaveLength(2);
  });

  it('speech whose audio stalls mid-body is abandoned and fetched again', { timeout: 15_000 }, async () => {
    fake.inject('speech', { kind: 'hang_mid_body' });
    const result = await new OpenAiSpeech(connection, { model: 'gpt-4o-mini-tts', voice: 'alloy' }).synthesize({ text: 'The walls held for weeks.', lang: 'en' });
    expect(result.data.length).toBeGreaterThan(1000);
    expect(fake.requestsTo('speech')).toHaveLength(2);
  });

  it('a chat completion that never gets headers is abandoned and sent again', { timeout: 15_000 }, async () => {
    fake.inject('chat', { kind: 'hang_before_headers' });
    const result = await new OpenAiLlm(connection, { model: 'gpt-4o-mini' }).structured(story);
    expect(result.value.segments.length).toBeGreaterThan(0);
    expect(fake.requestsTo('chat')).toHaveLength(2);
  });

  it('a provider that keeps stalling ends in a clear, retryable error after the last try', { timeout: 15_000 }, async () => {
    fake.inject('images', { kind: 'hang_mid_body' }, 3);
    const error = await caught(new OpenAiImages(connection, { model: 'gpt-image-1-mini' }).generate(picture));
    expect(error.code).toBe('provider_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/kept failing/);
    expect(fake.requestsTo('images')).toHaveLength(3);
  });

  it('a body that trickles forever is cut at the overall deadline', { timeout: 15_000 }, async () => {
    // Bytes keep coming (the idle deadline never fires), too slowly to finish in time.
    const slow = createOpenAiClient({
      apiKey: 'sk-test',
      baseURL: fake.baseURL,
      retry: { maxAttempts: 1 },
      timeouts: { ...TIMEOUTS, idleMs: 2_000, overallMs: 600 },
    });
    fake.latency.tokensPerSec = 20;
    const error = await caught(new OpenAiLlm(slow, { model: 'gpt-4o-mini' }).structured(story));
    expect(error.code).toBe('provider_unavailable');
    expect(String((error.cause as Error | undefined)?.message ?? error.message)).toMatch(/longer than/);
  });
});
