import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TIER_PROFILES } from '../../../src/core/tiers.js';
import { planPromptFixes } from '../../pipeline/plan-fixes.js';
import type { Segment } from '../../../src/pipeline/model.js';
import { createOpenAiClient } from '../../../src/providers/openai/client.js';
import { OpenAiLlm } from '../../../src/providers/openai/llm.js';
import { OpenAiPromptFixer } from '../../../src/providers/openai/prompt-fixer.js';
import { FakeOpenAiServer } from '../../fakes/openai-server.js';

const seg = (index: number, imagePrompt: string, people: string[] = []): Segment => ({ index, narration: `Line ${index}.`, imagePrompt, people });

describe('OpenAiPromptFixer', () => {
  let fake: FakeOpenAiServer;
  let fixer: OpenAiPromptFixer;
  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    fixer = new OpenAiPromptFixer(new OpenAiLlm(createOpenAiClient({ apiKey: 'sk-test', baseURL: fake.baseURL }), { model: 'gpt-4o-mini' }));
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
  });

  const script = [
    seg(0, 'Sultan Mehmed II on a white horse before the walls', ['Mehmed II']),
    seg(1, 'Mehmed II and Constantine XI facing each other across a battlefield', ['Mehmed II', 'Constantine XI']),
    seg(2, 'Merchant ships fleeing the Golden Horn under a grey sky'),
    seg(3, 'Merchant ships fleeing the Golden Horn under a grey sky at dusk'),
    seg(4, 'A candlelit scriptorium with monks copying books'),
  ];

  it('makes no call when nothing is flagged', async () => {
    const plan = planPromptFixes([script[0]!, script[2]!, script[4]!], TIER_PROFILES.quality);
    const result = await fixer.rewrite({ segments: script, reasons: plan.reasons, lang: 'en' });
    expect(result).toEqual({ prompts: {}, usage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 } });
    expect(fake.requests).toHaveLength(0);
  });

  it('sends only the flagged segments, in one call, and returns prompts only for them', async () => {
    const plan = planPromptFixes(script, TIER_PROFILES.quality);
    const result = await fixer.rewrite({
      segments: script,
      reasons: plan.reasons,
      context: { era: '1453', region: 'Constantinople', people: ['Mehmed II', 'Constantine XI'], avoid: ['modern buildings'] },
      lang: 'en',
    });
    const chats = fake.requestsTo('chat');
    expect(chats).toHaveLength(1);
    const user = (chats[0]!.body.messages as Array<{ content: string }>)[1]!.content;
    expect(user).toContain('#1 people: shows Mehmed II, Constantine XI: Mehmed II and Constantine XI facing');
    expect(user).toContain('#3 similar to #2');
    expect(user).toContain('1453; Constantinople; avoid modern buildings');
    expect(user).not.toContain('scriptorium');
    expect(user).not.toContain('#0');
    expect(Object.keys(result.prompts).sort()).toEqual(['1', '3']);
    expect(result.prompts[1]).not.toBe(script[1]!.imagePrompt);
    expect(result.usage.calls).toBe(1);
    expect(result.usage.totalTokens).toBeLessThan(600);
  });
});
