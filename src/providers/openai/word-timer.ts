/**
 * Word timings for OpenAI-compatible speech, which returns none: the spoken audio goes to the
 * transcription endpoint (`whisper-1`, `verbose_json`, word timestamps) and the recognised words
 * are aligned back onto the script's words. The words shown are always the script's: recognised
 * text only lends its timings. The call is paid: `transcribedSec` counts it for the receipt. When
 * it fails, the speech comes back without word timings and the captions fall back to estimates.
 */
import { toFile } from 'openai';
import type { SpeechProvider, SpeechRequest, SpeechResult, WordTiming } from '../../pipeline/ports.js';
import { throwIfCancelled } from '../../core/errors.js';
import { withRetry, type OpenAiConnection } from './client.js';

export const DEFAULT_TRANSCRIPTION_MODEL = 'whisper-1';

export interface RecognisedWord {
  word: string;
  start: number;
  end: number;
}

export interface WordTimerOptions {
  /** Transcription model with word timestamps (default whisper-1). */
  model?: string;
  /** Told when timing fails (the video goes on with estimated timing). */
  onFailure?: (error: unknown) => void;
}

/** Lower case, accents and punctuation off, ё as е: how two spellings of one word are compared. */
export function normaliseWord(word: string): string {
  return word
    .toLowerCase()
    .replace(/ё/g, 'е')
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** 1 for the same word, down to 0 for unrelated ones (edit distance over the longer length). */
export function similarity(a: string, b: string): number {
  if (a === b) return a === '' ? 0 : 1;
  if (!a || !b) return 0;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = up;
    }
  }
  return 1 - prev[b.length]! / Math.max(a.length, b.length);
}

/**
 * Aligns recognised words onto the script's tokens (a global alignment that rewards similar words
 * and lets either side skip). Matched tokens take their recognised times; the rest are spread by
 * length between their matched neighbours. Undefined when too little matched to trust.
 */
export function alignWords(tokens: readonly string[], recognised: readonly RecognisedWord[], durationSec: number): WordTiming[] | undefined {
  const n = tokens.length;
  const m = recognised.length;
  if (n === 0 || m === 0) return undefined;
  const a = tokens.map(normaliseWord);
  const b = recognised.map((r) => normaliseWord(r.word));
  // score[i][j]: best total over tokens[..i) and recognised[..j).
  const score: Float64Array[] = Array.from({ length: n + 1 }, () => new Float64Array(m + 1));
  const move: Uint8Array[] = Array.from({ length: n + 1 }, () => new Uint8Array(m + 1)); // 1 diag, 2 skip token, 3 skip recognised
  for (let i = 1; i <= n; i++) move[i]![0] = 2;
  for (let j = 1; j <= m; j++) move[0]![j] = 3;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sim = similarity(a[i - 1]!, b[j - 1]!);
      const diag = score[i - 1]![j - 1]! + (sim >= 0.5 ? sim : -0.5);
      const skipToken = score[i - 1]![j]!;
      const skipRecognised = score[i]![j - 1]!;
      if (diag >= skipToken && diag >= skipRecognised) {
        score[i]![j] = diag;
        move[i]![j] = 1;
      } else if (skipToken >= skipRecognised) {
        score[i]![j] = skipToken;
        move[i]![j] = 2;
      } else {
        score[i]![j] = skipRecognised;
        move[i]![j] = 3;
      }
    }
  }
  const matched = new Array<RecognisedWord | undefined>(n).fill(undefined);
  for (let i = n, j = m; i > 0 || j > 0; ) {
    const step = move[i]![j];
    if (step === 1) {
      if (similarity(a[i - 1]!, b[j - 1]!) >= 0.5) matched[i - 1] = recognised[j - 1];
      i--;
      j--;
    } else if (step === 2) i--;
    else j--;
  }
  const spoken = a.filter((t) => t !== '').length;
  const hits = matched.filter(Boolean).length;
  if (hits === 0 || hits < spoken * 0.5) return undefined;

  const out: WordTiming[] = [];
  let i = 0;
  while (i < n) {
    const hit = matched[i];
    if (hit) {
      out.push({ text: tokens[i]!, startSec: hit.start, endSec: Math.max(hit.start, hit.end) });
      i++;
      continue;
    }
    // A run of unmatched tokens between the last matched end and the next matched start.
    let j = i;
    while (j < n && !matched[j]) j++;
    const from = out.at(-1)?.endSec ?? 0;
    const to = matched[j]?.start ?? Math.max(from, durationSec);
    const weights = tokens.slice(i, j).map((t) => normaliseWord(t).length + 1);
    const total = weights.reduce((x, y) => x + y, 0);
    let t = from;
    for (let k = i; k < j; k++) {
      const length = ((to - from) * weights[k - i]!) / total;
      out.push({ text: tokens[k]!, startSec: round3(t), endSec: round3(t + length) });
      t += length;
    }
    i = j;
  }
  return out;
}

export class OpenAiWordTimer {
  readonly model: string;

  constructor(
    private readonly connection: OpenAiConnection,
    private readonly options: WordTimerOptions = {},
  ) {
    this.model = options.model ?? DEFAULT_TRANSCRIPTION_MODEL;
  }

  /** The recognised words of the audio, with their times, and the audio's length. */
  async transcribe(audio: { data: Buffer; ext: string }, lang: string, signal?: AbortSignal): Promise<{ words: RecognisedWord[]; durationSec: number }> {
    return withRetry(
      this.connection,
      'transcription',
      async () => {
        const file = await toFile(audio.data, `speech.${audio.ext}`);
        const result = await this.connection.sdk.audio.transcriptions.create(
          {
            file,
            model: this.model,
            response_format: 'verbose_json',
            timestamp_granularities: ['word'],
            ...(/^[a-z]{2}$/.test(lang) ? { language: lang } : {}),
          },
          signal ? { signal } : {},
        );
        return { words: (result.words ?? []).map((w) => ({ word: w.word, start: w.start, end: w.end })), durationSec: result.duration };
      },
      signal,
    );
  }

  /** Speech through `speech`, with the words timed by transcription (or none, when that fails). */
  wrap(speech: SpeechProvider): SpeechProvider {
    return {
      offline: speech.offline,
      model: speech.model,
      ...(speech.wordsPerSecond ? { wordsPerSecond: speech.wordsPerSecond.bind(speech) } : {}),
      synthesize: async (request: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult> => {
        const result = await speech.synthesize(request, signal);
        if (result.words?.length) return result;
        try {
          const heard = await this.transcribe(result, request.lang, signal);
          const tokens = request.text.split(/\s+/).filter(Boolean);
          const words = alignWords(tokens, heard.words, result.durationSec ?? heard.durationSec);
          const transcribedSec = result.durationSec ?? heard.durationSec;
          if (!words) this.options.onFailure?.(new Error('the transcription did not match the script'));
          return { ...result, ...(words ? { words } : {}), transcribedSec };
        } catch (error) {
          throwIfCancelled(signal);
          this.options.onFailure?.(error);
          return result;
        }
      },
    };
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
