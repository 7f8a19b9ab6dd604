import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileLlmCache } from '../../../src/providers/cache/llm-cache.js';
import { TIER_PROFILES, type Tier } from '../../../src/core/tiers.js';
import type { ScriptMeta, Segment } from '../../../src/pipeline/model.js';
import type { ScriptEvent, ScriptInput } from '../../../src/pipeline/ports.js';
import { createOpenAiClient } from '../../../src/providers/openai/client.js';
import { JsonArrayStreamer } from '../../../src/providers/openai/json-array-stream.js';
import { OpenAiLlm } from '../../../src/providers/openai/llm.js';
import { OpenAiScriptWriter } from '../../../src/providers/openai/script-writer.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

function input(tier: Tier, overrides: Partial<ScriptInput> = {}): ScriptInput {
  return {
    topic: 'The fall of Constantinople',
    durationSec: 60,
    lang: 'en',
    profile: TIER_PROFILES[tier],
    wantBible: false,
    targetSegments: 12,
    ...overrides,
  };
}

async function collect(events: AsyncIterable<ScriptEvent>): Promise<{ events: ScriptEvent[]; meta: ScriptMeta; segments: Segment[] }> {
  const all: ScriptEvent[] = [];
  for await (const event of events) all.push(event);
  const meta = all.find((e): e is Extract<ScriptEvent, { type: 'meta' }> => e.type === 'meta')!.meta;
  const segments = all.filter((e): e is Extract<ScriptEvent, { type: 'segment' }> => e.type === 'segment').map((e) => e.segment);
  return { events: all, meta, segments };
}

