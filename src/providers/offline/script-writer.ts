/**
 * The script writer used when there is no language model: an outline of what a real script about
 * the topic should cover, plainly labelled as a draft, sized to the video's spoken length. With the
 * user's own narration it keeps every word and only adds pictures.
 */
import { emptyUsage } from '../../core/receipt.js';
import { throwIfCancelled } from '../../core/errors.js';
import type { Mood, ScriptMeta, Segment } from '../../pipeline/model.js';
import type { ScriptEvent, ScriptInput, ScriptWriter } from '../../pipeline/ports.js';
import { spokenWords } from '../../pipeline/narration.js';
import { WORDS_PER_SECOND } from '../../pipeline/segmenting.js';
import {
  ENGLISH,
  MIDDLE_SECTIONS,
  SECTION_IDEAS,
  SECTION_WEIGHTS,
  outlineLanguage,
  type OutlineLanguage,
  type SectionKey,
} from './outline-templates.js';
import { seededRandom, type Random } from './seeded-random.js';

/** The art style the offline illustrator stands for, named so prompts and receipts say what it is. */
export const OFFLINE_STYLE = 'flat graphic draft illustration, bold shapes, clear title';

export class OfflineScriptWriter implements ScriptWriter {
  readonly offline = true;

  // eslint-disable-next-line @typescript-eslint/require-await -- an async generator: the port streams events
  async *write(input: ScriptInput, signal?: AbortSignal): AsyncIterable<ScriptEvent> {
    throwIfCancelled(signal);
    const topic = input.topic.replace(/\s+/g, ' ').trim();
    const own = input.narration?.filter((text) => text.trim().length > 0);
    const language = outlineLanguage(input.lang);
    const meta: ScriptMeta = {
      title: capitalise(topic),
      // Own narration is spoken as written; a template is spoken in the language it was written in.
      lang: own && own.length > 0 ? input.lang : language.lang,
      mood: moodForTopic(topic),
      draft: true,
      style: OFFLINE_STYLE,
    };
    yield { type: 'meta', meta };

    const texts = own && own.length > 0 ? own : writeOutline(topic, input, language);
    const sections = own && own.length > 0 ? undefined : allocateSections(texts.length);
    for (const [index, narration] of texts.entries()) {
      throwIfCancelled(signal);
      const keywords = extractKeywords(narration, language, topic);
      const segment: Segment = {
        index,
        narration,
        imagePrompt: sections ? outlinePrompt(sections[index] ?? 'moments', topic, keywords, meta.mood) : ownPrompt(narration, topic, meta.mood),
        people: [],
        keywords,
      };
      yield { type: 'segment', segment };
    }
    throwIfCancelled(signal);
    yield { type: 'usage', usage: emptyUsage() };
  }
}

export function capitalise(text: string): string {
  return text.charAt(0).toLocaleUpperCase() + text.slice(1);
}

// ---------------------------------------------------------------- mood

const MOOD_STEMS: ReadonlyArray<[Mood, readonly string[]]> = [
  ['epic', ['war', 'battle', 'siege', 'conquest', 'conquer', 'empire', 'army', 'armies', 'revolution', 'crusade', 'invasion', 'knight', 'legion', 'victory', 'войн', 'битв', 'сражен', 'осад', 'импери', 'завоев', 'арми', 'революц', 'крестов', 'нашеств', 'рыцар', 'побед']],
  ['dark', ['fall', 'collapse', 'plague', 'death', 'murder', 'disaster', 'catastroph', 'crime', 'famine', 'massacre', 'sinking', 'titanic', 'chernobyl', 'падени', 'крах', 'чум', 'смерт', 'убийств', 'катастроф', 'преступл', 'голод', 'гибел', 'чернобыл']],
  ['mysterious', ['space', 'mystery', 'mysteries', 'mysterious', 'universe', 'galaxy', 'planet', 'star', 'black', 'ghost', 'unknown', 'secret', 'pyramid', 'ufo', 'космос', 'космич', 'тайн', 'загад', 'вселенн', 'галакти', 'планет', 'звезд', 'звёзд', 'призрак', 'пирамид', 'секрет']],
  ['upbeat', ['cooking', 'cook', 'recipe', 'food', 'sport', 'football', 'soccer', 'travel', 'trip', 'dance', 'party', 'festival', 'game', 'olympic', 'кулинар', 'рецепт', 'еда', 'готов', 'спорт', 'футбол', 'путешеств', 'танц', 'праздник', 'фестивал', 'игр', 'олимпи']],
];

/** A mood from the topic's words; war and siege are epic, loss and disaster dark, the sky mysterious. */
export function moodForTopic(topic: string): Mood {
  const words = topic.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const [mood, stems] of MOOD_STEMS) {
    // Long stems match word starts; short English words must match whole words ("star" not "start").
    if (words.some((word) => stems.some((stem) => (stem.length <= 4 && /^[a-z]+$/.test(stem) ? word === stem || word === `${stem}s` : word.startsWith(stem))))) {
      return mood;
    }
  }
  return 'calm';
}

