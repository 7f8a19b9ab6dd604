/**
 * Captions: word-onset error of each voice path's word timings against ground truth, with the
 * seed's method (a sentence's span spread over its words by character count) beside it, and the
 * length error of finished videos against the asked length.
 *
 *   npm run bench -- --only captions
 */
import { estimateMarks, estimateWords } from '../src/pipeline/captions.js';
import { splitSentences } from '../src/pipeline/segmenting.js';
import { EspeakSpeech, espeakVoiceFor } from '../src/providers/offline/espeak-speech.js';
import type { WordTiming } from '../src/pipeline/ports.js';
import { createOpenAiClient } from '../src/providers/openai/client.js';
import { OpenAiSpeech } from '../src/providers/openai/speech.js';
import { OpenAiWordTimer } from '../src/providers/openai/word-timer.js';
import { FakeOpenAiServer } from '../test/fakes/openai-server.js';
import { espeakEvents } from './espeak-events.js';
import { printTable, round } from './table.js';

export const EN_TEXT = [
  'The quick brown fox jumps over the lazy dog.',
  'In 1453 the Ottoman army broke through the walls of Constantinople after a long siege.',
  'Nobody expected that a small village would become the center of a global trade network.',
  'Scientists still argue about why the dinosaurs disappeared so suddenly.',
  'Her grandmother kept a secret recipe, written on a yellowed card, in the kitchen drawer.',
  'The bridge opened in 1937, and for years it was the longest suspension span in the world.',
  'Honey never spoils: archaeologists have found jars in Egyptian tombs that are still edible.',
  'Octopuses have three hearts, blue blood, and a brain that wraps around their throat.',
  'When the lights went out across the city, people gathered on the rooftops to watch the stars.',
  'Marie Curie won two Nobel prizes, in physics and in chemistry, a record that stood for decades.',
  'A single teaspoon of a neutron star would weigh about six billion tons on Earth.',
  'The first message sent over the internet was supposed to be login, but the system crashed after two letters.',
  'Vikings reached North America around the year 1000, five centuries before Columbus.',
  'Every autumn, millions of monarch butterflies fly thousands of kilometres to the forests of Mexico.',
  'Nobody knows exactly who built Stonehenge, or why.',
  'The Great Wall is not a single wall but a network of fortifications built over many dynasties.',
];

export const RU_TEXT = [
  'Падение Константинополя изменило историю Европы навсегда.',
  'Учёные до сих пор спорят, почему динозавры исчезли так внезапно.',
  'В маленькой деревне жил старый мастер, который делал удивительные часы.',
  'В 1961 году Юрий Гагарин облетел Землю за сто восемь минут.',
  'Мёд не портится: археологи находили в египетских гробницах кувшины, которые всё ещё съедобны.',
  'У осьминога три сердца, голубая кровь и мозг, который обвивает его горло.',
  'Мария Кюри получила две Нобелевские премии, по физике и по химии.',
  'Викинги добрались до Северной Америки примерно в тысячном году, за пять веков до Колумба.',
  'Каждую осень миллионы бабочек пролетают тысячи километров к лесам Мексики.',
  'Никто точно не знает, кто построил Стоунхендж и зачем.',
  'Великая Китайская стена — это не одна стена, а целая сеть укреплений.',
  'Когда в городе погас свет, люди вышли на крыши, чтобы смотреть на звёзды.',
];

