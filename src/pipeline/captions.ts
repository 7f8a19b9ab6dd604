/**
 * Subtitle cues: short phrases in sync with the voice. Sentence timings come from the speech
 * provider when it knows them; within a sentence, time is spread over phrases by character count
 * (measured against real word timings: ~180 ms mean word-start error, fine for phrase captions).
 */
import type { CaptionStyle } from '../core/caption-style.js';
import type { Cue, SpeechMark, WordTiming } from './ports.js';
import { splitSentences } from './segmenting.js';

const MAX_PHRASE_WORDS = 6;
const MAX_PHRASE_CHARS = 34;

/** Splits a sentence into caption phrases, preferring breaks after punctuation. */
export function splitPhrases(sentence: string): string[] {
  const words = sentence.split(/\s+/).filter(Boolean);
  const phrases: string[] = [];
  let current: string[] = [];
  const flush = (): void => {
    if (current.length > 0) phrases.push(current.join(' '));
    current = [];
  };
  for (const word of words) {
    const candidate = [...current, word].join(' ');
    if (current.length > 0 && (current.length >= MAX_PHRASE_WORDS || candidate.length > MAX_PHRASE_CHARS)) flush();
    current.push(word);
    if (/[,;:—.!?…]$/u.test(word) && current.length >= 3) flush();
  }
  flush();
  // Do not leave a lonely last word: merge it into the phrase before when that still fits.
  const last = phrases.at(-1);
  const beforeLast = phrases.at(-2);
  if (phrases.length >= 2 && last && beforeLast && !last.includes(' ') && `${beforeLast} ${last}`.length <= MAX_PHRASE_CHARS + 8) {
    phrases.splice(-2, 2, `${beforeLast} ${last}`);
  }
  return phrases;
}

/** Sentence marks for a text spoken over `durationSec` when the provider gave none: by character share. */
export function estimateMarks(text: string, durationSec: number): SpeechMark[] {
  const sentences = splitSentences(text);
  return spreadByLength(sentences, 0, durationSec).map(([t, startSec, endSec]) => ({ text: t, startSec, endSec }));
}

/**
 * Word timings estimated from sentence marks when no timing source measured them: each sentence's
 * span spread over its words by character count (the phrase method, per word; ~180 ms mean error).
 */
export function estimateWords(marks: readonly SpeechMark[]): WordTiming[] {
  return marks.flatMap((mark) => {
    const words = mark.text.split(/\s+/).filter(Boolean);
    return spreadByLength(words, mark.startSec, mark.endSec).map(([text, startSec, endSec]) => ({ text, startSec: round(startSec), endSec: round(endSec) }));
  });
}

/** Caption cues for one segment, shifted by `offsetSec` (the silence before the voice starts). */
export function buildCues(marks: SpeechMark[], offsetSec: number): Cue[] {
  const cues: Cue[] = [];
  for (const mark of marks) {
    const phrases = splitPhrases(mark.text);
    for (const [text, start, end] of spreadByLength(phrases, mark.startSec, mark.endSec)) {
      cues.push({ text, startSec: round(start + offsetSec), endSec: round(end + offsetSec) });
    }
  }
  return cues;
}

