/**
 * A cost estimate from a pricing table: list prices in US dollars (2025) for the models reelforge
 * defaults to, overridable per model (`PRICING_JSON` → config.pricingOverrides). Pure: no I/O.
 * A model missing from the table costs 0 and is named in `unpriced`, so a receipt never invents a price.
 */
import { z } from 'zod';
import { ReelforgeError } from '../core/errors.js';
import type { LlmUsage } from '../core/receipt.js';

/** Image prices: quality → shape → dollars per image. Non-square covers portrait and landscape. */
type ImagePrices = Record<string, { square: number; tall: number }>;

export interface ModelPrice {
  /** Dollars per 1M prompt tokens. */
  inputPer1M?: number;
  /** Dollars per 1M prompt tokens served from the provider's prompt cache. */
  cachedInputPer1M?: number;
  /** Dollars per 1M completion tokens. */
  outputPer1M?: number;
  /** Dollars per image, by quality and shape. */
  perImage?: ImagePrices;
  /** Dollars per 1M characters of speech input (tts-1). */
  per1MChars?: number;
  /** Dollars per minute of speech (gpt-4o-mini-tts's published estimate). */
  perMinute?: number;
}

export type PricingTable = Readonly<Record<string, ModelPrice>>;

export const DEFAULT_PRICING: PricingTable = {
  'gpt-4o-mini': { inputPer1M: 0.15, cachedInputPer1M: 0.075, outputPer1M: 0.6 },
  'gpt-4.1-mini': { inputPer1M: 0.4, cachedInputPer1M: 0.1, outputPer1M: 1.6 },
  'gpt-4.1-nano': { inputPer1M: 0.1, cachedInputPer1M: 0.025, outputPer1M: 0.4 },
  'gpt-4o': { inputPer1M: 2.5, cachedInputPer1M: 1.25, outputPer1M: 10 },
  'gpt-image-1': {
    perImage: {
      low: { square: 0.011, tall: 0.016 },
      medium: { square: 0.042, tall: 0.063 },
      high: { square: 0.167, tall: 0.25 },
    },
  },
  'gpt-image-1-mini': {
    perImage: {
      low: { square: 0.005, tall: 0.006 },
      medium: { square: 0.011, tall: 0.015 },
      high: { square: 0.036, tall: 0.052 },
    },
  },
  'dall-e-3': {
    perImage: {
      standard: { square: 0.04, tall: 0.08 },
      hd: { square: 0.08, tall: 0.12 },
    },
  },
  'dall-e-2': { perImage: { standard: { square: 0.02, tall: 0.02 } } },
  'tts-1': { per1MChars: 15 },
  'tts-1-hd': { per1MChars: 30 },
  'gpt-4o-mini-tts': { perMinute: 0.015 },
  // Word timings for captions: transcription with word timestamps.
  'whisper-1': { perMinute: 0.006 },
};

const shapePrices = z.object({ square: z.number().nonnegative(), tall: z.number().nonnegative() });
const modelPriceSchema = z
  .object({
    inputPer1M: z.number().nonnegative(),
    cachedInputPer1M: z.number().nonnegative(),
    outputPer1M: z.number().nonnegative(),
    perImage: z.record(z.string(), shapePrices),
    per1MChars: z.number().nonnegative(),
    perMinute: z.number().nonnegative(),
  })
  .partial()
  .strict();

