import type { CaptionStyle } from './caption-style.js';
import type { Tier } from './tiers.js';

export interface LlmUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens the provider served from its own prompt cache, when it says so. */
  cachedPromptTokens?: number;
}

/** What a finished video cost and how it was made; printed by `--json`, shown in chat captions. */
export interface Receipt {
  output: string;
  title: string;
  durationSec: number;
  width: number;
  height: number;
  sizeBytes: number;
  tier: Tier;
  segments: number;
  offline: boolean;
  lang: string;
  llm: LlmUsage;
  images: { generated: number; reused: number };
  /** Narration clips spoken now (paid) and taken from the speech cache (absent in older receipts). */
  voices?: { generated: number; reused: number };
  /** Segments encoded now and taken from the encoded-segment cache (absent in older receipts). */
  encodes?: { made: number; reused: number };
  ttsCharacters: number;
  /** Seconds of voice sent to a paid transcription endpoint to time the caption words. */
  transcribedSec?: number;
  /** The caption style burned in. */
  captions?: CaptionStyle;
  costUsd: number;
  timingsMs: Record<string, number>;
}

export function emptyUsage(): LlmUsage {
  return { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 };
}

export function addUsage(a: LlmUsage, b: LlmUsage): LlmUsage {
  const cached = (a.cachedPromptTokens ?? 0) + (b.cachedPromptTokens ?? 0);
  return {
    calls: a.calls + b.calls,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...(cached ? { cachedPromptTokens: cached } : {}),
  };
}

/** One line for a chat caption: "1,234 tokens · 12 images · ~$0.004". */
export function formatReceiptLine(receipt: Receipt): string {
  const parts = [
    `${receipt.llm.totalTokens.toLocaleString('en-US')} tokens`,
    `${receipt.images.generated + receipt.images.reused} images`,
    receipt.costUsd > 0 ? `~$${receipt.costUsd.toFixed(3)}` : 'free (offline)',
  ];
  // A re-make (or a repeat) made only part of the video: say what this one made, which is what it cost.
  if (receipt.encodes && receipt.encodes.reused > 0) {
    parts.push(`made now: ${receipt.images.generated} pictures, ${receipt.voices?.generated ?? 0} voices, ${receipt.encodes.made} of ${receipt.segments} segments`);
  }
  return parts.join(' · ');
}
