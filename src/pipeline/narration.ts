/**
 * Narration sized for the voice that will speak it, and capped before any speech is paid for.
 *
 * A video is its voice plus fixed pauses (timeline.ts): the lead-in, a gap after each segment and
 * the tail. The words asked of the script writer are the rest of the asked length times the
 * voice's measured speaking rate for the language. Whatever a writer sends back (a model that
 * ignores the count, injected text) is cut to a bounded share per segment and in total.
 */
import { countWords, splitSentences } from './segmenting.js';
import { GAP_SEC, LEAD_IN_SEC, TAIL_SEC } from './timeline.js';

/** When the voice does not say its rate: ~150 words a minute. */
export const DEFAULT_WORDS_PER_SECOND = 2.5;
/** A segment may run this much over its share before it is cut. */
export const SEGMENT_CAP = 1.8;
/** The whole narration may run this much over the asked words before the rest is dropped. */
export const TOTAL_CAP = 1.2;
/** A voice is fitted to its words' expected length by at most this speed change either way. */
export const MAX_TEMPO_CHANGE = 0.1;

export interface NarrationPlan {
  /** Seconds of voice the asked length leaves after the fixed pauses. */
  voiceSec: number;
  wordsPerSecond: number;
  targetWords: number;
  /** Caps applied to what the writer sends. */
  maxSegmentWords: number;
  maxTotalWords: number;
}

export function planNarration(durationSec: number, segments: number, wordsPerSecond = DEFAULT_WORDS_PER_SECOND): NarrationPlan {
  const pauses = LEAD_IN_SEC + TAIL_SEC + GAP_SEC * Math.max(0, segments - 1);
  const voiceSec = Math.max(durationSec * 0.5, durationSec - pauses);
  const targetWords = Math.max(4, Math.round(voiceSec * wordsPerSecond));
  return {
    voiceSec,
    wordsPerSecond,
    targetWords,
    maxSegmentWords: Math.max(12, Math.ceil((targetWords / Math.max(1, segments)) * SEGMENT_CAP)),
    maxTotalWords: Math.ceil(targetWords * TOTAL_CAP),
  };
}

/**
 * A segment's narration within `maxWords`: whole sentences while they fit; a first sentence that is
 * itself too long is cut at a word boundary and ends with an ellipsis.
 */
export function capNarration(text: string, maxWords: number): string {
  if (maxWords <= 0) return '';
  if (countWords(text) <= maxWords) return text;
  const kept: string[] = [];
  let words = 0;
  for (const sentence of splitSentences(text)) {
    const n = countWords(sentence);
    if (words + n > maxWords) break;
    kept.push(sentence);
    words += n;
  }
  if (kept.length > 0) return kept.join(' ');
  const tokens = text.split(/\s+/).filter(Boolean);
  const cut: string[] = [];
  let n = 0;
  for (const token of tokens) {
    if (/[\p{L}\p{N}]/u.test(token)) n++;
    if (n > maxWords) break;
    cut.push(token);
  }
  return `${cut.join(' ').replace(/[,;:—–-]+$/u, '')}…`;
}

/**
 * The speed change that brings a voice of `voiceSec` to the expected length of its words, bounded
 * to ±10 % (a larger change is heard); 1 when it is already within 3 %.
 */
export function tempoFor(voiceSec: number, words: number, wordsPerSecond: number): number {
  const expected = words / wordsPerSecond;
  if (expected <= 0 || voiceSec <= 0) return 1;
  const ratio = voiceSec / expected;
  if (Math.abs(ratio - 1) < 0.03) return 1;
  return Math.min(1 + MAX_TEMPO_CHANGE, Math.max(1 - MAX_TEMPO_CHANGE, ratio));
}
