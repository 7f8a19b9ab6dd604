/**
 * The streaming review run over a whole script, one segment after another: which segments reuse an
 * earlier picture and which go to the batched rewrite, and why. The pipeline only ever reviews one
 * segment as it arrives; the tests read the whole-script view.
 */
import type { TierProfile } from '../../src/core/tiers.js';
import { createSegmentReview } from '../../src/pipeline/dedup.js';
import type { Segment } from '../../src/pipeline/model.js';

export interface PromptFixPlan {
  /** Segment index → earlier segment whose picture it reuses (no new image, no LLM). */
  reuse: Record<number, number>;
  /** Segment index → why it goes to the one batched LLM rewrite; empty means no call. */
  reasons: Record<number, string>;
}

export function planPromptFixes(segments: readonly Segment[], profile: Pick<TierProfile, 'dedup'>): PromptFixPlan {
  const review = createSegmentReview(profile);
  const plan: PromptFixPlan = { reuse: {}, reasons: {} };
  segments.forEach((segment, i) => {
    const decision = review(segment, segments.slice(0, i), {});
    if (decision.action === 'reuse') plan.reuse[segment.index] = decision.of;
    else if (decision.action === 'hold') plan.reasons[segment.index] = decision.reason;
  });
  return plan;
}