function spreadByLength(parts: string[], start: number, end: number): Array<[string, number, number]> {
  // A constant per part models the pause at phrase boundaries.
  const weights = parts.map((p) => p.length + 4);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: Array<[string, number, number]> = [];
  let t = start;
  parts.forEach((part, i) => {
    const length = total > 0 ? ((end - start) * (weights[i] ?? 0)) / total : 0;
    out.push([part, t, t + length]);
    t += length;
  });
  return out;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

// ---------------------------------------------------------------- word-timed caption styles

/** Karaoke pages: 2-4 words that fit two lines at any size. */
const PAGE_MAX_WORDS = 4;
const PAGE_MAX_CHARS = 24;
/** Pop groups: short, uppercase, big. */
const POP_MAX_WORDS = 3;
const POP_MAX_CHARS = 14;
/** A caption stays up through a short pause, and this long after its last word before a long one. */
const HOLD_SEC = 0.35;
const SENTENCE_END = /[.!?…。！？]["'»”)\]]*$/u;
const CLAUSE_END = /[,;:—–]["'»”)\]]*$/u;

/** Words that are never the key word of a pop group. */
const STOP_WORDS = new Set(
  (
    'a an the and or but of to in on at by for with from as is are was were be been it its this that these those he she they we you i ' +
    'his her their our your my not no so than then there here who what which when where why how into over after before about ' +
    'и в во на с со к ко по за из от до у о об а но или не ни что как это эти тот та те он она они мы вы я его её их был была были было же ли бы'
  ).split(' '),
);

/** Groups consecutive words: never across a sentence end, and after a clause end once `minAtClause` words are in. */
function group(words: readonly WordTiming[], maxWords: number, maxChars: number, minAtClause: number): WordTiming[][] {
  const groups: WordTiming[][] = [];
  let current: WordTiming[] = [];
  const flush = (): void => {
    if (current.length > 0) groups.push(current);
    current = [];
  };
  for (const word of words) {
    const chars = [...current, word].map((w) => w.text).join(' ').length;
    if (current.length > 0 && (current.length >= maxWords || chars > maxChars)) flush();
    current.push(word);
    if (SENTENCE_END.test(word.text) || (CLAUSE_END.test(word.text) && current.length >= minAtClause)) flush();
  }
  flush();
  // A lonely last word of a sentence joins the group before when that group still has room.
  for (let i = groups.length - 1; i > 0; i--) {
    const g = groups[i]!;
    const before = groups[i - 1]!;
    const joined = [...before, ...g];
    if (g.length === 1 && !SENTENCE_END.test(before.at(-1)!.text) && joined.length <= maxWords + 1 && joined.map((w) => w.text).join(' ').length <= maxChars + 6) {
      groups.splice(i - 1, 2, joined);
    }
  }
  return groups;
}

/** When a group leaves the screen: at the next group's start when the pause is short, else a hold after its last word. */
function groupEnd(groupWords: readonly WordTiming[], next: WordTiming | undefined): number {
  const last = groupWords.at(-1)!;
  const hold = last.endSec + HOLD_SEC;
  return next ? Math.max(last.endSec, Math.min(next.startSec, hold + 0.4)) : hold;
}

/** The key word of a pop group: the longest word that is not a function word (ties: the later one). */
export function keyWordIndex(words: readonly string[]): number {
  let best = -1;
  let bestLength = 0;
  words.forEach((word, i) => {
    const bare = word.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
    if (bare === '' || STOP_WORDS.has(bare)) return;
    if (bare.length >= bestLength) {
      best = i;
      bestLength = bare.length;
    }
  });
  return best;
}

/**
 * Caption cues for one segment in a style, from its word timings (measured, or estimated from the
 * sentence marks), shifted by `offsetSec`. The words shown are always the script's.
 */
export function buildStyledCues(words: readonly WordTiming[], style: CaptionStyle, offsetSec: number, lang = 'en'): Cue[] {
  const at = (t: number): number => round(t + offsetSec);
  const spoken = words.filter((w) => w.text.trim() !== '');
  if (spoken.length === 0) return [];
  if (style === 'clean') {
    const phrases = group(spoken, MAX_PHRASE_WORDS, MAX_PHRASE_CHARS, 3);
    return phrases.map((p, i) => ({
      text: p.map((w) => w.text).join(' '),
      startSec: at(p[0]!.startSec),
      endSec: at(groupEnd(p, phrases[i + 1]?.[0])),
      look: 'clean' as const,
    }));
  }
  if (style === 'pop') {
    const groups = group(spoken, POP_MAX_WORDS, POP_MAX_CHARS, 1);
    return groups.map((g, i) => {
      const texts = g.map((w) => w.text.toLocaleUpperCase(lang));
      const key = keyWordIndex(g.map((w) => w.text));
      return {
        text: texts.join(' '),
        startSec: at(g[0]!.startSec),
        endSec: at(groupEnd(g, groups[i + 1]?.[0])),
        look: 'pop' as const,
        ...(key >= 0 ? { accent: [key] } : {}),
      };
    });
  }
  // Karaoke: one cue per spoken word of a page, the page's text each time, that word highlighted.
  const pages = group(spoken, PAGE_MAX_WORDS, PAGE_MAX_CHARS, 2);
  const cues: Cue[] = [];
  pages.forEach((page, p) => {
    const text = page.map((w) => w.text).join(' ');
    const end = groupEnd(page, pages[p + 1]?.[0]);
    page.forEach((word, i) => {
      const start = i === 0 ? word.startSec : word.startSec;
      const until = i + 1 < page.length ? page[i + 1]!.startSec : end;
      if (until <= start) return;
      cues.push({
        text,
        startSec: at(start),
        endSec: at(until),
        look: 'karaoke',
        highlight: i,
        ...(i > 0 ? { joinPrev: true } : {}),
        ...(i + 1 < page.length ? { joinNext: true } : {}),
      });
    });
  });
  return cues;
}
