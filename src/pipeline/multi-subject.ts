/**
 * Multi-subject detection without an LLM: image models draw one named person well and two poorly,
 * so a segment is flagged when its picture names two or more DISTINCT people. People come from the
 * segment's `people`, and from capitalised names in the prompt (Latin or Cyrillic) that match a
 * person the script knows, or that are joined as "X and Y" / "X и Y". "Sultan Mehmed II" and
 * "Mehmed" are one person: names are the same person when one's name words contain the other's.
 */
import type { Segment, StoryContext, VisualBible } from './model.js';

const RU_ENDINGS = ['иями', 'ями', 'ами', 'его', 'ого', 'ему', 'ому', 'ыми', 'ими', 'ией', 'ей', 'ой', 'ый', 'ий', 'ая', 'яя', 'ое', 'ее', 'ых', 'их', 'ом', 'ем', 'ам', 'ям', 'ах', 'ях', 'ов', 'ев', 'ию', 'ия', 'а', 'я', 'ы', 'и', 'у', 'ю', 'е', 'о', 'ь'];
const EN_ENDINGS = ['ings', 'ing', 'ies', 'ed', 'es', 's'];

/** A light, language-agnostic stem: enough that "walls"/"wall" and "Грозного"/"Грозный" meet. */
export function stemWord(word: string): string {
  const w = word.toLowerCase().normalize('NFKC').replace(/ё/g, 'е');
  const endings = /[\u0400-\u04ff]/.test(w) ? RU_ENDINGS : EN_ENDINGS;
  for (const ending of endings) {
    if (w.endsWith(ending) && w.length - ending.length >= 3) return w.slice(0, -ending.length);
  }
  return w;
}

export interface MultiSubjectFlag {
  index: number;
  /** The distinct people found, one name each. */
  people: string[];
}

const TITLES = new Set(
  (
    'sultan emperor empress king queen tsar czar tsarina prince princess duke duchess general admiral saint st pope lord lady sir ' +
    'president chancellor marshal count countess captain dr mr mrs ms the of de da di von van der al ibn bin ' +
    'император императрица царь царица князь княгиня княжна король королева султан генерал адмирал святой граф графиня маршал президент'
  ).split(' '),
);

