import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  createOpenAiClient,
  DEFAULT_RETRY,
  parseRetryAfterMs,
  redactSecrets,
} from '../../../src/providers/openai/client.js';
import { OpenAiLlm } from '../../../src/providers/openai/llm.js';
import { z } from 'zod';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';
import { caught } from '../../helpers/errors.js';
import { paramsOf } from '../../../src/core/errors.js';

const SECRET = 'sk-proj-SUPERSECRETKEY1234567890';
const answer = z.object({ text: z.string() });

describe('retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    expect(parseRetryAfterMs('2', now)).toBe(2000);
    expect(parseRetryAfterMs('0.5', now)).toBe(500);
    expect(parseRetryAfterMs('Sun, 01 Jun 2025 12:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfterMs('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, policy, () => 0.999)).toBe(399);
    expect(backoffDelayMs(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('redacts the key and key-shaped strings', () => {
    expect(redactSecrets(`bad key ${SECRET} and sk-abc*********7890`, SECRET)).toBe('bad key [redacted] and [redacted]');
  });
});

describe('the OpenAI client against a fake server', () => {
  let fake: FakeOpenAiServer;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ apiKey: SECRET });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
  });

  const llmWith = (key = SECRET, maxAttempts = 3) =>
    new OpenAiLlm(createOpenAiClient({ apiKey: key, baseURL: fake.baseURL, retry: { maxAttempts, baseDelayMs: 10, maxDelayMs: 50 } }), {
      model: 'gpt-4o-mini',
    });
  const ask = (llm: OpenAiLlm) => llm.structured({ name: 'answer', schema: answer, system: 'Answer in JSON.', user: 'Say hi.' });

  it('turns a refused key into provider_refused without the key anywhere in the error', async () => {
    const wrongKey = 'sk-proj-WRONGKEY0987654321abcdef';
    const error = await caught(ask(llmWith(wrongKey)));
    expect(error.code).toBe('provider_refused');
    expect(paramsOf(error, 'provider_refused').reason).toBe('auth');
    expect(error.retryable).toBe(false);
    const everything = JSON.stringify({ m: error.message, c: String((error.cause as Error).message), p: error.params });
    expect(everything).not.toContain(wrongKey);
    expect(everything).not.toContain('7654321abcdef');
    expect(fake.requests).toHaveLength(1); // a refused key is not retried
  });

  it('turns insufficient_quota into provider_refused (quota), not retried', async () => {
    fake.inject('chat', { kind: 'quota' });
    const error = await caught(ask(llmWith()));
    expect(error.code).toBe('provider_refused');
    expect(paramsOf(error, 'provider_refused').reason).toBe('quota');
    expect(fake.requestsTo('chat')).toHaveLength(1);
  });

  it('waits out a 429 for its Retry-After, then succeeds', async () => {
    fake.inject('chat', { kind: 'rate_limit', retryAfter: '1' });
    const started = Date.now();
    const result = await ask(llmWith());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.value.text.length).toBeGreaterThan(0);
    expect(fake.requestsTo('chat').map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives up at once when Retry-After is beyond the bound', async () => {
    fake.inject('chat', { kind: 'rate_limit', retryAfter: '3600' });
    const error = await caught(ask(llmWith()));
    expect(error.code).toBe('provider_unavailable');
    expect(error.retryable).toBe(true);
    expect(fake.requestsTo('chat')).toHaveLength(1);
  });

  it('retries 5xx and ends with a retryable provider_unavailable after the last attempt', async () => {
    fake.inject('chat', { kind: 'server_error' }, 5);
    const error = await caught(ask(llmWith(SECRET, 3)));
    expect(error.code).toBe('provider_unavailable');
    expect(error.retryable).toBe(true);
    expect(paramsOf(error, 'provider_unavailable').attempts).toBe(3);
    expect(fake.requestsTo('chat').map((r) => r.status)).toEqual([500, 500, 500]);
  });

  it('recovers from two 500s within its attempts', async () => {
    fake.inject('chat', { kind: 'server_error', status: 503 }, 2);
    const result = await ask(llmWith(SECRET, 3));
    expect(result.usage.calls).toBe(1);
    expect(fake.requestsTo('chat').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('maps a connection failure to a retryable provider_unavailable', async () => {
    const llm = new OpenAiLlm(
      createOpenAiClient({ apiKey: SECRET, baseURL: 'http://127.0.0.1:9/v1', retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } }),
      { model: 'gpt-4o-mini' },
    );
    const error = await caught(ask(llm));
    expect(error.code).toBe('provider_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('lists models like the real API (GET /v1/models)', async () => {
    const connection = createOpenAiClient({ apiKey: SECRET, baseURL: fake.baseURL });
    const ids: string[] = [];
    for await (const model of connection.sdk.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-image-1', 'tts-1']) as string[]);
  });

  it('sends the key as a bearer token and never retries inside the SDK', async () => {
    fake.inject('chat', { kind: 'server_error' }, 1);
    await caught(ask(llmWith(SECRET, 1)));
    expect(fake.requestsTo('chat')).toHaveLength(1);
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${SECRET}`);
  });
});
