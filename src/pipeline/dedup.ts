/**
 * Deduplication without an LLM: image prompts become bags of stemmed content words (Unicode-aware:
 * Latin, Cyrillic, anything with letters), compared by cosine similarity. Only pairs above 0.8 are
 * flagged; the later segment is the duplicate of the earliest one it matches.
 */
import type { TierProfile } from '../core/tiers.js';
import type { ScriptMeta, Segment } from './model.js';
import { distinctPeople, multiSubjectReason, peopleInPrompt, stemWord } from './multi-subject.js';

export const DUPLICATE_THRESHOLD = 0.8;

const STOPWORDS = new Set(
  (
    'a an the of in on at to and or with by for from into onto over under as is are was were be its his her their ' +
    'this that these those it he she they them near beside while who whom which seen view ' +
    'и в во на с со к ко по за из от до у о об при для над под как его её ее их это этот эта эти что он она они'
  ).split(' '),
);

/** Content words of a text, stemmed, without stop words. */
export function contentWords(text: string): string[] {
  const words = text.normalize('NFKC').match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? [];
  return words.map((w) => w.toLowerCase()).filter((w) => !STOPWORDS.has(w)).map(stemWord);
}

function termVector(text: string): Map<string, number> {
  const vector = new Map<string, number>();
  for (const word of contentWords(text)) vector.set(word, (vector.get(word) ?? 0) + 1);
  return vector;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [term, count] of a) {
    na += count * count;
    dot += count * (b.get(term) ?? 0);
  }
  for (const count of b.values()) nb += count * count;
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Cosine similarity of two prompts' content words, in [0, 1]. */
export function promptSimilarity(a: string, b: string): number {
  return cosine(termVector(a), termVector(b));
}

export interface DuplicatePrompt {
  /** The later segment. */
  index: number;
  /** The earlier segment it repeats. */
  duplicateOf: number;
  similarity: number;
}

/** Later segments whose image prompt is above `threshold` similar to an earlier one's. */
export function findDuplicatePrompts(
  segments: ReadonlyArray<Pick<Segment, 'index' | 'imagePrompt'>>,
  threshold = DUPLICATE_THRESHOLD,
): DuplicatePrompt[] {
  const vectors = segments.map((s) => termVector(s.imagePrompt));
  const found: DuplicatePrompt[] = [];
  for (let j = 1; j < segments.length; j++) {
    for (let i = 0; i < j; i++) {
      const similarity = cosine(vectors[i]!, vectors[j]!);
      if (similarity > threshold) {
        found.push({ index: segments[j]!.index, duplicateOf: segments[i]!.index, similarity });
        break;
      }
    }
  }
  return found;
}

export function duplicateReason(duplicate: DuplicatePrompt, earlierPrompt: string): string {
  return `similar to #${duplicate.duplicateOf} "${earlierPrompt.slice(0, 160)}"`;
}

export type SegmentDecision = { action: 'go' } | { action: 'reuse'; of: number } | { action: 'hold'; reason: string };

/**
 * The same plan, one segment at a time, for a pipeline that reviews each segment as it streams in:
 * compares it with the segments before it only, so no decision waits for the whole script.
 * `reuse` for a near-duplicate on `when_similar`, `hold` (send to the batched rewrite) for a
 * duplicate on `always` or for a scene with two or more named people, else `go`.
 */
export function createSegmentReview(
  profile: Pick<TierProfile, 'dedup'>,
): (segment: Segment, earlier: readonly Segment[], meta: Pick<ScriptMeta, 'context' | 'bible'>) => SegmentDecision {
  return (segment, earlier, meta) => {
    const reasons: string[] = [];
    if (profile.dedup !== 'off') {
      const duplicate = findDuplicatePrompts([...earlier, segment]).find((d) => d.index === segment.index);
      if (duplicate) {
        const earlierPrompt = earlier.find((s) => s.index === duplicate.duplicateOf)?.imagePrompt ?? '';
        if (profile.dedup === 'when_similar') return { action: 'reuse', of: duplicate.duplicateOf };
        reasons.push(duplicateReason(duplicate, earlierPrompt));
      }
    }
    const known = distinctPeople([
      ...earlier.flatMap((s) => s.people),
      ...segment.people,
      ...(meta.context?.people ?? []),
      ...(meta.bible?.characters.map((c) => c.name) ?? []),
    ]);
    const people = distinctPeople([...segment.people, ...peopleInPrompt(segment.imagePrompt, known)]);
    if (people.length >= 2) reasons.push(multiSubjectReason({ index: segment.index, people }));
    return reasons.length > 0 ? { action: 'hold', reason: reasons.join('; ') } : { action: 'go' };
  };
}
