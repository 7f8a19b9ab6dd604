import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { paramsOf, ReelforgeError } from '../../../src/core/errors.js';
import { memoryLlmCache } from '../../../src/providers/cache/llm-cache.js';
import { createOpenAiClient } from '../../../src/providers/openai/client.js';
import { OpenAiLlm, parseStructured, toStrictJsonSchema } from '../../../src/providers/openai/llm.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

const story = z.object({
  title: z.string(),
  mood: z.enum(['calm', 'epic']),
  segments: z.array(z.object({ narration: z.string(), imagePrompt: z.string().min(3) })).min(1),
});
const request = {
  name: 'story',
  schema: story,
  system: 'Write a short story as JSON.',
  user: 'Topic: The fall of Constantinople\nLanguage: en\n30 s, 6 segments, ~75 words.',
};

describe('structured chat completions', () => {
  let fake: FakeOpenAiServer;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
  });

  const makeLlm = (options: { streamIdleMs?: number } = {}) =>
    new OpenAiLlm(
      createOpenAiClient({
        apiKey: 'sk-test',
        baseURL: fake.baseURL,
        retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
        timeouts: { streamIdleMs: options.streamIdleMs ?? 5_000 },
      }),
      { model: 'gpt-4o-mini' },
    );

  it('streams with include_usage and strict json_schema, and reports the provider usage', async () => {
    let streamed = '';
    const result = await makeLlm().structured({ ...request, onDelta: (d) => (streamed += d) });
    expect(result.value.segments).toHaveLength(6);
    const sent = fake.requestsTo('chat')[0]!;
    expect(sent.body.stream).toBe(true);
    expect(sent.body.stream_options).toEqual({ include_usage: true });
    const format = sent.body.response_format as { type: string; json_schema: { strict: boolean; schema: Record<string, unknown> } };
    expect(format.type).toBe('json_schema');
    expect(format.json_schema.strict).toBe(true);
    expect(format.json_schema.schema.additionalProperties).toBe(false);
    expect(JSON.stringify(format.json_schema.schema)).not.toContain('$schema');
    expect(result.usage).toEqual({
      calls: 1,
      promptTokens: sent.usage!.prompt_tokens,
      completionTokens: sent.usage!.completion_tokens,
      totalTokens: sent.usage!.total_tokens,
    });
    expect(JSON.parse(streamed)).toEqual(result.value);
  });

  it('falls back to json_object with the schema in the user message when json_schema is refused', async () => {
    fake.jsonSchema = false;
    const llm = makeLlm();
    const result = await llm.structured(request);
    expect(result.value.segments.length).toBeGreaterThan(0);
    const chats = fake.requestsTo('chat');
    expect(chats.map((r) => r.status)).toEqual([400, 200]);
    const second = chats[1]!.body as { response_format: { type: string }; messages: Array<{ role: string; content: string }> };
    expect(second.response_format.type).toBe('json_object');
    expect(second.messages[0]!.content).toBe(request.system); // system prefix untouched
    expect(second.messages[1]!.content).toContain('JSON Schema');
    expect(llm.mode).toBe('json_object');
    await llm.structured({ ...request, user: `${request.user} Again.` });
    expect(fake.requestsTo('chat').map((r) => r.status)).toEqual([400, 200, 200]); // remembered
  });

  it('repairs malformed JSON with one more round that carries the parse error', async () => {
    fake.inject('chat', { kind: 'malformed' });
    const result = await makeLlm().structured(request);
    expect(result.value.segments).toHaveLength(6);
    const chats = fake.requestsTo('chat');
    expect(chats).toHaveLength(2);
    const repair = chats[1]!.body.messages as Array<{ role: string; content: string }>;
    expect(repair.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(repair[3]!.content).toMatch(/^That JSON was invalid: not valid JSON/);
    expect(result.usage.calls).toBe(2);
    expect(result.usage.totalTokens).toBe(chats[0]!.usage!.total_tokens + chats[1]!.usage!.total_tokens);
  });

  it('repairs schema-breaking JSON, naming the broken fields', async () => {
    fake.inject('chat', { kind: 'schema_break' });
    const result = await makeLlm().structured(request);
    expect(result.value.mood).toMatch(/calm|epic/);
    const repair = fake.requestsTo('chat')[1]!.body.messages as Array<{ content: string }>;
    expect(repair[3]!.content).toContain('mood');
    expect(repair[3]!.content).toContain('imagePrompt');
  });

  it('fails with a retryable error when the repair round is broken too', async () => {
    fake.inject('chat', { kind: 'schema_break' }, 2);
    const error = await makeLlm().structured(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReelforgeError);
    expect((error as ReelforgeError).code).toBe('provider_unavailable');
    expect(paramsOf(error as ReelforgeError, 'provider_unavailable').reason).toBe('bad_output');
    expect(fake.requestsTo('chat')).toHaveLength(2);
  });

  it('turns a refusal into content_policy', async () => {
    fake.inject('chat', { kind: 'refusal' });
    const error = await makeLlm().structured(request).catch((e: unknown) => e);
    expect((error as ReelforgeError).code).toBe('content_policy');
    expect(fake.requestsTo('chat')).toHaveLength(1);
  });

  it('abandons a stalled stream and starts over, telling the listener the text restarted', async () => {
    fake.inject('chat', { kind: 'stall', afterChars: 100 });
    const attempts = new Set<number>();
    const started = Date.now();
    const result = await makeLlm({ streamIdleMs: 300 }).structured({ ...request, onDelta: (_d, attempt) => attempts.add(attempt) });
    expect(result.value.segments).toHaveLength(6);
    expect(attempts.size).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
    const chats = fake.requestsTo('chat');
    expect(chats).toHaveLength(2);
    expect(chats[0]!.closedEarly).toBe(true);
    expect(chats[1]!.body.messages).toHaveLength(2); // a fresh attempt, not a repair of the cut-off text
    expect(result.usage.calls).toBe(1);
  });

  it('serves an identical request from the cache without a call', async () => {
    const cache = memoryLlmCache();
    const llm = new OpenAiLlm(createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL }), { model: 'gpt-4o-mini', cache });
    const first = await llm.structured(request);
    let replayed = '';
    const second = await llm.structured({ ...request, onDelta: (d) => (replayed += d) });
    expect(second.cached).toBe(true);
    expect(second.usage.calls).toBe(0);
    expect(second.value).toEqual(first.value);
    expect(JSON.parse(replayed)).toEqual(first.value);
    expect(fake.requestsTo('chat')).toHaveLength(1);
    await llm.structured({ ...request, user: `${request.user} Different.` });
    expect(fake.requestsTo('chat')).toHaveLength(2);
  });

  it('stops at once when the caller cancels', async () => {
    fake.latency = { tokensPerSec: 200 };
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const error = await makeLlm().structured(request, controller.signal).catch((e: unknown) => e);
      expect((error as ReelforgeError).code).toBe('cancelled');
    } finally {
      fake.latency = {};
    }
  });
});

describe('schema and parsing helpers', () => {
  it('drops bounds strict mode does not need but keeps required and additionalProperties', () => {
    const schema = toStrictJsonSchema(z.object({ n: z.number().int(), s: z.string().min(2) }));
    expect(schema).toEqual({
      type: 'object',
      properties: { n: { type: 'integer' }, s: { type: 'string' } },
      required: ['n', 's'],
      additionalProperties: false,
    });
  });

  it('finds the JSON inside code fences and reports zod issues by path', () => {
    const ok = parseStructured('```json\n{"title":"x","mood":"calm","segments":[{"narration":"a","imagePrompt":"abc"}]}\n```', story);
    expect(ok.ok).toBe(true);
    const bad = parseStructured('{"title":"x","mood":"sad","segments":[]}', story);
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('mood') as string });
  });
});
