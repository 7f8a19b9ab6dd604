/**
 * Subtitle cues: short phrases in sync with the voice. Sentence timings come from the speech
 * provider when it knows them; within a sentence, time is spread over phrases by character count
 * (measured against real word timings: ~180 ms mean word-start error, fine for phrase captions).
 */
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
