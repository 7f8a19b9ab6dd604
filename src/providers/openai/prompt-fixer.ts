/**
 * One batched rewrite for the segments the local checks flagged (near-duplicate pictures, scenes
 * with two or more named people). Only flagged segments are sent; none flagged, no call.
 */
import { z } from 'zod';
import { emptyUsage, type LlmUsage } from '../../core/receipt.js';
import type { Segment, StoryContext } from '../../pipeline/model.js';
import type { PromptFixer } from '../../pipeline/ports.js';
import type { OpenAiLlm } from './llm.js';
import { loadPrompt, promptTemplate } from './prompts.js';

const fixSchema = z.object({
  prompts: z.array(z.object({ index: z.number().int(), imagePrompt: z.string().trim().min(3) })),
});

export function fixerUserMessage(
  flagged: Segment[],
  reasons: Record<number, string>,
  context: StoryContext | undefined,
  lang: string,
): string {
  const facts = [context?.era, context?.region, context?.avoid.length ? `avoid ${context.avoid.join(', ')}` : '']
    .filter(Boolean)
    .join('; ');
  const lines = flagged.map((s) => `#${s.index} ${reasons[s.index] ?? 'fix'}: ${s.imagePrompt}`);
  return promptTemplate('prompt-fixer-request')({ context: facts || '-', lang, lines: lines.join('\n') });
}

export class OpenAiPromptFixer implements PromptFixer {
  constructor(private readonly llm: OpenAiLlm) {}

  async rewrite(
    input: { segments: Segment[]; reasons: Record<number, string>; context?: StoryContext; lang: string },
    signal?: AbortSignal,
  ): Promise<{ prompts: Record<number, string>; usage: LlmUsage }> {
    const flagged = input.segments.filter((s) => input.reasons[s.index] !== undefined);
    if (flagged.length === 0) return { prompts: {}, usage: emptyUsage() };
    const result = await this.llm.structured(
      {
        name: 'image_prompt_fixes',
        schema: fixSchema,
        system: loadPrompt('prompt-fixer'),
        user: fixerUserMessage(flagged, input.reasons, input.context, input.lang),
        maxTokens: 200 + flagged.length * 80,
      },
      signal,
    );
    const wanted = new Set(flagged.map((s) => s.index));
    const prompts: Record<number, string> = {};
    // Only the segments we asked about; anything else the model volunteers is ignored.
    for (const fix of result.value.prompts) {
      if (wanted.has(fix.index)) prompts[fix.index] = fix.imagePrompt.replace(/\s+/g, ' ').slice(0, 600);
    }
    return { prompts, usage: result.usage };
  }
}
