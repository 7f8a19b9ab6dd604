/** Pure text helpers: sentences, word counts, and splitting a narration into segments. */

/** Spoken words per second the design assumes for narration length. */
export const WORDS_PER_SECOND = 2.5;
/** About twelve segments a minute: one picture every five seconds. */
export const SECONDS_PER_SEGMENT = 5;

export function targetSegmentCount(durationSec: number): number {
  return Math.min(36, Math.max(2, Math.round(durationSec / SECONDS_PER_SEGMENT)));
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

/**
 * Splits text into sentences at . ! ? … (and their CJK forms) followed by space or the end,
 * keeping the punctuation, and not splitting after common abbreviations or initials.
 */
export function splitSentences(text: string): string[] {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!clean) return [];
  const sentences: string[] = [];
  const re = /[.!?…。！？]+["'»”)\]]*(\s+|$)/gu;
  let start = 0;
  for (let m = re.exec(clean); m; m = re.exec(clean)) {
    const end = m.index + m[0].length;
    const before = clean.slice(start, m.index);
    const lastWord = /(\S+)$/.exec(before)?.[1] ?? '';
    const isAbbreviation = /^(mr|mrs|ms|dr|st|vs|etc|e\.g|i\.e|no|jr|sr|г|гг|т\.е|т\.д|др|им)$/i.test(lastWord) || /^\p{Lu}$/u.test(lastWord);
    if (isAbbreviation && end < clean.length) continue;
    sentences.push(clean.slice(start, end).trim());
    start = end;
  }
  if (start < clean.length) sentences.push(clean.slice(start).trim());
  return sentences.filter(Boolean);
}

/**
 * Groups sentences into about `target` segments of similar spoken length, never splitting a
 * sentence (a very long sentence is split at commas first so one picture does not stay too long).
 */
export function splitNarration(text: string, target: number): string[] {
  let sentences = splitSentences(text);
  if (sentences.length === 0) return [];
  const totalWords = countWords(sentences.join(' '));
  const perSegment = Math.max(1, totalWords / Math.max(1, target));
  sentences = sentences.flatMap((s) => (countWords(s) > perSegment * 1.8 ? splitAtCommas(s, perSegment) : [s]));

  const segments: string[] = [];
  let current: string[] = [];
  let wordsSoFar = 0;
  for (const sentence of sentences) {
    const words = countWords(sentence);
    // Close the segment when adding this sentence moves us further from the ideal boundary.
    const boundary = (segments.length + 1) * perSegment;
    if (current.length > 0 && Math.abs(wordsSoFar + words - boundary) > Math.abs(wordsSoFar - boundary)) {
      segments.push(current.join(' '));
      current = [];
    }
    current.push(sentence);
    wordsSoFar += words;
  }
  if (current.length > 0) segments.push(current.join(' '));
  return segments;
}

function splitAtCommas(sentence: string, perSegment: number): string[] {
  const parts = sentence.split(/(?<=[,;:—])\s+/u);
  const out: string[] = [];
  let current = '';
  for (const part of parts) {
    const candidate = current ? `${current} ${part}` : part;
    if (current && countWords(candidate) > perSegment) {
      out.push(current);
      current = part;
    } else {
      current = candidate;
    }
  }
  if (current) out.push(current);
  return out;
}