/** The defaults with overrides merged in per model (an override's fields replace the default's). */
export function buildPricingTable(overrides: Record<string, unknown> = {}, base: PricingTable = DEFAULT_PRICING): PricingTable {
  const table: Record<string, ModelPrice> = { ...base };
  const problems: string[] = [];
  for (const [model, value] of Object.entries(overrides)) {
    const parsed = modelPriceSchema.safeParse(value);
    if (!parsed.success) {
      problems.push(`${model}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(entry)'} ${i.message}`).join(', ')}`);
      continue;
    }
    const entry = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as ModelPrice;
    table[model] = { ...table[model], ...entry };
  }
  if (problems.length > 0) {
    throw new ReelforgeError('config', `PRICING_JSON has ${problems.length} problem(s): ${problems.join('; ')}`);
  }
  return table;
}

export interface CostInput {
  llmModel?: string;
  usage?: LlmUsage;
  imageModel?: string;
  /** The quality as configured (low/medium/high/standard/hd/auto); mapped to the model's own words. */
  imageQuality?: string;
  imagesGenerated?: number;
  /** "1024x1536" or the output frame; only square vs not matters for prices. */
  size?: string | { width: number; height: number };
  ttsModel?: string;
  ttsCharacters?: number;
  /** Measured speech length; estimated from characters (~15 a second) when absent. */
  ttsSeconds?: number;
  /** Transcription for word timings: the model and the seconds of audio sent. */
  transcriptionModel?: string;
  transcribedSec?: number;
}

export interface CostEstimate {
  totalUsd: number;
  llmUsd: number;
  imagesUsd: number;
  ttsUsd: number;
  transcriptionUsd: number;
  /** Models that were used but have no price in the table. */
  unpriced: string[];
}

const CHARS_PER_SPOKEN_SECOND = 15;

function isSquare(size: CostInput['size']): boolean {
  if (size === undefined) return false;
  const [w, h] = typeof size === 'string' ? size.split('x').map(Number) : [size.width, size.height];
  return Boolean(w && h && Math.abs(w / h - 1) < 0.15);
}

function qualityKey(prices: ImagePrices, quality: string | undefined): string | undefined {
  const wanted = quality ?? 'auto';
  if (prices[wanted]) return wanted;
  const aliases: Record<string, string[]> = {
    low: ['low', 'standard'],
    medium: ['medium', 'standard'],
    standard: ['standard', 'medium'],
    high: ['high', 'hd'],
    hd: ['hd', 'high'],
    auto: ['medium', 'standard'],
  };
  return (aliases[wanted] ?? []).find((q) => prices[q]) ?? Object.keys(prices)[0];
}

export function estimateCost(input: CostInput, table: PricingTable = DEFAULT_PRICING): CostEstimate {
  const unpriced: string[] = [];
  const price = (model: string | undefined, used: boolean): ModelPrice | undefined => {
    if (!model || !used) return undefined;
    const entry = table[model];
    if (!entry) unpriced.push(model);
    return entry;
  };

  let llmUsd = 0;
  const usage = input.usage;
  const llm = price(input.llmModel, Boolean(usage && usage.totalTokens > 0));
  if (llm && usage) {
    const cached = Math.min(usage.cachedPromptTokens ?? 0, usage.promptTokens);
    const input1M = llm.inputPer1M ?? 0;
    llmUsd =
      ((usage.promptTokens - cached) * input1M + cached * (llm.cachedInputPer1M ?? input1M) + usage.completionTokens * (llm.outputPer1M ?? 0)) /
      1_000_000;
  }

  let imagesUsd = 0;
  const images = input.imagesGenerated ?? 0;
  const image = price(input.imageModel, images > 0);
  if (image?.perImage) {
    const key = qualityKey(image.perImage, input.imageQuality);
    const row = key ? image.perImage[key] : undefined;
    if (row) imagesUsd = images * (isSquare(input.size) ? row.square : row.tall);
  }

  let ttsUsd = 0;
  const chars = input.ttsCharacters ?? 0;
  const tts = price(input.ttsModel, chars > 0 || (input.ttsSeconds ?? 0) > 0);
  if (tts) {
    if (tts.per1MChars !== undefined) ttsUsd = (chars * tts.per1MChars) / 1_000_000;
    else if (tts.perMinute !== undefined) ttsUsd = ((input.ttsSeconds ?? chars / CHARS_PER_SPOKEN_SECOND) / 60) * tts.perMinute;
  }

  let transcriptionUsd = 0;
  const heard = input.transcribedSec ?? 0;
  const stt = price(input.transcriptionModel, heard > 0);
  if (stt?.perMinute !== undefined) transcriptionUsd = (heard / 60) * stt.perMinute;

  const round = (n: number): number => Math.round(n * 1e6) / 1e6;
  return {
    totalUsd: round(llmUsd + imagesUsd + ttsUsd + transcriptionUsd),
    transcriptionUsd: round(transcriptionUsd),
    llmUsd: round(llmUsd),
    imagesUsd: round(imagesUsd),
    ttsUsd: round(ttsUsd),
    unpriced,
  };
}

/** What a job is expected to use before it runs, from its length alone. */
export interface JobEstimateInput {
  durationSec: number;
  llmModel: string;
  imageModel: string;
  imageQuality?: string;
  size?: CostInput['size'];
  ttsModel: string;
  /** Images the job makes (one per segment). */
  images: number;
}

/**
 * The cost a job is expected to reach, reserved against the daily limits when it is queued and
 * replaced by the receipt's cost when it ends. It errs high (a 60 s video measures about 1,600 LLM
 * tokens; this assumes 4,000 plus 30 a second, one image per segment and two spare, and 16
 * characters of speech a second), so jobs booked together stay under a budget once settled.
 */
export function estimateJobCost(input: JobEstimateInput, table: PricingTable = DEFAULT_PRICING): number {
  const seconds = Math.max(1, input.durationSec);
  const promptTokens = Math.round(3000 + 10 * seconds);
  const completionTokens = Math.round(1000 + 20 * seconds);
  return estimateCost(
    {
      llmModel: input.llmModel,
      usage: { calls: 2, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      imageModel: input.imageModel,
      ...(input.imageQuality !== undefined ? { imageQuality: input.imageQuality } : {}),
      imagesGenerated: input.images + 2,
      ...(input.size !== undefined ? { size: input.size } : {}),
      ttsModel: input.ttsModel,
      ttsCharacters: Math.ceil(16 * seconds),
      ttsSeconds: seconds,
    },
    table,
  ).totalUsd;
}