describe('OpenAiScriptWriter', () => {
  let fake: FakeOpenAiServer;
  let writer: OpenAiScriptWriter;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
    const connection = createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    writer = new OpenAiScriptWriter(new OpenAiLlm(connection, { model: 'gpt-4o-mini' }));
  });

  it('writes title, mood, context and all segments in ONE call, meta first and usage last', async () => {
    const { events, meta, segments } = await collect(writer.write(input('balanced')));
    expect(fake.requestsTo('chat')).toHaveLength(1);
    expect(events[0]?.type).toBe('meta');
    expect(events.at(-1)?.type).toBe('usage');
    expect(meta.title.length).toBeGreaterThan(0);
    expect(meta.draft).toBe(false);
    expect(meta.context?.era).toBeTruthy();
    expect(meta.context?.avoid.length).toBeGreaterThan(0);
    expect(segments.map((s) => s.index)).toEqual([...Array(12).keys()]);
    for (const s of segments) {
      expect(s.narration.length).toBeGreaterThan(10);
      expect(s.imagePrompt.length).toBeGreaterThan(10);
    }
    const words = segments.reduce((n, s) => n + s.narration.split(/\s+/).length, 0);
    expect(words).toBeGreaterThan(120);
    expect(words).toBeLessThan(180);
    const usage = events.at(-1) as Extract<ScriptEvent, { type: 'usage' }>;
    expect(usage.usage.calls).toBe(1);
    expect(usage.usage.totalTokens).toBe(fake.requestsTo('chat')[0]!.usage!.total_tokens);
  });

  it('hands out segments while the model is still writing', async () => {
    // The stream stops a third of the way in and stays silent: whatever comes out came before the end.
    fake.inject('chat', { kind: 'stall', afterChars: 1200 });
    const controller = new AbortController();
    const seen: string[] = [];
    try {
      for await (const event of writer.write(input('balanced'), controller.signal)) {
        seen.push(event.type);
        if (event.type === 'segment') break;
      }
    } finally {
      controller.abort();
    }
    expect(seen).toEqual(['meta', 'segment']);
    expect(fake.requestsTo('chat')).toHaveLength(1);
  });

  it('sizes the request by tier: ultra_fast has no bible and light context, quality has a bible', async () => {
    const fast = await collect(writer.write(input('ultra_fast', { durationSec: 30, targetSegments: 6 })));
    expect(fast.meta.bible).toBeUndefined();
    expect(fast.meta.style).toBeTruthy();
    expect(fast.meta.context?.avoid).toEqual([]);
    const fastSchema = JSON.stringify(fake.requestsTo('chat')[0]!.body.response_format);
    expect(fastSchema).not.toContain('"bible"');
    expect(fastSchema).not.toContain('"avoid"');

    const quality = await collect(writer.write(input('quality', { durationSec: 120, targetSegments: 24 })));
    expect(quality.meta.bible?.characters.length).toBeGreaterThan(0);
    expect(quality.meta.style).toBe(quality.meta.bible?.style);
    expect(quality.segments).toHaveLength(24);
  });

  it('makes a bible for balanced only when asked', async () => {
    const without = await collect(writer.write(input('balanced')));
    const withBible = await collect(writer.write(input('balanced', { wantBible: true })));
    expect(without.meta.bible).toBeUndefined();
    expect(withBible.meta.bible?.style).toBeTruthy();
  });

  it('keeps own narration word for word and asks only for pictures', async () => {
    const narration = ['Первая строка о Петре.', 'Вторая строка о флоте.', 'Третья строка о городе на Неве.'];
    const { segments } = await collect(
      writer.write(input('balanced', { topic: 'Пётр I', lang: 'ru', narration, targetSegments: 3, durationSec: 20 })),
    );
    expect(segments.map((s) => s.narration)).toEqual(narration);
    const body = fake.requestsTo('chat')[0]!.body;
    expect(JSON.stringify(body.response_format)).not.toContain('"narration"');
    expect((body.messages as Array<{ content: string }>)[1]!.content).toContain('2. Вторая строка о флоте.');
  });

  it('keeps the system prompt identical across requests (a stable prefix for prompt caching)', async () => {
    await collect(writer.write(input('ultra_fast', { durationSec: 30, targetSegments: 6 })));
    await collect(writer.write(input('quality', { topic: 'Honeybees', durationSec: 90, targetSegments: 18 })));
    const [a, b] = fake.requestsTo('chat').map((r) => (r.body.messages as Array<{ content: string }>)[0]!.content);
    expect(a).toBe(b);
    expect(a).not.toContain('Honeybees');
  });

  it('survives a stalled stream: segments already handed out are not handed out twice', async () => {
    fake.inject('chat', { kind: 'stall', afterChars: 900 });
    const connection = createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL, timeouts: { streamIdleMs: 300 } });
    const stallWriter = new OpenAiScriptWriter(new OpenAiLlm(connection, { model: 'gpt-4o-mini' }));
    const { segments, events } = await collect(stallWriter.write(input('balanced')));
    expect(fake.requestsTo('chat')).toHaveLength(2);
    expect(segments.map((s) => s.index)).toEqual([...Array(12).keys()]);
    expect(events.filter((e) => e.type === 'meta')).toHaveLength(1);
  });

  it('replays a cached script for a resumed job without paying again (disk cache, fresh process objects)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reelforge-llm-cache-'));
    try {
      const make = () =>
        new OpenAiScriptWriter(
          new OpenAiLlm(createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL }), { model: 'gpt-4o-mini', cache: fileLlmCache(dir) }),
        );
      const first = await collect(make().write(input('balanced')));
      const second = await collect(make().write(input('balanced')));
      expect(fake.requestsTo('chat')).toHaveLength(1);
      expect(second.segments).toEqual(first.segments);
      expect(second.meta).toEqual(first.meta);
      expect(second.events.at(-1)).toEqual({ type: 'usage', usage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends the iteration with the typed error when the provider refuses', async () => {
    fake.inject('chat', { kind: 'refusal' });
    await expect(collect(writer.write(input('balanced')))).rejects.toMatchObject({ code: 'content_policy' });
  });

  it('stops the request when the consumer stops early', async () => {
    fake.latency = { tokensPerSec: 1000 };
    for await (const event of writer.write(input('balanced'))) {
      if (event.type === 'segment') break;
    }
    await expect.poll(() => fake.requestsTo('chat')[0]?.closedEarly, { timeout: 2_000 }).toBe(true);
    expect(fake.requestsTo('chat')).toHaveLength(1);
  });
});

describe('JsonArrayStreamer', () => {
  it('gives the head once the array opens and each element once it closes, across any split', () => {
    const text = JSON.stringify({ title: 'a "quoted" } title', n: [1, 2], segments: [{ x: '}{][', y: [1] }, { x: 'b' }], tail: 1 });
    for (const size of [1, 3, 7, text.length]) {
      const streamer = new JsonArrayStreamer('segments');
      const heads: string[] = [];
      const items: string[] = [];
      for (let i = 0; i < text.length; i += size) {
        const pieces = streamer.push(text.slice(i, i + size));
        if (pieces.head) heads.push(pieces.head);
        items.push(...pieces.items);
      }
      expect(heads.map((h) => JSON.parse(h) as unknown)).toEqual([{ title: 'a "quoted" } title', n: [1, 2] }]);
      expect(items.map((t) => JSON.parse(t) as unknown)).toEqual([{ x: '}{][', y: [1] }, { x: 'b' }]);
    }
  });
});
