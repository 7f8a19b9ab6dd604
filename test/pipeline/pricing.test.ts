import { describe, expect, it } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';
import { buildPricingTable, DEFAULT_PRICING, estimateCost } from '../../src/pipeline/pricing.js';

const usage = { calls: 2, promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000 };

describe('cost estimates', () => {
  it('prices LLM tokens per million, cached prompt tokens at the cached rate', () => {
    expect(estimateCost({ llmModel: 'gpt-4o-mini', usage }).llmUsd).toBeCloseTo(0.75, 6);
    const cached = estimateCost({ llmModel: 'gpt-4o-mini', usage: { ...usage, cachedPromptTokens: 500_000 } });
    expect(cached.llmUsd).toBeCloseTo(0.075 + 0.0375 + 0.6, 6);
  });

  it('prices a typical balanced 60 s video at a fraction of a cent of LLM', () => {
    const estimate = estimateCost({
      llmModel: 'gpt-4o-mini',
      usage: { calls: 2, promptTokens: 900, completionTokens: 1100, totalTokens: 2000 },
      imageModel: 'gpt-image-1-mini',
      imageQuality: 'low',
      imagesGenerated: 11,
      size: '1024x1536',
      ttsModel: 'gpt-4o-mini-tts',
      ttsCharacters: 900,
    });
    expect(estimate.llmUsd).toBeCloseTo((900 * 0.15 + 1100 * 0.6) / 1e6, 6);
    expect(estimate.imagesUsd).toBeCloseTo(11 * 0.006, 6);
    expect(estimate.ttsUsd).toBeCloseTo((900 / 15 / 60) * 0.015, 6);
    expect(estimate.totalUsd).toBeCloseTo(estimate.llmUsd + estimate.imagesUsd + estimate.ttsUsd, 6);
    expect(estimate.unpriced).toEqual([]);
  });

  it('prices images by model, quality and shape, mapping quality words across families', () => {
    const one = (imageModel: string, imageQuality: string, size: string | { width: number; height: number }) =>
      estimateCost({ imageModel, imageQuality, imagesGenerated: 1, size }).imagesUsd;
    expect(one('gpt-image-1', 'medium', '1024x1024')).toBe(0.042);
    expect(one('gpt-image-1', 'high', { width: 1080, height: 1920 })).toBe(0.25);
    expect(one('dall-e-3', 'low', '1024x1792')).toBe(0.08); // low → standard
    expect(one('dall-e-3', 'hd', '1792x1024')).toBe(0.12);
    expect(one('gpt-image-1-mini', 'hd', '1024x1536')).toBe(0.052); // hd → high
  });

  it('prices tts-1 per character and uses measured seconds for per-minute models', () => {
    expect(estimateCost({ ttsModel: 'tts-1', ttsCharacters: 1000 }).ttsUsd).toBeCloseTo(0.015, 6);
    expect(estimateCost({ ttsModel: 'gpt-4o-mini-tts', ttsCharacters: 10, ttsSeconds: 120 }).ttsUsd).toBeCloseTo(0.03, 6);
  });

  it('names models it has no price for instead of inventing one', () => {
    const estimate = estimateCost({ llmModel: 'llama3.1:8b', usage, imageModel: 'flux-dev', imagesGenerated: 3 });
    expect(estimate.totalUsd).toBe(0);
    expect(estimate.unpriced).toEqual(['llama3.1:8b', 'flux-dev']);
  });

  it('costs nothing when nothing was used', () => {
    expect(estimateCost({ llmModel: 'gpt-4o-mini', usage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 }, imageModel: 'x' })).toEqual({
      totalUsd: 0,
      llmUsd: 0,
      imagesUsd: 0,
      ttsUsd: 0,
      transcriptionUsd: 0,
      unpriced: [],
    });
  });
});

describe('pricing overrides', () => {
  it('merges overrides per model and adds new models', () => {
    const table = buildPricingTable({ 'gpt-4o-mini': { outputPer1M: 1 }, 'llama3.1:8b': { inputPer1M: 0, outputPer1M: 0 } });
    expect(table['gpt-4o-mini']).toEqual({ inputPer1M: 0.15, cachedInputPer1M: 0.075, outputPer1M: 1 });
    expect(estimateCost({ llmModel: 'llama3.1:8b', usage }, table).unpriced).toEqual([]);
    expect(DEFAULT_PRICING['gpt-4o-mini']?.outputPer1M).toBe(0.6); // defaults untouched
  });

  it('refuses malformed overrides with a config error naming the model', () => {
    expect(() => buildPricingTable({ 'gpt-4o-mini': { outputPer1M: -1 }, x: 'cheap' })).toThrow(ReelforgeError);
    try {
      buildPricingTable({ 'gpt-4o-mini': { outputPerMillion: 1 } });
    } catch (error) {
      expect((error as ReelforgeError).code).toBe('config');
      expect((error as ReelforgeError).message).toContain('gpt-4o-mini');
    }
  });
});