// ---------------------------------------------------------------- outline

/** Which outline section each segment belongs to: intro first, closing last, the middle spread by weight. */
export function allocateSections(count: number): SectionKey[] {
  if (count <= 0) return [];
  if (count === 1) return ['intro'];
  const middle = count - 2;
  const counts = new Map<SectionKey, number>();
  if (middle <= MIDDLE_SECTIONS.length) {
    // Fewer slots than sections: keep an evenly spread subset, in order.
    for (let i = 0; i < middle; i++) {
      const key = MIDDLE_SECTIONS[Math.floor((i * MIDDLE_SECTIONS.length) / middle)] as SectionKey;
      counts.set(key, 1);
    }
  } else {
    const extra = middle - MIDDLE_SECTIONS.length;
    const totalWeight = MIDDLE_SECTIONS.reduce((sum, key) => sum + SECTION_WEIGHTS[key], 0);
    const shares = MIDDLE_SECTIONS.map((key) => (extra * SECTION_WEIGHTS[key]) / totalWeight);
    const whole = shares.map(Math.floor);
    let left = extra - whole.reduce((a, b) => a + b, 0);
    const byRemainder = shares.map((s, i) => ({ i, r: s - Math.floor(s) })).sort((a, b) => b.r - a.r || a.i - b.i);
    for (const { i } of byRemainder) {
      if (left-- <= 0) break;
      whole[i] = (whole[i] ?? 0) + 1;
    }
    MIDDLE_SECTIONS.forEach((key, i) => counts.set(key, 1 + (whole[i] ?? 0)));
  }
  const out: SectionKey[] = ['intro'];
  for (const key of MIDDLE_SECTIONS) for (let i = 0; i < (counts.get(key) ?? 0); i++) out.push(key);
  out.push('closing');
  return out;
}

interface Sentence {
  text: string;
  words: number;
  /** Position in its pool, to keep the pool's logical order inside a segment. */
  order: number;
}

/** Writes the narration of each segment: 1-3 whole sentences, together about 2.5 words a second. */
export function writeOutline(
  topic: string,
  input: Pick<ScriptInput, 'durationSec' | 'targetSegments' | 'targetWords'>,
  language: OutlineLanguage,
): string[] {
  const count = Math.max(1, Math.round(input.targetSegments));
  const targetWords = Math.max(1, Math.round(input.targetWords ?? input.durationSec * WORDS_PER_SECOND));
  const perSegment = targetWords / count;
  const random = seededRandom(`${language.lang}|${topic}|${input.durationSec}|${count}`);
  // A long topic said in every sentence would eat the budget: later mentions use its first words.
  const introTopic = shorten(topic, Math.max(4, Math.round(perSegment * 0.6)));
  const shortMention = language.mention(shorten(topic, Math.max(3, Math.round(perSegment * 0.35))));
  const fill = (template: string): string => template.replaceAll('{t}', shortMention);

  const sections = allocateSections(count);
  const used = new Set<string>();
  const started = new Set<SectionKey>();
  const texts: string[] = [];
  let wordsSoFar = 0;
  for (const [i, section] of sections.entries()) {
    const budget = (targetWords - wordsSoFar) / (count - i);
    const pool = language.sections[section].map((template, order) => sentence(fill(template), order, language.lang));
    const fixed: Sentence[] = [];
    // Each line is sized from the budget: a short video gets the short honest opening, and a
    // section's usual first line only when it fits (a 10 s video has no room for long ones).
    if (section === 'intro') {
      const full = sentence(language.intro(introTopic), -1, language.lang);
      const roomy = count > 3 && full.words <= budget * 1.6;
      fixed.push(roomy ? full : sentence(language.introShort(shorten(topic, Math.max(2, Math.round(budget * 0.4)))), -1, language.lang));
    } else if (!started.has(section) && (pool[0]?.words ?? 0) <= budget * 1.3) fixed.push(pool[0] as Sentence);
    started.add(section);
    const chosen = chooseSentences(fixed, pool, budget, used, language, random);
    for (const s of chosen) used.add(s.text);
    const text = chosen.map((s) => s.text).join(' ');
    texts.push(text);
    wordsSoFar += spokenWords(text, language.lang);
  }
  return texts;
}

/** A sentence and what it is worth in average spoken words (long words count for more). */
function sentence(text: string, order: number, lang: string): Sentence {
  return { text, words: spokenWords(text, lang), order };
}

function shorten(topic: string, maxWords: number): string {
  const words = topic.split(' ');
  return words.length <= maxWords ? topic : `${words.slice(0, maxWords).join(' ')}…`;
}

/**
 * Picks up to three sentences (the fixed ones included) whose words come closest to the budget.
 * Exhaustive over small pools, so the length is as exact as whole sentences allow.
 */