const CONNECTORS = new Set(['the', 'de', 'da', 'di', 'von', 'van', 'der', 'al', 'ibn', 'bin', 'of']);
const JOINERS = new Set(['and', '&', 'with', 'vs', 'versus', 'и', 'с', 'со', 'против']);
const ROMAN = /^(?=[IVXLC]+$)M{0,3}(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$/;

/** The words that identify a person: stemmed, without titles and particles. */
function nameKey(name: string): Set<string> {
  const words = name.normalize('NFKC').replace(/['’]s\b/g, '').match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.map((w) => w.toLowerCase()).filter((w) => !TITLES.has(w)).map(stemWord));
}

function isSubset(a: Set<string>, b: Set<string>): boolean {
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Same person: one name's identifying words are all in the other's. */
export function samePerson(a: string, b: string): boolean {
  const ka = nameKey(a);
  const kb = nameKey(b);
  if (ka.size === 0 || kb.size === 0) return false;
  return isSubset(ka, kb) || isSubset(kb, ka);
}

interface Word {
  text: string;
  /** What stood between the previous word and this one. */
  gap: string;
}

function wordsOf(text: string): Word[] {
  const out: Word[] = [];
  const pattern = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*|&/gu;
  let last = 0;
  for (const match of text.normalize('NFKC').matchAll(pattern)) {
    out.push({ text: match[0], gap: text.slice(last, match.index) });
    last = match.index + match[0].length;
  }
  return out;
}

const isCapital = (w: string): boolean => /^\p{Lu}/u.test(w);

interface NameRun {
  text: string;
  /** Word positions [start, end). */
  start: number;
  end: number;
}

/** Runs of capitalised words (with roman numerals and particles inside): "Sultan Mehmed II", "Пётр I". */
function capitalisedRuns(words: Word[]): NameRun[] {
  const runs: NameRun[] = [];
  let i = 0;
  while (i < words.length) {
    if (!isCapital(words[i]!.text)) {
      i++;
      continue;
    }
    const start = i;
    let end = i + 1;
    while (end < words.length && /^\s+$/.test(words[end]!.gap)) {
      const w = words[end]!.text;
      if (isCapital(w) || ROMAN.test(w)) end++;
      else if (CONNECTORS.has(w) && end + 1 < words.length && isCapital(words[end + 1]!.text) && /^\s+$/.test(words[end + 1]!.gap)) end += 2;
      else break;
    }
    runs.push({ text: words.slice(start, end).map((w) => w.text).join(' '), start, end });
    i = end;
  }
  return runs;
}

/** Names of people the prompt shows: known people it mentions, and "X and Y" pairs of names. */
export function peopleInPrompt(prompt: string, knownPeople: readonly string[]): string[] {
  const words = wordsOf(prompt);
  const runs = capitalisedRuns(words);
  const found: string[] = [];
  // Greedy longest match inside each run: "Portrait of Mehmed" holds "Mehmed"; "Sultan Mehmed II" is one name.
  for (const run of runs) {
    const span = words.slice(run.start, run.end).map((w) => w.text);
    for (let start = 0; start < span.length; ) {
      let matched = 0;
      for (let end = span.length; end > start && !matched; end--) {
        const text = span.slice(start, end).join(' ');
        const person = knownPeople.find((p) => samePerson(text, p));
        if (person) {
          found.push(person);
          matched = end - start;
        }
      }
      start += matched || 1;
    }
  }
  // "Napoleon and Kutuzov", "Пётр I и Екатерина": both sides capitalised, the left one right before the joiner
  // (so "Ottoman soldiers and Byzantine monks", adjectives before nouns, do not count).
  for (let r = 0; r + 1 < runs.length; r++) {
    const left = runs[r]!;
    const right = runs[r + 1]!;
    const joiner = words[left.end];
    if (!joiner || right.start !== left.end + 1 || !JOINERS.has(joiner.text.toLowerCase())) continue;
    const afterRight = words[right.end];
    if (afterRight && /^\s+$/.test(afterRight.gap) && !isCapital(afterRight.text) && looksLikeNoun(afterRight.text)) continue;
    found.push(left.text, right.text);
  }
  return found;
}

/** "Byzantine soldiers": a capitalised adjective before a plural noun is not a person. */
function looksLikeNoun(word: string): boolean {
  return /s$/i.test(word) || /[ыи]$/.test(word);
}

/** Groups names that refer to one person; returns one name per person. */
export function distinctPeople(names: readonly string[]): string[] {
  const people: string[] = [];
  for (const name of names) {
    const trimmed = name.trim();
    if (!trimmed || nameKey(trimmed).size === 0) continue;
    const same = people.findIndex((p) => samePerson(p, trimmed));
    if (same < 0) people.push(trimmed);
    else if (trimmed.length > people[same]!.length) people[same] = trimmed; // keep the fuller name
  }
  return people;
}

/** Segments whose picture shows two or more distinct named people. */
export function findMultiSubjectSegments(
  segments: ReadonlyArray<Pick<Segment, 'index' | 'imagePrompt' | 'people'>>,
  known: { context?: StoryContext; bible?: VisualBible } = {},
): MultiSubjectFlag[] {
  const knownPeople = distinctPeople([
    ...segments.flatMap((s) => s.people),
    ...(known.context?.people ?? []),
    ...(known.bible?.characters.map((c) => c.name) ?? []),
  ]);
  const flags: MultiSubjectFlag[] = [];
  for (const segment of segments) {
    const people = distinctPeople([...segment.people, ...peopleInPrompt(segment.imagePrompt, knownPeople)]);
    if (people.length >= 2) flags.push({ index: segment.index, people });
  }
  return flags;
}

export function multiSubjectReason(flag: MultiSubjectFlag): string {
  return `people: shows ${flag.people.join(', ')}`;
}
