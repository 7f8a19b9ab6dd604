/**
 * Narration sized for the voice that will speak it, and capped before any speech is paid for.
 *
 * A video is its voice plus fixed pauses (timeline.ts): the lead-in, a gap after each segment and
 * the tail. The words asked of the script writer are the rest of the asked length times the
 * voice's measured speaking rate for the language. Whatever a writer sends back (a model that
 * ignores the count, injected text) is cut to a bounded share per segment and in total.
 */
import { countWords, splitSentences, WORDS_PER_SECOND } from './segmenting.js';
import { GAP_SEC, LEAD_IN_SEC, TAIL_SEC } from './timeline.js';

/** A segment may run this much over its share before it is cut. */
export const SEGMENT_CAP = 1.8;
/** The whole narration may run this much over the asked words before the rest is dropped. */
export const TOTAL_CAP = 1.2;
/** The narration so far may run this much over its planned line before a segment is trimmed (what the voice fitting can take back). */
export const RUNNING_CAP = 1.1;
/** A voice is fitted to its words' expected length by at most this speed change either way. */
export const MAX_TEMPO_CHANGE = 0.1;

/**
 * Syllables in an average word of ordinary narration, per language (vowel groups in English, vowels
 * in Russian), from the sentences the voices' speaking rates were measured on: rates are in words,
 * but a line of long words takes longer to say.
 */
const SYLLABLES_PER_WORD: Readonly<Record<string, { perWord: number; syllables: (word: string) => number }>> = {
  // Vowel groups, less a silent final e ("made", "outline"; not "people", "free").
  en: { perWord: 1.45, syllables: (word) => Math.max(1, (word.match(/[aeiouy]+/g)?.length ?? 0) - (/[^aeiouyl]e$/.test(word) && /[aeiouy].*[^aeiouy]e$/.test(word) ? 1 : 0)) },
  ru: { perWord: 2.5, syllables: (word) => word.match(/[аеёиоуыэюя]/g)?.length ?? 0 },
};

/**
 * How many average words `text` is worth when spoken: its syllables over the language's syllables
 * per word (never fewer than its words times 0.7), or its words for a language not listed.
 */
export function spokenWords(text: string, lang: string): number {
  const words = countWords(text);
  const rule = SYLLABLES_PER_WORD[lang.trim().toLowerCase().split(/[-_]/)[0] ?? ''];
  if (!rule) return words;
  const syllables = (text.toLowerCase().match(/[\p{L}]+/gu) ?? []).reduce((sum, word) => sum + rule.syllables(word), 0);
  return Math.max(words * 0.7, syllables / rule.perWord);
}

export interface NarrationPlan {
  /** Seconds of voice the asked length leaves after the fixed pauses. */
  voiceSec: number;
  wordsPerSecond: number;
  targetWords: number;
  /** Caps applied to what the writer sends. */
  maxSegmentWords: number;
  maxTotalWords: number;
}

export function planNarration(durationSec: number, segments: number, wordsPerSecond = WORDS_PER_SECOND): NarrationPlan {
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
 * The words segment `index` may have, given `wordsSoFar` before it: what keeps the narration so far
 * within 10 % of its planned line (the target spread evenly over the planned segments), so a writer
 * running long is trimmed as it goes rather than losing its ending; never under half a share while
 * the total has room, and never over the per-segment and total caps.
 */
export function segmentWordLimit(plan: NarrationPlan, segments: number, index: number, wordsSoFar: number): number {
  const share = plan.targetWords / Math.max(1, segments);
  const line = plan.targetWords * Math.min(1, (index + 1) / Math.max(1, segments));
  const running = Math.max(Math.ceil(share * 0.5), Math.floor(line * RUNNING_CAP - wordsSoFar));
  return Math.max(0, Math.min(plan.maxSegmentWords, plan.maxTotalWords - wordsSoFar, running));
}

/**
 * A segment's narration within `maxWords`: whole sentences while they fit; a first sentence up to
 * half as long again is kept whole (the timeline absorbs it), a longer one is cut at a word
 * boundary and ends with an ellipsis.
 */
export function capNarration(text: string, maxWords: number): string {
  if (maxWords <= 0) return '';
  if (countWords(text) <= maxWords) return text;
  const kept: string[] = [];
  let words = 0;
  for (const sentence of splitSentences(text)) {
    const n = countWords(sentence);
    if (words + n > maxWords && !(kept.length === 0 && n <= maxWords * 1.5)) break;
    kept.push(sentence);
    words += n;
    if (words >= maxWords) break;
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
 * The speed change that fits a voice of `voiceSec` into `roomSec`, bounded to ±10 % (a larger change
 * is heard); 1 when it is already within 3 %. No room at all asks for the fastest allowed.
 */
export function tempoToFit(voiceSec: number, roomSec: number): number {
  if (voiceSec <= 0) return 1;
  if (roomSec <= 0) return 1 + MAX_TEMPO_CHANGE;
  const ratio = voiceSec / roomSec;
  if (Math.abs(ratio - 1) < 0.03) return 1;
  return Math.min(1 + MAX_TEMPO_CHANGE, Math.max(1 - MAX_TEMPO_CHANGE, ratio));
}

/**
 * Where segment `index` should end on the planned timeline: the lead-in, the voice for the words
 * planned up to and including it, and a nominal pause after each. `plannedWords` is the planned
 * narration line: the target spread evenly over the planned segments.
 */
export function plannedEndSec(plan: NarrationPlan, plannedWords: number, index: number): number {
  return LEAD_IN_SEC + Math.min(plannedWords, plan.targetWords) / plan.wordsPerSecond + GAP_SEC * (index + 1);
}