function chooseSentences(
  fixed: Sentence[],
  pool: Sentence[],
  budget: number,
  used: ReadonlySet<string>,
  language: OutlineLanguage,
  random: Random,
): Sentence[] {
  const fixedWords = fixed.reduce((sum, s) => sum + s.words, 0);
  let candidates = pool.filter((s) => !used.has(s.text) && !fixed.includes(s));
  if (candidates.length < 3) {
    const filler = language.filler.map((text, i) => sentence(text, 1000 + i, language.lang)).filter((s) => !used.has(s.text));
    candidates = [...candidates, ...filler];
  }
  // Long videos can exhaust every pool: repeating a line beats a segment with nothing to say.
  if (candidates.length === 0) candidates = pool.filter((s) => !fixed.includes(s));
  shuffle(candidates, random);

  const room = 3 - fixed.length;
  let best: Sentence[] = [];
  let bestError = fixed.length > 0 ? Math.abs(fixedWords - budget) : Number.POSITIVE_INFINITY;
  const consider = (combo: Sentence[]): void => {
    const words = fixedWords + combo.reduce((sum, s) => sum + s.words, 0);
    const error = Math.abs(words - budget);
    if (error < bestError) {
      bestError = error;
      best = combo;
    }
  };
  const n = candidates.length;
  for (let a = 0; a < n && room >= 1; a++) {
    consider([candidates[a] as Sentence]);
    for (let b = a + 1; b < n && room >= 2; b++) {
      consider([candidates[a] as Sentence, candidates[b] as Sentence]);
      for (let c = b + 1; c < n && room >= 3; c++) consider([candidates[a] as Sentence, candidates[b] as Sentence, candidates[c] as Sentence]);
    }
  }
  const chosen = [...fixed, ...best];
  // A budget beyond three sentences (very few segments for a long video): keep adding lines.
  let words = chosen.reduce((sum, s) => sum + s.words, 0);
  for (const extra of candidates) {
    if (chosen.includes(extra) || Math.abs(words + extra.words - budget) >= Math.abs(words - budget)) continue;
    chosen.push(extra);
    words += extra.words;
  }
  return chosen.sort((x, y) => x.order - y.order);
}

function shuffle<T>(items: T[], random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

// ---------------------------------------------------------------- pictures

/** Two to four words of the text for a picture title: stop words out, names and long words first. */
export function extractKeywords(text: string, language: OutlineLanguage, topic: string): string {
  const pick = (source: string, max: number): string[] => {
    const seen = new Set<string>();
    const candidates: Array<{ word: string; score: number; at: number }> = [];
    const re = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;
    for (let m = re.exec(source); m; m = re.exec(source)) {
      const word = m[0].replace(/['’-]+$/u, '');
      const lower = word.toLowerCase();
      if (seen.has(lower) || language.stopWords.has(lower) || [...lower].length < 3) continue;
      seen.add(lower);
      const sentenceStart = /(^|[.!?…:]\s*)$/u.test(source.slice(0, m.index).trimEnd() || '');
      const properNoun = /^\p{Lu}/u.test(word) && !sentenceStart;
      const year = /^\d{3,4}$/.test(word);
      candidates.push({ word, score: [...word].length + (properNoun ? 4 : 0) + (year ? 6 : 0), at: m.index });
    }
    return candidates
      .sort((a, b) => b.score - a.score || a.at - b.at)
      .slice(0, max)
      .sort((a, b) => a.at - b.at)
      .map((c) => c.word);
  };
  const words = pick(text, 3);
  if (words.length < 2) {
    for (const word of pick(topic, 3)) {
      if (words.length >= 3) break;
      if (!words.some((w) => w.toLowerCase() === word.toLowerCase())) words.push(word);
    }
  }
  return words.length > 0 ? words.join(' ') : shorten(topic, 3);
}

const MOOD_LOOKS: Readonly<Record<Mood, string>> = {
  calm: 'soft light and a calm palette',
  epic: 'dramatic light and a wide, heroic composition',
  dark: 'low light, deep shadows and a sombre palette',
  upbeat: 'bright colours and lively movement',
  mysterious: 'twilight colours, haze and a sense of mystery',
};

function outlinePrompt(section: SectionKey, topic: string, keywords: string, mood: Mood): string {
  return `${SECTION_IDEAS[section]} ${ENGLISH.mention(topic)}. Focus: ${keywords}. ${capitalise(MOOD_LOOKS[mood])}.`;
}

function ownPrompt(narration: string, topic: string, mood: Mood): string {
  const words = narration.replace(/\s+/g, ' ').trim().split(' ');
  const gist = words.length > 40 ? `${words.slice(0, 40).join(' ')}…` : words.join(' ');
  return `An illustration for a video about ${ENGLISH.mention(topic)}, showing: ${gist} ${capitalise(MOOD_LOOKS[mood])}.`;
}