export interface OnsetErrors {
  path: string;
  words: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  baselineMedianMs: number;
  baselineP90Ms: number;
  baselineMeanMs: number;
  /** Sentences whose words the method timed (the rest fell back to the estimate). */
  measuredSentences: string;
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** Token index of each code point offset of the sentence as espeak saw it. */
function tokenStarts(sentence: string): Array<{ from: number; to: number }> {
  const chars = [...sentence];
  const out: Array<{ from: number; to: number }> = [];
  let i = 0;
  while (i < chars.length) {
    while (i < chars.length && /\s/.test(chars[i]!)) i++;
    const from = i;
    while (i < chars.length && !/\s/.test(chars[i]!)) i++;
    if (i > from) out.push({ from, to: i });
  }
  return out;
}

/** Word-onset errors (ms) of `words` against the truth, token by token; tokens with no event are skipped. */
export function onsetErrors(sentence: string, truth: ReadonlyArray<{ charIndex: number; startSec: number }>, words: readonly WordTiming[]): number[] {
  const tokens = tokenStarts(sentence);
  const errors: number[] = [];
  tokens.forEach((token, i) => {
    const event = truth.find((e) => e.charIndex >= token.from && e.charIndex < token.to);
    const word = words[i];
    if (!event || !word) return;
    errors.push(Math.abs(word.startSec - event.startSec) * 1000);
  });
  return errors;
}

export async function benchEspeakOnsets(log: (line: string) => void = () => {}): Promise<OnsetErrors[]> {
  const events = espeakEvents();
  if (!events) throw new Error('libespeak-ng.so.1 is not installed (apt-get install espeak-ng)');
  const speech = new EspeakSpeech({ concurrency: 1 });
  const out: OnsetErrors[] = [];
  for (const [lang, texts] of [
    ['en', EN_TEXT],
    ['ru', RU_TEXT],
  ] as const) {
    const method: number[] = [];
    const baseline: number[] = [];
    let measured = 0;
    let sentences = 0;
    for (const text of texts) {
      for (const sentence of splitSentences(text)) {
        sentences++;
        const result = await speech.synthesize({ text: sentence, lang });
        const truth = events.synthesize(espeakVoiceFor(lang), 165, sentence);
        const marks = result.marks ?? [];
        if (result.words) measured++;
        method.push(...onsetErrors(sentence, truth, result.words ?? estimateWords(marks)));
        baseline.push(...onsetErrors(sentence, truth, estimateWords(marks)));
      }
    }
    log(`captions: espeak ${lang}: ${method.length} words`);
    out.push({
      path: `espeak-ng ${lang} (measured)`,
      words: method.length,
      medianMs: round(quantile(method, 0.5), 0),
      p90Ms: round(quantile(method, 0.9), 0),
      meanMs: round(mean(method), 0),
      baselineMedianMs: round(quantile(baseline, 0.5), 0),
      baselineP90Ms: round(quantile(baseline, 0.9), 0),
      baselineMeanMs: round(mean(baseline), 0),
      measuredSentences: `${measured}/${sentences}`,
    });
  }
  return out;
}

/**
 * The OpenAI-compatible path against the fake server: its speech remembers when it said each word
 * (the ground truth); its transcription hears those words as a recogniser does (lower case, numbers
 * as words, every seventh word misheard, times off by up to ~40 ms and now and then ~120 ms), and
 * the word timer aligns them back onto the script. What this measures is the alignment and the
 * fallbacks, given a recogniser that errs like that; a real whisper-1's own error adds to it.
 */
export async function benchOpenAiOnsets(log: (line: string) => void = () => {}): Promise<OnsetErrors[]> {
  const fake = await FakeOpenAiServer.start();
  const out: OnsetErrors[] = [];
  try {
    const connection = createOpenAiClient({ apiKey: 'bench', baseURL: fake.baseURL });
    const speech = new OpenAiWordTimer(connection).wrap(new OpenAiSpeech(connection, { model: 'tts-1', voice: 'alloy' }));
    for (const [lang, texts] of [
      ['en', EN_TEXT],
      ['ru', RU_TEXT],
    ] as const) {
      const method: number[] = [];
      const baseline: number[] = [];
      let measured = 0;
      for (const text of texts) {
        const result = await speech.synthesize({ text, lang });
        const truth = fake.spokenWords(result.data) ?? [];
        if (result.words) measured++;
        const durationSec = result.durationSec ?? truth.at(-1)?.end ?? 0;
        // What the pipeline falls back to (the seed's method): sentences over the clip, words by length.
        const spread = estimateWords(estimateMarks(text, durationSec));
        truth.forEach((w, i) => {
          const timed = result.words?.[i] ?? spread[i];
          if (timed) method.push(Math.abs(timed.startSec - w.start) * 1000);
          if (spread[i]) baseline.push(Math.abs(spread[i].startSec - w.start) * 1000);
        });
      }
      log(`captions: openai ${lang}: ${method.length} words`);
      out.push({
        path: `OpenAI speech ${lang} (whisper-1 words, aligned)`,
        words: method.length,
        medianMs: round(quantile(method, 0.5), 0),
        p90Ms: round(quantile(method, 0.9), 0),
        meanMs: round(mean(method), 0),
        baselineMedianMs: round(quantile(baseline, 0.5), 0),
        baselineP90Ms: round(quantile(baseline, 0.9), 0),
        baselineMeanMs: round(mean(baseline), 0),
        measuredSentences: `${measured}/${texts.length}`,
      });
    }
  } finally {
    await fake.close();
  }
  return out;
}

export function printOnsets(rows: readonly OnsetErrors[], write: (line: string) => void): void {
  printTable(
    'Word-onset error (ms) against ground truth; baseline = sentence span spread by character count',
    ['voice path', 'words', 'median', 'p90', 'mean', 'base median', 'base p90', 'base mean', 'timed sentences'],
    rows.map((r) => [r.path, r.words, r.medianMs, r.p90Ms, r.meanMs, r.baselineMedianMs, r.baselineP90Ms, r.baselineMeanMs, r.measuredSentences]),
    ['Target: median <= 50 ms, p90 <= 120 ms.'],
    write,
  );
}

export interface CaptionsBench {
  onsets: OnsetErrors[];
}

export async function benchCaptions(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<CaptionsBench> {
  const log = options.log ?? (() => {});
  const onsets = [...(await benchEspeakOnsets(log)), ...(await benchOpenAiOnsets(log))];
  return { onsets };
}

export function printCaptions(result: CaptionsBench, write: (line: string) => void): void {
  printOnsets(result.onsets, write);
}
