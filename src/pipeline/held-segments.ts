/**
 * Held-segment fixing: segments the local checks held (a duplicate picture, two named people) wait
 * here for their picture prompt; once the script is complete, one batched rewrite fixes them all.
 * Nothing else waits for it: voices, other pictures and renders go on meanwhile.
 */
import type { LlmUsage } from '../core/receipt.js';
import type { ScriptMeta, Segment } from './model.js';
import type { PromptFixer } from './ports.js';

interface Held {
  segment: Segment;
  reason: string;
  release: (prompt: string | undefined) => void;
}

export class HeldSegments {
  private readonly held: Held[] = [];

  /** Resolves with the rewritten prompt for `segment`, or undefined to keep its own. */
  hold(segment: Segment, reason: string): Promise<string | undefined> {
    return new Promise((release) => this.held.push({ segment, reason, release }));
  }

  /** One batched rewrite of every held prompt (none without a fixer); releases them all. */
  async fix(fixer: PromptFixer | undefined, meta: ScriptMeta, signal: AbortSignal): Promise<LlmUsage | undefined> {
    if (this.held.length === 0) return undefined;
    let prompts: Record<number, string> = {};
    let usage: LlmUsage | undefined;
    if (fixer) {
      const reasons = Object.fromEntries(this.held.map((h) => [h.segment.index, h.reason]));
      const fixed = await fixer.rewrite(
        { segments: this.held.map((h) => h.segment), reasons, ...(meta.context ? { context: meta.context } : {}), lang: meta.lang },
        signal,
      );
      prompts = fixed.prompts;
      usage = fixed.usage;
    }
    for (const h of this.held) h.release(prompts[h.segment.index]);
    return usage;
  }

  /** Lets every held segment go with its own prompt (a failed run's cleanup; a no-op after `fix`). */
  releaseAll(): void {
    for (const h of this.held) h.release(undefined);
  }
}
