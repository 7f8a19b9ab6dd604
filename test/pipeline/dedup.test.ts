import { describe, expect, it } from 'vitest';
import { TIER_PROFILES } from '../../src/core/tiers.js';
import { createSegmentReview, findDuplicatePrompts, promptSimilarity } from '../../src/pipeline/dedup.js';
import { planPromptFixes } from './plan-fixes.js';
import type { Segment } from '../../src/pipeline/model.js';

const seg = (index: number, imagePrompt: string, people: string[] = []): Segment => ({ index, narration: `Line ${index}.`, imagePrompt, people });

describe('near-duplicate image prompts', () => {
  const script = [
    seg(0, 'Wide shot of Ottoman cannons firing at the walls of Constantinople, smoke, dusk'),
    seg(1, 'Close-up of a Byzantine monk praying by candlelight in a stone chapel'),
    seg(2, 'Ottoman soldiers storming the walls of Constantinople at dawn'),
    seg(3, 'Wide shot of Ottoman cannon firing at the wall of Constantinople, smoke at dusk'), // repeats 0
    seg(4, 'A Byzantine monk praying by candlelight in a stone chapel, close-up'), // repeats 1, reordered
    seg(5, 'Merchant ships fleeing the Golden Horn under a grey sky'),
  ];

  it('flags exactly the later segment of each near-identical pair, pointing at the earlier one', () => {
    const found = findDuplicatePrompts(script);
    expect(found.map(({ index, duplicateOf }) => ({ index, duplicateOf }))).toEqual([
      { index: 3, duplicateOf: 0 },
      { index: 4, duplicateOf: 1 },
    ]);
    for (const f of found) expect(f.similarity).toBeGreaterThan(0.8);
  });

  it('leaves related but different scenes alone (same place, different action)', () => {
    expect(promptSimilarity(script[0]!.imagePrompt, script[2]!.imagePrompt)).toBeLessThan(0.8);
    expect(findDuplicatePrompts([script[0]!, script[2]!, script[5]!])).toEqual([]);
  });

  it('compares Cyrillic prompts word by word, across word endings', () => {
    const a = 'Пётр Первый стоит на берегу Невы, строящийся город, утренний туман';
    const b = 'Пётр Первый стоит на берегу Невы, строящийся город в утреннем тумане';
    const c = 'Шведские корабли горят у крепости, ночь, зарево';
    expect(promptSimilarity(a, b)).toBeGreaterThan(0.8);
    expect(findDuplicatePrompts([seg(0, a), seg(1, c), seg(2, b)]).map((f) => [f.index, f.duplicateOf])).toEqual([[2, 0]]);
  });

  it('does not flag at exactly the threshold, only above it', () => {
    // 4 of 5 words shared on both sides: cosine exactly 0.8.
    expect(promptSimilarity('red castle tall tower dawn', 'red castle tall tower dusk')).toBeCloseTo(0.8, 10);
    expect(findDuplicatePrompts([seg(0, 'red castle tall tower dawn'), seg(1, 'red castle tall tower dusk')])).toEqual([]);
  });
});

describe('planning prompt fixes by tier', () => {
  const script = [
    seg(0, 'Sultan Mehmed II on a white horse before the walls', ['Mehmed II']),
    seg(1, 'Mehmed II and Constantine XI facing each other across a battlefield', ['Mehmed II', 'Constantine XI']),
    seg(2, 'Merchant ships fleeing the Golden Horn under a grey sky'),
    seg(3, 'Merchant ships fleeing the Golden Horn under a grey sky at dusk'),
  ];

  it('ultra_fast skips dedup but still fixes the two-person scene', () => {
    const plan = planPromptFixes(script, TIER_PROFILES.ultra_fast);
    expect(plan.reuse).toEqual({});
    expect(Object.keys(plan.reasons)).toEqual(['1']);
  });

  it('balanced reuses the earlier picture for a duplicate and rewrites only the two-person scene', () => {
    const plan = planPromptFixes(script, TIER_PROFILES.balanced);
    expect(plan.reuse).toEqual({ 3: 2 });
    expect(Object.keys(plan.reasons)).toEqual(['1']);
    expect(plan.reasons[1]).toContain('Constantine XI');
  });

  it('quality rewrites duplicates into distinct scenes too', () => {
    const plan = planPromptFixes(script, TIER_PROFILES.quality);
    expect(plan.reuse).toEqual({});
    expect(Object.keys(plan.reasons).sort()).toEqual(['1', '3']);
    expect(plan.reasons[3]).toMatch(/^similar to #2/);
  });

  it('plans nothing for a clean script, so no LLM call follows', () => {
    expect(planPromptFixes([script[0]!, script[2]!], TIER_PROFILES.quality)).toEqual({ reuse: {}, reasons: {} });
  });
});

describe('reviewing segments one by one as they stream in', () => {
  const meta = { context: { people: ['Mehmed II', 'Constantine XI'], avoid: [] } };
  const s0 = seg(0, 'Merchant ships fleeing the Golden Horn under a grey sky');
  const s1 = seg(1, 'Merchant ships fleeing the Golden Horn under a grey sky at dusk');
  const s2 = seg(2, 'Mehmed II watches Constantine XI from a hill', ['Mehmed II']);
  const s3 = seg(3, 'A candlelit scriptorium with monks copying books');

  it('agrees with the whole-script plan, looking only backwards', () => {
    const balanced = createSegmentReview(TIER_PROFILES.balanced);
    expect(balanced(s0, [], meta)).toEqual({ action: 'go' });
    expect(balanced(s1, [s0], meta)).toEqual({ action: 'reuse', of: 0 });
    expect(balanced(s2, [s0, s1], meta)).toEqual({ action: 'hold', reason: 'people: shows Mehmed II, Constantine XI' });
    expect(balanced(s3, [s0, s1, s2], meta)).toEqual({ action: 'go' });
    const quality = createSegmentReview(TIER_PROFILES.quality);
    expect(quality(s1, [s0], meta)).toMatchObject({ action: 'hold', reason: expect.stringMatching(/^similar to #0/) as string });
    const fast = createSegmentReview(TIER_PROFILES.ultra_fast);
    expect(fast(s1, [s0], meta)).toEqual({ action: 'go' });
  });
});
