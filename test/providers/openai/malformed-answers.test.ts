/**
 * An answer that arrives but cannot be used (JSON cut short, bytes that are not a picture) is a
 * provider failure like a 500: tried again, then a clear retryable error, never "something went
 * wrong on our side". Through the real SDK against the fake OpenAI server's faults.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImageRequest } from '../../../src/pipeline/ports.js';
import { createOpenAiClient, type OpenAiConnection } from '../../../src/providers/openai/client.js';
import { OpenAiImages } from '../../../src/providers/openai/images.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';
import { caught } from '../../helpers/errors.js';

const picture: ImageRequest = { prompt: 'The walls at dawn', style: 'oil painting', width: 1080, height: 1920, index: 0, total: 2, mood: 'epic', keywords: 'walls' };

describe('malformed provider answers', () => {
  let fake: FakeOpenAiServer;
  let connection: OpenAiConnection;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ imageScale: 0.25 });
    connection = createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
  });
  const images = (): OpenAiImages => new OpenAiImages(connection, { model: 'gpt-image-1-mini' });

  it('an image answer whose JSON is cut short is asked for again', async () => {
    fake.inject('images', { kind: 'invalid_json' });
    const result = await images().generate(picture);
    expect(result.ext).toBe('jpg');
    expect(fake.requestsTo('images')).toHaveLength(2);
  });

  it('an image answer that is not a picture is asked for again', async () => {
    fake.inject('images', { kind: 'garbage_image' });
    const result = await images().generate(picture);
    expect(result.ext).toBe('jpg');
    expect(fake.requestsTo('images')).toHaveLength(2);
  });

  it('answers that stay unreadable end in a retryable provider error after the last try', async () => {
    for (let i = 0; i < 3; i++) fake.inject('images', { kind: 'invalid_json' });
    const error = await caught(images().generate(picture));
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(fake.requestsTo('images')).toHaveLength(3);
  });
});
